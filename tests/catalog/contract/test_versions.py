"""The Versions role: data versions as of a run or a time, and recorded restores."""

from __future__ import annotations

import pytest

from partita.catalog import ConsumedInput
from partita.errors import CatalogError

from .helpers import at, attempt


def test_versions_as_of_a_run_and_a_time(catalog) -> None:
    catalog.record(attempt(minute=0, run_id="run-a"))
    catalog.record(attempt(partition="2013-01-02", minute=1, run_id="run-a"))
    catalog.record(attempt(minute=5, run_id="run-b"))
    catalog.record(attempt(minute=6, run_id="run-c", status="failed"))
    catalog.record(attempt(asset="other", minute=7, run_id="run-c"))

    as_of_a = catalog.versions_as_of("flights", run_id="run-a")
    assert {k: r.data_version for k, r in as_of_a.items()} == {
        "2013-01-01": "dv-0",
        "2013-01-02": "dv-1",
    }
    as_of_b = catalog.versions_as_of("flights", run_id="run-b")
    assert as_of_b["2013-01-01"].data_version == "dv-5"
    assert as_of_b["2013-01-01"].run_id == "run-b"
    # a failed attempt changes no data
    as_of_c = catalog.versions_as_of("flights", run_id="run-c")
    assert as_of_c["2013-01-01"].data_version == "dv-5"
    assert catalog.versions_as_of("flights", moment=at(0)) == {}
    by_time = catalog.versions_as_of("flights", moment=at(3))
    assert {k: r.data_version for k, r in by_time.items()} == {
        "2013-01-01": "dv-0",
        "2013-01-02": "dv-1",
    }


def test_versions_as_of_an_unknown_run_is_an_error(catalog) -> None:
    with pytest.raises(CatalogError, match="no run run-x"):
        catalog.versions_as_of("flights", run_id="run-x")
    with pytest.raises(CatalogError, match="exactly one"):
        catalog.versions_as_of("flights")


def test_a_run_that_recorded_nothing_reads_as_of_its_end(catalog) -> None:
    catalog.record(attempt(minute=0, run_id="run-a"))
    run_id = catalog.start_run("materialize", at(2))
    catalog.finish_run(run_id, at(3), "succeeded", {})
    catalog.record(attempt(minute=5, run_id="run-b"))
    as_of = catalog.versions_as_of("flights", run_id=run_id)
    assert as_of["2013-01-01"].data_version == "dv-0"


def test_a_restore_is_recorded_and_marked(catalog) -> None:
    catalog.record(attempt(minute=0, run_id="run-a"))
    catalog.record(attempt(minute=1, run_id="run-bad"))
    catalog.record_restore(attempt(minute=2, run_id="run-undo", data_version="dv-0"), [])
    state = catalog.state("flights", "2013-01-01")
    assert (state.data_version, state.restored) == ("dv-0", True)
    assert state.published_seq == state.seq == catalog.sequence()
    newest = catalog.history("flights")[0]
    assert (newest.run_id, newest.restored, newest.data_version) == ("run-undo", True, "dv-0")
    # an ordinary success clears the mark; an identical rebuild keeps it
    catalog.record(attempt(minute=3, run_id="run-again", data_version="dv-0"))
    assert catalog.state("flights", "2013-01-01").restored is True
    catalog.record(attempt(minute=4, run_id="run-new"))
    assert catalog.state("flights", "2013-01-01").restored is False
    with pytest.raises(CatalogError, match="must be a materialization"):
        catalog.record_restore(attempt(minute=5, status="failed"), [])


def test_a_restore_brings_readers_of_the_restored_version_up_to_date(catalog) -> None:
    upstream = ("flights", "2013-01-01")
    good, bad = ConsumedInput(*upstream, "dv-0"), ConsumedInput(*upstream, "dv-2")
    other = ConsumedInput("weather", None, "w-1")
    catalog.record(attempt(asset="weather", partition=None, minute=0, data_version="w-1"))
    catalog.record(attempt(minute=0))
    sequence = catalog.sequence()
    # read the good version and weather; read the good version and an outdated weather;
    # read the bad version
    catalog.record(attempt(asset="r1", minute=1, inputs=(good, other), consumed_seq=sequence))
    catalog.record(
        attempt(
            asset="r2",
            minute=1,
            inputs=(good, ConsumedInput("weather", None, "w-0")),
            consumed_seq=sequence,
        )
    )
    catalog.record(attempt(minute=2, run_id="run-bad"))  # dv-2 published: the bad version
    catalog.record(attempt(asset="r3", minute=3, inputs=(bad,), consumed_seq=catalog.sequence()))
    catalog.record(
        attempt(asset="r4", minute=3, inputs=(good,), consumed_seq=sequence)
    )  # not named as a reader below
    revalidated = catalog.record_restore(
        attempt(minute=4, run_id="run-undo", data_version="dv-0"), ["r1", "r2", "r3"]
    )
    restore_seq = catalog.sequence()
    assert revalidated == [("r1", "2013-01-01")]
    r1 = catalog.state("r1", "2013-01-01")
    assert r1.consumed_seq == restore_seq and r1.seq == restore_seq
    assert catalog.state("r2", "2013-01-01").consumed_seq == sequence
    assert catalog.state("r3", "2013-01-01").consumed_seq < restore_seq
    assert catalog.state("r4", "2013-01-01").consumed_seq == sequence
    # the planner's change feed sees the revalidated reader
    _, _, changes = catalog.snapshot_and_changes("r1", "unpartitioned")
    assert [row.consumed_seq for row in changes] == [restore_seq]
