# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups under the router's state dir: take one before a change, keep the last N,
find a commit-confirm that is still pending, remember what was applied last."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import time

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.nft_table import (
    DELETE_TEXT, replace_transaction)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_restore import (
    MANIFEST, PENDING, FAILED, read_json, read_status, set_status, write_atomic, write_json)

BACKUPS = "backups"
SNAPSHOT = "applied.json"
# A pending confirm whose watchdog should have acted this long ago is stale (e.g. a reboot).
STALE_GRACE = 60


def backups_root(state_dir):
    return os.path.join(state_dir, BACKUPS)


def new_backup_id(now=None):
    now = time.time() if now is None else now
    return "%s.%06d-%d" % (time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)),
                           int((now % 1) * 1e6), os.getpid())


def _file_entry(backup_dir, index, path):
    if os.path.islink(path):
        return {"path": path, "kind": "symlink", "target": os.readlink(path)}
    if os.path.isfile(path):
        copy = os.path.join("files", str(index))
        shutil.copyfile(path, os.path.join(backup_dir, copy))
        return {"path": path, "kind": "file", "copy": copy,
                "mode": os.stat(path).st_mode & 0o7777}
    return {"path": path, "kind": "absent"}


def create_backup(state_dir, live_listing, sysctl_before, paths):
    """Record everything an apply may change; returns the backup directory."""
    backup_id = new_backup_id()
    backup_dir = os.path.join(backups_root(state_dir), backup_id)
    os.makedirs(os.path.join(backup_dir, "files"), 0o700)
    restore_text = DELETE_TEXT if live_listing is None else replace_transaction(live_listing)
    write_atomic(os.path.join(backup_dir, "restore.nft"), restore_text.encode("utf-8"), 0o600)
    if live_listing is not None:
        write_atomic(os.path.join(backup_dir, "table.nft"), live_listing.encode("utf-8"), 0o600)
    files = [_file_entry(backup_dir, index, path) for index, path in enumerate(paths)]
    write_json(os.path.join(backup_dir, MANIFEST),
               {"id": backup_id, "created": time.time(), "restore_nft": "restore.nft",
                "sysctl": sysctl_before, "files": files})
    return backup_dir


def list_backups(state_dir):
    root = backups_root(state_dir)
    if not os.path.isdir(root):
        return []
    return sorted(name for name in os.listdir(root)
                  if os.path.isfile(os.path.join(root, name, MANIFEST)))


def prune(state_dir, keep, protect=()):
    """Delete the oldest backups beyond `keep`; never a pending one or one in `protect`."""
    removed = []
    names = list_backups(state_dir)
    excess = len(names) - keep
    for name in names:
        if excess <= 0:
            break
        path = os.path.join(backups_root(state_dir), name)
        if name in protect or read_status(path).get("state") == PENDING:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(name)
        excess -= 1
    return removed


def pending_confirm(state_dir, now=None):
    """The backup id of a commit-confirm still waiting for confirmation, or None.

    A pending entry far past its deadline means its watchdog never ran (the router rebooted):
    it is marked failed so it cannot block every later run."""
    now = time.time() if now is None else now
    for name in reversed(list_backups(state_dir)):
        path = os.path.join(backups_root(state_dir), name)
        status = read_status(path)
        if status.get("state") != PENDING:
            continue
        if now > status.get("deadline", 0) + STALE_GRACE:
            set_status(path, FAILED, reason="watchdog did not act before its deadline")
            continue
        return name
    return None


def text_digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_snapshot(state_dir):
    return read_json(os.path.join(state_dir, SNAPSHOT), {})


def intended_listing(nft, state_dir, path, transaction):
    """(listing, source) of the table `transaction` (written at `path`) defines on this router.

    The snapshot saved after the last successful load of the same transaction comes first: it is
    what this kernel printed for exactly this text, and reading it costs nothing, while a scratch
    load lists the whole table again (seconds for 100,000 addresses). Without a snapshot, a
    scratch network namespace; without either, None (the caller replaces the table)."""
    snapshot = load_snapshot(state_dir)
    if snapshot.get("transaction_sha256") == text_digest(transaction) and \
            snapshot.get("listing") is not None:
        return snapshot["listing"], "snapshot"
    listing = nft.scratch_listing(path)
    if listing is not None:
        return listing, "scratch-netns"
    return None, "none"


def save_snapshot(state_dir, transaction, listing):
    """What the kernel printed right after loading `transaction`: the intended listing when a
    scratch namespace is not available on the next run."""
    write_json(os.path.join(state_dir, SNAPSHOT),
               {"transaction_sha256": text_digest(transaction), "listing": listing})
