"""Failures after the first change restore the previous table, sysctl values and files."""
import os

import pytest

from apply_harness import OTHER_TABLE, POLICY_A, POLICY_B, Router, render

FAULT = "NETPOLICY_VPN_PASSTHROUGH_FAULT"


@pytest.fixture
def applied_a(netns, tmp_path):
    """A router with policy A applied and another team's table next to ours."""
    router = Router(netns, tmp_path / "root")
    netns.nft("-f", "-", input=OTHER_TABLE)
    assert router.apply(render(POLICY_A))["changed"]
    return router


@pytest.mark.parametrize("fault", ["after_files", "after_sysctl", "nft_load", "after_table"])
def test_injected_failure_restores_previous_state(applied_a, fault):
    before = applied_a.fingerprint()
    result = applied_a.apply(render(POLICY_B), env={FAULT: fault})
    assert result.get("failed") is True, result
    assert result["rolled_back"] is True and result["rollback_errors"] == []
    assert applied_a.fingerprint() == before
    assert applied_a.backup_state(os.path.basename(result["backup_dir"])) == "rolled_back"
    # negative control: the same change without the fault does change the router
    assert applied_a.apply(render(POLICY_B))["changed"] is True
    assert applied_a.fingerprint() != before


def test_real_nft_failure_mid_apply_is_atomic_and_rolled_back(applied_a):
    """The kernel rejects the load transaction (after files and sysctl already changed): the
    old table stays (atomic), and files and sysctl are restored."""
    before = applied_a.fingerprint()
    result = applied_a.apply(render(POLICY_B), env={FAULT: "nft_load"})
    assert "Could not process rule" in result["stderr"]
    assert result["cmd"][1] == "-f"
    assert applied_a.fingerprint() == before


def test_unwritable_persist_path_fails_and_restores_what_was_written(applied_a):
    """A real failure, no injection: the sysctl drop-in path is below a regular file. The
    ruleset file was already replaced by then and must be restored."""
    blocker = os.path.join(applied_a.root, "not-a-dir")
    with open(blocker, "w") as handle:
        handle.write("x")
    before = applied_a.fingerprint()
    result = applied_a.apply(render(POLICY_B),
                             sysctl_path=os.path.join(blocker, "90-np.conf"))
    assert result["failed"] and "not-a-dir" in result["msg"], result
    assert result["rolled_back"] is True
    assert applied_a.fingerprint() == before


def test_rollback_from_absent_removes_our_table_and_files(netns, tmp_path):
    router = Router(netns, tmp_path / "root")
    netns.nft("-f", "-", input=OTHER_TABLE)
    before = router.fingerprint()
    result = router.apply(render(POLICY_A), env={FAULT: "after_table"})
    assert result["failed"] and result["rolled_back"], result
    assert router.table() is None
    assert router.fingerprint() == before
