# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule


def check(ctx):
    first = {}
    for i, grant in enumerate(ctx.grants):
        name = grant["name"]
        if name in first:
            yield ("grants", i, "name"), (
                "grant name '%s' is already used by grants[%d]; names must be unique"
                % (name, first[name]))
        else:
            first[name] = i


RULE = Rule("NP108", ERROR, "Duplicate grant name",
            "Grant names identify counters, sets and waivers; they must be unique.", check)
