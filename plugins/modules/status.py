#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: status
short_description: Report VPN passthrough drift, counters, conntrack state and conflicts
version_added: 0.1.0
author: netpolicy maintainers (@netpolicy)
description:
  - Read-only report on a router. With a policy (O(policy_file) or O(policy), validated and
    rendered by the action plugin on the controller) or rendered texts, compares the live table
    C(inet netpolicy_vpn_passthrough) and the sysctl values with the intended ones and returns
    the unified diff when they differ.
  - Always reports per-grant named counters, conntrack entries and expectations per helper
    (a warning when conntrack-tools is missing), whether the kernel supports the PPTP helper,
    whether forwarding is enabled, and conflicts - other tables whose forward or prerouting base
    chains have policy drop, or drop/reject rules that are unconditional or match VPN traffic.
  - Returns the report as data and as a readable RV(summary).
options:
  policy_file:
    description: Policy on the controller to compare with (action plugin).
    type: path
  policy:
    description: Policy as a dict to compare with (action plugin).
    type: dict
  strict:
    description: Treat policy warnings as errors (action plugin).
    type: bool
    default: false
  nftables:
    description: Intended rendered ruleset (set by the action plugin from the policy).
    type: str
  sysctl:
    description: Intended rendered sysctl text (set by the action plugin from the policy).
    type: str
  state_dir:
    description:
      - Router state dir of the apply module; its snapshot of the last applied render is used
        to compare when a scratch network namespace cannot be created.
    type: path
    default: /var/lib/netpolicy-vpn-passthrough
  conntrack:
    description: Count conntrack entries and expectations per helper (needs conntrack-tools).
    type: bool
    default: true
  sysctl_live_skip:
    description: sysctl keys not compared (see the apply module's option of the same name).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    description: Read-only; runs the same in check mode.
    support: full
  diff_mode:
    description: Reports drift in its result, not as a diff (it changes nothing).
    support: none
  action:
    description: Has a controller-side action plugin that renders the intended state.
    support: full
  platform:
    description: Linux routers with nftables.
    support: full
    platforms: posix
seealso:
  - module: netpolicy.vpn_passthrough.apply
"""

EXAMPLES = r"""
- name: Drift and health report against the policy
  netpolicy.vpn_passthrough.status:
    policy_file: policies/branch-office.yml
  register: vpn_status

- name: Show the summary
  ansible.builtin.debug:
    msg: "{{ vpn_status.summary }}"

- name: Counters and conflicts only (no policy at hand)
  netpolicy.vpn_passthrough.status:
"""

RETURN = r"""
in_sync:
  description: Table and sysctl values match the intended ones; null when nothing was compared.
  returned: always
  type: bool
table:
  description: Table presence, comparison result and unified diff (live -> intended).
  returned: always
  type: dict
  sample: {"present": true, "in_sync": false, "intended_source": "scratch-netns",
           "diff": "--- live\n+++ intended\n..."}
counters:
  description: Named counters of the table (one per grant, plus denied_passthrough).
  returned: always
  type: dict
  sample: {"grant_hq-ipsec": {"packets": 12, "bytes": 3400, "comment": "hq-ipsec, ..."}}
conntrack:
  description: Entries and expectations per helper and entries per protocol; null without
    conntrack-tools.
  returned: always
  type: dict
  sample: {"entries_per_helper": {"pptp": 3}, "expectations_per_helper": {"pptp": 3},
           "entries_per_protocol": {"gre": 3, "tcp": 3}}
sysctl:
  description: Per intended key, the live value and whether it matches.
  returned: always
  type: dict
  sample: {"net.ipv4.ip_forward": {"intended": "1", "live": "1", "in_sync": true}}
helpers:
  description: Whether the kernel accepts a conntrack helper object of each type.
  returned: always
  type: dict
  sample: {"pptp": true}
forwarding:
  description: Live IPv4 and IPv6 forwarding switches.
  returned: always
  type: dict
  sample: {"ipv4": true, "ipv6": false}
conflicts:
  description: Problems that would silently break passthrough, each with a kind and detail.
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "policy-drop", "family": "inet", "table": "filter", "chain": "forward",
            "hook": "forward", "handle": null, "detail": "base chain policy drop..."}]
summary:
  description: The report as readable text, one line per fact.
  returned: always
  type: str
"""

import difflib
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.nft_cli import (
    C_LOCALE, Nft, NftError)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.nft_conflicts import (
    find_conflicts)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.nft_table import (
    TABLE_REF, RulesetRejected, guard_ruleset, normalise_listing, replace_transaction)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_backup import (
    intended_listing)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_conntrack import (
    summarise)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_restore import (
    write_atomic)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_sysctl import (
    SysctlError, parse_sysctl_text, read_value)

HELPER_PROBE = ('table inet np_helper_probe {\n\tct helper probe {\n\t\ttype "%s" protocol tcp\n'
                '\t\tl3proto ip\n\t}\n}\n')


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            policy_file=dict(type="path"),
            policy=dict(type="dict"),
            strict=dict(type="bool", default=False),
            nftables=dict(type="str"),
            sysctl=dict(type="str"),
            state_dir=dict(type="path", default="/var/lib/netpolicy-vpn-passthrough"),
            conntrack=dict(type="bool", default=True),
            sysctl_live_skip=dict(type="list", elements="str", default=[]),
        ),
        mutually_exclusive=[("policy_file", "policy", "nftables")],
        supports_check_mode=True,
    )


class Status:
    """Collect the report; `result` is what the module returns."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.nft = Nft(module)
        self.result = {"changed": False, "in_sync": None, "conflicts": []}

    def run(self):
        if self.params["policy_file"] is not None or self.params["policy"] is not None:
            self.module.fail_json(msg="policy_file/policy are read by the action plugin; call "
                                      "netpolicy.vpn_passthrough.status through it or pass "
                                      "nftables")
        try:
            live = self.nft.list_table()
            self.result["table"] = self.compare_table(live)
            self.result["counters"] = self.counters()
            ruleset = self.nft.other_tables_json()
        except NftError as exc:
            self.module.fail_json(msg=exc.msg, **exc.details)
        self.result["sysctl"] = self.compare_sysctl()
        self.result["conntrack"] = self.conntrack()
        self.result["helpers"] = {"pptp": self.helper_supported("pptp")}
        self.result["forwarding"] = {
            "ipv4": read_value("net.ipv4.ip_forward") == "1",
            "ipv6": read_value("net.ipv6.conf.all.forwarding") == "1"}
        self.result["conflicts"] = self.conflicts(ruleset)
        compared = [self.result["table"]["in_sync"]] + [
            entry["in_sync"] for entry in self.result["sysctl"].values()]
        compared = [value for value in compared if value is not None]
        self.result["in_sync"] = all(compared) if compared else None
        self.result["summary"] = self.summary()
        return self.result

    def compare_table(self, live):
        table = {"present": live is not None, "in_sync": None, "intended_source": "none",
                 "diff": ""}
        text = self.params["nftables"]
        if text is None:
            return table
        try:
            guard_ruleset(text)
        except RulesetRejected as exc:
            self.module.fail_json(msg="refusing the intended ruleset: %s" % exc)
        transaction = replace_transaction(text)
        path = os.path.join(self.module.tmpdir, "intended.nft")
        write_atomic(path, transaction.encode("utf-8"), 0o600)
        intended, source = intended_listing(self.nft, self.params["state_dir"], path,
                                            transaction)
        table["intended_source"] = source
        if intended is None:
            self.module.warn("cannot compute the intended table listing here (no network "
                             "namespace and no snapshot of this render); table not compared")
            return table
        before, after = normalise_listing(live) or "", normalise_listing(intended)
        table["in_sync"] = before == after
        table["diff"] = "".join(difflib.unified_diff(
            before.splitlines(True), after.splitlines(True),
            "table %s (live)" % TABLE_REF, "table %s (intended)" % TABLE_REF))
        return table

    def counters(self):
        return dict((c["name"], {"packets": c.get("packets", 0), "bytes": c.get("bytes", 0),
                                 "comment": c.get("comment")})
                    for c in sorted(self.nft.counters_json(), key=lambda c: c["name"]))

    def compare_sysctl(self):
        text = self.params["sysctl"]
        if text is None:
            return {}
        try:
            wanted = parse_sysctl_text(text)
        except SysctlError as exc:
            self.module.fail_json(msg="refusing the intended sysctl text: %s" % exc)
        skip = set(self.params["sysctl_live_skip"])
        report = {}
        for key, value in wanted:
            live = read_value(key)
            report[key] = {"intended": value, "live": live,
                           "in_sync": None if key in skip else live == value}
        return report

    def conntrack(self):
        if not self.params["conntrack"]:
            return None
        binary = self.module.get_bin_path("conntrack")
        if not binary:
            self.module.warn("conntrack-tools is not installed: no conntrack entries or "
                             "expectations in this report")
            return None
        outputs = []
        for args in (["-L"], ["-L", "expect"]):
            rc, out, err = self.module.run_command([binary] + args, environ_update=C_LOCALE)
            if rc != 0:
                self.module.warn("conntrack %s failed: %s" % (" ".join(args), err.strip()))
                return None
            outputs.append(out)
        return summarise(*outputs)

    def helper_supported(self, helper_type):
        path = os.path.join(self.module.tmpdir, "helper-probe.nft")
        write_atomic(path, (HELPER_PROBE % helper_type).encode("utf-8"), 0o600)
        rc, _out, _err = self.nft.run(["-c", "-f", path], "nft -c helper probe", check_rc=False)
        return rc == 0

    def conflicts(self, ruleset):
        conflicts = find_conflicts(ruleset)
        text = self.params["nftables"] or ""
        if not self.result["helpers"]["pptp"] and (not text or 'type "pptp"' in text):
            conflicts.append({"kind": "helper-missing", "detail": "the kernel has no PPTP "
                              "conntrack helper (nf_conntrack_pptp): PPTP through NAT fails"})
        if not self.result["forwarding"]["ipv4"]:
            conflicts.append({"kind": "forwarding-disabled",
                              "detail": "net.ipv4.ip_forward is 0: nothing is forwarded"})
        wants_v6 = (self.result["sysctl"].get("net.ipv6.conf.all.forwarding") or {}).get(
            "intended") == "1"
        if wants_v6 and not self.result["forwarding"]["ipv6"]:
            conflicts.append({"kind": "forwarding-disabled",
                              "detail": "net.ipv6.conf.all.forwarding is 0: IPv6 grants cannot "
                                        "pass"})
        return conflicts

    def summary(self):
        res = self.result
        table = res["table"]
        if not table["present"]:
            state = "ABSENT"
        elif table["in_sync"] is None:
            state = "present (not compared with a policy)"
        else:
            state = "in sync with the policy" if table["in_sync"] else "DRIFT from the policy"
        lines = ["table %s: %s" % (TABLE_REF, state)]
        if table["diff"] and not table["in_sync"]:
            lines.append(table["diff"].rstrip("\n"))
        for name, counter in res["counters"].items():
            lines.append("counter %s: %d packets, %d bytes" % (
                name, counter["packets"], counter["bytes"]))
        for key, entry in sorted(res["sysctl"].items()):
            mark = {True: "ok", False: "DIFFERS", None: "skipped"}[entry["in_sync"]]
            lines.append("sysctl %s: live %s, intended %s (%s)" % (
                key, entry["live"], entry["intended"], mark))
        if res["conntrack"] is None:
            lines.append("conntrack: not available")
        else:
            ct = res["conntrack"]
            lines.append("conntrack: entries per helper %s, expectations per helper %s" % (
                _fmt(ct["entries_per_helper"]), _fmt(ct["expectations_per_helper"])))
        lines.append("helpers: %s" % ", ".join(
            "%s %s" % (name, "supported" if ok else "MISSING")
            for name, ok in sorted(res["helpers"].items())))
        lines.append("forwarding: ipv4 %s, ipv6 %s" % (
            "on" if res["forwarding"]["ipv4"] else "OFF",
            "on" if res["forwarding"]["ipv6"] else "off"))
        if not res["conflicts"]:
            lines.append("conflicts: none")
        for conflict in res["conflicts"]:
            where = ""
            if conflict.get("table"):
                where = " %s %s chain %s%s:" % (
                    conflict["family"], conflict["table"], conflict["chain"],
                    "" if conflict.get("handle") is None else " handle %s" % conflict["handle"])
            lines.append("CONFLICT %s:%s %s" % (conflict["kind"], where, conflict["detail"]))
        return "\n".join(lines)


def _fmt(counts):
    return ", ".join("%s=%d" % item for item in counts.items()) or "none"


def main():
    module = build_module()
    module.exit_json(**Status(module).run())


if __name__ == "__main__":
    main()
