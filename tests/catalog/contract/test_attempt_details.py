"""Contract: one partition's attempts in full (traceback, worker, checks of each attempt)."""

from __future__ import annotations

from partita.catalog import Catalog
from partita.catalog.records import CheckResult

from .helpers import attempt

TRACEBACK = 'Traceback (most recent call last):\n  File "a.py", line 1\nValueError: boom\n'


def test_traceback_and_worker_are_kept_with_each_attempt(catalog: Catalog) -> None:
    failed = attempt(status="failed", minute=0, traceback=TRACEBACK, worker="host-a:101")
    succeeded = attempt(minute=1, worker="host-b:202")
    catalog.record(failed)
    catalog.record(succeeded)
    assert catalog.history("flights") == [succeeded, failed]
    assert catalog.run_history("run-1") == [failed, succeeded]
    assert catalog.partition_attempts("flights", "2013-01-01") == [succeeded, failed]


def test_each_attempt_has_its_own_checks(catalog: Catalog) -> None:
    first_checks = (
        CheckResult("not_empty", "error", False, "no rows"),
        CheckResult("unique", "warn", True),
    )
    second_checks = (CheckResult("not_empty", "error", True),)
    catalog.record(attempt(status="failed", minute=0, checks=first_checks))
    catalog.record(attempt(partition="2013-01-02", minute=1, checks=(first_checks[1],)))
    catalog.record(attempt(minute=2, checks=second_checks))
    catalog.record(attempt(minute=3))

    newest, second, first = catalog.partition_attempts("flights", "2013-01-01")
    assert newest.checks == ()
    assert second.checks == second_checks
    assert first.checks == first_checks
    assert first.status == "failed"

    (limited,) = catalog.partition_attempts("flights", "2013-01-01", limit=1)
    assert limited.started == newest.started
    assert [r.checks for r in catalog.partition_attempts("flights", "2013-01-02")] == [
        (first_checks[1],)
    ]
    assert catalog.partition_attempts("flights", "2013-01-09") == []


def test_attempts_of_an_unpartitioned_asset(catalog: Catalog) -> None:
    catalog.record(attempt(asset="airports", partition=None, minute=0, worker="h:1"))
    (only,) = catalog.partition_attempts("airports", None)
    assert only.partition is None
    assert only.worker == "h:1"
