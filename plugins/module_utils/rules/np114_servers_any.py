# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import WARNING
from .base import Rule


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        if grant["servers"] == "any":
            yield ("grants", i, "servers"), (
                "grant '%s' allows its clients to reach ANY server; list the VPN servers "
                "instead" % grant["name"])


RULE = Rule("NP114", WARNING, "Grant to any server",
            "servers: any lets the clients tunnel to any host on the internet, past other "
            "egress controls. Prefer explicit server addresses.", check, waivable=True)
