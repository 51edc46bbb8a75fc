"""Contract: the history of attempts, and the run log."""

from __future__ import annotations

import os

import pytest

from partita.catalog import Catalog, ConsumedInput
from partita.errors import CatalogError
from partita.processes import ProcessIdentity, this_host

from .conftest import Backend
from .helpers import at, attempt, dead_pid


def test_history_is_newest_first_and_filters(catalog: Catalog) -> None:
    catalog.record(attempt(partition="2013-01-01", minute=0))
    catalog.record(attempt(partition="2013-01-02", minute=1))
    catalog.record(attempt(partition="2013-01-01", minute=2, status="failed"))
    catalog.record(attempt(asset="airports", partition=None, minute=3))

    everything = catalog.history()
    assert [(r.asset, r.partition, r.started) for r in everything] == [
        ("airports", None, at(3)),
        ("flights", "2013-01-01", at(2)),
        ("flights", "2013-01-02", at(1)),
        ("flights", "2013-01-01", at(0)),
    ]
    assert everything[1] == attempt(partition="2013-01-01", minute=2, status="failed")

    assert [r.started for r in catalog.history("flights")] == [at(2), at(1), at(0)]
    assert [r.started for r in catalog.history("flights", "2013-01-01")] == [at(2), at(0)]
    assert [r.started for r in catalog.history("flights", limit=1)] == [at(2)]
    assert [r.asset for r in catalog.history("airports")] == ["airports"]
    assert catalog.history("nothing") == []


def test_history_keeps_every_field(catalog: Catalog) -> None:
    record = attempt(
        inputs=(ConsumedInput("raw", None, "x"),),
        watermark="2013-01-01T05:00:00",
        attempts=2,
        bytes=1234,
    )
    catalog.record(record)
    assert catalog.history() == [record]


def test_runs_with_counts_and_limit(catalog: Catalog) -> None:
    first = catalog.start_run("materialize", at(0))
    second = catalog.start_run("materialize flights", at(10))
    third = catalog.start_run("backfill", at(20))
    assert first.startswith("20130101T000000-")
    assert len({first, second, third}) == 3
    assert sorted([third, first, second]) == [first, second, third]

    counts = {"materialized": 3, "up_to_date": 5, "failed": 1, "skipped": 2}
    catalog.finish_run(first, at(5), "failed", counts)

    runs = catalog.runs()
    assert [run.run_id for run in runs] == [third, second, first]
    assert runs[2].status == "failed"
    assert runs[2].counts == counts
    assert runs[2].finished == at(5)
    assert runs[2].pid == os.getpid()
    assert runs[2].command == "materialize"
    assert runs[0].status == "running"
    assert runs[0].finished is None
    assert runs[0].counts == {}

    assert [run.run_id for run in catalog.runs(limit=2)] == [third, second]
    assert catalog.get_run(first) == runs[2]
    assert catalog.get_run("no-such-run") is None


def test_finish_unknown_run_raises(catalog: Catalog) -> None:
    with pytest.raises(CatalogError, match="no such run"):
        catalog.finish_run("no-such-run", at(1), "succeeded", {})


def test_live_runs_are_not_marked_interrupted(catalog: Catalog) -> None:
    live = catalog.start_run("materialize", at(0))
    assert catalog.mark_interrupted_runs(at(10)) == []
    assert catalog.get_run(live).status == "running"  # type: ignore[union-attr]


def test_a_run_of_another_host_is_not_judged_by_a_pid_of_this_one(backend: Backend) -> None:
    """On a catalog shared by machines, a run's pid means something only on its host."""
    elsewhere = ProcessIdentity("another-host.example", dead_pid())
    with backend.open(process=elsewhere) as remote:
        remote_run = remote.start_run("materialize", at(0))
    here = ProcessIdentity(this_host(), dead_pid())
    with backend.open(process=here) as local:
        dead_run = local.start_run("materialize", at(1))

    with backend.open() as catalog:
        assert catalog.mark_interrupted_runs(at(10)) == [dead_run]
        assert catalog.get_run(remote_run).status == "running"  # type: ignore[union-attr]


def test_closed_catalog_raises(catalog: Catalog) -> None:
    catalog.close()
    catalog.close()
    with pytest.raises(CatalogError, match="closed"):
        catalog.states("flights")


def test_run_history_lists_one_runs_attempts_in_recorded_order(catalog: Catalog) -> None:
    catalog.record(attempt(partition="2013-01-02", minute=0, run_id="run-a"))
    catalog.record(attempt(partition="2013-01-01", minute=1, run_id="run-b"))
    catalog.record(attempt(partition="2013-01-01", minute=2, run_id="run-a", status="failed"))

    assert catalog.run_history("run-a") == [
        attempt(partition="2013-01-02", minute=0, run_id="run-a"),
        attempt(partition="2013-01-01", minute=2, run_id="run-a", status="failed"),
    ]
    assert [r.run_id for r in catalog.run_history("run-b")] == ["run-b"]
    assert catalog.run_history("no-such-run") == []
