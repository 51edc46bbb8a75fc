"""Watermarks over hand-built partition states: the high-water mark over partitions
(numbers numerically, ISO timestamps as instants), parsing it back, and complete_through
with gaps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from partita.planning.watermarks import (
    build_watermarks,
    complete_through,
    high_water_mark,
    max_watermark,
    parse_watermark,
)

from . import NOW, day, make_graph, state

GRAPH = make_graph()


def marked(key: str | None, watermark: str | None, **changes):
    return replace(state(key, f"v-{key}", "v1"), watermark=watermark, **changes)


def test_numbers_compare_numerically_not_as_text() -> None:
    states = [marked(day(0), "9"), marked(day(1), "10"), marked(day(2), "2.5")]
    assert high_water_mark(states) == "10"
    assert max_watermark(["-3", "-20", None]) == "-3"
    assert max_watermark(["1e3", "999"]) == "1e3"


def test_iso_timestamps_compare_in_time() -> None:
    states = [
        marked(day(0), "2024-01-01T23:00:00+00:00"),
        marked(day(2), "2024-01-03T05:00:00+00:00"),
        marked(day(1), "2024-01-02T12:30:00+00:00"),
    ]
    assert high_water_mark(states) == "2024-01-03T05:00:00+00:00"


def test_timestamps_with_different_offsets_compare_as_instants() -> None:
    # 23:00 in New York (-05:00) is 04:00 UTC the next day: later than 02:00 UTC.
    late_local = "2024-01-02T23:00:00-05:00"
    earlier_utc = "2024-01-03T02:00:00+00:00"
    assert max_watermark([earlier_utc, late_local]) == late_local
    assert max_watermark([late_local, earlier_utc]) == late_local


def test_partitions_without_a_watermark_are_ignored() -> None:
    states = [marked(day(0), None), marked(day(1), "2024-01-02"), marked(day(2), None)]
    assert high_water_mark(states) == "2024-01-02"
    assert high_water_mark([marked(day(0), None)]) is None
    assert high_water_mark([]) is None


def test_parse_watermark_gives_back_the_original_types() -> None:
    assert parse_watermark(None) is None
    assert parse_watermark("42") == 42 and isinstance(parse_watermark("42"), int)
    assert parse_watermark("2.5") == 2.5
    assert parse_watermark("2024-01-03T05:00:00+00:00") == datetime(2024, 1, 3, 5, tzinfo=UTC)
    local = parse_watermark("2024-01-02T23:00:00-05:00")
    assert local.utcoffset() == timedelta(hours=-5)
    assert local == datetime(2024, 1, 3, 4, tzinfo=UTC)
    assert parse_watermark("2024-01-02") == datetime(2024, 1, 2)
    assert parse_watermark("not a mark") == "not a mark"


def published(keys: list[str]) -> dict:
    return {key: marked(key, str(i)) for i, key in enumerate(keys)}


def test_complete_through_stops_at_the_first_gap() -> None:
    keys = [day(i) for i in range(10) if i != 4]
    states = {"flights": published(keys)}
    assert complete_through(GRAPH, "flights", states, NOW) == day(3)


def test_complete_through_without_the_first_partition_is_none() -> None:
    states = {"flights": published([day(i) for i in range(1, 10)])}
    assert complete_through(GRAPH, "flights", states, NOW) is None


def test_complete_through_counts_only_published_partitions() -> None:
    states = {"flights": published([day(i) for i in range(6)])}
    # day 2 failed its first attempt: nothing was published for it.
    states["flights"][day(2)] = state(day(2), None, None, last_status="failed")
    assert complete_through(GRAPH, "flights", states, NOW) == day(1)
    # A failed retry of day 3 keeps its earlier data: it still counts.
    states["flights"][day(3)] = replace(states["flights"][day(3)], last_status="failed")
    states["flights"][day(2)] = marked(day(2), "2")
    assert complete_through(GRAPH, "flights", states, NOW) == day(5)


def test_complete_through_reaches_the_latest_complete_partition_at_now() -> None:
    states = {"flights": published([day(i) for i in range(40)])}
    assert complete_through(GRAPH, "flights", states, NOW) == "2024-02-09"
    earlier = datetime(2024, 1, 5, 12, tzinfo=UTC)
    assert complete_through(GRAPH, "flights", states, earlier) == "2024-01-04"


def test_unpartitioned_assets_have_no_complete_through() -> None:
    states = {"report": {None: marked(None, "7")}}
    assert complete_through(GRAPH, "report", states, NOW) is None


@pytest.mark.parametrize("gap", [0, 5, 39])
def test_build_watermarks_reports_high_water_latest_and_complete_through(gap: int) -> None:
    keys = [day(i) for i in range(40) if i != gap]
    states = {
        "flights": {key: marked(key, datetime(2024, 1, 1, tzinfo=UTC).isoformat()) for key in keys},
        "report": {None: marked(None, "12")},
    }
    # The high-water mark is the max over partitions, wherever it sits.
    states["flights"][day(20)] = marked(day(20), "2024-01-21T06:00:00+00:00")
    reports = build_watermarks(GRAPH, ["flights", "report", "weather"], states, NOW)
    flights, report, weather = reports
    assert flights.to_json() == {
        "asset": "flights",
        "high_water": "2024-01-21T06:00:00+00:00",
        "latest_partition": day(38) if gap == 39 else day(39),
        "complete_through": day(gap - 1) if gap else None,
    }
    assert report.to_json() == {
        "asset": "report",
        "high_water": "12",
        "latest_partition": None,
        "complete_through": None,
    }
    assert weather.to_json() == {
        "asset": "weather",
        "high_water": None,
        "latest_partition": None,
        "complete_through": None,
    }


def test_a_date_watermark_compares_with_dates() -> None:
    marks = [date(2024, 1, d).isoformat() for d in (3, 11, 9)]
    assert max_watermark(marks) == "2024-01-11"
