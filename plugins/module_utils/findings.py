# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings: what the policy engine reports, one per problem, each with a stable rule ID."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


def format_path(parts):
    """('grants', 2, 'servers', 0) -> 'grants[2].servers[0]'."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += "[%d]" % part
        else:
            out += ("." if out else "") + str(part)
    return out


class Finding:
    """One problem in a policy: rule ID, severity, location (path + line) and a message."""

    __slots__ = ("id", "severity", "path", "line", "message", "waived_by")

    def __init__(self, rule_id, severity, path, message, line=None):
        self.id = rule_id
        self.severity = severity
        self.path = path if isinstance(path, str) else format_path(path)
        self.line = line
        self.message = message
        self.waived_by = None

    def to_dict(self):
        data = {"id": self.id, "severity": self.severity, "path": self.path,
                "line": self.line, "message": self.message}
        if self.waived_by is not None:
            data["waived_by"] = self.waived_by
        return data

    def sort_key(self):
        return (SEVERITY_ORDER.get(self.severity, 9), self.line or 0, self.path, self.id,
                self.message)

    def __repr__(self):
        return "Finding(%s %s %s: %s)" % (self.id, self.severity, self.path, self.message)

    def __str__(self):
        where = self.path or "<document>"
        if self.line:
            where = "line %d: %s" % (self.line, where)
        return "%s %s %s: %s" % (self.severity.upper(), self.id, where, self.message)
