# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule


def check(ctx):
    names = set(g["name"] for g in ctx.grants)
    for i, waiver in enumerate(ctx.policy["waivers"]):
        if waiver["grant"] not in names:
            yield ("waivers", i, "grant"), (
                "waiver names grant '%s', which does not exist" % waiver["grant"])


RULE = Rule("NP109", ERROR, "Waiver names an unknown grant",
            "A waiver must name an existing grant, so that renaming or removing a grant also "
            "removes its waivers.", check)
