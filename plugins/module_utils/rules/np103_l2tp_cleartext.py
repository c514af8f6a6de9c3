# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        if "l2tp" in grant["protocols"] and not grant["l2tp"]["over_ipsec"]:
            yield ("grants", i, "l2tp", "over_ipsec"), (
                "grant '%s' allows L2TP outside IPsec, which is clear text (RFC 2661); carry it "
                "inside IPsec (RFC 3193) or add a waiver for NP103" % grant["name"])


RULE = Rule("NP103", ERROR, "L2TP without IPsec needs a waiver",
            "Plain L2TP (UDP 1701) has no encryption. Either set l2tp.over_ipsec (the default) "
            "or accept the risk with an expiring waiver.", check, waivable=True)
