from policy_factory import check, ids, only, policy, with_grant


def test_any_server_warns():
    result = check(with_grant(servers="any"))
    assert only(result, "NP114")[0].path == "grants[0].servers"
    assert result.valid and not check(with_grant(servers="any"), strict=True).valid


def test_listed_servers_are_fine():
    assert "NP114" not in ids(check(policy()))
