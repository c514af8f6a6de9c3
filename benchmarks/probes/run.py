"""Scale figures for the protocol probes: N clients (N source addresses, one process) through a
namespace NAT router loaded with the collection's rendered ruleset.

Writes benchmarks/probes/results.json and results.md. Needs root. Usage (from the repo root):
    .venv/bin/python benchmarks/probes/run.py [--clients 50 100 200] [--repeat 3]
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "integration"), str(ROOT / "build" / "collections")]

from vpn_topology import Topology  # noqa: E402  (path set up above)

CASES = (
    # name, probe, policy protocols, extra client args
    ("pptp", "pptp_probe.py", ("pptp",), ["--call-id", "0x1234"]),
    ("nat-t", "ike_probe.py", ("ipsec",), []),
    ("l2tp", "l2tp_probe.py", ("l2tp",), []),
)


def one_run(topo, probe, protocols, args, packets):
    topo.apply_policy(protocols=protocols, esp=False)
    server = topo.start_server(probe)
    started = time.monotonic()
    report = topo.run_scale(probe, list(args) + ["--packets", str(packets)])
    wall = time.monotonic() - started
    seen = server.stop()
    counters = report["counters"]
    return {"ok": report["ok"], "clients": counters["clients"],
            "clients_ok": counters["clients_ok"], "sent": counters["sent"],
            "delivered": counters["delivered"], "lost": counters["lost"],
            "misdelivered": counters["misdelivered"], "probe_elapsed_ms": counters["elapsed_ms"],
            "wall_ms": int(wall * 1000), "server": seen["detail"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--packets", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("needs root (network namespaces)")
    rows = []
    for n in args.clients:
        topo = Topology(clients=0, scale_sources=n)
        try:
            for name, probe, protocols, extra in CASES:
                runs = [one_run(topo, probe, protocols, extra, args.packets)
                        for _run in range(args.repeat)]
                median = statistics.median(r["probe_elapsed_ms"] for r in runs)
                rows.append({"protocol": name, "clients": n, "packets_per_client": args.packets,
                             "all_ok": all(r["ok"] for r in runs),
                             "misdelivered_total": sum(r["misdelivered"] for r in runs),
                             "lost_total": sum(r["lost"] for r in runs),
                             "median_probe_elapsed_ms": median, "runs": runs})
                print("%-6s N=%-4d ok=%s misdelivered=%d lost=%d median %d ms" % (
                    name, n, rows[-1]["all_ok"], rows[-1]["misdelivered_total"],
                    rows[-1]["lost_total"], median))
        finally:
            topo.close()
    machine = {"kernel": platform.release(), "cpus": os.cpu_count(),
               "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}
    out = Path(args.out)
    (out / "results.json").write_text(json.dumps({"machine": machine, "results": rows},
                                                 indent=2, sort_keys=True) + "\n")
    lines = ["# Probe scale figures", "",
             "Machine: %(cpus)s CPUs, kernel %(kernel)s, Python %(python)s, %(date)s. " % machine
             + "Each client = one source address in one process; %d data packets per client; "
             "median of %d runs; the whole exchange (control + data), router = namespace with the "
             "collection's rendered table." % (args.packets, args.repeat), "",
             "| protocol | clients | all ok | delivered/sent (last run) | misdelivered (all runs)"
             " | lost (all runs) | median elapsed |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        last = row["runs"][-1]
        lines.append("| %s | %d | %s | %d/%d | %d | %d | %d ms |" % (
            row["protocol"], row["clients"], "yes" if row["all_ok"] else "NO",
            last["delivered"], last["sent"], row["misdelivered_total"], row["lost_total"],
            row["median_probe_elapsed_ms"]))
    (out / "results.md").write_text("\n".join(lines) + "\n")
    return 0 if all(r["all_ok"] and r["misdelivered_total"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
