# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One policy_check task: check a policy, write the reports, build the task result. Shared by
the policy_check module and its action plugin so both behave the same."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from .engine import check_policy_file
from .findings import ERROR
from .output_files import write_files
from .policy_schema import HAS_CERBERUS
from .policy_source import HAS_YAML
from .reports import render_reports, summary_text

# The policy engine runs on the controller; name what is missing instead of a traceback.
MISSING_LIBRARY = None if HAS_CERBERUS else "cerberus"
MISSING_LIBRARY = MISSING_LIBRARY or (None if HAS_YAML else "PyYAML")


def parse_today(value):
    """None for 'now', else a date; ValueError names the expected form."""
    if value in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError("today must be a date in YYYY-MM-DD form, got %r" % (value,))


def write_reports(result, report_dir, check_mode):
    """Write the report files; returns (changed, paths). Nothing is written in check mode."""
    files = sorted(render_reports(result).items())
    changed, paths, dummy = write_files(files, report_dir, check_mode)
    return changed, paths


def checked(path, strict=False, today=None):
    """Check the policy at path: (CheckResult, the task result fields every task returns)."""
    result = check_policy_file(path, today=parse_today(today), strict=strict)
    report = result.to_dict()
    return result, {
        "changed": False,
        "valid": result.valid,
        "policy_name": result.name,
        "counts": report["counts"],
        "findings": report["findings"],
        "summary": summary_text(result, markdown=False),
    }


def run_check(path, strict=False, today=None, report_dir=None, fail_on_invalid=True,
              check_mode=False):
    """The task result dict for checking the policy at path."""
    result, task = checked(path, strict, today)
    task["reports"] = []
    if report_dir:
        try:
            task["changed"], task["reports"] = write_reports(result, report_dir, check_mode)
        except (IOError, OSError) as exc:
            task.update(failed=True, msg="cannot write reports to %s: %s" % (report_dir, exc))
            return task
    if fail_on_invalid and not result.valid:
        failing = [str(f) for f in result.findings
                   if f.severity == ERROR or result.strict and f.severity == "warning"]
        task.update(failed=True, msg="policy %s is not valid:\n%s" % (
            result.name or path, "\n".join(failing)))
    return task
