"""Backups, pruning, pending confirms and file restore (router_backup.py, router_restore.py).

The table step of restore needs nft and is covered against a real kernel in
tests/integration/test_apply_rollback.py; here `true` stands in for nft so only the file and
status logic is exercised."""
import json
import os
import time

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils import router_restore
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_backup import (
    create_backup, list_backups, pending_confirm, prune)

TRUE = "/bin/true"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(data)


def read(path):
    with open(path) as handle:
        return handle.read()


def test_restore_puts_back_files_links_and_absence(tmp_path):
    existing, absent, link = (str(tmp_path / "etc" / n) for n in ("a.conf", "b.conf", "c.link"))
    write(existing, "old\n")
    os.chmod(existing, 0o640)
    os.symlink("/old/target", link)
    backup = create_backup(str(tmp_path / "state"), None, {}, [existing, absent, link])
    write(existing, "new\n")
    write(absent, "created\n")
    os.unlink(link)
    os.symlink("/new/target", link)
    assert router_restore.restore(backup, TRUE) == []
    assert read(existing) == "old\n" and os.stat(existing).st_mode & 0o777 == 0o640
    assert not os.path.exists(absent)
    assert os.readlink(link) == "/old/target"


def test_restore_transaction_text(tmp_path):
    absent = create_backup(str(tmp_path / "s1"), None, {}, [])
    present = create_backup(str(tmp_path / "s2"), "table inet netpolicy_vpn_passthrough {\n}\n",
                            {}, [])
    assert read(os.path.join(absent, "restore.nft")).count("delete table") == 1
    assert read(os.path.join(absent, "restore.nft")).rstrip().endswith(
        "delete table inet netpolicy_vpn_passthrough")
    assert read(os.path.join(present, "restore.nft")).endswith(
        "table inet netpolicy_vpn_passthrough {\n}\n")


def test_restore_reports_errors_and_keeps_going(tmp_path):
    target = str(tmp_path / "etc" / "a.conf")
    write(target, "old\n")
    backup = create_backup(str(tmp_path / "state"), None, {}, [target])
    write(target, "new\n")
    errors = router_restore.restore(backup, "/bin/false")
    assert len(errors) == 1 and errors[0].startswith("table:")
    assert read(target) == "old\n"  # the file step still ran


def test_prune_keeps_newest_and_pending(tmp_path):
    state = str(tmp_path / "state")
    made = []
    for index in range(5):
        made.append(os.path.basename(create_backup(state, None, {}, [])))
        time.sleep(0.002)
    router_restore.set_status(os.path.join(state, "backups", made[0]), "pending",
                              deadline=time.time() + 60)
    removed = prune(state, 2, protect=(made[-1],))
    assert list_backups(state) == [made[0], made[4]]  # the pending one counts toward keep
    assert removed == made[1:4]


def test_pending_confirm_and_stale_pending(tmp_path):
    state = str(tmp_path / "state")
    backup = create_backup(state, None, {}, [])
    assert pending_confirm(state) is None
    router_restore.set_status(backup, "pending", deadline=time.time() + 30)
    assert pending_confirm(state) == os.path.basename(backup)
    # a watchdog that never ran (reboot): far past its deadline, marked failed, not blocking
    router_restore.set_status(backup, "pending", deadline=time.time() - 3600)
    assert pending_confirm(state) is None
    with open(os.path.join(backup, "status.json")) as handle:
        assert json.load(handle)["state"] == "failed"


def test_watchdog_restores_unless_confirmed(tmp_path):
    target = str(tmp_path / "etc" / "a.conf")
    write(target, "old\n")
    state = str(tmp_path / "state")
    lock = os.path.join(state, "lock")
    confirmed = create_backup(state, None, {}, [target])
    router_restore.set_status(confirmed, "pending", deadline=time.time() + 1)
    write(target, "new\n")
    router_restore.set_status(confirmed, "confirmed")
    assert router_restore.watch(confirmed, time.time() + 1, lock, TRUE, poll=0.01) == "confirmed"
    assert read(target) == "new\n"
    expired = create_backup(state, None, {}, [target])
    router_restore.set_status(expired, "pending", deadline=time.time())
    write(target, "newer\n")
    assert router_restore.watch(expired, time.time() + 0.05, lock, TRUE, poll=0.01) == "rolled_back"
    assert read(target) == "new\n"


def test_lock_times_out(tmp_path):
    lock = str(tmp_path / "lock")
    with router_restore.RouterLock(lock, 1):
        try:
            with router_restore.RouterLock(lock, 0.2):
                raise AssertionError("second lock acquired")
        except router_restore.LockTimeout as exc:
            assert lock in str(exc)
