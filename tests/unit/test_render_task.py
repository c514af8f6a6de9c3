"""The render task shared by the module and its action plugin: validate, render, write."""
import os

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render_task import (
    run_render)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BRANCH = os.path.join(ROOT, "examples", "policies", "branch-office.yml")
NAMES = ["modules-load.conf", "nftables.nft", "sysctl.conf"]
BROKEN = """apiVersion: netpolicy.vpn_passthrough/v1
kind: PassthroughPolicy
metadata: {name: broken, owner: netops@example.com}
router:
  lan: {interfaces: [lan0], networks: [10.0.0.0/24]}
  wan: {interfaces: [wan0], nat: masquerade}
grants:
  - {name: a, protocols: [ipsec], clients: [10.9.9.9], servers: [203.0.113.300]}
"""


def test_writes_three_files_then_is_idempotent(tmp_path):
    out = tmp_path / "out"
    first = run_render(BRANCH, output_dir=str(out), today="2026-12-01")
    assert first["valid"] and first["changed"] and not first.get("failed")
    assert sorted(os.listdir(out)) == NAMES
    assert "content" not in first
    second = run_render(BRANCH, output_dir=str(out), today="2026-12-01")
    assert second["changed"] is False


def test_check_mode_writes_nothing_and_diff_shows_change(tmp_path):
    out = tmp_path / "out"
    result = run_render(BRANCH, output_dir=str(out), today="2026-12-01", check_mode=True,
                        diff=True)
    assert result["changed"] and not out.exists()
    names = ("nftables.nft", "sysctl.conf", "modules-load.conf")
    assert [d["after_header"] for d in result["diff"]] == [str(out / n) for n in names]
    assert all(d["before"] == "" and "(absent)" in d["before_header"] for d in result["diff"])


def test_diff_after_a_hand_edit(tmp_path):
    out = tmp_path / "out"
    run_render(BRANCH, output_dir=str(out), today="2026-12-01")
    (out / "sysctl.conf").write_text("net.ipv4.ip_forward = 0\n")
    result = run_render(BRANCH, output_dir=str(out), today="2026-12-01", diff=True)
    assert result["changed"] and [d["after_header"] for d in result["diff"]] == [
        str(out / "sysctl.conf")]
    assert result["diff"][0]["before"] == "net.ipv4.ip_forward = 0\n"
    assert "net.ipv4.ip_forward = 1" in (out / "sysctl.conf").read_text()


def test_without_output_dir_returns_content():
    result = run_render(BRANCH, today="2026-12-01")
    assert sorted(result["content"]) == NAMES and result["files"] == []
    assert result["stats"]["maps"] == 6 and result["stats"]["elements"] == 5


def test_invalid_policy_renders_nothing_and_names_the_findings(tmp_path):
    policy = tmp_path / "broken.yml"
    policy.write_text(BROKEN)
    out = tmp_path / "out"
    result = run_render(str(policy), output_dir=str(out))
    assert result["failed"] and not result["valid"] and not out.exists()
    assert "nothing rendered" in result["msg"] and "203.0.113.300" in result["msg"]
    assert "content" not in result
    quiet = run_render(str(policy), output_dir=str(out), fail_on_invalid=False)
    assert not quiet.get("failed") and not quiet["valid"] and not out.exists()


def test_strict_turns_warnings_into_no_render(tmp_path):
    policy = tmp_path / "wide.yml"
    policy.write_text(BROKEN.replace("10.9.9.9", "10.0.0.9").replace("[203.0.113.300]", "any"))
    assert run_render(str(policy), today="2026-12-01")["valid"]
    strict = run_render(str(policy), output_dir=str(tmp_path / "o"), strict=True)
    assert strict["failed"] and "NP114" in strict["msg"] and not (tmp_path / "o").exists()
