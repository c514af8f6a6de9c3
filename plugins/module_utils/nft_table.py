# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's nftables table on the router: names, guard, transaction text, normalisation.

Pure text functions (no Ansible, no subprocess) so the target modules, the detached rollback
script and the unit tests share them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

TABLE_FAMILY = "inet"
TABLE_NAME = "netpolicy_vpn_passthrough"
TABLE_REF = "%s %s" % (TABLE_FAMILY, TABLE_NAME)

# Declaring then deleting the table makes the delete valid whether or not the table exists, so
# the file replaces the whole table (chains, sets, objects that disappeared included) in one
# transaction and never touches anything else.
REPLACE_PREFIX = "table %s\ndelete table %s\n" % (TABLE_REF, TABLE_REF)
DELETE_TEXT = REPLACE_PREFIX

_COUNTER_RE = re.compile(r"packets \d+ bytes \d+")
_QUOTA_USED_RE = re.compile(r"(quota (?:over |until )?\d+ \S+) used \d+ \S+")
_EXPIRES_RE = re.compile(r" expires [0-9dhms.]+")
# One piece per table object (set, map, chain, ...) so a dynamic set's flags and elements meet.
_OBJECT_SPLIT_RE = re.compile(
    r"(?m)^(?=[ \t]*(?:set|map|chain|counter|quota|limit|flowtable|ct|secmark|synproxy) \S+ \{$)")
_DYNAMIC_FLAGS_RE = re.compile(r"(?m)^[ \t]*flags [^\n]*\bdynamic\b")
_ELEMENTS_RE = re.compile(r"\n[ \t]*elements = \{[^}]*\}")
_TRAILING_SPACE_RE = re.compile(r"[ \t]+\n")
_TOP_OBJECT_RE = re.compile(
    r"^(?:add |create |delete |destroy |flush |insert |replace |reset )?"
    r"(table|chain|rule|set|map|element|counter|quota|limit|ct|flowtable|synproxy|secmark)\b")
_TABLE_NAMED_RE = re.compile(r"^(?:(?:add|create|delete|destroy|flush|reset)\s+)?table\s+(\S+)(?:\s+(\S+))?")


class RulesetRejected(ValueError):
    """The rendered text would touch something other than the collection's table."""


def _strip_quoted(line):
    """Drop quoted strings and comments so braces and keywords inside them are not counted."""
    out = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
    return out.split("#", 1)[0]


def top_level_statements(text):
    """Yield (line_number, statement) for lines that start at brace depth 0."""
    depth = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_quoted(raw).strip()
        if depth == 0 and line:
            yield number, line
        depth += line.count("{") - line.count("}")


def guard_ruleset(text):
    """Raise RulesetRejected unless every top-level statement addresses only our table.

    The renderer promises one table; this check makes the router enforce it, so a bug or a
    tampered render can never flush the ruleset or edit another team's table.
    """
    if not text.strip():
        raise RulesetRejected("the rendered nftables text is empty")
    for number, line in top_level_statements(text):
        words = line.split()
        if words[0] == "include" or words[:2] == ["flush", "ruleset"]:
            raise RulesetRejected("line %d: '%s' is not allowed; the ruleset may only define table %s"
                                  % (number, line, TABLE_REF))
        if words[0] == "define":
            continue
        match = _TABLE_NAMED_RE.match(line)
        if match:
            family, name = match.group(1), match.group(2)
            if name is None or name == "{":
                family, name = "ip", family  # nft's default family when none is given
            if (family, name.rstrip("{")) != (TABLE_FAMILY, TABLE_NAME):
                raise RulesetRejected("line %d: statement addresses table '%s %s'; only %s may be "
                                      "changed" % (number, family, name.rstrip("{"), TABLE_REF))
            continue
        if _TOP_OBJECT_RE.match(line):
            parts = line.split()
            # add rule inet TABLE chain ... : family and table are the 3rd and 4th words
            offset = 1 if parts[0] in ("add", "create", "delete", "destroy", "flush", "insert",
                                       "replace", "reset") else 0
            if parts[offset] == "ct":
                offset += 1
            target = parts[offset + 1:offset + 3]
            if target != [TABLE_FAMILY, TABLE_NAME]:
                raise RulesetRejected("line %d: statement '%s' does not address %s"
                                      % (number, line, TABLE_REF))
            continue
        raise RulesetRejected("line %d: unexpected top-level statement '%s'" % (number, line))


def replace_transaction(body):
    """Text for one `nft -f` that replaces our table with `body` (a render or a listing)."""
    return REPLACE_PREFIX + body.rstrip("\n") + "\n"


def normalise_listing(text):
    """Make two `nft list table` outputs comparable: zero counters and quota usage, drop
    timers, and drop elements of dynamic sets (the packet path adds those, not the policy).

    Whole-text regular expressions, not a loop over lines: a 100,000-address table lists as
    about 11 MB and this runs on every apply and status."""
    if text is None:
        return None
    if "dynamic" in text:
        objects = _OBJECT_SPLIT_RE.split(text)
        text = "".join(_ELEMENTS_RE.sub("", obj) if _DYNAMIC_FLAGS_RE.search(obj) else obj
                       for obj in objects)
    text = _COUNTER_RE.sub("packets 0 bytes 0", text)
    if "quota" in text:
        text = _QUOTA_USED_RE.sub(r"\1", text)
    if "expires" in text:
        text = _EXPIRES_RE.sub("", text)
    text = _TRAILING_SPACE_RE.sub("\n", text).rstrip("\n")
    return text + "\n" if text.strip() else ""
