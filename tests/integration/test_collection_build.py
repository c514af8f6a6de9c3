"""`ansible-galaxy collection build` produces a tarball that installs and works on its own."""
import os
import subprocess
import tarfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, ".venv", "bin")

PLAY = """
- name: Use the installed collection
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Check the bundled example policy
      netpolicy.vpn_passthrough.policy_check:
        path: {policy}
      register: result
    - name: The check ran from the installed copy
      ansible.builtin.assert:
        that: result.valid and result.policy_name == 'branch-office'
"""


def test_built_tarball_installs_and_runs(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force",
                    "--output-path", str(dist), ROOT], check=True, capture_output=True)
    tarballs = list(dist.glob("netpolicy-vpn_passthrough-*.tar.gz"))
    assert len(tarballs) == 1
    names = tarfile.open(str(tarballs[0])).getnames()
    assert "plugins/modules/policy_check.py" in names
    assert not [n for n in names if n.startswith((".venv", "build/", ".hypothesis", ".git/"))]

    install = tmp_path / "collections"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "-p",
                    str(install), str(tarballs[0])], check=True, capture_output=True)
    installed = install / "ansible_collections" / "netpolicy" / "vpn_passthrough"
    assert (installed / "plugins" / "module_utils" / "engine.py").exists()

    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY.format(policy=installed / "examples/policies/branch-office.yml"))
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")  # nothing from the repository's ansible.cfg
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(install), ANSIBLE_CONFIG=str(config))
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), str(playbook)], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
