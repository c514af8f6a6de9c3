from policy_factory import check, ids, only, policy, with_grant

ESP = {"nat_traversal": "allowed", "esp": True}


def test_raw_esp_from_a_network_warns_about_one_client_limit():
    finding = only(check(with_grant(ipsec=ESP)), "NP113")[0]
    assert finding.severity == "warning" and "ONE client per server" in finding.message


def test_raw_esp_from_one_host_is_fine():
    assert "NP113" not in ids(check(with_grant(ipsec=ESP, clients=["192.168.1.5"])))


def test_two_single_client_grants_to_one_server_collide():
    doc = policy()
    doc["grants"] = [
        {"name": "a", "protocols": ["ipsec"], "clients": ["192.168.1.5"],
         "servers": ["203.0.113.5"], "ipsec": ESP},
        {"name": "b", "protocols": ["ipsec"], "clients": ["192.168.1.6"],
         "servers": ["203.0.113.5"], "ipsec": ESP},
    ]
    assert len(only(check(doc), "NP113")) == 2


def test_without_nat_raw_esp_is_fine():
    doc = with_grant(ipsec=ESP)
    doc["router"]["wan"]["nat"] = "none"
    assert "NP113" not in ids(check(doc))
