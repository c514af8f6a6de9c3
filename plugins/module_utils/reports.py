# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports of a policy check for the three audiences: machines (findings.json), CI dashboards
(junit.xml, one test case per rule) and pull-request reviewers (summary.md)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import xml.etree.ElementTree as ET

from .findings import ERROR, INFO, WARNING
from .rules import ALL_RULES

REPORT_FILES = ("findings.json", "junit.xml", "summary.md")


def findings_json(result):
    return json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n"


def _fails(result, finding):
    return finding.severity == ERROR or (result.strict and finding.severity == WARNING)


def junit_xml(result):
    suite = ET.Element("testsuite", name="policy-check.%s" % (result.name or "unreadable"))
    failures = 0
    for rule in ALL_RULES:
        case = ET.SubElement(suite, "testcase", classname="netpolicy.vpn_passthrough.rules",
                             name="%s %s" % (rule.id, rule.title))
        mine = [f for f in result.findings if f.id == rule.id]
        failing = [f for f in mine if _fails(result, f)]
        if failing:
            failures += 1
            failure = ET.SubElement(case, "failure", message="%d finding(s)" % len(failing),
                                    type=rule.severity)
            failure.text = "\n".join(str(f) for f in failing)
        others = [f for f in mine if f not in failing]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(str(f) for f in others)
    suite.set("tests", str(len(ALL_RULES)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        suite, encoding="unicode") + "\n"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_text(result, markdown=True):
    """A short report: verdict, counts, then one line per finding."""
    counts = dict((s, result.count(s)) for s in (ERROR, WARNING, INFO))
    verdict = "PASSED" if result.valid else "FAILED"
    title = "VPN passthrough policy check: %s -- %s" % (result.name or result.source, verdict)
    tally = "%d error(s), %d warning(s), %d waived/info%s" % (
        counts[ERROR], counts[WARNING], counts[INFO], " (strict: warnings fail)"
        if result.strict else "")
    if not markdown:
        lines = [title, tally] + ["  " + str(f) for f in result.findings]
        return "\n".join(lines) + "\n"
    lines = ["## %s" % title, "", "Source: `%s`  " % result.source, tally, ""]
    if result.findings:
        lines += ["| severity | rule | line | path | message |", "|---|---|---|---|---|"]
        for f in result.findings:
            lines.append("| %s | %s | %s | `%s` | %s |" % (
                f.severity, f.id, f.line or "", _cell(f.path or "-"), _cell(f.message)))
    else:
        lines.append("No findings.")
    return "\n".join(lines) + "\n"


def render_reports(result):
    """{file name: content} for every report file."""
    return {
        "findings.json": findings_json(result),
        "junit.xml": junit_xml(result),
        "summary.md": summary_text(result, markdown=True),
    }
