"""Merge the lab's phase results into build/lab/report.json and junit.xml, print the matrix.

Inputs (in --out-dir): phase-main.json, phase-break.json, phase-restored.json (tools/lab/
traffic.py), status.json (the status module after the restore) and testinfra.xml (router state).
report.json has exactly the issue's shape:
  {"clients": [names], "results": [{"protocol", "client", "implementation", "ok", "detail"}],
   "negative_controls": [{"name", "expected": "fail", "observed": "fail|pass", "detail"}]}
Exit status 0 only when every result is ok, every negative control failed as expected, every
phase ran to its end, the restore left the router in sync and every router-state test passed.
"""
import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

import yaml

PHASES = ("main", "break", "restored")
COLUMNS = (("ipsec", "strongswan"), ("ipsec", "probe"), ("l2tp", "xl2tpd"), ("l2tp", "probe"),
           ("pptp", "pptpd"), ("pptp", "probe"))


def load_json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def testinfra_cases(path):
    """[(name, ok, message)] from pytest's junit file; [] when it is missing or unreadable."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return []
    cases = []
    for case in root.iter("testcase"):
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        skipped = case.find("skipped") is not None
        message = "" if bad is None else (bad.get("message") or "")[:300]
        # A skipped router-state test proves nothing: it counts as a failure here.
        cases.append((case.get("name"), bad is None and not skipped,
                      "skipped" if skipped else message))
    return cases


def collect(out_dir, topology):
    clients = [c["label"] for c in topology["lab_clients"]]
    results, controls, problems, steps = [], [], [], []
    for phase in PHASES:
        doc = load_json(os.path.join(out_dir, "phase-%s.json" % phase))
        if doc is None:
            problems.append("phase %s: no result file (it did not run)" % phase)
            continue
        if doc.get("error"):
            problems.append("phase %s aborted: %s" % (phase, doc["error"]))
        results += doc.get("results", [])
        controls += doc.get("negative_controls", [])
        steps += [dict(step, phase=phase) for step in doc.get("steps", [])]
    status = load_json(os.path.join(out_dir, "status.json"))
    if status is None:
        problems.append("restore: no status.json (the re-apply did not run)")
    elif status.get("failed"):
        problems.append("restore: re-applying the policy failed: %s" % status.get("msg"))
    elif status.get("in_sync") is not True:
        problems.append("restore: router not in sync with the policy after re-apply")
    cases = testinfra_cases(os.path.join(out_dir, "testinfra.xml"))
    if not cases:
        problems.append("router state: no testinfra results")
    for name, ok, message in cases:
        if not ok:
            problems.append("router state: %s failed: %s" % (name, message))
    report = {"clients": clients, "results": results, "negative_controls": controls}
    return report, problems, cases, steps


def cell(items):
    if not items:
        return "-"
    good = sum(1 for r in items if r["ok"])
    return "%s %d/%d" % ("ok" if good == len(items) else "FAIL", good, len(items))


def matrix(report):
    rows = list(report["clients"])
    rows += sorted({r["client"] for r in report["results"]} - set(rows))
    head = ["client"] + ["%s/%s" % col for col in COLUMNS]
    table = [head]
    for row in rows:
        table.append([row] + [cell([r for r in report["results"] if r["client"] == row and
                                    (r["protocol"], r["implementation"]) == col])
                              for col in COLUMNS])
    widths = [max(len(line[i]) for line in table) for i in range(len(head))]
    lines = ["  ".join(text.ljust(widths[i]) for i, text in enumerate(line)).rstrip()
             for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def junit(report, problems, cases, path):
    suite = ET.Element("testsuite", name="netpolicy-lab")
    failures = 0
    for r in report["results"]:
        case = ET.SubElement(suite, "testcase", classname="lab.%s.%s" % (
            r["protocol"], r["implementation"]), name=r["client"])
        ET.SubElement(case, "system-out").text = r["detail"]
        if not r["ok"]:
            failures += 1
            ET.SubElement(case, "failure", message=r["detail"][:500])
    for c in report["negative_controls"]:
        case = ET.SubElement(suite, "testcase", classname="lab.negative_control", name=c["name"])
        ET.SubElement(case, "system-out").text = c.get("detail", "")
        if c["observed"] != c["expected"]:
            failures += 1
            ET.SubElement(case, "failure", message="expected %s, observed %s: %s" % (
                c["expected"], c["observed"], c.get("detail", "")))
    if not cases:
        cases = [("testinfra-results", False, "no router-state test results")]
    for name, ok, message in cases:
        case = ET.SubElement(suite, "testcase", classname="lab.router_state", name=name)
        if not ok:
            failures += 1
            ET.SubElement(case, "failure", message=message or "failed")
    others = [p for p in problems if not p.startswith("router state: ")]
    case = ET.SubElement(suite, "testcase", classname="lab.run", name="phases-and-restore")
    if others:
        failures += 1
        ET.SubElement(case, "failure", message="; ".join(others)[:1000])
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(failures))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default="build/lab")
    parser.add_argument("--topology", default="molecule/default/vars/topology.yml")
    args = parser.parse_args(argv)
    with open(args.topology, encoding="utf-8") as handle:
        topology = yaml.safe_load(handle)
    report, problems, cases, steps = collect(args.out_dir, topology)
    with open(os.path.join(args.out_dir, "report.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write("\n")
    junit(report, problems, cases, os.path.join(args.out_dir, "junit.xml"))

    bad_results = [r for r in report["results"] if not r["ok"]]
    bad_controls = [c for c in report["negative_controls"] if c["observed"] != c["expected"]]
    lines = ["VPN passthrough lab: %d clients behind one NAT router" % len(report["clients"]), ""]
    lines += matrix(report)
    lines += ["", "negative controls (each must fail):"]
    for c in report["negative_controls"]:
        lines.append("  %-42s expected %s, observed %s  %s" % (
            c["name"], c["expected"], c["observed"],
            "ok" if c["observed"] == c["expected"] else "NOT AS EXPECTED"))
    passed = sum(1 for case in cases if case[1])
    lines.append("router state (pytest-testinfra): %d/%d passed" % (passed, len(cases)))
    traffic_seconds = sum(s["seconds"] for s in steps)
    lines.append("traffic phases: %.0f s in %d steps" % (traffic_seconds, len(steps)))
    for item in bad_results:
        lines.append("FAILED %s %s/%s: %s" % (
            item["client"], item["protocol"], item["implementation"], item["detail"]))
    lines += ["PROBLEM %s" % p for p in problems]
    ok = not (bad_results or bad_controls or problems)
    lines.append("lab %s: %d results, %d negative controls -> %s" % (
        "PASSED" if ok else "FAILED", len(report["results"]), len(report["negative_controls"]),
        os.path.join(args.out_dir, "report.json")))
    if not ok:
        lines += log_tails(os.path.join(args.out_dir, "logs"))
    print("\n".join(lines))
    return 0 if ok else 1


def log_tails(log_dir, count=12):
    """The end of every diagnostic log traffic.py wrote (daemon logs, router state)."""
    lines = []
    try:
        names = sorted(os.listdir(log_dir))
    except OSError:
        return lines
    for name in names:
        with open(os.path.join(log_dir, name), encoding="utf-8", errors="replace") as handle:
            tail = handle.read().splitlines()[-count:]
        lines += ["", "----- %s (last %d lines)" % (os.path.join(log_dir, name), len(tail))]
        lines += tail
    return lines


if __name__ == "__main__":
    sys.exit(main())
