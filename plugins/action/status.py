# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of netpolicy.vpn_passthrough.status (documentation: plugins/modules/status.py).

Renders the intended state from the policy when one is given, so the router compares against
exactly what apply would load; without a policy the router reports counters and conflicts only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.netpolicy.vpn_passthrough.plugins.action.apply import render_for_router

MODULE = "netpolicy.vpn_passthrough.status"
CONTROLLER_ARGS = ("policy_file", "policy", "strict")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("policy_file", "policy", "strict", "nftables", "sysctl", "state_dir",
                             "conntrack", "sysctl_live_skip"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        module_args = dict((k, v) for k, v in args.items() if k not in CONTROLLER_ARGS)
        if args.get("policy_file") is not None or args.get("policy") is not None:
            if "nftables" in args:
                result.update(failed=True, msg="policy_file/policy cannot be combined with "
                                               "nftables")
                return result
            rendered = render_for_router(self, args, result)
            if rendered is None:
                return result
            module_args.update(nftables=rendered["nftables.nft"], sysctl=rendered["sysctl.conf"])
        result.update(self._execute_module(module_name=MODULE, module_args=module_args,
                                           task_vars=task_vars))
        return result
