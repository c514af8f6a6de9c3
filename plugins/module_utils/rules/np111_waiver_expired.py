# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ..findings import ERROR
from .base import Rule


def expired(waiver, today):
    return datetime.date.fromisoformat(waiver["expires"]) < today


def check(ctx):
    for i, waiver in enumerate(ctx.policy["waivers"]):
        if expired(waiver, ctx.today):
            yield ("waivers", i, "expires"), (
                "waiver for %s on grant '%s' expired on %s and no longer applies"
                % (waiver["rule"], waiver["grant"], waiver["expires"]))


RULE = Rule("NP111", ERROR, "Waiver has expired",
            "An accepted risk is accepted until a date. After it the waiver is an error and "
            "the finding it covered counts again.", check)
