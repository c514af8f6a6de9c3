# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a lint rule is: a stable ID, a severity, whether a waiver may silence it, a one-line
title, the rationale shown in docs/rules.md, and a check that yields (path, message) pairs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..netaddr import parse_net


class Rule:
    def __init__(self, rule_id, severity, title, rationale, check=None, waivable=False,
                 after_waivers=False):
        self.id = rule_id
        self.severity = severity
        self.title = title
        self.rationale = rationale
        self.check = check
        self.waivable = waivable
        self.after_waivers = after_waivers


class LintContext:
    """What every rule sees: the normalised policy, the raw document (for item paths), and
    the evaluation date. Derived views are computed once here, not in every rule."""

    def __init__(self, policy, doc, today):
        self.policy = policy
        self.doc = doc
        self.today = today
        self.grants = policy["grants"]
        self.nat = policy["router"]["wan"]["nat"]["mode"] != "none"
        self.lan_networks = networks(policy["router"]["lan"]["networks"])
        # Every grant's addresses parsed once, aligned with the raw document's items (so their
        # indexes are the paths findings name); servers is None for `servers: any`.
        self.client_nets = [networks(g["clients"]) for g in doc["grants"]]
        self.server_nets = [None if g["servers"] == "any" else networks(g["servers"])
                            for g in doc["grants"]]

    def raw_grant(self, index):
        return self.doc["grants"][index]


def networks(values):
    return [parse_net(v) for v in values]


def inside_any(net, containers):
    return any(net.within(c) for c in containers)
