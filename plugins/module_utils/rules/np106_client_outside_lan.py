# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule, inside_any


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        for j, net in enumerate(ctx.client_nets[i]):
            if not inside_any(net, ctx.lan_networks):
                yield ("grants", i, "clients", j), (
                    "client '%s' of grant '%s' is not inside the LAN networks (%s)" % (
                        ctx.raw_grant(i)["clients"][j], grant["name"],
                        ", ".join(ctx.policy["router"]["lan"]["networks"])))


RULE = Rule("NP106", ERROR, "Client outside the LAN networks",
            "Passthrough is granted to LAN clients only; a client address outside "
            "router.lan.networks would never be translated by this router's NAT.", check)
