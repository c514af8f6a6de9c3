"""Real packets through a rendered ruleset: client ns -> router ns (our table, NAT) -> server ns.

A granted NAT-T flow must pass (masqueraded, counted on its grant); the same flow to a server
the grant does not name must be dropped and counted as denied (the negative control), while
non-VPN traffic to that server still passes (the table judges VPN traffic only)."""
import json
import subprocess
import sys

import pytest

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render import (
    TABLE_NAME, render_policy)
from netns import NetNS
from render_fixtures import grant, policy

LISTENER = r"""
import json, select, socket, sys, time
socks = []
for port in map(int, sys.argv[1].split(",")):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    socks.append(s)
print("ready", flush=True)
got, end = [], time.time() + float(sys.argv[2])
while time.time() < end:
    for s in select.select(socks, [], [], 0.1)[0]:
        data, (src, sport) = s.recvfrom(2048)
        dst = s.getsockname()[1]
        got.append({"payload": data.decode(), "src": src, "dport": dst})
print(json.dumps(got), flush=True)
"""

SENDER = r"""
import socket, sys
for item in sys.argv[1:]:
    dst, sport, dport = item.split(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sport)))
    for _copy in range(3):
        s.sendto(item.encode(), (dst, int(dport)))
    s.close()
"""


@pytest.fixture
def lab():
    spaces = {}
    try:
        for role in ("client", "router", "server"):
            spaces[role] = NetNS(prefix="nprt-" + role[0])
        c, r, s = spaces["client"], spaces["router"], spaces["server"]
        subprocess.run(["ip", "link", "add", "lan0", "netns", r.name, "type", "veth", "peer",
                        "name", "eth0", "netns", c.name], check=True)
        subprocess.run(["ip", "link", "add", "wan0", "netns", r.name, "type", "veth", "peer",
                        "name", "eth0", "netns", s.name], check=True)
        for ns, dev, addrs in ((c, "eth0", ["10.0.1.2/24"]),
                               (r, "lan0", ["10.0.1.1/24"]), (r, "wan0", ["198.51.100.1/24"]),
                               (s, "eth0", ["198.51.100.10/24", "198.51.100.20/24"])):
            for addr in addrs:
                ns.run(["ip", "addr", "add", addr, "dev", dev])
            ns.run(["ip", "link", "set", dev, "up"])
        c.run(["ip", "route", "add", "default", "via", "10.0.1.1"])
        r.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        # The server has no route to the LAN: only traffic the router NATs can return.
        yield spaces
    finally:
        for ns in spaces.values():
            ns.delete()


def exchange(lab, flows, ports="4500,5353", seconds=2.5):
    """Send each flow (dst, sport, dport) from the client; what the server received."""
    listener = subprocess.Popen(lab["server"].argv([sys.executable, "-c", LISTENER, ports,
                                                    str(seconds)]),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert listener.stdout.readline().strip() == "ready"
        lab["client"].run([sys.executable, "-c", SENDER] + ["%s:%d:%d" % f for f in flows])
        out, err = listener.communicate(timeout=seconds + 10)
    finally:
        if listener.poll() is None:
            listener.kill()
    return json.loads(out.strip().splitlines()[-1])


def counter(ns, name):
    data = json.loads(ns.nft("-j", "list", "counter", "inet", TABLE_NAME, name).stdout)
    return next(item["counter"]["packets"] for item in data["nftables"] if "counter" in item)


def test_granted_natt_passes_ungranted_is_dropped_other_traffic_untouched(lab):
    pol = policy(grant("hq", clients=["10.0.1.0/24"], servers=["198.51.100.10/32"]),
                 **{"router.lan.networks": ["10.0.1.0/24"]})
    router = lab["router"]
    router.nft("-f", "-", input=render_policy(pol)["nftables.nft"])

    granted = ("198.51.100.10", 4500, 4500)
    ungranted = ("198.51.100.20", 4501, 4500)
    other = ("198.51.100.20", 5353, 5353)
    got = exchange(lab, [granted, ungranted, other])
    payloads = set(g["payload"] for g in got)

    assert "198.51.100.10:4500:4500" in payloads
    assert "198.51.100.20:5353:5353" in payloads  # not VPN traffic: not this table's business
    assert "198.51.100.20:4501:4500" not in payloads  # NAT-T to a server no grant names
    assert set(g["src"] for g in got) == {"198.51.100.1"}  # masqueraded on the WAN
    assert counter(router, "grant_hq") >= 1
    assert counter(router, "denied_passthrough") == 3


def test_negative_control_the_ungranted_flow_passes_without_the_table(lab):
    """Without our table the same flow reaches the server: the drop above is the table's."""
    router = lab["router"]
    router.nft("-f", "-", input="table ip nat_only { chain p { type nat hook postrouting "
                                "priority srcnat; oifname \"wan0\" masquerade; }; }")
    got = exchange(lab, [("198.51.100.20", 4501, 4500)])
    assert [g["payload"] for g in got] == ["198.51.100.20:4501:4500"] * 3


TCP_SERVER = r"""
import socket, sys, time
socks = []
for port in map(int, sys.argv[1].split(",")):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(8)
    socks.append(s)
print("ready", flush=True)
time.sleep(float(sys.argv[2]))
"""

TCP_CLIENT = r"""
import socket, sys, time
held = []
for item in sys.argv[1:]:
    dst, port = item.split(":")
    s = socket.socket()
    s.settimeout(1.5)
    try:
        s.connect((dst, int(port)))
        held.append(s)
        print(item, "connected", flush=True)
    except OSError as exc:
        print(item, "failed", type(exc).__name__, flush=True)
time.sleep(2)  # keep the connections open while the test reads conntrack
"""


def test_pptp_helper_attached_only_to_granted_control_connections(lab):
    pol = policy(grant("pptp", protocols=["pptp"], clients=["10.0.1.2/32"],
                       servers=["198.51.100.10/32"]),
                 **{"router.lan.networks": ["10.0.1.0/24"]})
    router = lab["router"]
    router.nft("-f", "-", input=render_policy(pol)["nftables.nft"])
    lines, table = tcp_session(lab, ["198.51.100.10:1723", "198.51.100.10:1724",
                                     "198.51.100.20:1723"])
    assert lines == ["198.51.100.10:1723 connected", "198.51.100.10:1724 connected",
                     "198.51.100.20:1723 failed TimeoutError"]
    entries = dict((line.split("dport=")[1].split()[0] + "@" + line.split("dst=")[1].split()[0],
                    line) for line in table.splitlines() if "dport=" in line)
    assert "helper=pptp" in entries["1723@198.51.100.10"]
    assert "helper=" not in entries["1724@198.51.100.10"]  # not VPN: no helper, still passes
    assert counter(router, "grant_pptp") >= 1 and counter(router, "denied_passthrough") >= 1


def tcp_session(lab, targets, listen_ports="1723,1724"):
    """Connect from the client to each target (held open together); per-target outcome and
    the router's TCP conntrack table while they are open."""
    server = subprocess.Popen(lab["server"].argv([sys.executable, "-c", TCP_SERVER,
                                                  listen_ports, "8"]),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        client = subprocess.Popen(lab["client"].argv([sys.executable, "-c", TCP_CLIENT]
                                                     + list(targets)),
                                  stdout=subprocess.PIPE, text=True)
        lines = [client.stdout.readline().strip() for _target in targets]
        table = lab["router"].run(["conntrack", "-L", "-p", "tcp"]).stdout
        client.wait(timeout=10)
    finally:
        server.kill()
        server.wait()
    return lines, table


def test_max_calls_per_client_limits_concurrent_control_connections(lab):
    pol = policy(grant("pptp", protocols=["pptp"], clients=["10.0.1.0/24"],
                       servers=["198.51.100.10/32"], max_calls=2),
                 **{"router.lan.networks": ["10.0.1.0/24"]})
    lab["router"].nft("-f", "-", input=render_policy(pol)["nftables.nft"])
    lines, _table = tcp_session(lab, ["198.51.100.10:1723"] * 3)
    assert lines == ["198.51.100.10:1723 connected"] * 2 + [
        "198.51.100.10:1723 failed TimeoutError"]
    # Negative control: with a limit of 3 the same three connections all pass.
    lab["router"].run(["conntrack", "-F"], check=False)
    pol["grants"][0]["pptp"]["max_calls_per_client"] = 3
    lab["router"].nft("-f", "-", input=render_policy(pol)["nftables.nft"])
    lines, _table = tcp_session(lab, ["198.51.100.10:1723"] * 3)
    assert lines == ["198.51.100.10:1723 connected"] * 3


def test_output_helpers_attach_pptp_helper_to_router_connections(lab):
    """router.output_helpers: a PPTP control connection the router opens gets the helper;
    without the option it does not (negative control)."""
    server = subprocess.Popen(lab["server"].argv([sys.executable, "-c", TCP_SERVER, "1723",
                                                  "12"]), stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        seen = {}
        for option in (True, False):
            pol = policy(grant("pptp", protocols=["pptp"], clients=["10.0.1.0/24"]),
                         **{"router.lan.networks": ["10.0.1.0/24"],
                            "router.output_helpers": option})
            pol["grants"][0]["servers"] = ["198.51.100.10/32"]
            router = lab["router"]
            router.run(["conntrack", "-F"], check=False)
            router.nft("-f", "-", input=render_policy(pol)["nftables.nft"])
            router.run([sys.executable, "-c", TCP_CLIENT, "198.51.100.10:1723"])
            table = router.run(["conntrack", "-L", "-p", "tcp", "--dport", "1723"]).stdout
            seen[option] = table
    finally:
        server.kill()
        server.wait()
    assert "helper=pptp" in seen[True]
    assert "dport=1723" in seen[False] and "helper=" not in seen[False]
