#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: policy_check
short_description: Validate a VPN passthrough policy (schema and lint rules) and report findings
version_added: 0.1.0
author: netpolicy maintainers (@netpolicy)
description:
  - Reads a passthrough policy (YAML), validates it against the schema and the semantic lint
    rules (NP001-NP119, see docs/rules.md), applies the policy's waivers, and returns every
    finding with its rule ID, severity, path and line.
  - Runs on the controller through its action plugin, so the policy file is read there and
    the Python libraries it needs (cerberus) are only needed there.
  - Optionally writes C(findings.json), C(junit.xml) and C(summary.md) into O(report_dir).
options:
  path:
    description:
      - Path of the policy file (on the controller).
    type: path
    required: true
    aliases: [policy_file]
  strict:
    description:
      - Treat warnings as errors.
    type: bool
    default: false
  today:
    description:
      - Evaluate expiry dates as of this date (YYYY-MM-DD) instead of today, for example the
        planned rollout date.
    type: str
  report_dir:
    description:
      - Directory (on the controller) to write C(findings.json), C(junit.xml) and
        C(summary.md) into. Created if missing. Files are only rewritten when their content
        changes; in check mode nothing is written.
    type: path
  fail_on_invalid:
    description:
      - Fail the task when the policy is not valid. With V(false) the task succeeds and
        RV(valid) tells the verdict.
    type: bool
    default: true
attributes:
  check_mode:
    description: Validates as usual; no report file is written, RV(ignore:changed) tells whether one would be.
    support: full
  diff_mode:
    description: Not supported; the findings are the result.
    support: none
  action:
    description: Has a controller-side action plugin that reads and checks the policy there.
    support: full
  platform:
    description: Runs on the controller; any platform with Python and cerberus.
    support: full
    platforms: all
notes:
  - The policy format is documented in docs/policy-reference.md, the rules in docs/rules.md.
seealso:
  - module: netpolicy.vpn_passthrough.render
  - module: netpolicy.vpn_passthrough.apply
requirements:
  - cerberus (on the controller)
"""

EXAMPLES = r"""
- name: Validate the branch office policy and write reports for CI
  netpolicy.vpn_passthrough.policy_check:
    path: policies/branch-office.yml
    report_dir: "{{ playbook_dir }}/reports"

- name: Check without failing, then decide
  netpolicy.vpn_passthrough.policy_check:
    path: policies/branch-office.yml
    strict: true
    today: "2027-01-15"
    fail_on_invalid: false
  register: policy

- name: Show the findings
  ansible.builtin.debug:
    msg: "{{ policy.summary }}"
"""

RETURN = r"""
valid:
  description: Whether the policy has no errors (and, with O(strict), no warnings).
  returned: always
  type: bool
  sample: true
policy_name:
  description: The policy's metadata.name, when the document could be read.
  returned: always
  type: str
  sample: branch-office
counts:
  description: Number of findings per severity.
  returned: always
  type: dict
  sample: {"error": 0, "warning": 1, "info": 1}
findings:
  description: Every finding, most severe first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Stable rule ID.
      type: str
      sample: NP101
    severity:
      description: C(error), C(warning), or C(info) (a waived finding).
      type: str
      sample: info
    path:
      description: Where in the document, for example C(grants[2].servers[0]).
      type: str
      sample: grants[2].protocols
    line:
      description: Line in the policy file, when known.
      type: int
      sample: 34
    message:
      description: What is wrong and what to do.
      type: str
      sample: grant 'legacy-pptp' allows PPTP, which is cryptographically broken
summary:
  description: A readable summary, one line per finding.
  returned: always
  type: str
reports:
  description: Paths of the report files written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
  sample: ["reports/findings.json", "reports/junit.xml", "reports/summary.md"]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.check_task import (
    MISSING_LIBRARY, run_check)

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True, aliases=["policy_file"]),
    strict=dict(type="bool", default=False),
    today=dict(type="str"),
    report_dir=dict(type="path"),
    fail_on_invalid=dict(type="bool", default=True),
)


def build_module():
    return AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def main():
    module = build_module()
    if MISSING_LIBRARY:
        module.fail_json(msg=missing_required_lib(MISSING_LIBRARY))
    params = module.params
    try:
        result = run_check(params["path"], strict=params["strict"], today=params["today"],
                           report_dir=params["report_dir"],
                           fail_on_invalid=params["fail_on_invalid"],
                           check_mode=module.check_mode)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
