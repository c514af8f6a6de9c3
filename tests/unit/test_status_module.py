"""Status module decisions that a namespace cannot reproduce: conntrack-tools absent, and a
kernel without the PPTP helper. nft answers are recorded; real-kernel runs are in
tests/integration/test_status_*.py."""
import json
import os

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.netpolicy.vpn_passthrough.plugins.modules import status as status_module

EMPTY_RULESET = json.dumps({"nftables": [{"metainfo": {"version": "1.0.6"}}]})


class Exit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


@pytest.mark.parametrize("helper_rc, conntrack_bin, wanted_kinds, warning", [
    (0, "/usr/sbin/conntrack", [], None),
    (0, None, [], "conntrack-tools is not installed"),
    (1, "/usr/sbin/conntrack", ["helper-missing"], None),
])
def test_status_degrades_with_clear_reports(tmp_path, monkeypatch, helper_rc, conntrack_bin,
                                            wanted_kinds, warning):
    def fake_run_command(self, argv, **kwargs):
        words = [os.path.basename(argv[0])] + list(argv[1:])
        if words[:2] == ["nft", "list"]:
            return 1, "", "Error: No such file or directory"
        if words[:3] == ["nft", "-j", "list"]:
            return (0, EMPTY_RULESET, "") if words[3] == "tables" else (1, "", "")
        if words[:2] == ["nft", "-c"]:
            return helper_rc, "", "" if helper_rc == 0 else "Error: Could not process rule"
        if words[0] == "conntrack":
            return 0, "", "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown."
        raise AssertionError("unexpected command %s" % words)

    real_get_bin_path = basic.AnsibleModule.get_bin_path

    def fake_get_bin_path(self, name, required=False, opt_dirs=None):
        if name == "conntrack":
            return conntrack_bin
        return real_get_bin_path(self, name, required, opt_dirs)

    def fake_exit(self, **result):
        raise Exit(result)

    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "run_command", fake_run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", fake_get_bin_path)
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", fake_exit)
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    os.mkdir(tmp_path / "moduletmp")
    with patch_module_args({"_ansible_tmpdir": str(tmp_path / "moduletmp"),
                            "state_dir": str(tmp_path / "state")}):
        with pytest.raises(Exit) as done:
            status_module.main()
    result = done.value.result
    kinds = [c["kind"] for c in result["conflicts"] if c["kind"] != "forwarding-disabled"]
    assert kinds == wanted_kinds
    assert result["helpers"]["pptp"] is (helper_rc == 0)
    if warning:
        assert result["conntrack"] is None and any(warning in w for w in warnings)
        assert "conntrack: not available" in result["summary"]
    else:
        assert result["conntrack"] == {"entries_per_helper": {}, "expectations_per_helper": {},
                                       "entries_per_protocol": {}}
    assert result["table"]["present"] is False and result["changed"] is False
