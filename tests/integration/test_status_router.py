"""The status module against a real kernel: in sync, drift, counters, conflicts, forwarding."""
import pytest

from apply_harness import POLICY_A, POLICY_B, Router, render

DROP_TABLE = """table inet fw_team {
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state invalid drop
        udp dport 4500 drop
    }
    chain prerouting {
        type filter hook prerouting priority filter; policy accept;
        meta l4proto gre jump blocked
    }
    chain blocked {
        drop
    }
}
"""
HARMLESS_TABLE = """table inet fw_ok {
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state invalid drop
        tcp dport 22 drop
    }
}
"""


@pytest.fixture
def router(netns, tmp_path):
    return Router(netns, tmp_path / "root")


def test_in_sync_after_apply_with_counters_per_grant(router):
    rendered = render(POLICY_B)
    router.apply(rendered)
    status = router.status(rendered)
    assert status["in_sync"] is True and status["table"]["in_sync"] is True, status["summary"]
    assert status["table"]["diff"] == ""
    assert {"grant_office-ipsec", "grant_lab-ipsec"} <= set(status["counters"])
    assert status["counters"]["grant_lab-ipsec"]["packets"] == 0
    assert status["sysctl"]["net.netfilter.nf_conntrack_gre_timeout"]["in_sync"] is True
    assert status["conflicts"] == []
    assert "in sync with the policy" in status["summary"]
    assert status["changed"] is False


def test_drift_is_reported_with_the_missing_rule(router):
    rendered = render(POLICY_A)
    router.apply(rendered)
    removed = router.delete_rule("forward", "jump passthrough")
    router.ns.run(["sysctl", "-qw", "net.netfilter.nf_conntrack_gre_timeout=99"])
    status = router.status(rendered)
    assert status["in_sync"] is False and status["table"]["in_sync"] is False
    assert "+\t\t" + removed in status["table"]["diff"]
    gre = status["sysctl"]["net.netfilter.nf_conntrack_gre_timeout"]
    assert gre == {"intended": "40", "live": "99", "in_sync": False}
    assert "DRIFT" in status["summary"] and "DIFFERS" in status["summary"]


def test_other_policy_is_drift(router):
    router.apply(render(POLICY_A))
    status = router.status(render(POLICY_B))
    assert status["table"]["in_sync"] is False
    assert "grant_lab-ipsec" in status["table"]["diff"]


def test_absent_table_without_policy_reports_counters_and_conflicts_only(router):
    status = router.status()
    assert status["table"]["present"] is False and status["in_sync"] is None
    assert status["counters"] == {}
    assert "ABSENT" in status["summary"]


def test_conflicting_tables_are_reported_and_harmless_ones_are_not(router):
    router.apply(render(POLICY_A))
    router.ns.nft("-f", "-", input=HARMLESS_TABLE)
    assert router.status()["conflicts"] == []  # negative control
    router.ns.nft("-f", "-", input=DROP_TABLE)
    conflicts = router.status()["conflicts"]
    found = sorted((c["kind"], c["table"], c["chain"], c["detail"]) for c in conflicts)
    assert found == [
        ("drops-vpn-traffic", "fw_team", "blocked", "unconditional drop"),
        ("drops-vpn-traffic", "fw_team", "forward", "matches NAT-T (UDP 4500) drop"),
        ("policy-drop", "fw_team", "forward",
         "base chain policy drop: VPN traffic that this chain does not accept itself is dropped"),
    ]


def test_forwarding_disabled_is_a_conflict(router):
    rendered = render(POLICY_A)
    router.apply(rendered)
    assert router.status(rendered)["forwarding"]["ipv4"] is True
    router.ns.run(["sysctl", "-qw", "net.ipv4.ip_forward=0"])
    status = router.status(rendered)
    assert status["forwarding"]["ipv4"] is False
    assert [c["kind"] for c in status["conflicts"]] == ["forwarding-disabled"]
    assert "CONFLICT forwarding-disabled" in status["summary"]


def test_conntrack_and_helper_sections(router):
    status = router.status()
    assert status["helpers"] == {"pptp": True}
    assert status["conntrack"] == {"entries_per_helper": {}, "expectations_per_helper": {},
                                   "entries_per_protocol": {}}
