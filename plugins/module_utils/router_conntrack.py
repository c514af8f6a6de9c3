# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Summarise `conntrack -L` and `conntrack -L expect` output per helper."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_HELPER_RE = re.compile(r"\bhelper=(\S+)")


def count_by_helper(text):
    """{helper name: number of lines carrying helper=NAME} for conntrack -L [expect] output."""
    counts = {}
    for line in (text or "").splitlines():
        match = _HELPER_RE.search(line)
        if match:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return dict(sorted(counts.items()))


def count_by_protocol(text):
    """{layer-4 protocol name: entries} for conntrack -L output (first word of each line)."""
    counts = {}
    for line in (text or "").splitlines():
        words = line.split()
        if len(words) > 1 and words[1].isdigit():
            counts[words[0]] = counts.get(words[0], 0) + 1
    return dict(sorted(counts.items()))


def summarise(entries_text, expect_text):
    """The status module's conntrack section."""
    return {
        "entries_per_helper": count_by_helper(entries_text),
        "expectations_per_helper": count_by_helper(expect_text),
        "entries_per_protocol": count_by_protocol(entries_text),
    }
