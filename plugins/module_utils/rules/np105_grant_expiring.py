# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ..findings import WARNING
from .base import Rule

WINDOW_DAYS = 30


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        if not grant["expires"]:
            continue
        left = (datetime.date.fromisoformat(grant["expires"]) - ctx.today).days
        if 0 <= left <= WINDOW_DAYS:
            yield ("grants", i, "expires"), (
                "grant '%s' expires on %s (in %d day%s)" % (
                    grant["name"], grant["expires"], left, "" if left == 1 else "s"))


RULE = Rule("NP105", WARNING, "Grant expires within 30 days",
            "A reminder to renew or retire a grant before it starts failing the check (NP104).",
            check)
