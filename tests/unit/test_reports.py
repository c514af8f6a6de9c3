"""findings.json, junit.xml and summary.md: shapes CI and reviewers rely on."""
import json
import xml.etree.ElementTree as ET

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.check_task import (
    run_check)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.reports import (
    render_reports)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.rules import ALL_RULES
from policy_factory import check, with_grant


def test_findings_json_shape():
    data = json.loads(render_reports(check(with_grant(protocols=["pptp"], servers="any")))
                      ["findings.json"])
    assert data["policy"] == "test" and data["valid"] is False
    assert set(data["findings"][0]) >= {"id", "severity", "path", "line", "message"}
    assert [f["id"] for f in data["findings"]] == ["NP101", "NP114"]  # errors first


def test_junit_has_one_case_per_rule_and_fails_the_broken_ones():
    root = ET.fromstring(render_reports(check(with_grant(protocols=["pptp"])))["junit.xml"])
    cases = root.findall("testcase")
    assert len(cases) == len(ALL_RULES) == int(root.get("tests"))
    failed = [c.get("name").split()[0] for c in cases if c.find("failure") is not None]
    assert failed == ["NP101"] and root.get("failures") == "1"


def test_summary_markdown_escapes_table_cells():
    text = render_reports(check(with_grant(protocols=["pptp"])))["summary.md"]
    assert text.startswith("## VPN passthrough policy check: test -- FAILED")
    assert "| error | NP101 |" in text


def test_run_check_writes_reports_once_and_not_in_check_mode(tmp_path):
    policy = tmp_path / "p.yml"
    policy.write_text(open("examples/policies/minimal.yml").read())
    out = tmp_path / "reports"
    dry = run_check(str(policy), report_dir=str(out), check_mode=True)
    assert dry["changed"] and not out.exists()
    first = run_check(str(policy), report_dir=str(out))
    assert first["changed"] and sorted(p.name for p in out.iterdir()) == [
        "findings.json", "junit.xml", "summary.md"]
    assert not run_check(str(policy), report_dir=str(out))["changed"]


def test_run_check_fails_invalid_policies_only_when_asked(tmp_path):
    policy = tmp_path / "p.yml"
    policy.write_text("kind: nope\n")
    assert run_check(str(policy))["failed"]
    result = run_check(str(policy), fail_on_invalid=False)
    assert "failed" not in result and result["valid"] is False
