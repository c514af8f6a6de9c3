# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule

# Emitted by the engine for every schema violation (see docs/policy-reference.md).
RULE = Rule("NP002", ERROR, "The document does not match the policy schema",
            "Every field must have the documented type and character set; unknown fields "
            "are rejected with the nearest known name.")
