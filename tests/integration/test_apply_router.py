"""The apply module against a real kernel in a throwaway namespace: apply, idempotence, check
mode, diff, drift repair, refusal of foreign statements, persistence files, backups."""
import os

import pytest

from apply_harness import (DISTRO_NFTABLES_CONF, OTHER_TABLE, POLICY_A, POLICY_B,
                           UNRELATED_SYSCTL, Router, render)


@pytest.fixture
def router(netns, tmp_path):
    return Router(netns, tmp_path / "root")


@pytest.fixture(scope="module")
def rendered_a():
    return render(POLICY_A)


@pytest.fixture(scope="module")
def rendered_b():
    return render(POLICY_B)


def scratch_listing(netns, rendered):
    """What the kernel prints for the render loaded alone (the expected live table)."""
    other = type(netns)()
    try:
        other.nft("-f", "-", input=rendered["nftables.nft"])
        return other.nft("list", "table", "inet", "netpolicy_vpn_passthrough").stdout
    finally:
        other.delete()


def test_first_apply_loads_table_sysctl_and_files_then_rerun_is_unchanged(router, rendered_a):
    first = router.apply(rendered_a)
    assert first["changed"] is True and first["table_changed"] is True, first
    assert first["table_present_before"] is False
    assert first["intended_source"] == "scratch-netns"
    assert router.table() == scratch_listing(router.ns, rendered_a)
    assert router.sysctl("net.netfilter.nf_conntrack_gre_timeout") == "40"
    files = router.files()
    assert files["sysctl.d/90-netpolicy-vpn-passthrough.conf"] == rendered_a["sysctl.conf"].encode()
    ruleset_file = files["nftables.d/netpolicy-vpn-passthrough.nft"].decode()
    assert rendered_a["nftables.nft"].strip() in ruleset_file
    unit = files["systemd/system/netpolicy-vpn-passthrough.service"].decode()
    assert "After=nftables.service" in unit and "-f %s" % os.path.join(
        router.etc, "nftables.d", "netpolicy-vpn-passthrough.nft") in unit
    assert files["systemd/system/sysinit.target.wants/netpolicy-vpn-passthrough.service"] == (
        "link", os.path.join(router.etc, "systemd", "system", "netpolicy-vpn-passthrough.service"))
    assert files["modules-load.d/np.conf"] == rendered_a["modules-load.conf"].encode()

    second = router.apply(rendered_a)
    assert second["changed"] is False, second
    assert second["files_changed"] == [] and second["sysctl_changes"] == {}
    assert second["intended_source"] == "snapshot"
    # without the snapshot, the scratch namespace gives the same answer
    os.unlink(os.path.join(router.state_dir, "applied.json"))
    third = router.apply(rendered_a)
    assert third["changed"] is False and third["intended_source"] == "scratch-netns", third


def test_persisted_ruleset_restores_the_table_after_a_reboot(router, rendered_a):
    """What the boot unit runs (nft -f on the persisted file) rebuilds the same table."""
    router.apply(rendered_a)
    expected = router.table()
    router.ns.nft("flush", "ruleset")  # what the distribution's nftables.conf does at boot
    router.ns.nft("-f", os.path.join(router.etc, "nftables.d", "netpolicy-vpn-passthrough.nft"))
    assert router.table() == expected
    assert router.apply(rendered_a)["changed"] is False


def test_check_mode_reports_changes_and_changes_nothing(router, rendered_a, rendered_b):
    router.apply(rendered_a)
    before = router.fingerprint()
    result = router.apply(rendered_b, check=True)
    assert result["changed"] is True and result["table_changed"] is True
    assert result["sysctl_changes"] == {
        "net.netfilter.nf_conntrack_gre_timeout": {"before": "40", "after": "55"}}
    assert "backup_id" not in result
    assert router.fingerprint() == before
    assert not os.path.isdir(os.path.join(router.state_dir, "backups")) or len(
        os.listdir(os.path.join(router.state_dir, "backups"))) == 1


def test_check_mode_runs_the_kernel_check(router, rendered_a):
    bad = dict(rendered_a, **{"nftables.nft": rendered_a["nftables.nft"].replace(
        "policy accept;", "policy accept; meta l4proto esp jump no_such_chain", 1)})
    before = router.fingerprint()
    result = router.apply(bad, check=True)
    assert result.get("failed") and "nft -c" in result["msg"], result
    assert "no_such_chain" in result["stderr"]
    assert router.fingerprint() == before


def test_diff_shows_live_and_intended_table_and_sysctl(router, rendered_a, rendered_b):
    router.apply(rendered_a)
    result = router.apply(rendered_b, check=True, diff=True)
    table_diff, sysctl_diff = result["diff"]
    assert "lab-ipsec" not in table_diff["before"] and "grant_lab-ipsec" in table_diff["after"]
    assert "office-ipsec" in table_diff["before"]
    assert "packets 0 bytes 0" in table_diff["after"]  # normalised like the live listing
    assert "net.netfilter.nf_conntrack_gre_timeout = 40" in sysctl_diff["before"]
    assert "net.netfilter.nf_conntrack_gre_timeout = 55" in sysctl_diff["after"]
    assert "nf_conntrack_max" not in sysctl_diff["after"]  # skipped keys are not compared


def test_rule_deleted_by_hand_is_detected_and_restored(router, rendered_a):
    router.apply(rendered_a)
    expected = router.table()
    removed = router.delete_rule("forward", "jump passthrough")
    assert removed not in router.table()
    result = router.apply(rendered_a, diff=True)
    assert result["changed"] is True and result["table_changed"] is True
    assert result["files_changed"] == [] and result["sysctl_changes"] == {}
    assert removed in result["diff"][0]["after"] and removed not in result["diff"][0]["before"]
    assert router.table() == expected
    assert router.apply(rendered_a)["changed"] is False


def test_sysctl_changed_by_hand_is_restored(router, rendered_a):
    router.apply(rendered_a)
    router.ns.run(["sysctl", "-qw", "net.netfilter.nf_conntrack_gre_timeout=99"])
    result = router.apply(rendered_a)
    assert result["changed"] and not result["table_changed"]
    assert result["sysctl_changes"] == {
        "net.netfilter.nf_conntrack_gre_timeout": {"before": "99", "after": "40"}}
    assert router.sysctl("net.netfilter.nf_conntrack_gre_timeout") == "40"


def test_other_tables_and_unrelated_files_survive_byte_identical(router, rendered_a, rendered_b):
    router.ns.nft("-f", "-", input=OTHER_TABLE)
    other_before = router.ns.nft("list", "table", "inet", "other_team").stdout
    os.makedirs(os.path.join(router.etc, "sysctl.d"))
    with open(os.path.join(router.etc, "nftables.conf"), "wb") as handle:
        handle.write(DISTRO_NFTABLES_CONF)
    with open(os.path.join(router.etc, "sysctl.d", "10-other.conf"), "wb") as handle:
        handle.write(UNRELATED_SYSCTL)
    assert router.apply(rendered_a)["changed"]
    assert router.apply(rendered_b)["changed"]
    failed = router.apply(rendered_a, env={"NETPOLICY_VPN_PASSTHROUGH_FAULT": "after_table"})
    assert failed["failed"] and failed["rolled_back"]
    assert router.ns.nft("list", "table", "inet", "other_team").stdout == other_before
    files = router.files()
    assert files["nftables.conf"] == DISTRO_NFTABLES_CONF
    assert files["sysctl.d/10-other.conf"] == UNRELATED_SYSCTL
    assert router.ns.nft("list", "tables").stdout.split("\n").count(
        "table inet netpolicy_vpn_passthrough") == 1


@pytest.mark.parametrize("text, reason", [
    ("flush ruleset\n", "flush ruleset"),
    ("table inet netpolicy_vpn_passthrough {\n}\ntable inet other_team {\n}\n", "other_team"),
    ("table inet netpolicy_vpn_passthrough {\n}\ndelete table ip nat\n", "'ip nat'"),
    ("include \"/etc/nftables.conf\"\n", "include"),
])
def test_ruleset_touching_anything_else_is_refused(router, text, reason):
    router.ns.nft("-f", "-", input=OTHER_TABLE)
    before = router.fingerprint()
    result = router.apply({"nftables.nft": text, "sysctl.conf": "", "modules-load.conf": ""})
    assert result.get("failed") and reason in result["msg"], result
    assert router.fingerprint() == before


def test_backups_keep_prunes_old_backups(router, rendered_a, rendered_b):
    for rendered in (rendered_a, rendered_b, rendered_a, rendered_b):
        assert router.apply(rendered, backups_keep=2)["changed"]
    backups = sorted(os.listdir(os.path.join(router.state_dir, "backups")))
    assert len(backups) == 2
    assert all(router.backup_state(name) == "applied" for name in backups)


def test_without_namespaces_the_snapshot_keeps_it_idempotent(router, rendered_a):
    """Routers that cannot create a scratch namespace (unshare not found here) compare with
    the listing saved after the last apply of the same render."""
    env = {"PATH": "/usr/sbin"}  # nft is found; unshare and sh are not
    first = router.apply(rendered_a, env=env)
    assert first["changed"] and first["intended_source"] == "none"
    second = router.apply(rendered_a, env=env)
    assert second["changed"] is False and second["intended_source"] == "snapshot"
    router.delete_rule("forward", "jump passthrough")
    third = router.apply(rendered_a, env=env)
    assert third["table_changed"] is True
    assert router.apply(rendered_a, env=env)["changed"] is False


def test_sysctl_that_cannot_be_written_fails_and_rolls_back(router, rendered_a):
    """nf_conntrack_max is global: a namespace cannot set it. Without sysctl_live_skip the
    apply fails clearly, names the key, and leaves nothing changed."""
    doc_rendered = dict(rendered_a, **{"sysctl.conf": rendered_a["sysctl.conf"]
                                       + "net.netfilter.nf_conntrack_max = 1234\n"})
    before = router.fingerprint()
    result = router.apply(doc_rendered, sysctl_live_skip=[])
    assert result["failed"] and "nf_conntrack_max" in result["msg"], result
    assert "sysctl_live_skip" in result["msg"] and result["rolled_back"] is True
    assert router.fingerprint() == before


def test_state_absent_removes_table_and_files_and_keeps_the_rest(router, rendered_a):
    router.ns.nft("-f", "-", input=OTHER_TABLE)
    with open(os.path.join(router.etc, "nftables.conf"), "wb") as handle:
        handle.write(DISTRO_NFTABLES_CONF)
    pristine = router.fingerprint()
    router.apply(rendered_a)
    check = router.apply(check=True, diff=True, state="absent")
    assert check["changed"] and check["table_changed"] and router.table() is not None
    assert check["diff"][0]["after"] == "" and "chain forward" in check["diff"][0]["before"]
    removed = router.apply(state="absent")
    assert removed["changed"] is True and removed["intended_source"] == "absent"
    assert router.table() is None
    after = router.fingerprint()
    # sysctl values stay as the policy set them; everything else is back to the start
    assert after["ruleset"] == pristine["ruleset"] and after["files"] == pristine["files"]
    assert router.apply(state="absent")["changed"] is False
    # and a failure while removing puts everything back
    router.apply(rendered_a)
    applied = router.fingerprint()
    failed = router.apply(state="absent", env={"NETPOLICY_VPN_PASSTHROUGH_FAULT": "after_table"})
    assert failed["failed"] and failed["rolled_back"]
    assert router.fingerprint() == applied
