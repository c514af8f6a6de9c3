# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule, inside_any


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        for j, net in enumerate(ctx.server_nets[i] or ()):
            if inside_any(net, ctx.lan_networks):
                yield ("grants", i, "servers", j), (
                    "server '%s' of grant '%s' is inside the LAN networks; passthrough is for "
                    "servers beyond the WAN" % (ctx.raw_grant(i)["servers"][j], grant["name"]))


RULE = Rule("NP118", ERROR, "Server inside the LAN",
            "Traffic to a LAN address never crosses the WAN, so such a grant cannot work and "
            "usually means a typo in the server address.", check)
