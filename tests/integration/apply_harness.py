"""Run the apply/status target modules for real inside a network namespace, with temp paths.

The module is started as `python -m ansible_collections...modules.apply` inside the namespace
with its arguments on stdin (no AnsiballZ), so the real nft, kernel and /proc/sys of the
namespace are used and the host is never touched.
"""
import fcntl
import json
import os
import subprocess
import sys
import time

import yaml

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.engine import (
    check_policy_text)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render import render_policy

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COLLECTIONS = os.path.join(REPO, "build", "collections")
MODULES = "ansible_collections.netpolicy.vpn_passthrough.plugins.modules."
TABLE = ("inet", "netpolicy_vpn_passthrough")
LIVE_SKIP = ["net.netfilter.nf_conntrack_max"]  # global key: a namespace cannot write it

BASE_POLICY = {
    "apiVersion": "netpolicy.vpn_passthrough/v1",
    "kind": "PassthroughPolicy",
    "metadata": {"name": "itest", "owner": "netops@example.com"},
    "router": {"lan": {"interfaces": ["lan0"], "networks": ["10.20.0.0/16"]},
               "wan": {"interfaces": ["wan0"], "nat": "masquerade"}},
    "grants": [{"name": "office-ipsec", "protocols": ["ipsec"], "clients": ["10.20.0.0/16"],
                "servers": ["203.0.113.5"]}],
    "conntrack": {"gre_timeout": 40},
}


def policy(**changes):
    """BASE_POLICY with top-level keys replaced; extra grants via grants=[...]."""
    doc = json.loads(json.dumps(BASE_POLICY))
    doc.update(changes)
    return doc


def render(doc):
    """Validate and render like the action plugin does on the controller."""
    check = check_policy_text(yaml.safe_dump(doc))
    assert check.valid, [str(f) for f in check.findings]
    return render_policy(check.policy)


# A second policy that differs in the table (another grant) and in a sysctl value.
POLICY_A = policy()
POLICY_B = policy(grants=BASE_POLICY["grants"] + [
    {"name": "lab-ipsec", "protocols": ["ipsec"], "clients": ["10.20.5.0/24"],
     "servers": ["198.51.100.20"]}], conntrack={"gre_timeout": 55})


class Router:
    """A namespace acting as the router, with its /etc, state dir under a temp root."""

    def __init__(self, netns, root):
        self.ns = netns
        self.root = str(root)
        self.etc = os.path.join(self.root, "etc")
        self.state_dir = os.path.join(self.root, "var", "lib", "np")
        os.makedirs(self.etc)
        netns.add_links("lan0", "wan0")

    def args(self, rendered=None, **extra):
        args = {
            "ruleset_path": os.path.join(self.etc, "nftables.d", "netpolicy-vpn-passthrough.nft"),
            "sysctl_path": os.path.join(self.etc, "sysctl.d", "90-netpolicy-vpn-passthrough.conf"),
            "modules_load_path": os.path.join(self.etc, "modules-load.d", "np.conf"),
            "systemd_unit_dir": os.path.join(self.etc, "systemd", "system"),
            "state_dir": self.state_dir,
            "sysctl_live_skip": LIVE_SKIP,
        }
        if rendered is not None:
            args.update(nftables=rendered["nftables.nft"], sysctl=rendered["sysctl.conf"],
                        modules_load=rendered["modules-load.conf"])
        args.update(extra)
        return args

    def popen(self, module, args, check=False, diff=False, env=None):
        payload = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
        environ = dict(os.environ, PYTHONPATH=COLLECTIONS, **(env or {}))
        proc = subprocess.Popen(self.ns.argv([sys.executable, "-m", MODULES + module]),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=environ)
        proc.stdin.write(json.dumps({"ANSIBLE_MODULE_ARGS": payload}))
        proc.stdin.close()
        return proc

    @staticmethod
    def result(proc, timeout=120):
        out = proc.stdout.read()
        err = proc.stderr.read()
        proc.wait(timeout=timeout)
        try:
            return json.loads(out)
        except ValueError:
            raise AssertionError("module printed no JSON (rc=%s): %s %s"
                                 % (proc.returncode, out, err))

    def run(self, module, args, check=False, diff=False, env=None):
        return self.result(self.popen(module, args, check, diff, env))

    def apply(self, rendered=None, check=False, diff=False, env=None, **extra):
        return self.run("apply", self.args(rendered, **extra), check, diff, env)

    def status(self, rendered=None, **extra):
        args = {"state_dir": self.state_dir, "sysctl_live_skip": LIVE_SKIP}
        if rendered is not None:
            args.update(nftables=rendered["nftables.nft"], sysctl=rendered["sysctl.conf"])
        args.update(extra)
        return self.run("status", args)

    # ----- observations -------------------------------------------------------------------
    def table(self):
        proc = self.ns.nft("list", "table", *TABLE, check=False)
        return proc.stdout if proc.returncode == 0 else None

    def sysctl(self, key):
        return self.ns.run(["cat", "/proc/sys/" + key.replace(".", "/")]).stdout.strip()

    def files(self):
        """{relative path: content or ('link', target)} of everything under the temp /etc."""
        found = {}
        for top, _dirs, names in os.walk(self.etc):
            for name in names:
                path = os.path.join(top, name)
                rel = os.path.relpath(path, self.etc)
                if os.path.islink(path):
                    found[rel] = ("link", os.readlink(path))
                else:
                    with open(path, "rb") as handle:
                        found[rel] = handle.read()
        return found

    def fingerprint(self):
        """Everything an apply may change: the whole ruleset, the files, the sysctls."""
        return {"ruleset": self.ns.nft("list", "ruleset").stdout, "files": self.files(),
                "sysctl": dict((k, self.sysctl(k)) for k in (
                    "net.ipv4.ip_forward", "net.netfilter.nf_conntrack_gre_timeout"))}

    def delete_rule(self, chain, contains):
        listing = self.ns.nft("-a", "list", "chain", TABLE[0], TABLE[1], chain).stdout
        for line in listing.splitlines():
            if contains in line and "# handle " in line:
                handle = line.rsplit("# handle ", 1)[1].strip()
                self.ns.nft("delete", "rule", TABLE[0], TABLE[1], chain, "handle", handle)
                return line.split("# handle")[0].strip()
        raise AssertionError("no rule containing %r in chain %s:\n%s" % (contains, chain, listing))

    def backup_state(self, backup_id):
        path = os.path.join(self.state_dir, "backups", backup_id, "status.json")
        with open(path) as handle:
            return json.load(handle)["state"]

    def wait_backup_state(self, backup_id, wanted, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.backup_state(backup_id) == wanted:
                return True
            time.sleep(0.1)
        return False

    def hold_lock(self):
        """Take the router lock from the test process; returns the open handle."""
        os.makedirs(self.state_dir, exist_ok=True)
        handle = open(os.path.join(self.state_dir, "lock"), "a")
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        return handle


OTHER_TABLE = """table inet other_team {
    counter seen {
        packets 5 bytes 300
    }

    chain forward {
        type filter hook forward priority filter + 10; policy accept;
        ip saddr 192.0.2.1 counter packets 7 bytes 700 accept
    }
}
"""
DISTRO_NFTABLES_CONF = b"#!/usr/sbin/nft -f\nflush ruleset\ntable inet filter {\n}\n"
UNRELATED_SYSCTL = b"net.ipv4.conf.all.rp_filter = 2\n"
