"""Traffic checks of the Molecule lab, run from the controller (verify stage).

  traffic.py main      real VPN software and protocol probes from every client at once, plus the
                       negative controls that need no change to the router
  traffic.py break     removes the PPTP helper assignment and blocks NAT-T inside the router
                       container's live ruleset, and shows that PPTP and IPsec then fail
  traffic.py restored  after the role has re-applied the policy: PPTP and IPsec work again

Each phase writes build/lab/phase-PHASE.json ({"phase", "results", "negative_controls",
"steps"}); tools/lab/report.py merges them. The exit status is 0 when the phase ran to the end,
whatever it observed: the report decides pass or fail. Daemon logs, the router's table and its
conntrack state are written to build/lab/logs/ when anything is not as expected.
"""
import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labctl import TABLE, Lab, Timer  # noqa: E402
from vpn_probes import (PROBE_KINDS, counters, probe_available, probe_client,  # noqa: E402
                        start_probe_servers, stop_probe_servers)
from vpn_real import (frames, ipsec_up, l2tp_real, ping_inner, pptp_real,  # noqa: E402
                      server_ike_peers, start_daemons)

NEGATIVE_TIMEOUT = 4


def result(protocol, client, implementation, ok, detail):
    return {"protocol": protocol, "client": client, "implementation": implementation,
            "ok": bool(ok), "detail": detail}


def control(name, failed, detail):
    return {"name": name, "expected": "fail", "observed": "fail" if failed else "pass",
            "detail": detail}


# -- real software --------------------------------------------------------------------------
def real_software(lab, timer, results, controls):
    with timer.step("start daemons (charon, xl2tpd, pptpd)"):
        lab.flush_conntrack()
        start_daemons(lab)
    with timer.step("strongSwan IKEv2 + NAT-T from every client"):
        ups = lab.parallel(lambda c: ipsec_up(lab, c), lab.clients)
        pings1 = lab.parallel(lambda c: ping_inner(lab, c), lab.clients)
        peers = server_ike_peers(lab)
    with timer.step("PPTP, plain L2TP and L2TP-over-IPsec from every client at once, and PPTP "
                    "to a server not granted PPTP"):
        jobs = [(kind, c) for c in lab.clients for kind in ("pptp", "plain", "inner")]
        jobs += [("ungranted", lab.clients[0]), ("l2tp-ungranted", lab.clients[0])]

        def one(job):
            kind, client = job
            if kind == "pptp":
                return pptp_real(lab, client, lab.server["ip"])
            if kind == "ungranted":
                return pptp_real(lab, client, lab.server["ungranted_ip"], timeout=NEGATIVE_TIMEOUT)
            if kind == "l2tp-ungranted":
                return l2tp_real(lab, client, "ungranted", timeout=NEGATIVE_TIMEOUT)
            return l2tp_real(lab, client, kind)
        outs = dict(zip(((k, c["label"]) for k, c in jobs), lab.parallel(one, jobs)))
        pings2 = lab.parallel(lambda c: ping_inner(lab, c), lab.clients)
    negative_not_granted(lab, controls, outs[("ungranted", lab.clients[0]["label"])],
                         outs[("l2tp-ungranted", lab.clients[0]["label"])])
    behind = set()
    for client, up, p1, p2 in zip(lab.clients, ups, pings1, pings2):
        seen = peers.get(client["ip"], "")
        behind.add(seen)
        ok = up["ok"] and p1[0] and p2[0] and seen.startswith(lab.router_wan_ip + "[")
        results.append(result("ipsec", client["label"], "strongswan", ok,
                              "IKE SA %s; server sees it at %s; virtual IP %s; %d/3 + %d/3 "
                              "pings to %s through the tunnel (before/after the other protocols)"
                              "%s" % ("ESTABLISHED" if up["ok"] else "FAILED", seen or "nothing",
                                      up["vip"], p1[1], p2[1], lab.server["inner_ip"],
                                      "" if up["ok"] else ": " + up["tail"])))
        pptp = outs[("pptp", client["label"])]
        results.append(result("pptp", client["label"], "pptpd", pptp.get("ok"),
                              "pptp-linux -> pptpd %s over GRE, PPP stand-in for pppd: %s%s" % (
                                  lab.server["ip"], frames(pptp),
                                  "" if pptp.get("ok") else "; " + pptp.get("log", ""))))
        for lac, where in (("plain", "plain UDP 1701 to %s (waiver NP103)" % lab.server["ip"]),
                           ("inner", "inside the IPsec tunnel to %s" % lab.server["inner_ip"])):
            data = outs[(lac, client["label"])]
            results.append(result("l2tp", client["label"], "xl2tpd", data.get("ok"),
                                  "xl2tpd %s, PPP stand-in for pppd: %s%s" % (
                                      where, frames(data),
                                      "" if data.get("ok") else "; " + data.get("log", ""))))
    # Every client behind the one NAT address, each on its own remapped NAT-T port.
    if len(behind) != len(lab.clients):
        results.append(result("ipsec", "all", "strongswan", False,
                              "server saw %s for %d clients" % (sorted(behind), len(lab.clients))))
    with timer.step("stop client daemons (free ports 500/4500/1701 for the probes)"):
        lab.parallel(lambda c: lab.run(c["name"], ["lab-node", "stop-client"]), lab.clients)
        lab.flush_conntrack()


def negative_not_granted(lab, controls, pptp, l2tp):
    """PPTP and plain L2TP from the first client to the server's address that the policy grants
    IPsec only, run at the same time as the granted calls."""
    client = lab.clients[0]
    denied = lab.run(lab.router, ["nft", "list", "counter"] + TABLE.split()
                     + ["denied_passthrough"])[1]
    packets = re.search(r"packets (\d+)", denied)
    for name, data in (("pptp", pptp), ("l2tp", l2tp)):
        controls.append(control(
            "%s-to-server-not-granted-is-blocked" % name, not data.get("ok"),
            "%s %s -> %s (the policy grants it IPsec only): %s; router denied counter %s "
            "packets" % (client["label"], name, lab.server["ungranted_ip"], frames(data),
                         packets.group(1) if packets else "?")))


# -- probes ---------------------------------------------------------------------------------
def probes(lab, timer, results, controls, scale):
    kinds = [k for k in PROBE_KINDS if probe_available(k)]
    missing = [k for k in PROBE_KINDS if k not in kinds]
    if missing:
        print("lab: probes not available, not run: %s" % ", ".join(missing), flush=True)
    proto = {"pptp": "pptp", "ike": "ipsec", "l2tp": "l2tp", "esp": "ipsec"}
    with timer.step("protocol probes from every client at once (%s)" % ", ".join(kinds)):
        shared = [k for k in kinds if k != "esp"]   # raw ESP has its own step below
        start_probe_servers(lab, shared)
        jobs = [(k, c) for k in shared for c in lab.clients]
        outs = lab.parallel(lambda j: probe_client(lab, j[1]["name"], j[0],
                                                   ["--name", j[1]["label"]]), jobs)
        reports = stop_probe_servers(lab, shared)
    for (kind, client), data in zip(jobs, outs):
        extra = ""
        if kind == "pptp":
            seen = (reports.get("pptp") or {}).get("call_ids_seen", [])
            call_id = data.get("call_id")
            extra = "; every client announced call ID %s, the server saw %s" % (
                "0x%04x" % call_id if isinstance(call_id, int) else call_id, seen)
        results.append(result(proto[kind], client["label"], "probe", data.get("ok"),
                              "%s probe: %s%s" % (kind, data.get("detail", ""), extra)))
    if "pptp" in kinds:
        seen = (reports.get("pptp") or {}).get("call_ids_seen", [])
        results.append(result("pptp", "all", "probe", len(set(seen)) >= len(lab.clients),
                              "call-ID rewriting: %d clients sent the same call ID, the server "
                              "saw %d distinct: %s" % (len(lab.clients), len(set(seen)), seen)))
    if "esp" in kinds:
        esp_limit(lab, timer, results, controls)
    if scale:
        scale_mode(lab, timer, results, [k for k in ("pptp", "ike") if k in kinds])
    lab.flush_conntrack()


def esp_limit(lab, timer, results, controls):
    first, second = lab.clients[0], lab.clients[1]
    with timer.step("raw ESP: %s holds, %s tries the same server"
                    % (first["label"], second["label"])):
        lab.flush_conntrack()
        start_probe_servers(lab, ["esp"])

        def run(job):
            client, delay, args = job
            time.sleep(delay)
            return probe_client(lab, client["name"], "esp", ["--name", client["label"]] + args)
        held, tried = lab.parallel(run, [
            (first, 0, ["--hold", "4", "--packets", "20"]),
            (second, 1, ["--packets", "5", "--timeout", "2"])])
        stop_probe_servers(lab, ["esp"])
    results.append(result("ipsec", first["label"], "probe", held.get("ok"),
                          "raw ESP (IP proto 50, grant lab-esp-raw) held for 4 s: %s"
                          % counters(held)))
    controls.append(control(
        "raw-esp-second-client-while-first-holds", not tried.get("ok"),
        "%s sent raw ESP to %s while %s held its entry: %s (the one-client-per-server limit "
        "behind NAT, NP113)" % (second["label"], lab.probe_server["ip"], first["label"],
                                counters(tried))))
    lab.flush_conntrack()


def scale_mode(lab, timer, results, kinds):
    conf = lab.topo["lab_scale"]
    first = conf["first"]
    base = first.rsplit(".", 1)
    last = "%s.%d" % (base[0], int(base[1]) + conf["count"] - 1)
    prefix = next(n["subnet"] for n in lab.topo["lab_networks"]
                  if n["name"].endswith("lan")).split("/")[1]
    batch = "".join("addr replace %s.%d/%s dev %s\n" % (base[0], int(base[1]) + i, prefix,
                                                        conf["ifname"])
                    for i in range(conf["count"]))
    lab.run(conf["container"], ["ip", "-b", "-"], stdin=batch)
    label = "scale-%d" % conf["count"]
    for kind in kinds:
        with timer.step("scale: %d %s clients from %s" % (conf["count"], kind, label)):
            lab.flush_conntrack()
            start_probe_servers(lab, [kind])
            data = probe_client(lab, conf["container"], kind,
                                ["--source-range", "%s-%s" % (first, last), "--name", label,
                                 "--timeout", "20"], timeout=120)
            report = stop_probe_servers(lab, [kind]).get(kind) or {}
        c = data.get("counters", {})
        ok = data.get("ok") and c.get("misdelivered", 1) == 0 and \
            c.get("clients_ok") == conf["count"]
        extra = ""
        if kind == "pptp":
            extra = "; server saw %d distinct call IDs" % len(set(report.get("call_ids_seen", [])))
        results.append(result("pptp" if kind == "pptp" else "ipsec", label, "probe", ok,
                              "%s scale: %s/%s clients ok, %s%s" % (
                                  kind, c.get("clients_ok"), c.get("clients"), counters(data),
                                  extra)))
    lab.run(conf["container"], ["ip", "-b", "-"],
            stdin=batch.replace("addr replace", "addr del"))


# -- phases ---------------------------------------------------------------------------------
def phase_main(lab, timer, args):
    results, controls = [], []
    real_software(lab, timer, results, controls)
    probes(lab, timer, results, controls, scale=not args.no_scale)
    return results, controls


def phase_break(lab, timer, _args):
    results, controls = [], []
    client = lab.clients[0]
    with timer.step("break the router: remove helper assignment, block NAT-T"):
        removed = lab.delete_rules_matching("prerouting", "ct helper set")
        lab.must(lab.router, ["nft", "insert", "rule"] + TABLE.split()
                 + ["forward", "udp", "dport", "4500", "counter", "drop"])
        lab.must(lab.server["name"], ["lab-node", "start", "server"])
        lab.flush_conntrack()
    with timer.step("negative: PPTP without the helper assignment"):
        data = pptp_real(lab, client, lab.server["ip"], timeout=NEGATIVE_TIMEOUT)
        controls.append(control(
            "pptp-without-helper-assignment", not data.get("ok") and removed > 0,
            "%d 'ct helper set' rule(s) deleted from chain prerouting; %s -> %s: %s"
            % (removed, client["label"], lab.server["ip"], frames(data))))
    with timer.step("negative: IPsec and L2TP-over-IPsec with NAT-T (UDP 4500) blocked"):
        lab.must(client["name"], ["lab-node", "start", "client"])
        up = ipsec_up(lab, client, timeout=NEGATIVE_TIMEOUT)
        ping = ping_inner(lab, client, count=2) if up["ok"] else (False, 0)
        inner = l2tp_real(lab, client, "inner", timeout=NEGATIVE_TIMEOUT)
        lab.run(client["name"], ["lab-node", "stop-client"])
        controls.append(control(
            "ipsec-with-nat-t-blocked", not (up["ok"] and ping[0]),
            "udp dport 4500 drop inserted in chain forward; %s: IKE SA %s (%s)"
            % (client["label"], "ESTABLISHED" if up["ok"] else "not established", up["tail"])))
        controls.append(control(
            "l2tp-over-ipsec-with-nat-t-blocked", not inner.get("ok"),
            "%s: xl2tpd to %s, reachable only through the tunnel: %s"
            % (client["label"], lab.server["inner_ip"], frames(inner))))
    lab.flush_conntrack()
    return results, controls


def phase_restored(lab, timer, _args):
    results, controls = [], []
    client = lab.clients[0]
    with timer.step("after re-apply: PPTP and IPsec work again"):
        lab.flush_conntrack()
        lab.must(lab.server["name"], ["lab-node", "start", "server"])
        data = pptp_real(lab, client, lab.server["ip"])
        results.append(result("pptp", client["label"], "pptpd", data.get("ok"),
                              "after re-applying the policy: %s" % frames(data)))
        lab.must(client["name"], ["lab-node", "start", "client"])
        up = ipsec_up(lab, client)
        ping = ping_inner(lab, client) if up["ok"] else (False, 0)
        results.append(result("ipsec", client["label"], "strongswan", up["ok"] and ping[0],
                              "after re-applying the policy: IKE SA %s, %d/3 pings" % (
                                  "ESTABLISHED" if up["ok"] else "FAILED", ping[1])))
        inner = l2tp_real(lab, client, "inner")
        results.append(result("l2tp", client["label"], "xl2tpd", inner.get("ok"),
                              "after re-applying the policy, inside the IPsec tunnel: %s"
                              % frames(inner)))
        lab.run(client["name"], ["lab-node", "stop-client"])
        lab.flush_conntrack()
    return results, controls


PHASES = {"main": phase_main, "break": phase_break, "restored": phase_restored}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=sorted(PHASES))
    parser.add_argument("--topology", default="molecule/default/vars/topology.yml")
    parser.add_argument("--out-dir", default="build/lab")
    parser.add_argument("--no-scale", action="store_true", help="skip the 200-client probes")
    args = parser.parse_args(argv)
    lab = Lab(args.topology, os.path.join(args.out_dir, "logs"))
    timer = Timer()
    start = time.monotonic()
    error = None
    results, controls = [], []
    try:
        results, controls = PHASES[args.phase](lab, timer, args)
    except Exception as exc:  # the report must still be written; the error is recorded in it
        error = "%s: %s" % (type(exc).__name__, exc)
        print("lab: phase %s aborted: %s" % (args.phase, error), file=sys.stderr)
    doc = {"phase": args.phase, "results": results, "negative_controls": controls,
           "steps": timer.steps, "seconds": round(time.monotonic() - start, 2), "error": error}
    bad = [r for r in results if not r["ok"]] + \
        [c for c in controls if c["observed"] != c["expected"]]
    if bad or error:
        for path in lab.dump_logs(args.phase):
            print("lab: log written: %s" % path, file=sys.stderr)
        for item in bad:
            print("lab: NOT AS EXPECTED: %s" % json.dumps(item, sort_keys=True), file=sys.stderr)
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "phase-%s.json" % args.phase), "w",
              encoding="utf-8") as handle:
        json.dump(doc, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
