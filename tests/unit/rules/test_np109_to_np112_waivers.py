from policy_factory import check, ids, only, with_grant


def waiver(**kw):
    out = {"rule": "NP101", "grant": "ipsec", "reason": "accepted by security",
           "expires": "2027-06-30"}
    out.update(kw)
    return out


def test_waiver_for_unknown_grant():
    doc = with_grant(protocols=["pptp"])
    doc["waivers"] = [waiver(grant="nope")]
    result = check(doc)
    assert only(result, "NP109")[0].path == "waivers[0].grant"
    assert only(result, "NP101")[0].severity == "error"  # the waiver covers nothing


def test_waiver_for_unknown_rule():
    doc = with_grant(protocols=["pptp"])
    doc["waivers"] = [waiver(rule="NP999")]
    assert "does not exist" in only(check(doc), "NP110")[0].message


def test_expired_waiver_is_an_error_and_stops_waiving():
    doc = with_grant(protocols=["pptp"])
    doc["waivers"] = [waiver(expires="2026-12-01")]
    result = check(doc)
    assert only(result, "NP111")[0].severity == "error"
    assert only(result, "NP101")[0].severity == "error"


def test_waiver_is_valid_through_its_expiry_day():
    doc = with_grant(protocols=["pptp"])
    doc["waivers"] = [waiver(expires="2026-12-02")]
    assert check(doc).valid


def test_unused_waiver_warns():
    doc = with_grant()
    doc["waivers"] = [waiver()]
    result = check(doc)
    assert only(result, "NP112")[0].severity == "warning"
    assert "NP109" not in ids(result)
