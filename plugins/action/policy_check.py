# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of netpolicy.vpn_passthrough.policy_check (documentation:
plugins/modules/policy_check.py): the policy is read and checked where the play runs from,
whatever host the task targets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.check_task import (
    MISSING_LIBRARY, run_check)
from ansible_collections.netpolicy.vpn_passthrough.plugins.modules.policy_check import (
    ARGUMENT_SPEC)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            result.update(failed=True, msg="; ".join(validation.error_messages))
            return result
        params = validation.validated_parameters
        if MISSING_LIBRARY:
            result.update(failed=True, msg="the controller needs the Python library %s"
                          % MISSING_LIBRARY)
            return result
        try:
            path = self._find_needle("files", to_text(params["path"]))
        except AnsibleError:
            result.update(failed=True, msg="policy file not found: %s" % params["path"])
            return result
        try:
            result.update(run_check(path, strict=params["strict"], today=params["today"],
                                    report_dir=params["report_dir"],
                                    fail_on_invalid=params["fail_on_invalid"],
                                    check_mode=self._task.check_mode))
        except ValueError as exc:
            result.update(failed=True, msg=str(exc))
        return result
