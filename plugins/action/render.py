# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of netpolicy.vpn_passthrough.render (documentation: plugins/modules/render.py):
the policy is validated and rendered, and the files written, where the play runs from."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.netpolicy.vpn_passthrough.plugins.modules.render import ARGUMENT_SPEC

try:  # controller requirements (cerberus, jinja2); reported as a task failure when missing
    from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render_task import (
        run_render)
except ImportError as import_error:
    run_render = None
    IMPORT_ERROR = import_error
else:
    IMPORT_ERROR = None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        if run_render is None:
            result.update(failed=True, msg="netpolicy.vpn_passthrough.render needs cerberus and "
                          "jinja2 on the controller: %s" % IMPORT_ERROR)
            return result
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            result.update(failed=True, msg="; ".join(validation.error_messages))
            return result
        params = validation.validated_parameters
        try:
            path = self._find_needle("files", to_text(params["path"]))
        except AnsibleError:
            result.update(failed=True, msg="policy file not found: %s" % params["path"])
            return result
        try:
            result.update(run_render(path, output_dir=params["output_dir"],
                                     strict=params["strict"], today=params["today"],
                                     fail_on_invalid=params["fail_on_invalid"],
                                     return_content=params["return_content"],
                                     check_mode=self._task.check_mode, diff=self._task.diff))
        except ValueError as exc:
            result.update(failed=True, msg=str(exc))
        return result
