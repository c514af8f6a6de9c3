"""Render benchmark: our renderer and Aerleon's nftables generator on the same grants.

    make bench-render      (or .venv/bin/python benchmarks/render/run.py [--quick])

For 10, 1,000 and 10,000 grants (100,000 addresses at 10,000) it measures render time (median
of several runs) and peak Python memory (tracemalloc, separate run), the rule count of the
rendered ruleset, `nft -c -f` time inside a throwaway network namespace, and the same for
Aerleon fed the equivalent policy (benchmarks/render/aerleon_policy.py). It also shows that the
rule count does not change between 10 and 100,000 addresses. Results go to
benchmarks/render/results.json and results.md, with the machine they were measured on; the
inputs (our policy YAML, Aerleon's policy and definitions YAML) under build/bench-render/.
"""
import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from importlib.metadata import version

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(ROOT, "build", "collections"), os.path.join(ROOT, "tools"),
                os.path.join(ROOT, "tests", "integration"), HERE]

import yaml  # noqa: E402
from aerleon import api as aerleon_api  # noqa: E402
from aerleon.lib import naming  # noqa: E402

import gen_policy  # noqa: E402
from aerleon_policy import aerleon_policy  # noqa: E402
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.engine import (  # noqa: E402
    check_policy_file)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render import (  # noqa: E402
    render_policy)
from netns import NetNS  # noqa: E402

SIZES = ((10, 100), (1000, 10000), (10000, 100000))
WORK = os.path.join(ROOT, "build", "bench-render")


def rule_count(text):
    """Statements inside chains (rules, jumps included); not declarations or comments."""
    count, depth_chain = 0, False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("chain "):
            depth_chain = True
        elif line == "}":
            depth_chain = False
        elif depth_chain and line and not line.startswith(("#", "type ", "comment ")):
            count += 1
    return count


def timed(func, runs):
    """(median wall seconds, median CPU seconds of this process, last result)."""
    walls, cpus, result = [], [], None
    for _run in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        result = func()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def peak_mib(func):
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


def nft_check_seconds(ns, text, timeout):
    """(seconds, ok, error) of `nft -c -f -` in the namespace; ok None when it timed out."""
    start = time.perf_counter()
    try:
        proc = ns.run(["nft", "-c", "-f", "-"], input=text, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return timeout, None, "did not finish within %d s" % timeout
    seconds = time.perf_counter() - start
    return round(seconds, 3), proc.returncode == 0, proc.stderr.strip()[:300]


def policy_for(grants, addresses):
    os.makedirs(WORK, exist_ok=True)
    path = os.path.join(WORK, "policy-%d-%d.yml" % (grants, addresses))
    with open(path, "w") as handle:
        handle.write(gen_policy.generate(grants, addresses, seed=1))
    start = time.perf_counter()
    result = check_policy_file(path)
    validate_s = time.perf_counter() - start
    if not result.valid:
        raise SystemExit("generated policy is not valid: %s" % result.findings[:3])
    return result.policy, validate_s


def aerleon_run(policy, label):
    pol, defs = aerleon_policy(policy)
    folder = os.path.join(WORK, "aerleon-" + label)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "policy.yaml"), "w") as handle:
        yaml.safe_dump(pol, handle, sort_keys=False)
    with open(os.path.join(folder, "definitions.yaml"), "w") as handle:
        yaml.safe_dump(defs, handle, sort_keys=False)

    def generate():
        definitions = naming.Naming()
        definitions.ParseDefinitionsObject(defs, "")
        out = aerleon_api.Generate([pol], definitions)
        return "".join(out[name] for name in sorted(out))
    return generate


def measure(grants, addresses, ns, runs, nft_timeout):
    policy, validate_s = policy_for(grants, addresses)
    ours_s, ours_cpu, text = timed(lambda: render_policy(policy)["nftables.nft"], runs)
    ours_mib = peak_mib(lambda: render_policy(policy))
    generate = aerleon_run(policy, "%d" % grants)
    aer_s, aer_cpu, aer_text = timed(generate, runs if grants < 10000 else 1)
    ours_nft = nft_check_seconds(ns, text, nft_timeout)
    aer_nft = nft_check_seconds(ns, aer_text, nft_timeout)
    row = {
        "grants": grants, "addresses": addresses,
        "validate_s": round(validate_s, 3),
        "ours": {"render_s": round(ours_s, 3), "render_cpu_s": round(ours_cpu, 3),
                 "peak_mib": round(ours_mib, 2),
                 "rules": rule_count(text), "bytes": len(text),
                 "map_elements": text.count(' : "grant_'),
                 "nft_check_s": ours_nft[0], "nft_check_ok": ours_nft[1]},
        "aerleon": {"render_s": round(aer_s, 3), "render_cpu_s": round(aer_cpu, 3),
                    "rules": rule_count(aer_text),
                    "bytes": len(aer_text), "nft_check_s": aer_nft[0],
                    "nft_check_ok": aer_nft[1]},
    }
    if not ours_nft[1]:
        row["ours"]["nft_error"] = ours_nft[2]
    if not aer_nft[1]:
        row["aerleon"]["nft_error"] = aer_nft[2]
    row["time_ratio"] = round(aer_s / ours_s, 1)
    row["cpu_time_ratio"] = round(aer_cpu / ours_cpu, 1) if ours_cpu else None
    row["rules_ratio"] = round(row["aerleon"]["rules"] / float(row["ours"]["rules"]), 1)
    print(json.dumps(row), flush=True)
    return row


def address_scaling():
    """Same 5 grants (same seed) with 10 and with 100,000 addresses."""
    out = []
    for addresses in (10, 100000):
        policy = policy_for(5, addresses)[0]
        text = render_policy(policy)["nftables.nft"]
        out.append({"grants": 5, "addresses": addresses, "rules": rule_count(text),
                    "map_elements": text.count(' : "grant_')})
    return out


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    nft = subprocess.run(["nft", "--version"], capture_output=True, text=True,
                         check=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "os": platform.platform(), "python": platform.python_version(), "nft": nft,
            "jinja2": version("Jinja2"), "aerleon": version("aerleon"),
            "date": time.strftime("%Y-%m-%d", time.gmtime())}


def nft_cell(side):
    if side["nft_check_ok"] is None:
        return "> %d s (stopped)" % side["nft_check_s"]
    return "%.2f s" % side["nft_check_s"] if side["nft_check_ok"] else "FAILED"


def markdown(report):
    lines = [
        "# Render benchmark", "",
        "Generated by `make bench-render` (benchmarks/render/run.py); do not edit by hand.", "",
        "Machine: %(cpu)s, %(cores)s cores, kernel %(kernel)s, Python %(python)s, %(nft)s, "
        "Jinja2 %(jinja2)s, Aerleon %(aerleon)s; measured %(date)s." % report["machine"],
        "Load average (1/5/15 min) before %s, after %s: other jobs shared the machine, so "
        "absolute times are noisy; both tools ran in the same run under the same load."
        % (report["machine"]["load_average"]["before"],
           report["machine"]["load_average"]["after"]), "",
        "Inputs: `tools/gen_policy.py --grants N --addresses M --seed 1`; Aerleon gets the same "
        "grants as its own policy + definitions (benchmarks/render/aerleon_policy.py). Render "
        "time is the median of several runs, from the validated policy to the file text "
        "(Aerleon: definitions + Generate), as wall time and as this process's CPU time (the "
        "fairer figure when other jobs load the machine). Rules are statements in chains, jumps "
        "included. `nft -c -f` runs in a throwaway network namespace; the per-packet cost is in "
        "flows.md.",
        "",
        "| grants | addresses | our render wall (CPU) | peak memory | our rules | map elements | "
        "our `nft -c` | Aerleon render wall (CPU) | Aerleon rules | Aerleon `nft -c` | "
        "time ratio wall (CPU) | rules ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["sizes"]:
        ours, aer = row["ours"], row["aerleon"]
        lines.append(
            "| %d | %d | %.3f s (%.3f s) | %.2f MiB | %d | %d | %s | %.3f s (%.3f s) | %d | %s | "
            "%.1fx (%.1fx) | %.1fx |"
            % (row["grants"], row["addresses"], ours["render_s"], ours["render_cpu_s"],
               ours["peak_mib"], ours["rules"], ours["map_elements"], nft_cell(ours),
               aer["render_s"], aer["render_cpu_s"], aer["rules"], nft_cell(aer),
               row["time_ratio"], row["cpu_time_ratio"], row["rules_ratio"]))
    lines += ["", "Rule count against address count (same 5 grants):", "",
              "| addresses | rules | map elements |", "|---:|---:|---:|"]
    for row in report["address_scaling"]:
        lines.append("| %d | %d | %d |" % (row["addresses"], row["rules"], row["map_elements"]))
    lines += ["", "Validation of the same generated policies (the engine, before rendering): "
              + ", ".join("%d grants %.2f s" % (r["grants"], r["validate_s"])
                          for r in report["sizes"]) + ".", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 and 1,000 grants only")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", default=HERE, help="directory for results.json/.md")
    parser.add_argument("--nft-timeout", type=int, default=300,
                        help="seconds before an `nft -c -f` run is stopped")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # Aerleon warns about every expiring term
    if os.geteuid() != 0:
        raise SystemExit("run as root: nft -c needs a network namespace")
    ns = NetNS(prefix="npbench")
    try:
        ns.add_links("lan0", "wan0")
        sizes = SIZES[:2] if args.quick else SIZES
        load_before = os.getloadavg()
        report = {"machine": machine(),
                  "sizes": [measure(g, a, ns, args.runs if g < 10000 else 3, args.nft_timeout)
                            for g, a in sizes],
                  "address_scaling": address_scaling()}
        report["machine"]["load_average"] = {"before": [round(x, 2) for x in load_before],
                                             "after": [round(x, 2) for x in os.getloadavg()]}
    finally:
        ns.delete()
    with open(os.path.join(args.output, "results.json"), "w") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write("\n")
    with open(os.path.join(args.output, "results.md"), "w") as handle:
        handle.write(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
