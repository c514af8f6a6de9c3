# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One render task: check the policy, render it, write the files. Shared by the render module
and its action plugin so both behave the same. An invalid policy renders nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from .findings import ERROR, WARNING
from .render import OUTPUT_FILES, RenderError, render_policy


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


def write_files(rendered, output_dir, check_mode, want_diff):
    """Write the files whose content changed; returns (changed, paths, diffs)."""
    if not check_mode and not os.path.isdir(output_dir):
        os.makedirs(output_dir)
    changed, paths, diffs = False, [], []
    for name in OUTPUT_FILES:
        path = os.path.join(output_dir, name)
        paths.append(path)
        before = _read(path)
        after = rendered[name]
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


def _stats(text):
    lines = text.splitlines()
    return {
        "maps": sum(1 for line in lines if line.startswith("\tmap ")),
        "elements": sum(1 for line in lines if " : \"grant_" in line),
        "bytes": len(text.encode("utf-8")),
    }


def run_render(path, output_dir=None, strict=False, today=None, fail_on_invalid=True,
               return_content=False, check_mode=False, diff=False):
    """The task result dict for rendering the policy at path."""
    # The engine needs cerberus: imported here so that importing this module never fails
    # where only the rendering helpers are wanted.
    from .check_task import parse_today
    from .engine import check_policy_file
    from .reports import summary_text
    result = check_policy_file(path, today=parse_today(today), strict=strict)
    report = result.to_dict()
    task = {
        "changed": False,
        "valid": result.valid,
        "policy_name": result.name,
        "counts": report["counts"],
        "findings": report["findings"],
        "summary": summary_text(result, markdown=False),
        "files": [],
    }
    if not result.valid:
        if fail_on_invalid:
            failing = [str(f) for f in result.findings
                       if f.severity == ERROR or result.strict and f.severity == WARNING]
            task.update(failed=True, msg="policy %s is not valid, nothing rendered:\n%s" % (
                result.name or path, "\n".join(failing)))
        return task
    try:
        rendered = render_policy(result.policy)
    except RenderError as exc:
        task.update(failed=True, msg="cannot render policy %s: %s" % (result.name, exc))
        return task
    task["stats"] = _stats(rendered["nftables.nft"])
    if return_content or not output_dir:
        task["content"] = rendered
    if output_dir:
        try:
            changed, paths, diffs = write_files(rendered, output_dir, check_mode, diff)
        except (IOError, OSError) as exc:
            task.update(failed=True, msg="cannot write to %s: %s" % (output_dir, exc))
            return task
        task.update(changed=changed, files=paths)
        if diff:
            task["diff"] = diffs
    return task
