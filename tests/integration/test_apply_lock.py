"""Two runs on one router cannot interleave: the second waits for the lock or fails clearly."""
import time

from apply_harness import POLICY_A, Router, render


def test_second_run_fails_clearly_when_the_lock_stays_held(netns, tmp_path):
    router = Router(netns, tmp_path / "root")
    handle = router.hold_lock()
    try:
        started = time.time()
        result = router.apply(render(POLICY_A), lock_timeout=1)
        assert time.time() - started >= 1
    finally:
        handle.close()
    assert result["failed"] and "another apply is running" in result["msg"], result
    assert router.table() is None  # nothing happened while locked out


def test_concurrent_runs_are_serialised(netns, tmp_path):
    router = Router(netns, tmp_path / "root")
    rendered = render(POLICY_A)
    handle = router.hold_lock()  # make both start while the lock is held, then release
    procs = [router.popen("apply", router.args(rendered)) for _index in range(3)]
    time.sleep(1)
    handle.close()
    results = [router.result(proc) for proc in procs]
    assert not any(r.get("failed") for r in results), results
    assert sorted(r["changed"] for r in results) == [False, False, True]
    assert router.apply(rendered)["changed"] is False
