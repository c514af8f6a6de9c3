import datetime

from policy_factory import TODAY, check, ids, only, with_grant


def day(offset):
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def test_expired_grant_is_an_error():
    finding = only(check(with_grant(expires=day(-1))), "NP104")[0]
    assert finding.severity == "error" and finding.path == "grants[0].expires"


def test_grant_is_valid_on_its_last_day_with_a_warning():
    result = check(with_grant(expires=day(0)))
    assert "NP104" not in ids(result)
    assert "in 0 days" in only(result, "NP105")[0].message
    assert result.valid


def test_expiring_within_30_days_warns_and_strict_fails():
    doc = with_grant(expires=day(30))
    assert only(check(doc), "NP105")[0].severity == "warning"
    assert check(doc).valid and not check(doc, strict=True).valid


def test_far_expiry_is_silent():
    assert not {"NP104", "NP105"} & set(ids(check(with_grant(expires=day(31)))))
