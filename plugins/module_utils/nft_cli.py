# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calls to the `nft` binary for the target modules (through AnsibleModule.run_command)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.nft_table import (
    TABLE_FAMILY, TABLE_NAME)

C_LOCALE = {"LC_ALL": "C", "LANG": "C"}


class NftError(Exception):
    """An nft command failed; carries argv, rc, stdout and stderr for fail_json."""

    def __init__(self, msg, argv, rc, out, err):
        super(NftError, self).__init__(msg)
        self.msg = msg
        self.details = {"cmd": argv, "rc": rc, "stdout": out, "stderr": err}


class Nft:
    """Thin wrapper: every call is an argv list, run with a C locale."""

    def __init__(self, module, binary=None):
        self.module = module
        self.binary = binary or module.get_bin_path("nft", required=True)

    def run(self, args, what, check_rc=True):
        argv = [self.binary] + list(args)
        rc, out, err = self.module.run_command(argv, environ_update=C_LOCALE)
        if check_rc and rc != 0:
            raise NftError("%s failed (rc=%d): %s" % (what, rc, (err or out).strip()),
                           argv, rc, out, err)
        return rc, out, err

    def check_file(self, path):
        """`nft -c -f`: the kernel validates the whole transaction and aborts it."""
        self.run(["-c", "-f", path], "nft -c (kernel check of the rendered ruleset)")

    def load_file(self, path):
        self.run(["-f", path], "nft -f (atomic load of the table)")

    def list_table(self):
        """Live listing of our table, or None when it does not exist."""
        rc, out, err = self.run(["list", "table", TABLE_FAMILY, TABLE_NAME], "nft list table",
                                check_rc=False)
        if rc == 0:
            return out
        if "No such file or directory" in err:
            return None
        raise NftError("nft list table failed (rc=%d): %s" % (rc, err.strip()),
                       [self.binary, "list", "table", TABLE_FAMILY, TABLE_NAME], rc, out, err)

    def other_tables_json(self):
        """`nft -j` objects of every table except ours (ours can be megabytes of set elements
        and is never a conflict)."""
        _rc, out, _err = self.run(["-j", "list", "tables"], "nft -j list tables")
        items = []
        for item in json.loads(out or '{"nftables": []}').get("nftables", []):
            table = item.get("table")
            if not table or (table["family"], table["name"]) == (TABLE_FAMILY, TABLE_NAME):
                continue
            _rc, out, _err = self.run(["-j", "list", "table", table["family"], table["name"]],
                                      "nft -j list table")
            items.extend(json.loads(out or '{"nftables": []}').get("nftables", []))
        return items

    def counters_json(self):
        rc, out, _err = self.run(["-j", "list", "counters", "table", TABLE_FAMILY, TABLE_NAME],
                                 "nft -j list counters", check_rc=False)
        if rc != 0:
            return []
        return [item["counter"] for item in json.loads(out).get("nftables", [])
                if "counter" in item]

    def scratch_listing(self, path):
        """Load `path` into a throwaway network namespace and list our table there: the exact
        text this nft and this kernel print for the intended ruleset. None when namespaces
        cannot be created (e.g. a container without CAP_SYS_ADMIN)."""
        unshare = self.module.get_bin_path("unshare")
        shell = self.module.get_bin_path("sh")
        if not unshare or not shell:
            return None
        script = '"$1" -f "$2" >/dev/null && "$1" list table %s %s' % (TABLE_FAMILY, TABLE_NAME)
        rc, out, _err = self.module.run_command(
            [unshare, "--net", "--", shell, "-c", script, "np-scratch", self.binary, path],
            environ_update=C_LOCALE)
        return out if rc == 0 else None
