"""playbooks/check.yml end to end with real ansible-playbook: exit codes and report files."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK = os.path.join(ROOT, "playbooks", "check.yml")


def run_check(*extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_NOCOLOR="1")
    bindir = os.path.join(ROOT, ".venv", "bin")
    return subprocess.run([os.path.join(bindir, "ansible-playbook"), PLAYBOOK] + list(extra),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_valid_policy_exits_zero_and_writes_reports(tmp_path):
    proc = run_check("-e", "policy_file=%s/examples/policies/branch-office.yml" % ROOT,
                     "-e", "report_dir=%s" % tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "findings.json").read_text())
    assert data["policy"] == "branch-office" and data["valid"] is True
    assert all(set(f) >= {"id", "severity", "path", "line", "message"} for f in data["findings"])
    suite = ET.parse(str(tmp_path / "junit.xml")).getroot()
    assert suite.get("failures") == "0" and len(suite.findall("testcase")) > 10
    assert "PASSED" in (tmp_path / "summary.md").read_text()


def test_invalid_policy_exits_non_zero_with_findings(tmp_path):
    policy = tmp_path / "bad.yml"
    policy.write_text((open(os.path.join(ROOT, "examples/policies/minimal.yml")).read())
                      .replace("203.0.113.5", "203.0.113.300"))
    reports = tmp_path / "reports"
    proc = run_check("-e", "policy_file=%s" % policy, "-e", "report_dir=%s" % reports)
    assert proc.returncode != 0
    assert "grants[0].servers[0]" in proc.stdout
    data = json.loads((reports / "findings.json").read_text())
    assert data["valid"] is False
    assert data["findings"][0]["path"] == "grants[0].servers[0]"
    assert data["findings"][0]["line"] == 19
    assert "Traceback" not in proc.stdout + proc.stderr


def test_without_report_dir_prints_a_summary_and_strict_fails_on_warnings(tmp_path):
    policy = tmp_path / "wide.yml"
    policy.write_text((open(os.path.join(ROOT, "examples/policies/minimal.yml")).read())
                      .replace("servers: [203.0.113.5]", "servers: any"))
    proc = run_check("-e", "policy_file=%s" % policy)
    assert proc.returncode == 0 and "NP114" in proc.stdout
    strict = run_check("-e", "policy_file=%s" % policy, "-e", "strict=true")
    assert strict.returncode != 0 and "NP114" in strict.stdout


def test_missing_policy_file_argument_is_a_clear_error():
    proc = run_check()
    assert proc.returncode != 0 and "policy_file is required" in proc.stdout
