# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule


def check(ctx):
    wan = set(ctx.policy["router"]["wan"]["interfaces"])
    for j, name in enumerate(ctx.doc["router"]["lan"]["interfaces"]):
        if name in wan:
            yield ("router", "lan", "interfaces", j), (
                "interface '%s' is both a LAN and a WAN interface" % name)


RULE = Rule("NP107", ERROR, "Interface is both LAN and WAN",
            "The rendered rules tell inside from outside by interface; one interface on both "
            "sides would grant passthrough in both directions.", check)
