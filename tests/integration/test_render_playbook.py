"""playbooks/render.yml end to end with the real ansible-playbook (action plugin on localhost)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK_BIN = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
BROKEN = """apiVersion: netpolicy.vpn_passthrough/v1
kind: PassthroughPolicy
metadata: {name: broken, owner: netops@example.com}
router:
  lan: {interfaces: [lan0], networks: [10.0.0.0/24]}
  wan: {interfaces: [wan0], nat: masquerade}
grants:
  - {name: a, protocols: [ipsec], clients: [10.0.0.9], servers: [203.0.113.300]}
"""


def play(*extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return subprocess.run([PLAYBOOK_BIN, "playbooks/render.yml"] + list(extra), cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def test_valid_policy_writes_the_golden_files(tmp_path):
    out = tmp_path / "render"
    policy = os.path.join(ROOT, "examples", "policies", "branch-office.yml")
    proc = play("-e", "policy_file=" + policy, "-e", "output_dir=%s" % out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("nftables.nft", "sysctl.conf", "modules-load.conf"):
        with open(os.path.join(ROOT, "tests", "golden", "branch-office", name)) as golden:
            assert (out / name).read_text() == golden.read(), name


def test_check_mode_writes_nothing(tmp_path):
    out = tmp_path / "render"
    policy = os.path.join(ROOT, "examples", "policies", "minimal.yml")
    proc = play("--check", "-e", "policy_file=" + policy, "-e", "output_dir=%s" % out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "changed: [localhost]" in proc.stdout and not out.exists()


def test_invalid_policy_renders_nothing_and_fails_with_findings(tmp_path):
    policy = tmp_path / "broken.yml"
    policy.write_text(BROKEN)
    out = tmp_path / "render"
    proc = play("-e", "policy_file=%s" % policy, "-e", "output_dir=%s" % out)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "ERROR NP002 line 8: grants[0].servers[0]" in output and "203.0.113.300" in output
    assert "nothing rendered" in output
    assert not out.exists()


def test_missing_arguments_are_a_usage_error():
    proc = play()
    assert proc.returncode != 0 and "usage: -e policy_file=PATH -e output_dir=DIR" in proc.stdout
