# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy engine: read -> schema -> lint rules -> waivers -> result. Deterministic and
side-effect free; the playbooks, the action plugins, the tests and the benchmarks all call it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import gc

from .findings import ERROR, INFO, WARNING, Finding
from .policy_schema import SCHEMA_RULE, normalise, validate
from .policy_source import LineMap, PolicyInputError, load_policy_file, load_policy_text
from .rules import ALL_RULES, RULES
from .rules.base import LintContext
from .rules.np111_waiver_expired import expired

INPUT_RULE = "NP001"


class CheckResult:
    """What a check found. `policy` is the normalised policy when the schema passed."""

    def __init__(self, source, findings, policy=None, strict=False):
        self.source = source
        self.findings = sorted(findings, key=Finding.sort_key)
        self.policy = policy
        self.strict = strict

    @property
    def name(self):
        return self.policy["metadata"]["name"] if self.policy else None

    def count(self, severity):
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def valid(self):
        if self.count(ERROR):
            return False
        return not (self.strict and self.count(WARNING))

    def to_dict(self):
        return {
            "policy": self.name or self.source,
            "source": self.source,
            "valid": self.valid,
            "strict": self.strict,
            "counts": {"error": self.count(ERROR), "warning": self.count(WARNING),
                       "info": self.count(INFO)},
            "findings": [f.to_dict() for f in self.findings],
        }


def _apply_waivers(findings, ctx):
    """Downgrade waivable findings covered by a live waiver to info; remember which waivers
    were used. Paths of grant findings start with ('grants', index)."""
    active = {}
    names = set(g["name"] for g in ctx.grants)
    for i, waiver in enumerate(ctx.policy["waivers"]):
        rule = RULES.get(waiver["rule"])
        live = not expired(waiver, ctx.today)
        if rule and rule.waivable and waiver["grant"] in names and live:
            active.setdefault((waiver["rule"], waiver["grant"]), i)
    for finding, path in findings:
        if not (RULES[finding.id].waivable and path[:1] == ("grants",)):
            continue
        index = active.get((finding.id, ctx.grants[path[1]]["name"]))
        if index is None:
            continue
        waiver = ctx.policy["waivers"][index]
        ctx.used_waivers.add(index)
        finding.severity = INFO
        finding.waived_by = "waivers[%d]" % index
        finding.message += " -- waived until %s: %s" % (waiver["expires"], waiver["reason"])


def _lint(policy, doc, lines, today):
    ctx = LintContext(policy, doc, today)
    ctx.rules = RULES
    ctx.used_waivers = set()

    def run(rules):
        out = []
        for rule in rules:
            for path, message in rule.check(ctx):
                out.append((Finding(rule.id, rule.severity, path, message,
                                    lines.line(path)), path))
        return out

    checked = [r for r in ALL_RULES if r.check is not None]
    findings = run([r for r in checked if not r.after_waivers])
    _apply_waivers(findings, ctx)
    findings += run([r for r in checked if r.after_waivers])
    return [finding for finding, dummy in findings]


@contextlib.contextmanager
def _no_cyclic_gc():
    """Pause the cyclic garbage collector while a large, acyclic document is built and walked:
    its generation-0 passes over hundreds of thousands of new lists and dicts cost ~15% of a
    10,000-grant check and can free nothing. Reference counting still frees memory."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_policy_data(doc, lines=None, source="<policy>", today=None, strict=False):
    """Check an already-parsed document. lines: a LineMap, or a dict of path tuple -> line,
    if known."""
    lines = lines if isinstance(lines, LineMap) else LineMap(lines)
    today = today or datetime.date.today()

    def schema_finding(path, message):
        return Finding(SCHEMA_RULE, ERROR, path, message, lines.line(path))

    findings = validate(doc, schema_finding)
    if findings:
        return CheckResult(source, findings, None, strict)
    policy = normalise(doc)
    return CheckResult(source, _lint(policy, doc, lines, today), policy, strict)


def _check_loaded(load, source, today, strict):
    """Run a loader (text or file) and check what it read; unreadable input is one NP001."""
    with _no_cyclic_gc():
        try:
            doc, lines = load()
        except PolicyInputError as exc:
            return CheckResult(source, [Finding(INPUT_RULE, ERROR, "", exc.message, exc.line)],
                               None, strict)
        return check_policy_data(doc, lines, source, today, strict)


def check_policy_text(data, source="<policy>", today=None, strict=False):
    """Check a policy given as YAML text or bytes."""
    return _check_loaded(lambda: load_policy_text(data), source, today, strict)


def check_policy_file(path, today=None, strict=False):
    """Check a policy file."""
    return _check_loaded(lambda: load_policy_file(path), path, today, strict)
