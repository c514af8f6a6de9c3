"""Plain L2TP control (UDP 1701) through the rendered NAT router."""
import pytest

from vpn_topology import ROUTER_WAN, Topology


@pytest.fixture
def lab():
    topo = Topology(clients=3)
    try:
        yield topo
    finally:
        topo.close()


def test_l2tp_control_three_clients_from_port_1701(lab):
    lab.apply_policy(protocols=("l2tp",))
    server = lab.start_server("l2tp_probe.py")
    clients = lab.run_clients("l2tp_probe.py")
    seen = server.stop()

    for report in clients:
        assert report["ok"], report
        assert report["counters"]["misdelivered"] == 0
    peers = seen["peers"]
    # All three tunnels came from the WAN address; the router remapped source port 1701 for
    # at least two of them, and the server answered each on its own tunnel.
    assert len(peers) == 3, seen
    assert {p["peer"].split(":")[0] for p in peers} == {ROUTER_WAN}
    assert len({p["peer"] for p in peers}) == 3
    assert all(p["messages"][:2] == ["SCCRQ", "SCCCN"] for p in peers), peers
    assert sorted(p["client_tunnel_id"] for p in peers) == sorted(
        r["clients_detail"][0]["tunnel_id"] for r in clients)


def test_negative_control_l2tp_not_granted_is_blocked(lab):
    lab.apply_policy(protocols=("ipsec",), esp=False)
    server = lab.start_server("l2tp_probe.py")
    clients = lab.run_clients("l2tp_probe.py", args=["--timeout", "2"])
    seen = server.stop()

    assert [r["ok"] for r in clients] == [False] * 3, clients
    assert seen["counters"]["messages_in"] == 0, seen
    assert lab.counter_packets("denied_passthrough") >= 3
