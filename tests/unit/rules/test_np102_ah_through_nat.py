from policy_factory import check, ids, only, with_grant


def test_ah_with_nat_is_an_error_that_no_waiver_silences():
    doc = with_grant(ipsec={"nat_traversal": "allowed", "ah": True})
    doc["waivers"] = [{"rule": "NP102", "grant": "ipsec", "reason": "we really want AH",
                       "expires": "2027-06-30"}]
    result = check(doc)
    assert only(result, "NP102")[0].severity == "error"
    assert only(result, "NP102")[0].path == "grants[0].ipsec.ah"
    assert "cannot be waived" in only(result, "NP110")[0].message
    assert not result.valid


def test_ah_without_nat_is_fine():
    doc = with_grant(ipsec={"nat_traversal": "allowed", "ah": True})
    doc["router"]["wan"]["nat"] = "none"
    assert "NP102" not in ids(check(doc))
