# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a set of generated files into a directory on the controller: only files whose content
changed are rewritten, each by atomic rename, and nothing is written in check mode. Used by the
check (reports) and render (router files) tasks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


def _read(path):
    try:
        with open(path, "r") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _write(path, content):
    """Atomic replace: readers see the old file or the new one, never a partial one."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_files(files, output_dir, check_mode, want_diff=False):
    """files: [(name, content)] in the order to report them. Returns (changed, paths, diffs)."""
    if not check_mode and not os.path.isdir(output_dir):
        os.makedirs(output_dir)
    changed, paths, diffs = False, [], []
    for name, after in files:
        path = os.path.join(output_dir, name)
        paths.append(path)
        before = _read(path)
        if before == after:
            continue
        changed = True
        if want_diff:
            diffs.append({"before": before or "", "after": after,
                          "before_header": path if before is not None else "%s (absent)" % path,
                          "after_header": path})
        if not check_mode:
            _write(path, after)
    return changed, paths, diffs
