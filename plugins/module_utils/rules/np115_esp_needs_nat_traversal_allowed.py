# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        ipsec = grant["ipsec"]
        for proto in ("esp", "ah"):
            if ipsec[proto] and ipsec["nat_traversal"] == "required":
                yield ("grants", i, "ipsec", proto), (
                    "grant '%s' sets %s: true with nat_traversal: required, which forbids raw "
                    "%s; set nat_traversal: allowed or drop %s" % (
                        grant["name"], proto, proto.upper(), proto))


RULE = Rule("NP115", ERROR, "Raw ESP/AH contradicts nat_traversal: required",
            "nat_traversal: required means only IKE and NAT-T (UDP 500/4500) pass. Asking for "
            "raw ESP or AH at the same time is a contradiction the reviewer must resolve.",
            check)
