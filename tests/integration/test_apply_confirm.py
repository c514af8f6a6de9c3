"""Commit-confirm: the router restores the previous state by itself unless confirmed in time."""
import pytest

from apply_harness import POLICY_A, POLICY_B, Router, render

TIMEOUT = 2


@pytest.fixture
def applied_a(netns, tmp_path):
    router = Router(netns, tmp_path / "root")
    assert router.apply(render(POLICY_A))["changed"]
    return router


def test_unconfirmed_change_is_rolled_back_after_the_timeout(applied_a):
    before = applied_a.fingerprint()
    result = applied_a.apply(render(POLICY_B), confirm_timeout=TIMEOUT)
    assert result["changed"] and result["confirm"]["pending"] is True, result
    changed = applied_a.fingerprint()
    assert changed != before  # the change is live while it waits for confirmation
    assert applied_a.wait_backup_state(result["backup_id"], "rolled_back", TIMEOUT + 8)
    assert applied_a.fingerprint() == before
    late = applied_a.run("apply", {"confirm": result["backup_id"],
                                   "state_dir": applied_a.state_dir})
    assert late["failed"] and "too late" in late["msg"], late


def test_confirmed_change_stays(applied_a):
    result = applied_a.apply(render(POLICY_B), confirm_timeout=TIMEOUT)
    changed = applied_a.fingerprint()
    answer = applied_a.run("apply", {"confirm": result["backup_id"],
                                     "state_dir": applied_a.state_dir})
    assert answer["changed"] and answer["confirm"]["state"] == "confirmed", answer
    assert not applied_a.wait_backup_state(result["backup_id"], "rolled_back", TIMEOUT + 2)
    assert applied_a.backup_state(result["backup_id"]) == "confirmed"
    assert applied_a.fingerprint() == changed


def test_pending_confirm_blocks_another_apply(applied_a):
    result = applied_a.apply(render(POLICY_B), confirm_timeout=30)
    again = applied_a.apply(render(POLICY_A))
    assert again["failed"] and result["backup_id"] in again["msg"], again
    assert applied_a.run("apply", {"confirm": result["backup_id"],
                                   "state_dir": applied_a.state_dir})["changed"]
    assert applied_a.apply(render(POLICY_A))["changed"] is True
