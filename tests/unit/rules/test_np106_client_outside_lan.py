from policy_factory import check, ids, only, with_grant


def test_client_outside_lan_networks_is_an_error():
    result = check(with_grant(clients=["192.168.1.0/24", "10.9.9.9"]))
    finding = only(result, "NP106")[0]
    assert finding.path == "grants[0].clients[1]" and "10.9.9.9" in finding.message


def test_network_wider_than_lan_is_outside():
    assert "NP106" in ids(check(with_grant(clients=["192.168.0.0/16"])))


def test_ipv6_client_inside_ipv6_lan():
    result = check(with_grant(clients=["2001:db8:1::10"], servers=["2001:db8:ff::1"]))
    assert "NP106" not in ids(result)
