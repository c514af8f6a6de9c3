# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a policy document safely: bounded size, bounded alias expansion, duplicate keys
rejected, and a line number for every path so findings can point into the file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

try:
    from yaml import CSafeLoader as _Loader  # libyaml: ~10x faster on large policies
except ImportError:  # pragma: no cover - pure-Python fallback
    from yaml import SafeLoader as _Loader

MAX_BYTES = 64 * 1024 * 1024
# A 10,000-grant policy with 100,000 addresses is ~300,000 nodes; this leaves room while
# stopping "billion laughs" documents whose aliases expand exponentially.
MAX_NODES = 5000000
MAX_DEPTH = 64


class PolicyInputError(Exception):
    """The input is not a readable policy document (not YAML, too big, ...)."""

    def __init__(self, message, line=None):
        super(PolicyInputError, self).__init__(message)
        self.message = message
        self.line = line


class _Builder:
    """Turn a composed YAML node tree into plain Python data plus a path -> line map."""

    def __init__(self, max_nodes):
        self.lines = {}
        self.nodes = 0
        self.max_nodes = max_nodes
        self.scalars = yaml.SafeLoader("")  # only its scalar constructors are used

    def build(self, node, path, depth):
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise PolicyInputError(
                "document expands to more than %d YAML nodes (an alias bomb?)" % self.max_nodes)
        if depth > MAX_DEPTH:
            raise PolicyInputError("document is nested more than %d levels deep" % MAX_DEPTH,
                                   node.start_mark.line + 1)
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node, path, depth):
        out = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise PolicyInputError("YAML merge keys ('<<') are not supported", line)
            if not isinstance(key_node, yaml.ScalarNode):
                raise PolicyInputError("mapping keys must be plain strings", line)
            key = self._scalar(key_node)
            if not isinstance(key, str):
                key = str(key)  # keep it reportable: the schema will name it as unknown
            if key in out:
                raise PolicyInputError("duplicate key '%s'" % key, line)
            self.lines[path + (key,)] = line
            out[key] = self.build(value_node, path + (key,), depth + 1)
        return out

    def _scalar(self, node):
        try:
            return self.scalars.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            raise PolicyInputError("unsupported YAML tag '%s'" % node.tag,
                                   node.start_mark.line + 1)
        except (yaml.YAMLError, ValueError, OverflowError):
            # e.g. 2026-13-01 looks like a timestamp but is none: keep the text, and let the
            # schema say what is wrong with it at its path.
            return node.value


def _decode(data):
    if isinstance(data, bytes):
        if b"\x00" in data:
            raise PolicyInputError("input is binary data, not a YAML text document")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyInputError("input is not UTF-8 text (byte %d)" % exc.start)
    if "\x00" in data:
        raise PolicyInputError("input contains NUL characters, not a YAML text document")
    return data


def load_policy_text(data, max_bytes=MAX_BYTES, max_nodes=MAX_NODES):
    """Parse one YAML document. Returns (data, lines) where lines maps path tuples to
    1-based line numbers. Raises PolicyInputError with a readable message."""
    if len(data) > max_bytes:
        raise PolicyInputError("input is %d bytes; the limit is %d" % (len(data), max_bytes))
    text = _decode(data)
    if not text.strip():
        raise PolicyInputError("the document is empty")
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if "expected a single document" in str(exc):
            problem = "expected one YAML document, found several"
        raise PolicyInputError("not valid YAML: %s" % problem, line)
    except (yaml.YAMLError, RecursionError) as exc:
        raise PolicyInputError("not valid YAML: %s" % str(exc).splitlines()[0])
    if root is None:
        raise PolicyInputError("the document is empty")
    builder = _Builder(max_nodes)
    try:
        value = builder.build(root, (), 0)
    except RecursionError:
        raise PolicyInputError("document is nested too deeply")
    return value, builder.lines


def load_policy_file(path, max_bytes=MAX_BYTES, max_nodes=MAX_NODES):
    """Read and parse a policy file; errors name the file problem, never a traceback."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except (IOError, OSError) as exc:
        raise PolicyInputError("cannot read policy file %s: %s" % (path, exc.strerror or exc))
    return load_policy_text(data, max_bytes=max_bytes, max_nodes=max_nodes)
