# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        if "pptp" in grant["protocols"]:
            yield ("grants", i, "protocols"), (
                "grant '%s' allows PPTP, which is cryptographically broken (MS-CHAPv2/MPPE); "
                "it needs a waiver for NP101 with a reason and an expiry" % grant["name"])


RULE = Rule("NP101", ERROR, "PPTP needs a waiver",
            "PPTP's MS-CHAPv2 authentication and MPPE encryption are broken. A PPTP grant is "
            "allowed only under an explicit, expiring waiver.", check, waivable=True)
