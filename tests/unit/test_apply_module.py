"""Decisions of the apply module, table-driven from data/apply_module_cases.yml.

run_command is replaced by recorded answers only here, where the point is the module's
reaction to what nft says; everything against a real kernel is in tests/integration."""
import json
import os

import pytest
import yaml

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.nft_table import (
    replace_transaction)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_backup import (
    save_snapshot)
from ansible_collections.netpolicy.vpn_passthrough.plugins.modules import apply as apply_module

with open(os.path.join(os.path.dirname(__file__), "data", "apply_module_cases.yml")) as _handle:
    CASES = yaml.safe_load(_handle)

RULESET = "table inet netpolicy_vpn_passthrough {\n}\n"


class Exit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def _fill(value, tmp):
    if isinstance(value, str):
        return value.replace("{tmp}", tmp)
    return value


def run_case(case, tmp_path, monkeypatch):
    tmp = str(tmp_path)
    params = {"nftables": RULESET, "persist": False, "state_dir": tmp + "/state",
              "sysctl_path": tmp + "/sysctl.conf", "modules_load_path": tmp + "/modules.conf"}
    params.update(dict((k, _fill(v, tmp)) for k, v in case["params"].items()))
    params = dict((k, v) for k, v in params.items() if v is not None)
    params["_ansible_check_mode"] = case.get("check_mode", False)
    if "snapshot" in case:
        os.makedirs(tmp + "/state")
        save_snapshot(tmp + "/state", replace_transaction(params["nftables"]), case["snapshot"])
    os.mkdir(tmp + "/moduletmp")
    params["_ansible_tmpdir"] = tmp + "/moduletmp"  # the module's scratch files, not the router's
    calls = []

    def fake_run_command(self, argv, **kwargs):
        words = " ".join([os.path.basename(argv[0])] + [str(a) for a in argv[1:]])
        for answer in case["commands"]:
            if words.startswith(answer["match"]):
                calls.append(answer["match"])
                return answer["rc"], answer.get("out", ""), answer.get("err", "")
        raise AssertionError("unexpected command: %s" % words)

    def fake_exit(self, **result):
        raise Exit(dict(result, failed=False))

    def fake_fail(self, msg, **result):
        raise Exit(dict(result, failed=True, msg=msg))

    monkeypatch.setattr(basic.AnsibleModule, "run_command", fake_run_command)
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", fake_exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fake_fail)
    with patch_module_args(params):
        with pytest.raises(Exit) as done:
            apply_module.main()
    return done.value.result, calls


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_apply_module_case(case, tmp_path, monkeypatch):
    result, calls = run_case(case, tmp_path, monkeypatch)
    expect = case["expect"]
    for key, wanted in expect.items():
        if key == "msg":
            assert wanted in result["msg"], result["msg"]
        else:
            assert result.get(key) == wanted, (key, json.dumps(result, default=str))
    if "calls" in case:
        assert calls == case["calls"]
    # nothing outside the state dir's lock file is ever written by these decisions
    written = sorted(os.listdir(tmp_path))
    assert set(written) <= {"state", "moduletmp"}, written
    if os.path.isdir(tmp_path / "state"):
        assert set(os.listdir(tmp_path / "state")) <= {"lock", "applied.json"}
