# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule


def check(ctx):
    for i, waiver in enumerate(ctx.policy["waivers"]):
        rule = ctx.rules.get(waiver["rule"])
        if rule is None:
            yield ("waivers", i, "rule"), "waiver names rule '%s', which does not exist" % (
                waiver["rule"])
        elif not rule.waivable:
            yield ("waivers", i, "rule"), "rule %s (%s) cannot be waived" % (
                rule.id, rule.title)


RULE = Rule("NP110", ERROR, "Waiver names an unknown or unwaivable rule",
            "Only rules documented as waivable (NP101, NP103, NP113, NP114) accept waivers.",
            check)
