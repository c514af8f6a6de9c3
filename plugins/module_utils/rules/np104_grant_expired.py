# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ..findings import ERROR
from .base import Rule


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        if grant["expires"] and datetime.date.fromisoformat(grant["expires"]) < ctx.today:
            yield ("grants", i, "expires"), (
                "grant '%s' expired on %s; remove it or renew it with a new date and ticket"
                % (grant["name"], grant["expires"]))


RULE = Rule("NP104", ERROR, "Grant has expired",
            "A grant is valid up to and including its expires date. An expired grant fails "
            "the check so that stale access is removed, not forgotten.", check)
