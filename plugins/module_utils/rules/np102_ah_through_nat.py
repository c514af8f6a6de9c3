# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule


def check(ctx):
    if not ctx.nat:
        return
    for i, grant in enumerate(ctx.grants):
        if grant["ipsec"]["ah"]:
            yield ("grants", i, "ipsec", "ah"), (
                "grant '%s' allows AH, but AH authenticates the IP header and cannot pass "
                "the router's NAT; use ESP with NAT-T instead" % grant["name"])


RULE = Rule("NP102", ERROR, "AH cannot pass NAT",
            "AH (IP protocol 51) covers the outer IP addresses, so any NAT breaks it. With NAT "
            "on the WAN an AH grant can never work; no waiver can change that.", check)
