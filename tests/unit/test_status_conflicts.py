"""Conflict detection on `nft -j list ruleset` data and conntrack summaries, as tables."""
import pytest

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.nft_conflicts import (
    find_conflicts)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_conntrack import (
    summarise)


def chain(name, hook=None, policy="accept", table="fw", family="inet", ctype="filter"):
    data = {"family": family, "table": table, "name": name, "handle": 1}
    if hook:
        data.update(type=ctype, hook=hook, prio=0, policy=policy)
    return {"chain": data}


def rule(chain_name, exprs, handle=5, table="fw", family="inet"):
    return {"rule": {"family": family, "table": table, "chain": chain_name, "handle": handle,
                     "expr": exprs}}


def match(left, right, op="=="):
    return {"match": {"op": op, "left": left, "right": right}}


def dport(proto):
    return {"payload": {"protocol": proto, "field": "dport"}}


L4 = {"meta": {"key": "l4proto"}}
DROP = {"drop": None}
REJECT = {"reject": None}

CASES = [
    ("forward policy drop", [chain("forward", "forward", "drop")],
     [("policy-drop", "forward", None, "base chain policy drop")]),
    ("prerouting policy drop", [chain("pre", "prerouting", "drop")],
     [("policy-drop", "pre", None, "base chain policy drop")]),
    ("input policy drop is not about forwarded traffic", [chain("input", "input", "drop")], []),
    ("nat chain is not a filter", [chain("post", "prerouting", "drop", ctype="nat")], []),
    ("our own table is never a conflict",
     [chain("forward", "forward", "drop", table="netpolicy_vpn_passthrough")], []),
    ("unconditional drop", [chain("forward", "forward"), rule("forward", [DROP])],
     [("drops-vpn-traffic", "forward", 5, "unconditional drop")]),
    ("NAT-T drop", [chain("forward", "forward"), rule("forward", [match(dport("udp"), 4500), DROP])],
     [("drops-vpn-traffic", "forward", 5, "matches NAT-T (UDP 4500) drop")]),
    ("port set with IKE and something else",
     [chain("forward", "forward"), rule("forward", [match(dport("udp"), {"set": [53, 500]}), REJECT])],
     [("drops-vpn-traffic", "forward", 5, "matches IKE (UDP 500) reject")]),
    ("port range covering L2TP",
     [chain("forward", "forward"),
      rule("forward", [match(dport("udp"), {"range": [1000, 2000]}), DROP])],
     [("drops-vpn-traffic", "forward", 5, "matches L2TP (UDP 1701) drop")]),
    ("PPTP control drop",
     [chain("forward", "forward"), rule("forward", [match(dport("tcp"), 1723), DROP])],
     [("drops-vpn-traffic", "forward", 5, "matches PPTP control (TCP 1723) drop")]),
    ("GRE by number via ip protocol",
     [chain("forward", "forward"),
      rule("forward", [match({"payload": {"protocol": "ip", "field": "protocol"}}, 47), DROP])],
     [("drops-vpn-traffic", "forward", 5, "matches GRE drop")]),
    ("ESP and AH via l4proto set",
     [chain("forward", "forward"), rule("forward", [match(L4, {"set": ["esp", "ah"]}), DROP])],
     [("drops-vpn-traffic", "forward", 5, "matches AH, ESP drop")]),
    ("negated match is not a VPN drop",
     [chain("forward", "forward"), rule("forward", [match(dport("tcp"), 1723, "!="), DROP])], []),
    ("unrelated port drop", [chain("forward", "forward"),
                             rule("forward", [match(dport("tcp"), 22), DROP])], []),
    ("ct state invalid drop",
     [chain("forward", "forward"),
      rule("forward", [match({"ct": {"key": "state"}}, "invalid", "in"), DROP])], []),
    ("accept rule is fine", [chain("forward", "forward"),
                             rule("forward", [match(dport("udp"), 4500), {"accept": None}])], []),
    ("drop in a chain reached by jump",
     [chain("forward", "forward"), chain("sub"),
      rule("forward", [match(L4, "gre"), {"jump": {"target": "sub"}}]), rule("sub", [DROP], 9)],
     [("drops-vpn-traffic", "sub", 9, "unconditional drop")]),
    ("drop in a chain nobody jumps to", [chain("forward", "forward"), chain("lonely"),
                                         rule("lonely", [DROP])], []),
]


@pytest.mark.parametrize("what, ruleset, expected", CASES, ids=[c[0] for c in CASES])
def test_find_conflicts(what, ruleset, expected):
    found = [(c["kind"], c["chain"], c["handle"], c["detail"]) for c in find_conflicts(ruleset)]
    assert len(found) == len(expected), (what, found)
    for (kind, name, handle, detail), want in zip(found, expected):
        assert (kind, name, handle) == want[:3]
        assert detail.startswith(want[3]), detail


CT_ENTRIES = "".join(line + "\n" for line in (
    "tcp      6 431999 ESTABLISHED src=192.168.77.11 dst=198.51.100.10 sport=40000 dport=1723 "
    "src=198.51.100.10 dst=198.51.100.1 sport=1723 dport=40000 [ASSURED] mark=0 helper=pptp use=2",
    "tcp      6 431999 ESTABLISHED src=192.168.77.12 dst=198.51.100.10 sport=40001 dport=1723 "
    "src=198.51.100.10 dst=198.51.100.1 sport=1723 dport=40001 [ASSURED] mark=0 helper=pptp use=2",
    "gre      47 179 src=192.168.77.11 dst=198.51.100.10 srckey=0x1 dstkey=0x2 "
    "src=198.51.100.10 dst=198.51.100.1 srckey=0x2 dstkey=0x8001 [ASSURED] mark=0 use=1",
    "udp      17 29 src=192.168.77.11 dst=198.51.100.10 sport=4500 dport=4500 "
    "src=198.51.100.10 dst=198.51.100.1 sport=4500 dport=1024 mark=0 use=1",
))
CT_EXPECT = (
    "299 proto=47 src=198.51.100.10 dst=198.51.100.1 srckey=0x0 dstkey=0x8001 "
    "mask-src=255.255.255.255 mask-dst=255.255.255.255 srckey=0xffff dstkey=0xffff "
    "master-src=192.168.77.11 master-dst=198.51.100.10 sport=40000 dport=1723 PERMANENT class=0 "
    "helper=pptp\n")


@pytest.mark.parametrize("entries, expect, wanted", [
    ("", "", {"entries_per_helper": {}, "expectations_per_helper": {},
              "entries_per_protocol": {}}),
    (CT_ENTRIES, CT_EXPECT, {"entries_per_helper": {"pptp": 2},
                             "expectations_per_helper": {"pptp": 1},
                             "entries_per_protocol": {"gre": 1, "tcp": 2, "udp": 1}}),
])
def test_conntrack_summary(entries, expect, wanted):
    assert summarise(entries, expect) == wanted
