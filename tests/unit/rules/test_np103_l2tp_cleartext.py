from policy_factory import check, ids, only, with_grant


def test_plain_l2tp_needs_a_waiver():
    result = check(with_grant(protocols=["l2tp"], l2tp={"over_ipsec": False}))
    finding = only(result, "NP103")[0]
    assert finding.severity == "error" and finding.path == "grants[0].l2tp.over_ipsec"


def test_waived_plain_l2tp_passes():
    doc = with_grant(protocols=["l2tp"], l2tp={"over_ipsec": False})
    doc["waivers"] = [{"rule": "NP103", "grant": "ipsec", "reason": "lab only, no secrets",
                       "expires": "2027-01-31"}]
    result = check(doc)
    assert only(result, "NP103")[0].severity == "info" and result.valid


def test_l2tp_over_ipsec_is_fine():
    assert "NP103" not in ids(check(with_grant(protocols=["ipsec", "l2tp"])))
