"""Commit-confirm over a real SSH connection: a ruleset that cuts the management path cannot lock
anyone out.

The router is a network namespace running dropbear on 127.0.0.1:2222 (root's home replaced by a
temp dir in a private mount namespace, so the host's /root is untouched); ansible-playbook runs in
the same namespace and connects with the ssh connection plugin and the router's plain
/usr/bin/python3. The first apply loads a table whose input chain drops new connections to port
2222: the module's own (established) connection still returns, the action plugin's reconnect
fails, and the router's watchdog restores the previous state at the deadline. The second apply
(a harmless table) is confirmed over a fresh connection and stays.
"""
import os
import signal
import subprocess
import time

import pytest
import yaml

from apply_harness import REPO

VENV_BIN = os.path.join(REPO, ".venv", "bin")
CONFIRM = 5
TABLE = "table inet netpolicy_vpn_passthrough {\n%s}\n"
CUTS_SSH = TABLE % ("    chain input {\n        type filter hook input priority filter; policy accept;\n"
                    "        tcp dport 2222 ct state new drop\n    }\n")
HARMLESS = TABLE % ("    chain forward {\n        type filter hook forward priority filter; policy accept;\n"
                    "        udp dport 4500 accept\n    }\n")
PLAY = """---
- name: Apply a raw ruleset with commit-confirm
  hosts: routers
  gather_facts: false
  tasks:
    - name: Apply
      netpolicy.vpn_passthrough.apply:
        nftables: "{{ lookup('ansible.builtin.file', ruleset_file) }}"
        confirm_timeout: %d
        persist: false
        state_dir: "{{ state_dir }}"
        sysctl_path: "{{ state_dir }}/sysctl.conf"
        modules_load_path: "{{ state_dir }}/modules.conf"
""" % CONFIRM


@pytest.fixture
def ssh_router(netns, tmp_path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    os.chmod(home, 0o700)
    os.chmod(home / ".ssh", 0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id")],
                   check=True)
    (home / ".ssh" / "authorized_keys").write_bytes((tmp_path / "id.pub").read_bytes())
    os.chmod(home / ".ssh" / "authorized_keys", 0o600)
    subprocess.run(["dropbearkey", "-t", "ed25519", "-f", str(tmp_path / "hostkey")],
                   check=True, capture_output=True)
    # nsenter, unshare and sh all exec (no fork): the Popen pid is dropbear's own
    server = subprocess.Popen([
        "nsenter", "--net=/run/netns/%s" % netns.name, "--",
        "unshare", "-m", "--propagation", "private", "sh", "-c",
        'mount --bind "$1" /root && exec dropbear -F -E -s -r "$2" -p 127.0.0.1:2222 -P "$3"',
        "sh", str(home), str(tmp_path / "hostkey"), str(tmp_path / "dropbear.pid")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while netns.run(["ss", "-Htln", "sport = :2222"]).stdout.strip() == "":
        assert time.time() < deadline and server.poll() is None, "dropbear did not start"
        time.sleep(0.05)
    inventory = {"routers": {"hosts": {"sshrouter": {
        "ansible_host": "127.0.0.1", "ansible_port": 2222, "ansible_user": "root",
        "ansible_connection": "ssh",
        "ansible_ssh_private_key_file": str(tmp_path / "id"),
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
        "ansible_python_interpreter": "/usr/bin/python3",
        "state_dir": str(tmp_path / "state"),
    }}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "play.yml").write_text(PLAY)
    (tmp_path / "cut.nft").write_text(CUTS_SSH)
    (tmp_path / "ok.nft").write_text(HARMLESS)

    def play(ruleset):
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
                   PATH=VENV_BIN + ":" + os.environ["PATH"], ANSIBLE_NOCOLOR="1",
                   ANSIBLE_TIMEOUT="3", ANSIBLE_PIPELINING="1",
                   ANSIBLE_SSH_CONTROL_PATH_DIR=str(tmp_path / "cp"))
        argv = netns.argv([os.path.join(VENV_BIN, "ansible-playbook"), "-i",
                           str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml"),
                           "-e", "ruleset_file=%s" % (tmp_path / ruleset)])
        return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=120, check=False)

    def table():
        proc = netns.nft("list", "table", "inet", "netpolicy_vpn_passthrough", check=False)
        return proc.stdout if proc.returncode == 0 else None

    yield play, table, tmp_path
    server.terminate()
    server.wait(timeout=10)
    # ssh's ControlPersist master and dropbear's session process for it outlive the playbook;
    # everything still in this namespace was started by this test
    pids = subprocess.run(["ip", "netns", "pids", netns.name], capture_output=True, text=True,
                          check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            pass


def test_cut_management_path_rolls_back_and_a_good_change_is_confirmed(ssh_router):
    play, table, tmp_path = ssh_router
    started = time.time()
    proc = play("cut.nft")
    assert proc.returncode != 0, proc.stdout
    assert "could not reconnect to confirm change" in proc.stdout, proc.stdout + proc.stderr
    # the router rolls back by itself at the deadline: the table goes, SSH comes back
    while table() is not None and time.time() < started + CONFIRM + 15:
        time.sleep(0.2)
    assert table() is None

    proc = play("ok.nft")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    time.sleep(CONFIRM + 1)
    assert "udp dport 4500 accept" in table()  # confirmed over a fresh SSH connection: kept
    backups = sorted(os.listdir(tmp_path / "state" / "backups"))
    states = [yaml.safe_load((tmp_path / "state" / "backups" / b / "status.json").read_text())
              ["state"] for b in backups]
    assert states == ["rolled_back", "confirmed"]
