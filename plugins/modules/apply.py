#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: apply
short_description: Apply a VPN passthrough policy to a Linux router safely
version_added: 0.1.0
author: netpolicy maintainers (@netpolicy)
description:
  - On the controller, the action plugin validates the policy (O(policy_file) or O(policy)) and
    renders it; on the router, this module applies the rendered texts. The router needs only
    python3 and C(nft).
  - The rendered ruleset is checked by the live kernel with C(nft -c) before anything changes,
    then loaded in one atomic C(nft -f) transaction that replaces only the table
    C(inet netpolicy_vpn_passthrough). Other tables are never touched; a ruleset that addresses
    anything else is refused.
  - sysctl values are applied live and persisted in a drop-in; the kernel modules list goes to
    modules-load.d; the ruleset is persisted in O(ruleset_path) and loaded at boot by a small
    systemd unit ordered after C(nftables.service), so the distribution's nftables config is
    never edited.
  - Idempotent against the live kernel, not only files. The intended table is what this nft and
    kernel print after loading the render in a scratch network namespace (or, where namespaces
    cannot be created, what was printed right after the last apply of the same render); a rule
    deleted by hand is detected and restored.
  - Before the first change a backup of the table, the sysctl values and every file is taken
    under O(state_dir); any failure restores all of it. With O(confirm_timeout), a detached
    watchdog restores the backup unless the controller reconnects and confirms in time.
  - A lock on the router (O(state_dir)/lock) serialises concurrent runs.
options:
  policy_file:
    description:
      - Path on the controller of the passthrough policy to validate, render and apply.
      - Handled by the action plugin; mutually exclusive with O(policy) and O(nftables).
    type: path
  policy:
    description:
      - The passthrough policy as a dict, instead of O(policy_file). Handled by the action plugin.
    type: dict
  strict:
    description:
      - Treat policy warnings as errors (action plugin).
    type: bool
    default: false
  nftables:
    description:
      - Rendered nftables text defining only the table C(inet netpolicy_vpn_passthrough).
      - Set by the action plugin; give it directly only when calling the module without a policy.
    type: str
  sysctl:
    description:
      - Rendered sysctl drop-in text (C(key = value) lines). Empty means no drop-in.
    type: str
    default: ''
  modules_load:
    description:
      - Rendered modules-load.d text. Empty means no modules-load file.
    type: str
    default: ''
  ruleset_path:
    description:
      - Where the ruleset is persisted for boot (the text of the atomic replace transaction).
    type: path
    default: /etc/nftables.d/netpolicy-vpn-passthrough.nft
  sysctl_path:
    description:
      - sysctl drop-in written with the rendered values.
    type: path
    default: /etc/sysctl.d/90-netpolicy-vpn-passthrough.conf
  modules_load_path:
    description:
      - modules-load.d file listing the kernel modules the policy needs.
    type: path
    default: /etc/modules-load.d/netpolicy-vpn-passthrough.conf
  persist:
    description:
      - Persist the ruleset (O(ruleset_path) plus the systemd unit) so it survives a reboot.
    type: bool
    default: true
  systemd_unit_dir:
    description:
      - Directory for C(netpolicy-vpn-passthrough.service) and its C(sysinit.target.wants)
        link. C(systemctl daemon-reload) runs only when this is C(/etc/systemd/system) and
        systemd is running.
    type: path
    default: /etc/systemd/system
  state_dir:
    description:
      - Router-side state - lock file, backups, the last applied snapshot.
    type: path
    default: /var/lib/netpolicy-vpn-passthrough
  backups_keep:
    description:
      - How many backups to keep under O(state_dir)/backups (pending confirms are never pruned).
    type: int
    default: 5
  lock_timeout:
    description:
      - Seconds to wait for another run's lock before failing.
    type: int
    default: 60
  confirm_timeout:
    description:
      - Seconds after which the router restores the previous state by itself unless the change
        is confirmed. V(0) disables commit-confirm.
      - The action plugin confirms automatically after reconnecting with a fresh connection.
        Calling the module without the action plugin requires a second call with O(confirm).
    type: int
    default: 0
  confirm:
    description:
      - Confirm the pending change with this backup id (RV(backup_id)) and do nothing else.
        Used by the action plugin after it reconnected.
    type: str
  state:
    description:
      - V(present) applies the policy.
      - V(absent) deletes the table C(inet netpolicy_vpn_passthrough), the persisted ruleset,
        the boot unit and its link, the sysctl drop-in and the modules-load file - with the same
        kernel check, backup, rollback and commit-confirm. Live sysctl values are left as they
        are (forwarding may serve other purposes). Takes no policy.
    type: str
    choices: [present, absent]
    default: present
  sysctl_live_skip:
    description:
      - sysctl keys persisted in the drop-in but neither written live nor compared, e.g.
        C(net.netfilter.nf_conntrack_max) on a router that is a container (a network namespace
        cannot write that global key).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    description: Runs the kernel check (C(nft -c)) and reports what would change; changes nothing.
    support: full
  diff_mode:
    description: Before/after of the live vs intended table and of the sysctl values.
    support: full
  action:
    description: Has a controller-side action plugin that validates and renders the policy.
    support: full
  platform:
    description: Linux routers with nftables.
    support: full
    platforms: posix
notes:
  - The test suite injects failures with the environment variable
    E(NETPOLICY_VPN_PASSTHROUGH_FAULT) (V(nft_load), V(after_files), V(after_sysctl),
    V(after_table)); never set it in production.
seealso:
  - module: netpolicy.vpn_passthrough.status
"""

EXAMPLES = r"""
- name: Apply the branch office policy with a 120 s commit-confirm
  netpolicy.vpn_passthrough.apply:
    policy_file: policies/branch-office.yml
    confirm_timeout: 120

- name: Show what would change without touching the router
  netpolicy.vpn_passthrough.apply:
    policy_file: policies/branch-office.yml
  check_mode: true
  diff: true

- name: Remove everything the collection put on the router
  netpolicy.vpn_passthrough.apply:
    state: absent

- name: Router that is a container - conntrack_max is global and cannot be set from it
  netpolicy.vpn_passthrough.apply:
    policy_file: policies/branch-office.yml
    sysctl_live_skip:
      - net.netfilter.nf_conntrack_max
"""

RETURN = r"""
table_changed:
  description: Whether the live table differed from the intended one (and was replaced).
  returned: always
  type: bool
table_present_before:
  description: Whether the table existed before this run.
  returned: always
  type: bool
intended_source:
  description:
    - How the intended table listing was obtained - V(scratch-netns), V(snapshot) (the listing
      saved after the last apply of the same render), V(none) (unknown, so the table is
      replaced) or V(absent) (O(state=absent)).
  returned: always
  type: str
sysctl_changes:
  description: sysctl keys whose live value differed, with before and after values.
  returned: always
  type: dict
  sample: {"net.ipv4.ip_forward": {"before": "0", "after": "1"}}
files_changed:
  description: Paths written or removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
backup_id:
  description: Backup taken before the change (under O(state_dir)/backups).
  returned: when changed and not in check mode
  type: str
backup_dir:
  description: Directory of that backup.
  returned: when changed and not in check mode
  type: str
confirm:
  description: Commit-confirm state - pending, deadline (epoch seconds) and the backup id.
  returned: when O(confirm_timeout) > 0 and a change was applied, or with O(confirm)
  type: dict
  sample: {"pending": true, "deadline": 1767225600.0, "id": "20260101T000000.000000-42"}
rolled_back:
  description: On failure, whether the previous state was restored completely.
  returned: failure after the first change
  type: bool
"""

import os
import sys
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils import router_restore
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.nft_cli import Nft, NftError
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.nft_table import (
    DELETE_TEXT, TABLE_REF, RulesetRejected, guard_ruleset, normalise_listing,
    replace_transaction)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_backup import (
    backups_root, create_backup, intended_listing, pending_confirm, prune, save_snapshot)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_restore import (
    APPLIED, CONFIRMED, FAILED, PENDING, ROLLED_BACK, LockTimeout, RouterLock, read_status,
    set_status, write_atomic)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_sysctl import (
    SysctlError, parse_sysctl_text, read_value, write_value)

UNIT_NAME = "netpolicy-vpn-passthrough.service"
FAULT_ENV = "NETPOLICY_VPN_PASSTHROUGH_FAULT"
RULESET_HEADER = ("# Managed by netpolicy.vpn_passthrough (apply module); loaded at boot by %s.\n"
                  "# Replaces only table %s in one transaction.\n" % (UNIT_NAME, TABLE_REF))
UNIT_TEMPLATE = """# Managed by netpolicy.vpn_passthrough: loads the VPN passthrough table at boot.
# Ordered after nftables.service, whose config starts with "flush ruleset", and restarted with it.
[Unit]
Description=netpolicy VPN passthrough nftables table
DefaultDependencies=no
After=nftables.service firewalld.service
PartOf=nftables.service
Wants=network-pre.target
Before=network-pre.target shutdown.target
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart={nft} -f {ruleset}

[Install]
WantedBy=sysinit.target
"""


class ApplyFailed(Exception):
    """A step after the first change failed; the backup must be restored."""

    def __init__(self, msg, **details):
        super(ApplyFailed, self).__init__(msg)
        self.msg = msg
        self.details = details


def argument_spec():
    return dict(
        policy_file=dict(type="path"),
        policy=dict(type="dict"),
        strict=dict(type="bool", default=False),
        nftables=dict(type="str"),
        sysctl=dict(type="str", default=""),
        modules_load=dict(type="str", default=""),
        ruleset_path=dict(type="path", default="/etc/nftables.d/netpolicy-vpn-passthrough.nft"),
        sysctl_path=dict(type="path", default="/etc/sysctl.d/90-netpolicy-vpn-passthrough.conf"),
        modules_load_path=dict(type="path",
                               default="/etc/modules-load.d/netpolicy-vpn-passthrough.conf"),
        persist=dict(type="bool", default=True),
        systemd_unit_dir=dict(type="path", default="/etc/systemd/system"),
        state_dir=dict(type="path", default="/var/lib/netpolicy-vpn-passthrough"),
        backups_keep=dict(type="int", default=5),
        lock_timeout=dict(type="int", default=60),
        confirm_timeout=dict(type="int", default=0),
        confirm=dict(type="str"),
        sysctl_live_skip=dict(type="list", elements="str", default=[]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )


def build_module():
    return AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("policy_file", "policy", "nftables", "confirm")],
        required_if=[("state", "present", ("policy_file", "policy", "nftables", "confirm"), True)],
        supports_check_mode=True,
    )


def read_bytes(path):
    """Current content of a managed path: bytes, ('symlink', target) or None when absent."""
    if os.path.islink(path):
        return ("symlink", os.readlink(path))
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            return handle.read()
    return None


class Apply:
    """One run of the module; `result` holds what is returned."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.result = {"changed": False, "table_changed": False, "table_present_before": False,
                       "intended_source": "none", "sysctl_changes": {}, "files_changed": []}
        self.lock_path = os.path.join(self.params["state_dir"], "lock")
        self.nft = None

    # ----- entry points -------------------------------------------------------------------
    def run(self):
        params = self.params
        if params["state"] == "absent" and (params["nftables"] is not None or
                                            params["confirm"] is not None):
            self.module.fail_json(msg="state=absent removes the collection's table and files; "
                                      "it takes no nftables text and no confirm")
        if params["policy_file"] is not None or params["policy"] is not None:
            self.module.fail_json(msg="policy_file/policy are read by the action plugin on the "
                                      "controller; call the module through the "
                                      "netpolicy.vpn_passthrough.apply action, or pass nftables")
        for name in ("backups_keep", "lock_timeout", "confirm_timeout"):
            if params[name] < (1 if name == "backups_keep" else 0):
                self.module.fail_json(msg="%s must be %s, got %d" % (
                    name, ">= 1" if name == "backups_keep" else ">= 0", params[name]))
        try:
            with RouterLock(self.lock_path, params["lock_timeout"]):
                if params["confirm"] is not None:
                    self.confirm(params["confirm"])
                else:
                    self.apply()
        except LockTimeout as exc:
            self.module.fail_json(msg="another apply is running on this router: %s" % exc,
                                  lock_path=self.lock_path)
        return self.result

    def confirm(self, backup_id):
        backup_dir = os.path.join(backups_root(self.params["state_dir"]), backup_id)
        if os.path.basename(backup_id) != backup_id or not os.path.isdir(backup_dir):
            self.module.fail_json(msg="confirm: no backup %r under %s" % (
                backup_id, backups_root(self.params["state_dir"])))
        state = read_status(backup_dir).get("state")
        if state == PENDING:
            if not self.module.check_mode:
                set_status(backup_dir, CONFIRMED)
            self.result.update(changed=True, confirm={"pending": False, "id": backup_id,
                                                      "state": CONFIRMED})
        elif state == CONFIRMED:
            self.result.update(confirm={"pending": False, "id": backup_id, "state": state})
        else:
            self.module.fail_json(
                msg="confirm: change %s is %s, not pending; the router already restored the "
                    "previous state (the confirmation came too late)" % (backup_id, state),
                confirm={"pending": False, "id": backup_id, "state": state})

    def apply(self):
        params = self.params
        absent = params["state"] == "absent"
        text = params["nftables"]
        sysctl_wanted = []
        try:
            if not absent:
                guard_ruleset(text)
                sysctl_wanted = parse_sysctl_text(params["sysctl"])
        except (RulesetRejected, SysctlError) as exc:
            self.module.fail_json(msg="refusing the rendered input: %s" % exc)
        skip = set(params["sysctl_live_skip"])
        self.nft = Nft(self.module)

        pending = pending_confirm(params["state_dir"])
        if pending:
            self.module.fail_json(msg="a commit-confirm is pending for change %s; confirm it "
                                      "(confirm: %s) or wait for its rollback" % (pending, pending))

        transaction = DELETE_TEXT if absent else replace_transaction(text)
        check_path = os.path.join(self.module.tmpdir, "intended.nft")
        write_atomic(check_path, transaction.encode("utf-8"), 0o600)
        try:
            self.nft.check_file(check_path)
            live = self.nft.list_table()
        except NftError as exc:
            self.module.fail_json(msg=exc.msg, **exc.details)
        if absent:
            intended, source = None, "absent"
            table_changed = live is not None
        else:
            intended, source = self.intended_listing(check_path, transaction)
            table_changed = intended is None or \
                normalise_listing(live) != normalise_listing(intended)
        self.result["intended_source"] = source
        self.result["table_present_before"] = live is not None

        sysctl_before = {}
        for key, value in sysctl_wanted:
            if key in skip:
                continue
            current = read_value(key)
            if current != value:
                sysctl_before[key] = current
                self.result["sysctl_changes"][key] = {"before": current, "after": value}

        files = self.desired_files(transaction)
        files_changed = [path for path, content in files if read_bytes(path) != content]
        self.result.update(table_changed=table_changed, files_changed=files_changed)
        self.result["changed"] = bool(table_changed or sysctl_before or files_changed)
        if self.module._diff:
            self.result["diff"] = self.make_diff(live, intended, "" if absent else text,
                                                 sysctl_wanted, skip)
        if self.module.check_mode or not self.result["changed"]:
            return

        backup_dir = create_backup(params["state_dir"], live, sysctl_before,
                                   [path for path, _content in files])
        backup_id = os.path.basename(backup_dir)
        self.result.update(backup_id=backup_id, backup_dir=backup_dir)
        if params["confirm_timeout"]:
            deadline = time.time() + params["confirm_timeout"]
            set_status(backup_dir, PENDING, deadline=deadline)
            self.arm_watchdog(backup_dir, deadline)
            self.result["confirm"] = {"pending": True, "deadline": deadline, "id": backup_id}
        try:
            self.change(files, files_changed, sysctl_wanted, skip, sysctl_before, table_changed,
                        transaction, intended)
        except ApplyFailed as exc:
            errors = router_restore.restore(backup_dir, self.nft.binary)
            set_status(backup_dir, ROLLED_BACK if not errors else FAILED, reason=exc.msg,
                       errors=errors)
            self.module.fail_json(msg="apply failed, %s: %s" % (
                "previous state restored" if not errors else "ROLLBACK INCOMPLETE", exc.msg),
                rolled_back=not errors, rollback_errors=errors, backup_dir=backup_dir,
                **exc.details)
        if not params["confirm_timeout"]:
            set_status(backup_dir, APPLIED)
        prune(params["state_dir"], params["backups_keep"], protect=(backup_id,))

    # ----- decisions ----------------------------------------------------------------------
    def intended_listing(self, path, transaction):
        return intended_listing(self.nft, self.params["state_dir"], path, transaction)

    def desired_files(self, transaction):
        """[(path, wanted content)] in the order they are written; None = must be absent."""
        params = self.params
        files = []
        if params["persist"] or params["state"] == "absent":
            unit_path = os.path.join(params["systemd_unit_dir"], UNIT_NAME)
            unit = UNIT_TEMPLATE.format(nft=self.nft.binary, ruleset=params["ruleset_path"])
            files += [
                (params["ruleset_path"], (RULESET_HEADER + transaction).encode("utf-8")),
                (unit_path, unit.encode("utf-8")),
                (os.path.join(params["systemd_unit_dir"], "sysinit.target.wants", UNIT_NAME),
                 ("symlink", unit_path)),
            ]
        for key in ("sysctl", "modules_load"):
            text = params[key]
            files.append((params[key + "_path"], text.encode("utf-8") if text.strip() else None))
        if params["state"] == "absent":
            files = [(path, None) for path, _content in files]
        return files

    def make_diff(self, live, intended, text, sysctl_wanted, skip):
        def sysctl_lines(pick):
            return "".join("%s = %s\n" % (key, pick(key, value))
                           for key, value in sysctl_wanted if key not in skip)
        return [
            {"before_header": "table %s (live)" % TABLE_REF,
             "after_header": "table %s (intended)" % TABLE_REF,
             "before": normalise_listing(live) or "",
             "after": normalise_listing(intended) if intended is not None else text},
            {"before_header": "sysctl (live)", "after_header": "sysctl (intended)",
             "before": sysctl_lines(lambda key, value: read_value(key)),
             "after": sysctl_lines(lambda key, value: value)},
        ]

    # ----- changes (every failure from here on is rolled back) ----------------------------
    def change(self, files, files_changed, sysctl_wanted, skip, sysctl_before, table_changed,
               transaction, intended):
        fault = os.environ.get(FAULT_ENV, "")
        for path, content in files:
            if path in files_changed:
                self.write_file(path, content)
        self.maybe_daemon_reload(files_changed)
        self.inject(fault, "after_files")
        for key, value in sysctl_wanted:
            if key in sysctl_before:
                try:
                    write_value(key, value)
                except SysctlError as exc:
                    raise ApplyFailed("%s (a router that is a network namespace cannot set "
                                      "global keys; list them in sysctl_live_skip)" % exc)
        self.inject(fault, "after_sysctl")
        if table_changed:
            load_text = transaction
            if fault == "nft_load":
                # A statement the kernel rejects: the real transaction fails as a whole.
                load_text += "add rule %s np_fault_missing_chain counter\n" % TABLE_REF
            load_path = os.path.join(self.module.tmpdir, "load.nft")
            write_atomic(load_path, load_text.encode("utf-8"), 0o600)
            try:
                self.nft.load_file(load_path)
            except NftError as exc:
                raise ApplyFailed(exc.msg, **exc.details)
            self.inject(fault, "after_table")
            try:
                loaded = self.nft.list_table()
            except NftError as exc:
                raise ApplyFailed(exc.msg, **exc.details)
            if self.params["state"] == "absent":
                if loaded is not None:
                    raise ApplyFailed("table %s is still present after deleting it" % TABLE_REF)
                return
            if intended is not None and normalise_listing(loaded) != normalise_listing(intended):
                raise ApplyFailed("the live table after loading differs from the intended one")
            save_snapshot(self.params["state_dir"], transaction, normalise_listing(loaded))

    @staticmethod
    def inject(fault, step):
        if fault == step:
            raise ApplyFailed("fault injected by %s=%s" % (FAULT_ENV, step))

    def write_file(self, path, content):
        try:
            if content is None:
                if os.path.lexists(path):
                    os.unlink(path)
                return
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                os.makedirs(parent, 0o755)
            if isinstance(content, tuple):
                if os.path.lexists(path):
                    os.unlink(path)
                os.symlink(content[1], path)
            else:
                write_atomic(path, content, 0o644)
        except (IOError, OSError) as exc:
            raise ApplyFailed("cannot write %s: %s" % (path, exc.strerror or exc))

    def maybe_daemon_reload(self, files_changed):
        unit_dir = self.params["systemd_unit_dir"]
        if not any(path.startswith(unit_dir + os.sep) for path in files_changed):
            return
        systemctl = self.module.get_bin_path("systemctl")
        if unit_dir != "/etc/systemd/system" or not systemctl or \
                not os.path.isdir("/run/systemd/system"):
            return
        rc, _out, err = self.module.run_command([systemctl, "daemon-reload"])
        if rc != 0:
            self.module.warn("systemctl daemon-reload failed: %s" % err.strip())

    def arm_watchdog(self, backup_dir, deadline):
        """Start the detached rollback: the same restore code, copied next to the backup so it
        runs without Ansible and outlives this process and its connection."""
        loader = getattr(router_restore, "__loader__", None)
        source = loader.get_source(router_restore.__name__) if loader else None
        if not source:
            with open(router_restore.__file__) as handle:
                source = handle.read()
        script = os.path.join(backup_dir, "router_restore.py")
        write_atomic(script, source.encode("utf-8"), 0o700)
        spawn_detached([sys.executable, script, backup_dir, self.nft.binary, repr(deadline),
                        self.lock_path])


def spawn_detached(argv):
    """Double fork + setsid: the watchdog belongs to no session or connection of ours, holds
    none of our descriptors (Python opens them non-inheritable), and is reaped by init."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                os.chdir("/")
                os.execv(argv[0], argv)
        finally:
            os._exit(0)  # pylint: disable=protected-access
    os.waitpid(pid, 0)


def main():
    module = build_module()
    module.exit_json(**Apply(module).run())


if __name__ == "__main__":
    main()
