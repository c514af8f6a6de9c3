# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        if ("l2tp" in grant["protocols"] and grant["l2tp"]["over_ipsec"]
                and "ipsec" not in grant["protocols"]):
            yield ("grants", i, "protocols"), (
                "grant '%s' carries L2TP inside IPsec (l2tp.over_ipsec) but does not grant "
                "ipsec; add ipsec to protocols" % grant["name"])


RULE = Rule("NP116", ERROR, "L2TP over IPsec without IPsec",
            "L2TP inside IPsec passes as IPsec traffic; without an ipsec grant it cannot pass "
            "at all, so the grant would silently do nothing.", check)
