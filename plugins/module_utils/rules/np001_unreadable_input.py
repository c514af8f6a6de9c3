# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule

# Emitted by the engine when the input cannot be read as one YAML document.
RULE = Rule("NP001", ERROR, "The input is not a readable policy document",
            "The file must be one UTF-8 YAML document, under the size limit, with no "
            "duplicate keys and no alias expansion beyond the node limit.")
