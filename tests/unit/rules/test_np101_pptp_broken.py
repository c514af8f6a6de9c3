from policy_factory import check, ids, only, policy, with_grant

WAIVER = {"rule": "NP101", "grant": "ipsec", "reason": "legacy supplier portal",
          "expires": "2027-06-30"}


def test_pptp_grant_without_waiver_is_an_error():
    result = check(with_grant(protocols=["pptp"]))
    finding = only(result, "NP101")[0]
    assert finding.severity == "error" and finding.path == "grants[0].protocols"
    assert "cryptographically broken" in finding.message
    assert not result.valid


def test_live_waiver_downgrades_to_info():
    doc = with_grant(protocols=["pptp"])
    doc["waivers"] = [WAIVER]
    result = check(doc)
    finding = only(result, "NP101")[0]
    assert finding.severity == "info" and finding.waived_by == "waivers[0]"
    assert "legacy supplier portal" in finding.message
    assert result.valid


def test_no_pptp_no_finding():
    assert "NP101" not in ids(check(policy()))
