"""Per-packet cost: new NAT-T flows per second through a namespace router.

    .venv/bin/python benchmarks/render/flows.py      (root; part of `make bench-render`)

client ns --(lan0)-- router ns --(wan0)-- server ns. hping3 floods UDP 4500 from the client with
a new source port per packet, so every packet is a new flow that walks the router's ruleset;
the server counts what arrives. Rulesets, measured in the same run:

- baseline: only a masquerade table (the cost of forwarding + NAT alone);
- ours-10 / ours-10000: our rendered table for 10 and 10,000 grants (100,000 addresses),
  the client being a granted host (map lookup + per-grant counter + accept);
- linear-1000: 1,000 grants in the rule-per-grant style (one rule per grant with anonymous
  client and server sets, as Aerleon-like generators emit), the client being granted by the last
  grant, so every new flow walks all the rules. (At 10,000 grants that style did not even finish
  `nft -f` within 3.5 minutes here, and Aerleon's own output not `nft -c` within 5 minutes.)

Results go to benchmarks/render/flows.json and flows.md.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(ROOT, "build", "collections"), os.path.join(ROOT, "tools"),
                os.path.join(ROOT, "tests", "integration"), HERE]

import gen_policy  # noqa: E402
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.engine import (  # noqa: E402
    check_policy_text)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render import (  # noqa: E402
    render_policy)
from netns import NetNS  # noqa: E402

ROUTER_WAN = "203.0.113.254"
BASELINE = ('table ip bench_nat { chain post { type nat hook postrouting priority srcnat; '
            'oifname "wan0" masquerade; }; }')
SERVER_COUNT = ('table inet bench_count { counter seen { }; chain input { type filter hook '
                'input priority 0; udp dport 4500 counter name "seen"; }; }')


def generated(grants, addresses):
    result = check_policy_text(gen_policy.generate(grants, addresses, seed=1))
    if not result.valid:
        raise SystemExit("generated policy invalid")
    return result.policy


def last_ipsec_host(policy):
    """(client host, server) of the last IPv4 IPsec grant with a listed server: the pair
    that a rule-per-grant ruleset reaches last."""
    for grant in reversed(policy["grants"]):
        if "ipsec" in grant["protocols"] and grant["servers"] != "any" \
                and ":" not in grant["clients"][-1] \
                and grant["servers"][0] != ROUTER_WAN + "/32":
            return grant["clients"][-1].split("/")[0], grant["servers"][0].split("/")[0]
    raise SystemExit("no IPv4 IPsec grant")


def linear_ruleset(policy):
    """One rule per IPv4 IPsec grant, in policy order, plus the baseline's NAT."""
    rules = []
    for grant in policy["grants"]:
        clients = [c for c in grant["clients"] if ":" not in c]
        if "ipsec" not in grant["protocols"] or not clients or grant["servers"] == "any":
            continue
        servers = [s for s in grant["servers"] if ":" not in s]
        if servers:
            rules.append('iifname "lan0" oifname "wan0" ip saddr { %s } ip daddr { %s } '
                         'udp dport { 500, 4500 } counter accept'
                         % (", ".join(clients), ", ".join(servers)))
    return ("table ip linear {\n chain forward {\n  type filter hook forward priority filter; "
            "policy accept;\n  ct state established accept\n  %s\n  udp dport { 500, 4500 } "
            "drop\n }\n}\n%s\n" % ("\n  ".join(rules), BASELINE))


class Lab:
    def __init__(self):
        self.client, self.router, self.server = (NetNS(prefix="npflow-" + r) for r in "crs")
        for peer, dev in ((self.client, "lan0"), (self.server, "wan0")):
            subprocess.run(["ip", "link", "add", dev, "netns", self.router.name, "type", "veth",
                            "peer", "name", "eth0", "netns", peer.name], check=True)
        self.router.run(["ip", "addr", "add", "10.0.0.1/8", "dev", "lan0"])
        self.router.run(["ip", "addr", "add", ROUTER_WAN + "/32", "dev", "wan0"])
        for ns, dev in ((self.router, "lan0"), (self.router, "wan0"), (self.client, "eth0"),
                        (self.server, "eth0")):
            ns.run(["ip", "link", "set", dev, "up"])
        self.router.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        self.server.nft("-f", "-", input=SERVER_COUNT)

    def place(self, client, server):
        """Give the client and server the addresses of the measured pair."""
        self.client.run(["ip", "addr", "flush", "dev", "eth0"])
        self.client.run(["ip", "addr", "add", client + "/8", "dev", "eth0"])
        self.client.run(["ip", "route", "replace", "default", "via", "10.0.0.1"])
        self.server.run(["ip", "addr", "flush", "dev", "eth0"])
        self.server.run(["ip", "addr", "add", server + "/32", "dev", "eth0"])
        self.server.run(["ip", "route", "replace", ROUTER_WAN, "dev", "eth0"])
        self.router.run(["ip", "route", "replace", server + "/32", "dev", "wan0"])

    def load(self, ruleset):
        self.router.run(["nft", "flush", "ruleset"])  # the router namespace is ours alone
        self.router.run(["nft", "-f", "-"], input=ruleset, timeout=900)

    def flows_per_second(self, server, seconds):
        self.router.run(["conntrack", "-F"], check=False)
        self.server.nft("reset", "counter", "inet", "bench_count", "seen")
        flood = subprocess.Popen(self.client.argv(["hping3", "--udp", "-p", "4500", "-s", "1024",
                                                   "--flood", "-q", server]),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(seconds)
        flood.kill()
        flood.wait()
        data = json.loads(self.server.nft("-j", "list", "counter", "inet", "bench_count",
                                          "seen").stdout)
        packets = next(i["counter"]["packets"] for i in data["nftables"] if "counter" in i)
        return round(packets / seconds)

    def delete(self):
        for ns in (self.client, self.router, self.server):
            ns.delete()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", default=HERE)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("run as root (network namespaces)")
    small, mid, large = generated(10, 100), generated(1000, 10000), generated(10000, 100000)
    cases = [("baseline", BASELINE, small), ("ours-10", None, small),
             ("ours-10000", None, large), ("linear-1000", linear_ruleset(mid), mid)]
    lab = Lab()
    results = dict((name, []) for name, _ruleset, _policy in cases)
    try:
        for _round in range(args.rounds):  # interleaved, so load changes hit every case
            for name, ruleset, policy in cases:
                client, server = last_ipsec_host(policy)
                lab.place(client, server)
                lab.load(ruleset or render_policy(policy)["nftables.nft"])
                results[name].append(lab.flows_per_second(server, args.seconds))
                print(name, results[name][-1], flush=True)
    finally:
        lab.delete()
    report = {"seconds_per_run": args.seconds, "rounds": args.rounds,
              "load_average_after": [round(x, 2) for x in os.getloadavg()],
              "new_flows_per_second": dict((k, sorted(v)) for k, v in results.items())}
    with open(os.path.join(args.output, "flows.json"), "w") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write("\n")
    lines = ["# New flows per second through a namespace router", "",
             "Generated by benchmarks/render/flows.py (hping3 UDP 4500 flood, a new source port "
             "per packet, counted at the server; %d interleaved rounds of %.0f s; load average "
             "after: %s). Same machine as results.md." % (args.rounds, args.seconds,
                                                          report["load_average_after"]), "",
             "| ruleset | median new flows/s | all rounds |", "|---|---:|---|"]
    for name, values in report["new_flows_per_second"].items():
        lines.append("| %s | %d | %s |" % (name, values[len(values) // 2],
                                           ", ".join(str(v) for v in values)))
    lines.append("")
    with open(os.path.join(args.output, "flows.md"), "w") as handle:
        handle.write("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
