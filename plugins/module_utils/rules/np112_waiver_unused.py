# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import WARNING
from .base import Rule


def check(ctx):
    for i, waiver in enumerate(ctx.policy["waivers"]):
        if i not in ctx.used_waivers:
            yield ("waivers", i), (
                "waiver for %s on grant '%s' matches no finding; remove it"
                % (waiver["rule"], waiver["grant"]))


# Runs after waivers were applied (ctx.used_waivers is set by the engine).
RULE = Rule("NP112", WARNING, "Waiver matches no finding",
            "A waiver that silences nothing is dead policy text and hides intent; remove it.",
            check, after_waivers=True)
