from policy_factory import check, ids, only, policy


def test_interface_on_both_sides_is_an_error():
    doc = policy()
    doc["router"]["lan"]["interfaces"] = ["lan0", "wan0"]
    finding = only(check(doc), "NP107")[0]
    assert finding.path == "router.lan.interfaces[1]"


def test_duplicate_grant_names_are_an_error():
    doc = policy()
    doc["grants"].append(dict(doc["grants"][0]))
    finding = only(check(doc), "NP108")[0]
    assert finding.path == "grants[1].name" and "grants[0]" in finding.message


def test_distinct_names_and_sides_are_fine():
    assert not {"NP107", "NP108"} & set(ids(check(policy())))
