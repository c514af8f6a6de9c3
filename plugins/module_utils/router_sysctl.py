# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl on the router: parse the rendered drop-in, read and write live values under /proc/sys.

Standard library only: the detached rollback script uses it too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

PROC_SYS = "/proc/sys"
_KEY_RE = re.compile(r"^[A-Za-z0-9_.\-/]+$")


class SysctlError(ValueError):
    """A sysctl line or key that cannot be used."""


def parse_sysctl_text(text):
    """'key = value' lines (sysctl.d syntax) -> ordered list of (key, value); later wins."""
    values = {}
    order = []
    for number, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if "=" not in line:
            raise SysctlError("sysctl line %d has no '=': %r" % (number, raw))
        key, value = (part.strip() for part in line.split("=", 1))
        key = key.lstrip("-")  # systemd's "ignore errors" marker; we apply strictly
        if not _KEY_RE.match(key) or ".." in key or key.startswith(("/", ".")):
            raise SysctlError("sysctl line %d: invalid key %r" % (number, key))
        if key not in values:
            order.append(key)
        values[key] = normalise_value(value)
    return [(key, values[key]) for key in order]


def normalise_value(value):
    """/proc/sys prints tabs between multi-value fields; compare on single spaces."""
    return " ".join(str(value).split())


def key_path(key, root=PROC_SYS):
    return os.path.join(root, key.replace(".", "/"))


def read_value(key, root=PROC_SYS):
    """Live value of a sysctl, or None when the key does not exist on this kernel."""
    try:
        with open(key_path(key, root)) as handle:
            return normalise_value(handle.read())
    except (IOError, OSError):
        return None


def write_value(key, value, root=PROC_SYS):
    """Write one live value; raises SysctlError naming the key on failure."""
    try:
        with open(key_path(key, root), "w") as handle:
            handle.write("%s\n" % value)
    except (IOError, OSError) as exc:
        raise SysctlError("cannot set %s = %s: %s" % (key, value, exc.strerror or exc))
