# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore a backup taken by the apply module; also the detached commit-confirm watchdog.

This file is deliberately self-contained (standard library only): the apply module imports it
for an immediate rollback, and copies its source next to the backup to run it as a detached
process that rolls back by itself unless a confirmation arrives in time. One restore code path
serves both cases.

Backup directory layout (see docs/apply.md):
  manifest.json   {"restore_nft": "restore.nft", "sysctl": {key: value|null},
                   "files": [{"path", "kind": "file"|"symlink"|"absent", "copy", "target", "mode"}]}
  restore.nft     one nft transaction that puts the previous table back (or deletes ours)
  files/N         copies of the files the apply replaced
  status.json     {"state": applied|pending|confirmed|rolled_back|failed, ...}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time

MANIFEST = "manifest.json"
STATUS = "status.json"
PENDING = "pending"
APPLIED = "applied"
CONFIRMED = "confirmed"
ROLLED_BACK = "rolled_back"
FAILED = "failed"
FINAL_STATES = (APPLIED, CONFIRMED, ROLLED_BACK, FAILED)


class LockTimeout(Exception):
    """Another run holds the router lock longer than the caller wants to wait."""


class RouterLock:
    """flock() on a lock file; waits up to `timeout` seconds (polling keeps it interruptible)."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self.handle = None

    def __enter__(self):
        parent = os.path.dirname(self.path)
        if parent and not os.path.isdir(parent):
            os.makedirs(parent, 0o700)
        self.handle = open(self.path, "a")
        deadline = time.time() + self.timeout
        while True:
            try:
                fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.time() >= deadline:
                self.handle.close()
                raise LockTimeout("lock %s is held by another run for more than %ss"
                                  % (self.path, self.timeout))
            time.sleep(0.1)

    def __exit__(self, *exc_info):
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
        self.handle.close()
        return False


def write_atomic(path, data, mode=0o644):
    """Write bytes via a temp file in the same directory, then rename (never half a file)."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".np-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path, data):
    write_atomic(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8"), 0o600)


def read_json(path, default=None):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return default


def read_status(backup_dir):
    return read_json(os.path.join(backup_dir, STATUS), {"state": None})


def set_status(backup_dir, state, **extra):
    status = read_status(backup_dir)
    status.update(extra)
    status["state"] = state
    status["updated"] = time.time()
    write_json(os.path.join(backup_dir, STATUS), status)
    return status


def _restore_file(backup_dir, entry):
    path = entry["path"]
    if entry["kind"] == "absent":
        if os.path.lexists(path):
            os.unlink(path)
        return
    parent = os.path.dirname(path)
    if parent and not os.path.isdir(parent):
        os.makedirs(parent, 0o755)
    if entry["kind"] == "symlink":
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(entry["target"], path)
        return
    with open(os.path.join(backup_dir, entry["copy"]), "rb") as handle:
        data = handle.read()
    if os.path.islink(path):
        os.unlink(path)
    write_atomic(path, data, entry.get("mode", 0o644))


def restore(backup_dir, nft_bin):
    """Put back the table, sysctl values and files recorded in backup_dir.

    Best effort over every step (a failed step must not stop the others); returns a list of
    error strings, empty when everything was restored.
    """
    errors = []
    manifest = read_json(os.path.join(backup_dir, MANIFEST))
    if manifest is None:
        return ["backup %s has no readable %s" % (backup_dir, MANIFEST)]
    restore_nft = manifest.get("restore_nft")
    if restore_nft:
        proc = subprocess.Popen([nft_bin, "-f", os.path.join(backup_dir, restore_nft)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=dict(os.environ, LC_ALL="C"))
        out, err = proc.communicate()
        if proc.returncode != 0:
            errors.append("table: nft -f %s failed (rc=%d): %s" % (
                restore_nft, proc.returncode, (err or out).decode("utf-8", "replace").strip()))
    for key, value in sorted((manifest.get("sysctl") or {}).items()):
        if value is None:
            continue
        path = os.path.join("/proc/sys", key.replace(".", "/"))
        try:
            with open(path) as handle:
                if " ".join(handle.read().split()) == value:
                    continue  # never changed (or already back): nothing to write
            with open(path, "w") as handle:
                handle.write("%s\n" % value)
        except (IOError, OSError) as exc:
            errors.append("sysctl %s = %s: %s" % (key, value, exc))
    for entry in manifest.get("files") or []:
        try:
            _restore_file(backup_dir, entry)
        except (IOError, OSError) as exc:
            errors.append("file %s: %s" % (entry.get("path"), exc))
    return errors


def watch(backup_dir, deadline, lock_path, nft_bin, poll=0.2):
    """Wait for confirmation until `deadline` (epoch seconds); restore if none arrived."""
    while time.time() < deadline:
        if read_status(backup_dir).get("state") != PENDING:
            return read_status(backup_dir)["state"]
        time.sleep(poll)
    with RouterLock(lock_path, timeout=3600):
        if read_status(backup_dir).get("state") != PENDING:
            return read_status(backup_dir)["state"]
        errors = restore(backup_dir, nft_bin)
        set_status(backup_dir, ROLLED_BACK if not errors else FAILED,
                   reason="no confirmation before the commit-confirm deadline", errors=errors)
    return ROLLED_BACK


def main(argv=None):
    """router_restore.py BACKUP_DIR NFT_BIN [DEADLINE LOCK_PATH]"""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2:
        errors = restore(argv[0], argv[1])
        sys.stderr.write("".join(e + "\n" for e in errors))
        return 1 if errors else 0
    if len(argv) == 4:
        state = watch(argv[0], float(argv[2]), argv[3], argv[1])
        return 0 if state in (CONFIRMED, ROLLED_BACK, APPLIED) else 1
    sys.stderr.write("usage: router_restore.py BACKUP_DIR NFT_BIN [DEADLINE LOCK_PATH]\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
