"""IPsec through the rendered NAT router: IKE + NAT-T for many clients, raw ESP for one."""
import threading

import pytest

from vpn_topology import ROUTER_WAN, Topology


@pytest.fixture
def lab():
    topo = Topology(clients=3)
    try:
        yield topo
    finally:
        topo.close()


def test_nat_t_three_clients_behind_one_address(lab):
    lab.apply_policy(protocols=("ipsec",), esp=False)
    server = lab.start_server("ike_probe.py")
    clients = lab.run_clients("ike_probe.py", args=["--packets", "10"])
    seen = server.stop()

    for report in clients:
        assert report["ok"], report
        assert report["counters"]["delivered"] == 10
        assert report["counters"]["misdelivered"] == 0
    # Every client sent from UDP 500/4500; the server saw them all behind the WAN address, each
    # on its own NAT-T source port.
    assert seen["natt_source_addresses"] == [ROUTER_WAN], seen
    natt_from = [p["natt_from"] for p in seen["peers"]]
    assert len(natt_from) == 3 and len(set(natt_from)) == 3, seen
    assert all(p["esp_in_udp_in"] == 10 for p in seen["peers"]), seen


def test_negative_control_nat_t_blocked_breaks_ipsec(lab):
    lab.apply_policy(protocols=("ipsec",), esp=False)
    lab.block_natt()
    server = lab.start_server("ike_probe.py")
    clients = lab.run_clients("ike_probe.py", args=["--timeout", "2"])
    seen = server.stop()

    for report in clients:
        assert not report["ok"], report
        detail = report["clients_detail"][0]
        # IKE on 500 still passes; the failure is exactly NAT-T.
        assert detail["ike_ok"] and not detail["natt_ok"], detail
    assert seen["counters"]["ike_in"] == 3 and seen["counters"]["natt_in"] == 0, seen


def test_raw_esp_second_client_fails_while_first_holds(lab):
    lab.apply_policy(protocols=("ipsec",), esp=True)
    server = lab.start_server("esp_probe.py")
    first, second, _third = lab.clients
    held = {}
    holder = threading.Thread(target=lambda: held.update(
        report=lab.run_clients("esp_probe.py", [first], ["--hold", "3"])[0]))
    holder.start()
    # The second client starts only once the first one's ESP mapping exists on the router.
    assert lab.wait_conntrack(" 50 ", "src=%s " % first.address), lab.conntrack("-L")
    blocked = lab.run_clients("esp_probe.py", [second], ["--timeout", "1"])[0]
    holder.join(timeout=30)
    failed_inserts = lab.conntrack_stat("insert_failed")
    # After the first mapping is gone, the same second client works: the failure was the NAT
    # limit, not the client.
    lab.flush_conntrack()
    alone = lab.run_clients("esp_probe.py", [second])[0]
    seen = server.stop()

    assert held["report"]["ok"], held
    assert not blocked["ok"] and blocked["counters"]["delivered"] == 0, blocked
    assert failed_inserts > 0
    assert alone["ok"], alone
    assert {p["peer"] for p in seen["peers"]} == {ROUTER_WAN}, seen


def test_negative_control_raw_esp_not_granted_is_blocked(lab):
    lab.apply_policy(protocols=("ipsec",), esp=False)
    server = lab.start_server("esp_probe.py")
    report = lab.run_clients("esp_probe.py", [lab.clients[0]], ["--timeout", "1"])[0]
    seen = server.stop()

    assert not report["ok"] and report["counters"]["delivered"] == 0, report
    assert seen["counters"]["esp_in"] == 0, seen
    assert lab.counter_packets("denied_passthrough") >= report["counters"]["sent"]
