"""PPTP through the rendered NAT router: same call ID on every client, helper rewrites it."""
import pytest

from vpn_topology import ROUTER_WAN, Topology

CALL_ID = 0x1234


@pytest.fixture
def lab():
    topo = Topology(clients=3)
    try:
        yield topo
    finally:
        topo.close()


def run_pptp(lab, timeout=5):
    server = lab.start_server("pptp_probe.py")
    clients = lab.run_clients("pptp_probe.py", args=[
        "--call-id", hex(CALL_ID), "--packets", "10", "--timeout", str(timeout)])
    return clients, server.stop()


def test_three_clients_same_call_id_get_their_own_gre(lab):
    lab.apply_policy()
    clients, server = run_pptp(lab)

    for report in clients:
        assert report["ok"], report
        assert report["call_id"] == CALL_ID
        assert report["counters"]["delivered"] == 10
        assert report["counters"]["misdelivered"] == 0
        assert report["counters"]["wrong_key"] == 0
    # The server saw one call per client, each under a different call ID: the helper rewrote
    # 0x1234, and every control connection came from the router's WAN address.
    seen = server["call_ids_seen"]
    assert len(seen) == 3 and len(set(seen)) == 3, server
    assert sum(1 for cid in seen if cid != CALL_ID) >= 2, server
    assert {p["peer"].split(":")[0] for p in server["peers"]} == {ROUTER_WAN}
    assert all(p["gre_in"] == 10 and p["gre_out"] == 10 for p in server["peers"]), server
    # Conntrack shows the rewriting: each GRE entry keeps the client's key on the LAN side and a
    # distinct key on the WAN side.
    gre = [line for line in lab.conntrack("-L", "-p", "gre").splitlines() if "srckey" in line]
    assert len(gre) == 3 and all("srckey=0x1234" in line for line in gre), gre


def test_negative_control_without_helper_assignment_pptp_fails(lab):
    lab.apply_policy()
    lab.remove_helper_assignment()
    clients, server = run_pptp(lab, timeout=2)

    for report in clients:
        # The control connection still works (TCP 1723 is granted) ...
        assert report["counters"]["control_ok"] == 1, report
        # ... but without the helper no GRE comes back to anyone.
        assert not report["ok"], report
        assert report["counters"]["delivered"] == 0, report
    # Nothing rewrote the call ID this time.
    assert server["call_ids_seen"] == [CALL_ID] * 3, server


def test_negative_control_pptp_not_granted_is_blocked_and_counted(lab):
    lab.apply_policy(protocols=("ipsec",), esp=False)
    clients, server = run_pptp(lab, timeout=2)

    assert [r["ok"] for r in clients] == [False] * 3, clients
    assert all(r["counters"]["control_ok"] == 0 for r in clients), clients
    assert server["counters"]["connections"] == 0, server
    assert lab.counter_packets("denied_passthrough") > 0
