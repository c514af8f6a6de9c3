# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of netpolicy.vpn_passthrough.apply (documentation: plugins/modules/apply.py).

Validates and renders the policy here, where cerberus and Jinja2 live; a policy with errors never
reaches the router. The router module gets only text. With confirm_timeout, the plugin drops the
connection, reconnects and confirms, so a change that cuts the management path rolls back by
itself on the router.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

try:  # controller requirements (cerberus, jinja2); reported as a task failure when missing
    from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.engine import (
        check_policy_data, check_policy_file)
    from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render import (
        RenderError, render_policy)
    IMPORT_ERROR = None
except ImportError as import_error:
    IMPORT_ERROR = import_error

MODULE = "netpolicy.vpn_passthrough.apply"
CONTROLLER_ARGS = ("policy_file", "policy", "strict")


def render_for_router(action, args, result):
    """Validate and render the policy named in args; returns the rendered dict or None after
    filling `result` with the failure (findings included) when it must not reach the router."""
    if IMPORT_ERROR is not None:
        result.update(failed=True, msg="validating and rendering a policy needs the controller "
                                       "requirements (cerberus, jinja2): %s" % IMPORT_ERROR)
        return None
    policy_file = args.get("policy_file")
    policy = args.get("policy")
    strict = args.get("strict", False)
    if (policy_file is None) == (policy is None):
        result.update(failed=True, msg="give exactly one of policy_file or policy")
        return None
    try:
        strict = boolean(strict, strict=True)
    except TypeError:
        result.update(failed=True, msg="strict must be a boolean, got %r" % (strict,))
        return None
    if policy_file is not None:
        try:
            path = action._find_needle("files", to_text(policy_file))
        except AnsibleError as exc:
            result.update(failed=True, msg="policy_file %s not found: %s" % (policy_file, exc))
            return None
        check = check_policy_file(path, strict=strict)
    else:
        if not isinstance(policy, dict):
            result.update(failed=True, msg="policy must be a dict, got %s" % type(policy).__name__)
            return None
        check = check_policy_data(policy, source="<policy>", strict=strict)
    report = check.to_dict()
    result["findings"] = report["findings"]
    result["policy_name"] = check.name
    if not check.valid:
        errors = [f for f in check.findings if f.severity == "error"] or check.findings
        result.update(failed=True, msg="policy %s is not valid; nothing was sent to the router:\n%s"
                      % (check.name or check.source, "\n".join(str(f) for f in errors)))
        return None
    try:
        return render_policy(check.policy)
    except RenderError as exc:
        result.update(failed=True, msg="cannot render policy %s: %s" % (check.name, exc))
        return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset((
        "policy_file", "policy", "strict", "nftables", "sysctl", "modules_load", "ruleset_path",
        "sysctl_path", "modules_load_path", "persist", "systemd_unit_dir", "state_dir",
        "backups_keep", "lock_timeout", "confirm_timeout", "confirm", "sysctl_live_skip",
        "state"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        module_args = dict((k, v) for k, v in args.items() if k not in CONTROLLER_ARGS)
        if args.get("policy_file") is not None or args.get("policy") is not None:
            if "nftables" in args or "confirm" in args or args.get("state") == "absent":
                result.update(failed=True, msg="policy_file/policy cannot be combined with "
                                               "nftables, confirm or state=absent")
                return result
            rendered = render_for_router(self, args, result)
            if rendered is None:
                return result
            module_args.update(nftables=rendered["nftables.nft"], sysctl=rendered["sysctl.conf"],
                               modules_load=rendered["modules-load.conf"])

        module_result = self._execute_module(module_name=MODULE, module_args=module_args,
                                             task_vars=task_vars)
        result.update(module_result)
        confirm = module_result.get("confirm") or {}
        if not module_result.get("failed") and confirm.get("pending"):
            result["confirm"] = self._confirm(confirm, module_args, task_vars)
            if result["confirm"].get("failed"):
                result.update(failed=True, msg=result["confirm"]["msg"])
        return result

    def _confirm(self, confirm, module_args, task_vars):
        """Reconnect with a fresh connection and confirm; if that is impossible, the router's
        watchdog restores the previous state at the deadline."""
        confirm_args = {"confirm": confirm["id"]}
        for key in ("state_dir", "lock_timeout"):
            if key in module_args:
                confirm_args[key] = module_args[key]
        try:
            self._connection.reset()
        except Exception as exc:  # pylint: disable=broad-except
            self._display.vvv("connection reset not supported (%s); confirming on it" % exc)
        try:
            answer = self._execute_module(module_name=MODULE, module_args=confirm_args,
                                          task_vars=task_vars)
        except AnsibleError as exc:
            return dict(confirm, failed=True,
                        msg="could not reconnect to confirm change %s (%s); the router restores "
                            "the previous state at its deadline" % (confirm["id"], exc))
        if answer.get("failed"):
            return dict(confirm, failed=True, msg=answer.get("msg", "confirmation failed"))
        return dict(answer.get("confirm") or {}, pending=False)
