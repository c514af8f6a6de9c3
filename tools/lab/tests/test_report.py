"""tools/lab/report.py: the report's shape, the matrix, and that any miss fails the run."""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
REPORT = os.path.join(ROOT, "tools", "lab", "report.py")
TOPOLOGY = os.path.join(ROOT, "molecule", "default", "vars", "topology.yml")

GOOD_JUNIT = """<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="1">
<testcase classname="test_router" name="test_table"/></testsuite></testsuites>"""


def write_run(out, ipsec_ok=True, observed="fail", in_sync=True, junit=GOOD_JUNIT, skip=()):
    phases = {
        "main": {"results": [
            {"protocol": "ipsec", "client": "client%d" % i, "implementation": "strongswan",
             "ok": ipsec_ok if i == 1 else True, "detail": "d"} for i in (1, 2, 3)],
            "negative_controls": [{"name": "pptp-not-granted", "expected": "fail",
                                   "observed": observed, "detail": "d"}]},
        "break": {"results": [], "negative_controls": []},
        "restored": {"results": [{"protocol": "pptp", "client": "client1",
                                  "implementation": "pptpd", "ok": True, "detail": "d"}],
                     "negative_controls": []},
    }
    for name, doc in phases.items():
        if name in skip:
            continue
        doc.update(phase=name, steps=[{"name": "s", "seconds": 1.0}], error=None)
        (out / ("phase-%s.json" % name)).write_text(json.dumps(doc))
    (out / "status.json").write_text(json.dumps({"in_sync": in_sync}))
    (out / "testinfra.xml").write_text(junit)


def run(out):
    return subprocess.run([sys.executable, REPORT, "--out-dir", str(out), "--topology", TOPOLOGY],
                          capture_output=True, text=True, check=False, timeout=60)


def test_all_good_passes_with_the_issue_shape_and_a_matrix(tmp_path):
    write_run(tmp_path)
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert sorted(report) == ["clients", "negative_controls", "results"]
    assert report["clients"] == ["client1", "client2", "client3"]
    for item in report["results"]:
        assert {"protocol", "client", "implementation", "ok", "detail"} <= set(item)
    for item in report["negative_controls"]:
        assert item["expected"] == "fail" and item["observed"] in ("fail", "pass")
    assert "ipsec/strongswan" in proc.stdout and "lab PASSED" in proc.stdout
    junit = (tmp_path / "junit.xml").read_text()
    assert 'failures="0"' in junit


@pytest.mark.parametrize("kwargs,needle", [
    ({"ipsec_ok": False}, "FAILED client1 ipsec/strongswan"),
    ({"observed": "pass"}, "NOT AS EXPECTED"),
    ({"in_sync": False}, "not in sync"),
    ({"junit": GOOD_JUNIT.replace("/>", "><skipped/></testcase>")}, "router state"),
    ({"junit": ""}, "no testinfra results"),
    ({"skip": ("break",)}, "phase break: no result file"),
])
def test_any_miss_fails_the_run(tmp_path, kwargs, needle):
    write_run(tmp_path, **kwargs)
    proc = run(tmp_path)
    assert proc.returncode == 1
    assert needle in proc.stdout
    assert "lab FAILED" in proc.stdout
    assert 'failures="0"' not in (tmp_path / "junit.xml").read_text()
