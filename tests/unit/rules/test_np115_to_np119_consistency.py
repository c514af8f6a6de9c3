from policy_factory import check, ids, only, policy, with_grant


def test_esp_with_nat_traversal_required_contradicts():
    finding = only(check(with_grant(ipsec={"esp": True})), "NP115")[0]
    assert finding.path == "grants[0].ipsec.esp"


def test_l2tp_over_ipsec_needs_ipsec_granted():
    assert only(check(with_grant(protocols=["l2tp"])), "NP116")[0].path == "grants[0].protocols"
    assert "NP116" not in ids(check(with_grant(protocols=["l2tp", "ipsec"])))


def test_options_for_absent_protocol_warn():
    finding = only(check(with_grant(pptp={"max_calls_per_client": 2})), "NP117")[0]
    assert finding.severity == "warning" and finding.path == "grants[0].pptp"


def test_server_inside_lan_is_an_error():
    assert only(check(with_grant(servers=["192.168.1.1"])), "NP118")[0].path == \
        "grants[0].servers[0]"


def test_family_mismatch_matches_nothing():
    assert "NP119" in ids(check(with_grant(servers=["2001:db8:ff::1"])))
    assert "NP119" not in ids(check(with_grant(
        clients=["192.168.1.0/24", "2001:db8:1::/64"], servers=["2001:db8:ff::1"])))


def test_clean_policy_has_no_findings():
    assert check(policy()).findings == []
