# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import WARNING
from .base import Rule


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        raw = ctx.raw_grant(i)
        for proto in ("ipsec", "pptp", "l2tp"):
            if proto in raw and proto not in grant["protocols"]:
                yield ("grants", i, proto), (
                    "grant '%s' sets %s options but does not grant %s; they have no effect"
                    % (grant["name"], proto, proto))


RULE = Rule("NP117", WARNING, "Options for a protocol the grant does not allow",
            "Options under ipsec/pptp/l2tp only matter when that protocol is granted; "
            "their presence otherwise suggests a missing protocol or a stale edit.", check)
