# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a policy document safely: bounded size, bounded alias expansion, bounded depth,
duplicate keys rejected, and a line number for every path so findings can point into the file.

The document is built straight from libyaml's parse events: that is about 5x faster than
PyYAML's composer + constructor on a 10,000-grant policy, and the events carry the line marks
and aliases this module must see anyway. Plain scalars resolve with PyYAML's own YAML 1.1
implicit-type table, so values mean what they mean to every other YAML tool in Ansible."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import yaml
    from yaml import events as ev
except ImportError:  # only the controller reads policies; check_task names what is missing
    HAS_YAML = False
else:
    HAS_YAML = True
    try:
        from yaml import CSafeLoader as _Loader
    except ImportError:  # pure-Python fallback
        from yaml import SafeLoader as _Loader

MAX_BYTES = 64 * 1024 * 1024
# A 10,000-grant policy with 100,000 addresses is ~300,000 nodes. The limit counts nodes as
# expanded through aliases, which stops "billion laughs" documents in linear time.
MAX_NODES = 2000000
MAX_DEPTH = 64

_STR = "tag:yaml.org,2002:str"
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers if HAS_YAML else {}
_SCALAR_TAGS = frozenset("tag:yaml.org,2002:" + t for t in
                         ("str", "int", "float", "bool", "null", "timestamp"))
_IGNORED_EVENTS = (ev.StreamStartEvent, ev.DocumentEndEvent) if HAS_YAML else ()
_COLLECTION_TAGS = frozenset([None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"])


class PolicyInputError(Exception):
    """The input is not a readable policy document (not YAML, too big, ...)."""

    def __init__(self, message, line=None):
        super(PolicyInputError, self).__init__(message)
        self.message = message
        self.line = line


class LineMap:
    """Where each path of a document starts. Mapping keys are stored by path; sequence items as
    one list of lines per sequence, so 100,000 addresses cost no tuple each."""

    def __init__(self, keys=None):
        self.keys = dict(keys or {})
        self.items = {}

    def line(self, path):
        """Line of path, or of its nearest ancestor that has one; None when unknown."""
        path = tuple(path)
        while True:
            if path in self.keys:
                return self.keys[path]
            if path and isinstance(path[-1], int):
                seq = self.items.get(path[:-1])
                if seq is not None and path[-1] < len(seq):
                    return seq[path[-1]]
            if not path:
                return None
            path = path[:-1]


class _Frame:
    __slots__ = ("value", "path", "anchor", "size", "key", "is_map", "lines", "start_line")

    def __init__(self, value, path, anchor, is_map, lines, start_line):
        self.value, self.path, self.anchor, self.is_map = value, path, anchor, is_map
        self.start_line = start_line
        self.size = 1
        self.key = None
        self.lines = lines  # item lines of a sequence (shared with the LineMap)


class _Builder:
    """Plain Python data + a LineMap from a stream of parse events."""

    def __init__(self, max_nodes):
        self.lines = LineMap()
        self.anchors = {}
        self.stack = []
        self.nodes = 0
        self.max_nodes = max_nodes
        self.root = None
        self.constructor = yaml.SafeLoader("")  # only its scalar constructors are used
        self.scalar_cache = {}
        self.handlers = {
            ev.ScalarEvent: self.on_scalar, ev.AliasEvent: self.on_alias,
            ev.MappingStartEvent: self.on_start, ev.SequenceStartEvent: self.on_start,
            ev.MappingEndEvent: self.on_end, ev.SequenceEndEvent: self.on_end,
        }

    def count(self, size, line):
        self.nodes += size
        if self.nodes > self.max_nodes:
            raise PolicyInputError("document expands to more than %d YAML nodes through "
                                   "aliases (an alias bomb?)" % self.max_nodes, line)

    def expecting_key(self):
        return bool(self.stack) and self.stack[-1].is_map and self.stack[-1].key is None

    def add(self, value, size, line):
        """Attach a finished node to the innermost collection (or make it the root)."""
        if not self.stack:
            self.root = value
            self.lines.keys[()] = line
            return
        top = self.stack[-1]
        top.size += size
        if not top.is_map:
            top.lines.append(line)
            top.value.append(value)
        elif top.key is None:
            self.set_key(top, value, line)
        else:
            top.value[top.key] = value
            top.key = None

    def set_key(self, top, key, line):
        if key == "<<":
            raise PolicyInputError("YAML merge keys ('<<') are not supported", line)
        if not isinstance(key, str):
            key = str(key)  # keep it reportable: the schema names it as an unknown field
        if key in top.value:
            raise PolicyInputError("duplicate key '%s'" % key, line)
        top.key = key
        self.lines.keys[top.path + (key,)] = line

    def scalar(self, event, line):
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return event.value  # quoted: always a string
            cached = self.scalar_cache.get(event.value)
            if cached is not None:
                return cached[0]
            tag = _resolve(event.value)
            if tag == _STR:
                return event.value
        elif tag not in _SCALAR_TAGS:
            raise PolicyInputError("unsupported YAML tag '%s'" % tag, line)
        if tag == _STR:
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError):
            # e.g. 2026-13-01 looks like a timestamp but is none: keep the text and let the
            # schema say what is wrong with it at its path.
            value = event.value
        if event.tag is None:
            self.scalar_cache[event.value] = (value,)
        return value

    def on_scalar(self, event, line):
        # The hot path of a large policy (every address is a scalar): count and attach inline.
        self.nodes += 1
        if self.nodes > self.max_nodes:
            self.count(0, line)
        value = self.scalar(event, line)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)
        top = self.stack[-1] if self.stack else None
        if top is None or (top.is_map and top.key is None):
            self.add(value, 1, line)
        elif top.is_map:
            top.size += 1
            top.value[top.key] = value
            top.key = None
        else:
            top.size += 1
            top.lines.append(line)
            top.value.append(value)

    def on_alias(self, event, line):
        if event.anchor not in self.anchors:
            raise PolicyInputError("alias '*%s' refers to an unknown or unfinished anchor"
                                   % event.anchor, line)
        value, size = self.anchors[event.anchor]
        self.count(size, line)
        self.add(value, size, line)

    def on_start(self, event, line):
        self.count(1, line)
        if event.tag not in _COLLECTION_TAGS:
            raise PolicyInputError("unsupported YAML tag '%s'" % event.tag, line)
        if len(self.stack) >= MAX_DEPTH:
            raise PolicyInputError("document is nested more than %d levels deep" % MAX_DEPTH,
                                   line)
        if self.expecting_key():
            raise PolicyInputError("mapping keys must be plain strings", line)
        if not self.stack:
            path = ()
        else:
            top = self.stack[-1]
            path = top.path + ((top.key,) if top.is_map else (len(top.value),))
        is_map = isinstance(event, ev.MappingStartEvent)
        lines = None
        if not is_map:
            lines = self.lines.items[path] = []
        self.stack.append(_Frame({} if is_map else [], path, event.anchor, is_map, lines, line))

    def on_end(self, event, line):
        frame = self.stack.pop()
        if frame.anchor:
            self.anchors[frame.anchor] = (frame.value, frame.size)
        # A collection's own line is where it started, not where it ended.
        self.add(frame.value, frame.size, frame.start_line)


def _resolve(value):
    # Addresses and networks (two dots, or a '/') can never match YAML 1.1's int, float,
    # bool, null or timestamp patterns: skip the regexes for the bulk of a large policy.
    if "/" in value or value.count(".") > 1:
        return _STR
    for tag, regexp in _IMPLICIT.get(value[:1], ()):
        if regexp.match(value):
            return tag
    return _STR


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


def load_policy_text(data, max_bytes=None, max_nodes=None):
    """Parse one YAML document. Returns (data, lines) where lines maps path tuples to
    1-based line numbers. Raises PolicyInputError with a readable message."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    max_nodes = MAX_NODES if max_nodes is None else max_nodes
    if len(data) > max_bytes:
        raise PolicyInputError("input is %d bytes; the limit is %d" % (len(data), max_bytes))
    text = _decode(data)
    builder = _Builder(max_nodes)
    documents = 0
    loader = _Loader(text)
    handlers = builder.handlers
    try:
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is ev.StreamEndEvent:
                break
            if kind is ev.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise PolicyInputError("expected one YAML document, found several",
                                           event.start_mark.line + 1)
            elif kind not in _IGNORED_EVENTS:
                handlers[kind](event, event.start_mark.line + 1)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PolicyInputError("not valid YAML: %s" % (exc.problem or exc.context),
                               mark.line + 1 if mark is not None else None)
    except yaml.YAMLError as exc:
        raise PolicyInputError("not valid YAML: %s" % str(exc).splitlines()[0])
    finally:
        loader.dispose()
    if documents == 0 or builder.root is None:
        raise PolicyInputError("the document is empty")
    return builder.root, builder.lines


def load_policy_file(path, max_bytes=None, max_nodes=None):
    """Read and parse a policy file; errors name the file problem, never a traceback."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except (IOError, OSError) as exc:
        raise PolicyInputError("cannot read policy file %s: %s" % (path, exc.strerror or exc))
    return load_policy_text(data, max_bytes=max_bytes, max_nodes=max_nodes)
