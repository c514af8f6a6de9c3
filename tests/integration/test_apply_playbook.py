"""End to end: real ansible-playbook runs playbooks/apply.yml and playbooks/status.yml against a
router that is a network namespace (local connection inside `ip netns exec`), temp paths via
the role's variables. Covers the action plugin (validate, render, confirm) and AnsiballZ."""
import json
import os
import re
import subprocess

import pytest
import yaml

from apply_harness import REPO, POLICY_A, POLICY_B

VENV_BIN = os.path.join(REPO, ".venv", "bin")


@pytest.fixture
def site(netns, tmp_path):
    """Inventory for the namespace router plus two policy files."""
    netns.add_links("lan0", "wan0")
    root = tmp_path / "root"
    inventory = {"routers": {"hosts": {"nsrouter": {
        "ansible_connection": "local",
        "ansible_python_interpreter": os.path.join(VENV_BIN, "python"),
        "vpn_passthrough_install_packages": False,
        "vpn_passthrough_confirm_timeout": 10,
        "vpn_passthrough_sysctl_live_skip": ["net.netfilter.nf_conntrack_max"],
        "vpn_passthrough_state_dir": str(root / "state"),
        "vpn_passthrough_ruleset_path": str(root / "etc/nftables.d/np.nft"),
        "vpn_passthrough_systemd_unit_dir": str(root / "etc/systemd/system"),
        "vpn_passthrough_sysctl_path": str(root / "etc/sysctl.d/90-np.conf"),
        "vpn_passthrough_modules_load_path": str(root / "etc/modules-load.d/np.conf"),
    }}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    for name, doc in (("a", POLICY_A), ("b", POLICY_B)):
        (tmp_path / ("%s.yml" % name)).write_text(yaml.safe_dump(doc))
    bad = dict(POLICY_A, grants=[dict(POLICY_A["grants"][0], servers=["203.0.113.300"])])
    (tmp_path / "bad.yml").write_text(yaml.safe_dump(bad))

    def play(playbook, *args):
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
                   PATH=VENV_BIN + ":" + os.environ["PATH"], ANSIBLE_NOCOLOR="1")
        argv = netns.argv([os.path.join(VENV_BIN, "ansible-playbook"), "-i",
                           str(tmp_path / "inventory.yml"), os.path.join("playbooks", playbook)]
                          + list(args))
        proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        recap = re.search(r"nsrouter\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)",
                          proc.stdout)
        return proc, (dict(zip(("ok", "changed", "failed"), map(int, recap.groups())))
                      if recap else None)

    def table():
        proc = netns.nft("list", "table", "inet", "netpolicy_vpn_passthrough", check=False)
        return proc.stdout if proc.returncode == 0 else None

    site = type("Site", (), {})()
    site.play, site.table, site.dir, site.root = play, table, tmp_path, root
    return site


def test_apply_playbook_check_apply_idempotent_status(site):
    policy_a = str(site.dir / "a.yml")
    proc, recap = site.play("apply.yml", "-e", "policy_file=" + policy_a, "--check", "--diff")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert recap["changed"] == 1 and site.table() is None  # check mode: nothing loaded
    assert "+\tchain forward {" in proc.stdout  # the diff of the table
    assert not (site.root / "etc").exists()

    proc, recap = site.play("apply.yml", "-e", "policy_file=" + policy_a)
    assert proc.returncode == 0 and recap["changed"] == 1, proc.stdout + proc.stderr
    assert "grant_office-ipsec" in site.table()
    backups = os.listdir(site.root / "state" / "backups")
    status = json.loads((site.root / "state" / "backups" / backups[0] / "status.json").read_text())
    assert status["state"] == "confirmed"  # the action plugin reconnected and confirmed

    proc, recap = site.play("apply.yml", "-e", "policy_file=" + policy_a)
    assert proc.returncode == 0 and recap["changed"] == 0, proc.stdout

    report_dir = site.dir / "reports"
    report_dir.mkdir()
    proc, recap = site.play("status.yml", "-e", "policy_file=" + policy_a,
                            "-e", "report_dir=%s" % report_dir, "-e", "fail_on_drift=true")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((report_dir / "nsrouter.json").read_text())
    assert report["in_sync"] is True and "grant_office-ipsec" in report["counters"]
    assert "in sync with the policy" in proc.stdout

    # negative control: the other policy is drift, and fail_on_drift fails the run
    proc, recap = site.play("status.yml", "-e", "policy_file=" + str(site.dir / "b.yml"),
                            "-e", "fail_on_drift=true")
    assert proc.returncode != 0 and "DRIFT" in proc.stdout

    # removal through the same playbook
    proc, recap = site.play("apply.yml", "-e", "vpn_passthrough_state=absent")
    assert proc.returncode == 0 and recap["changed"] == 1, proc.stdout + proc.stderr
    assert site.table() is None and not (site.root / "etc" / "nftables.d" / "np.nft").exists()


def test_invalid_policy_never_reaches_the_router(site):
    proc, recap = site.play("apply.yml", "-e", "policy_file=" + str(site.dir / "bad.yml"))
    assert proc.returncode != 0 and recap["failed"] == 1
    assert "203.0.113.300" in proc.stdout and "nothing was sent to the router" in proc.stdout
    assert site.table() is None and not (site.root / "state").exists()


def test_missing_policy_file_argument_fails_clearly(site):
    proc, _recap = site.play("apply.yml")
    assert proc.returncode != 0 and "policy_file is required" in proc.stdout
