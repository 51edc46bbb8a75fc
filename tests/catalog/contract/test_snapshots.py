"""Contract: the planner's snapshots and the state rows changed since."""

from __future__ import annotations

from datetime import timedelta

from partita.catalog import Catalog, StateRow

from .helpers import at, attempt


def test_snapshot_and_changes_without_a_snapshot(catalog: Catalog) -> None:
    catalog.record(attempt(partition="2013-01-02", minute=0, consumed_seq=0))  # seq 1
    catalog.record(attempt(asset="other", partition=None))  # seq 2
    catalog.record(
        attempt(partition=None, minute=1, code_version="v2", consumed_seq=2, deps_version="d2")
    )  # 3
    catalog.record(attempt(partition="2013-01-02", status="failed", minute=2))  # seq 4

    payload, through, changes = catalog.snapshot_and_changes("flights", "layout-1")

    assert (payload, through) == (None, 0)
    finished = [
        (at(minute) + timedelta(seconds=30)).isoformat(timespec="microseconds") for minute in (0, 1)
    ]
    assert changes == [
        StateRow(None, "materialized", True, "v2", 3, 2, finished[1], 3, "d2"),
        StateRow("2013-01-02", "failed", True, "v1", 1, 0, finished[0], 4, None),
    ]
    assert changes[1].has_data and changes[1].seq == 4 and changes[1].partition == "2013-01-02"
    assert catalog.snapshot_and_changes("nothing", "layout-1") == (None, 0, [])


def test_snapshot_and_changes_of_a_never_published_unit(catalog: Catalog) -> None:
    catalog.record(attempt(status="interrupted", code_version=None))

    _, _, changes = catalog.snapshot_and_changes("flights", "layout-1")

    assert changes == [StateRow("2013-01-01", "interrupted", False, None, 0, 0, None, 1, None)]
    assert not changes[0].has_data


def test_snapshot_in_the_same_layout_returns_only_newer_rows(catalog: Catalog) -> None:
    catalog.record_many([attempt(partition=f"2013-01-0{day}") for day in (1, 2, 3)])
    catalog.save_snapshot("flights", "layout-1", 2, b"\x00snapshot\xff")
    catalog.record(attempt(partition="2013-01-01", minute=5))  # seq 4

    payload, through, changes = catalog.snapshot_and_changes("flights", "layout-1")

    assert (payload, through) == (b"\x00snapshot\xff", 2)
    assert [(row.partition, row.seq) for row in changes] == [("2013-01-03", 3), ("2013-01-01", 4)]


def test_snapshot_in_another_layout_is_ignored(catalog: Catalog) -> None:
    catalog.record_many([attempt(partition=f"2013-01-0{day}") for day in (1, 2)])
    catalog.save_snapshot("flights", "layout-1", 2, b"old")

    payload, through, changes = catalog.snapshot_and_changes("flights", "layout-2")

    assert (payload, through) == (None, 0)
    assert [row.partition for row in changes] == ["2013-01-01", "2013-01-02"]


def test_save_snapshot_never_goes_back(catalog: Catalog) -> None:
    catalog.save_snapshot("flights", "layout-1", 5, b"five")
    catalog.save_snapshot("flights", "layout-1", 3, b"three")  # a slower concurrent saver
    assert catalog.snapshot_and_changes("flights", "layout-1")[:2] == (b"five", 5)

    catalog.save_snapshot("flights", "layout-1", 7, b"seven")
    assert catalog.snapshot_and_changes("flights", "layout-1")[:2] == (b"seven", 7)

    catalog.save_snapshot("flights", "layout-2", 1, b"new layout")
    assert catalog.snapshot_and_changes("flights", "layout-2")[:2] == (b"new layout", 1)
    assert catalog.snapshot_and_changes("flights", "layout-1")[:2] == (None, 0)
    assert catalog.snapshot_and_changes("airports", "layout-2")[:2] == (None, 0)


def test_a_snapshot_through_the_current_sequence_has_no_changes(catalog: Catalog) -> None:
    catalog.record_many([attempt(partition=f"2013-01-0{day}") for day in (1, 2)])
    catalog.save_snapshot("flights", "layout-1", catalog.sequence(), b"all")

    assert catalog.snapshot_and_changes("flights", "layout-1") == (b"all", 2, [])


def test_snapshot_layout_names_the_stored_layout(catalog: Catalog) -> None:
    assert catalog.snapshot_layout("flights") is None
    catalog.save_snapshot("flights", "layout-1", 2, b"one")
    assert catalog.snapshot_layout("flights") == "layout-1"
    catalog.save_snapshot("flights", "layout-2", 1, b"two")  # another layout replaces it
    assert catalog.snapshot_layout("flights") == "layout-2"
    assert catalog.snapshot_layout("other") is None
