"""The apply action plugin's controller-side decisions: an invalid policy never reaches the
router; a pending commit-confirm is confirmed over a fresh connection; a failed reconnect is a
clear failure that says the router rolls back by itself. The router side is replaced by
recorded answers here; tests/integration/test_apply_playbook.py runs the real thing."""
import os
from unittest import mock

import pytest
import yaml

from ansible.errors import AnsibleConnectionFailure

from ansible_collections.netpolicy.vpn_passthrough.plugins.action.apply import ActionModule

POLICY = {
    "apiVersion": "netpolicy.vpn_passthrough/v1", "kind": "PassthroughPolicy",
    "metadata": {"name": "unit", "owner": "netops@example.com"},
    "router": {"lan": {"interfaces": ["lan0"], "networks": ["10.20.0.0/16"]},
               "wan": {"interfaces": ["wan0"], "nat": "masquerade"}},
    "grants": [{"name": "office-ipsec", "protocols": ["ipsec"], "clients": ["10.20.0.0/16"],
                "servers": ["203.0.113.5"]}],
}


def make_action(args, answers):
    """ActionModule with the router replaced by `answers` (a list of results or exceptions)."""
    task = mock.MagicMock()
    task.args = args
    task.async_val = 0
    connection = mock.MagicMock()
    action = ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(),
                          mock.MagicMock())
    calls = []

    def execute(module_name, module_args, task_vars):
        calls.append((module_name, dict(module_args)))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    action._execute_module = execute
    action._find_needle = lambda kind, path: path
    return action, calls, connection


@pytest.fixture
def policy_file(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(POLICY))
    return str(path)


def run(action):
    with mock.patch("ansible.plugins.action.ActionBase.run", return_value={}):
        return action.run(task_vars={})


def test_invalid_policy_is_never_sent(tmp_path):
    bad = dict(POLICY, grants=[dict(POLICY["grants"][0], servers=["203.0.113.300"])])
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(bad))
    action, calls, _conn = make_action({"policy_file": str(path)}, [])
    result = run(action)
    assert result["failed"] and "nothing was sent to the router" in result["msg"]
    assert "203.0.113.300" in result["msg"] and result["findings"]
    assert calls == []


@pytest.mark.parametrize("args, msg", [
    ({"policy_file": "a.yml", "policy": {}}, "exactly one of policy_file or policy"),
    ({"policy_file": "a.yml", "nftables": "x"}, "cannot be combined"),
    ({"policy": {"x": 1}, "strict": "maybe"}, "strict must be a boolean"),
])
def test_bad_arguments(args, msg):
    action, calls, _conn = make_action(args, [])
    result = run(action)
    assert result["failed"] and msg in result["msg"], result
    assert calls == []


def test_rendered_texts_go_to_the_module(policy_file):
    answer = {"changed": True, "table_changed": True}
    action, calls, conn = make_action({"policy_file": policy_file, "state_dir": "/s"}, [answer])
    result = run(action)
    assert result["changed"] and "failed" not in result
    (name, args), = calls
    assert name == "netpolicy.vpn_passthrough.apply"
    assert "table inet netpolicy_vpn_passthrough" in args["nftables"]
    assert "net.ipv4.ip_forward = 1" in args["sysctl"]
    assert "policy_file" not in args and args["state_dir"] == "/s"
    conn.reset.assert_not_called()


def test_pending_change_is_confirmed_over_a_fresh_connection(policy_file):
    pending = {"changed": True, "confirm": {"pending": True, "id": "ID1", "deadline": 1.0}}
    confirmed = {"changed": True, "confirm": {"pending": False, "id": "ID1", "state": "confirmed"}}
    action, calls, conn = make_action(
        {"policy_file": policy_file, "confirm_timeout": 30, "state_dir": "/s"}, [pending, confirmed])
    result = run(action)
    conn.reset.assert_called_once()
    assert calls[1] == ("netpolicy.vpn_passthrough.apply", {"confirm": "ID1", "state_dir": "/s"})
    assert result["confirm"]["state"] == "confirmed" and not result.get("failed")


def test_failed_reconnect_says_the_router_rolls_back(policy_file):
    pending = {"changed": True, "confirm": {"pending": True, "id": "ID2", "deadline": 1.0}}
    action, _calls, conn = make_action(
        {"policy_file": policy_file, "confirm_timeout": 30},
        [pending, AnsibleConnectionFailure("ssh: connect to host: Connection timed out")])
    conn.reset.side_effect = NotImplementedError("no reset")
    result = run(action)
    assert result["failed"] and "could not reconnect to confirm change ID2" in result["msg"]
    assert "restores the previous state" in result["msg"]


def test_late_confirmation_is_a_failure(policy_file):
    pending = {"changed": True, "confirm": {"pending": True, "id": "ID3", "deadline": 1.0}}
    late = {"failed": True, "msg": "confirm: change ID3 is rolled_back, not pending"}
    action, _calls, _conn = make_action({"policy_file": policy_file, "confirm_timeout": 1},
                                        [pending, late])
    result = run(action)
    assert result["failed"] and "rolled_back" in result["msg"]


def test_missing_policy_file_is_reported(tmp_path):
    action, calls, _conn = make_action({"policy_file": str(tmp_path / "nope.yml")}, [])
    result = run(action)
    assert result["failed"] and "nope.yml" in result["msg"] and calls == []
    assert os.path.basename(str(tmp_path / "nope.yml")) in result["msg"]
