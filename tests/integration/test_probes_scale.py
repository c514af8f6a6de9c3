"""Scale: 200 clients (200 source addresses, one process) through the rendered NAT router."""
import pytest

from vpn_topology import ROUTER_WAN, Topology

N = 200
CALL_ID = 0x1234


@pytest.fixture(scope="module")
def lab():
    topo = Topology(clients=0, scale_sources=N)
    try:
        yield topo
    finally:
        topo.close()


def test_200_concurrent_pptp_calls_with_one_call_id(lab):
    lab.apply_policy()
    server = lab.start_server("pptp_probe.py")
    report = lab.run_scale("pptp_probe.py", ["--call-id", hex(CALL_ID), "--packets", "5"])
    seen = server.stop()

    counters = report["counters"]
    assert report["ok"], report["detail"]
    assert counters["clients"] == N and counters["clients_ok"] == N
    assert counters["delivered"] == N * 5 and counters["lost"] == 0
    assert counters["misdelivered"] == 0 and counters["wrong_key"] == 0
    # 200 calls announced 0x1234; the server saw 200 distinct call IDs from one address.
    assert seen["counters"]["calls"] == N and seen["counters"]["distinct_call_ids"] == N, seen
    assert {p["peer"].split(":")[0] for p in seen["peers"]} == {ROUTER_WAN}
    print("pptp scale:", report["detail"], counters)


def test_200_nat_t_flows(lab):
    lab.apply_policy(protocols=("ipsec",), esp=False)
    server = lab.start_server("ike_probe.py")
    report = lab.run_scale("ike_probe.py", ["--packets", "5"])
    seen = server.stop()

    counters = report["counters"]
    assert report["ok"], report["detail"]
    assert counters["clients_ok"] == N and counters["delivered"] == N * 5
    assert counters["misdelivered"] == 0 and counters["lost"] == 0
    assert seen["natt_source_addresses"] == [ROUTER_WAN], seen["detail"]
    assert seen["counters"]["natt_sources"] == N, seen["detail"]
    print("nat-t scale:", report["detail"], counters)


def test_negative_control_200_pptp_calls_without_helper_get_nothing(lab):
    lab.apply_policy()
    lab.remove_helper_assignment()
    server = lab.start_server("pptp_probe.py")
    report = lab.run_scale("pptp_probe.py", ["--call-id", hex(CALL_ID), "--packets", "2",
                                             "--timeout", "2"])
    server.stop()

    assert not report["ok"]
    assert report["counters"]["control_ok"] == N, report["detail"]
    assert report["counters"]["delivered"] == 0, report["detail"]


def test_negative_control_200_nat_t_flows_blocked_get_nothing(lab):
    lab.apply_policy(protocols=("ipsec",), esp=False)
    lab.block_natt()
    try:
        server = lab.start_server("ike_probe.py")
        report = lab.run_scale("ike_probe.py", ["--packets", "2", "--timeout", "2"])
        seen = server.stop()
    finally:
        lab.unblock_natt()

    assert not report["ok"]
    assert report["counters"]["control_ok"] == 0 and report["counters"]["delivered"] == 0
    assert all(c["ike_ok"] and not c["natt_ok"] for c in report["clients_detail"])
    assert seen["counters"]["ike_in"] == N and seen["counters"]["natt_in"] == 0, seen["detail"]
