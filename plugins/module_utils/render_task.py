# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One render task: check the policy, render it, write the files. Shared by the render module
and its action plugin so both behave the same. An invalid policy renders nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from . import output_files
from .findings import ERROR, WARNING
from .render import OUTPUT_FILES, RenderError, render_policy


def write_files(rendered, output_dir, check_mode, want_diff):
    """Write the rendered files whose content changed; returns (changed, paths, diffs)."""
    return output_files.write_files([(name, rendered[name]) for name in OUTPUT_FILES],
                                    output_dir, check_mode, want_diff)


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
    from .check_task import checked
    result, task = checked(path, strict, today)
    task["files"] = []
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
