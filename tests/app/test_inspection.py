"""The page reads agree with the session's own answers on a project with a history."""

from __future__ import annotations

from datetime import datetime

import pytest
from ui.conftest import NOW, build_project

from partita.app.inspection import (
    NotFoundError,
    asset_status,
    asset_watermark,
    health_counts,
    known_partition,
    run_detail,
)
from partita.app.session import open_session
from partita.planning.targets import PartitionRange

MOMENT = datetime.fromisoformat(NOW)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    root = build_project(tmp_path_factory.mktemp("inspection") / "proj")
    with open_session(root) as opened:
        yield opened


def test_watermarks_from_the_state_table_match_the_session(session) -> None:
    for name in ("events", "daily_totals", "hostile"):
        (expected,) = session.watermarks(name, now=MOMENT)
        assert asset_watermark(session, name, now=MOMENT) == expected


def test_health_counts_match_the_status(session) -> None:
    counts = health_counts(session, now=MOMENT)
    for status in session.status(now=MOMENT):
        assert counts[status.asset] == dict(status.counts)


def test_asset_status_over_a_range_lists_at_most_the_limit(session) -> None:
    status = asset_status(
        session, "daily_totals", now=MOMENT, partitions=PartitionRange("2013-01-02", "2013-01-09")
    )
    assert status.count("missing") == 8
    assert [p.partition for p in status.partitions] == [f"2013-01-0{d}" for d in range(2, 10)]
    limited = asset_status(session, "daily_totals", now=MOMENT, needs_work_limit=3)
    assert len(limited.partitions) == 3
    assert limited.count("missing") == 10


def test_unknown_partitions_and_runs_are_not_found(session) -> None:
    assert known_partition(session, "events", "2013-01-03", MOMENT) == "2013-01-03"
    early = datetime.fromisoformat("2013-01-05T12:00Z")
    with pytest.raises(NotFoundError, match="no partition '2013-01-08' yet"):
        known_partition(session, "events", "2013-01-08", early)
    with pytest.raises(NotFoundError, match="no partition '2013-01-11'"):
        known_partition(session, "events", "2013-01-11", MOMENT)
    with pytest.raises(NotFoundError, match="'nope'"):
        run_detail(session, "nope")


def test_a_running_run_shows_the_units_it_is_working_on(session) -> None:
    catalog = session.catalog
    run_id = catalog.start_run("materialize events", MOMENT)
    assert catalog.acquire_lease("events", "2013-01-09", run_id, MOMENT, 30.0) is None
    try:
        assert run_detail(session, run_id).in_progress == [("events", "2013-01-09")]
    finally:
        catalog.release_leases(run_id)
        catalog.finish_run(run_id, MOMENT, "succeeded", {})
    assert run_detail(session, run_id).in_progress == []


def test_health_counts_include_the_upstream_planned_with_the_selection(session) -> None:
    counts = health_counts(session, ["daily_totals"], now=MOMENT)
    assert set(counts) == {"daily_totals", "events"}
    assert counts == {name: health_counts(session, now=MOMENT)[name] for name in counts}
