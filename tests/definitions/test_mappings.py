from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partita.definitions.mappings import check_mapping, downstream_indices, upstream_indices
from partita.definitions.partitions import (
    DailyPartitions,
    HourlyPartitions,
    MonthlyPartitions,
    Partitions,
    StaticPartitions,
    TimePartitions,
    WeeklyPartitions,
)
from partita.errors import PartitionError

DAILY_2013 = DailyPartitions("2013-01-01", "2014-01-01")
MONTHLY_2013 = MonthlyPartitions("2013-01", "2014-01")
REGIONS = StaticPartitions(["eu", "us"])


# Examples


def test_monthly_downstream_reads_the_days_of_its_month() -> None:
    february = MONTHLY_2013.index("2013-02")
    days = upstream_indices(MONTHLY_2013, february, DAILY_2013, None, DAILY_2013.count())
    assert days == range(31, 59)
    assert len(days) == 28
    assert DAILY_2013.key(days[0]) == "2013-02-01"
    assert DAILY_2013.key(days[-1]) == "2013-02-28"


def test_daily_downstream_reads_the_month_containing_it() -> None:
    day = DAILY_2013.index("2013-02-14")
    assert upstream_indices(DAILY_2013, day, MONTHLY_2013, None, 12) == range(1, 2)
    assert downstream_indices(DAILY_2013, MONTHLY_2013, None, 1, 365) == range(31, 59)


def test_rolling_window() -> None:
    rolling = (-6, 0)
    assert upstream_indices(DAILY_2013, 3, DAILY_2013, rolling, 365) == range(0, 4)
    assert upstream_indices(DAILY_2013, 10, DAILY_2013, rolling, 365) == range(4, 11)
    # upstream partitions that don't exist yet are left out
    assert upstream_indices(DAILY_2013, 10, DAILY_2013, rolling, 8) == range(4, 8)
    assert upstream_indices(DAILY_2013, 10, DAILY_2013, rolling, 2) == range(2, 2)
    assert downstream_indices(DAILY_2013, DAILY_2013, rolling, 3, 365) == range(3, 10)
    assert downstream_indices(DAILY_2013, DAILY_2013, rolling, 362, 365) == range(362, 365)


def test_offset_applies_to_the_overlap() -> None:
    weekly = WeeklyPartitions("2012-12-31")
    # the week of 2013-01-07 overlaps days 6..12; (-1, 1) widens that by a day each side
    assert upstream_indices(weekly, 1, DAILY_2013, (-1, 1), 365) == range(5, 14)
    previous_week = upstream_indices(weekly, 1, weekly, (-1, -1), 100)
    assert previous_week == range(0, 1)


def test_unpartitioned_sides() -> None:
    assert upstream_indices(DAILY_2013, 4, None, None, 0) is None
    assert upstream_indices(None, None, DAILY_2013, None, 20) == range(0, 20)
    assert upstream_indices(None, None, REGIONS, None, 2) == range(0, 2)
    assert upstream_indices(REGIONS, 1, None, None, 0) is None
    assert downstream_indices(None, DAILY_2013, None, 4, 0) is None
    assert downstream_indices(DAILY_2013, None, None, 0, 30) == range(0, 30)
    assert check_mapping(None, DAILY_2013, None) is None
    assert check_mapping(REGIONS, None, None) is None


def test_across_timezones_and_cadences() -> None:
    hourly_new_york = HourlyPartitions("2013-01-01", timezone="America/New_York")
    # the UTC day 2013-01-02 is 19:00 on 01-01 to 19:00 on 01-02 in New York (EST, UTC-5)
    day = DAILY_2013.index("2013-01-02")
    hours = upstream_indices(DAILY_2013, day, hourly_new_york, None, 1000)
    assert hours == range(19, 43)
    assert hourly_new_york.key(hours[0]) == "2013-01-01T19"
    assert downstream_indices(DAILY_2013, hourly_new_york, None, 19, 365) == range(1, 2)
    daily_tokyo = DailyPartitions("2013-01-01", timezone="Asia/Tokyo")
    # a Tokyo day straddles two UTC days
    assert upstream_indices(daily_tokyo, 1, DAILY_2013, None, 365) == range(0, 2)


def test_static_to_static_maps_by_key() -> None:
    upstream = StaticPartitions(["us", "asia", "eu"])
    assert upstream_indices(REGIONS, 0, upstream, None, 3) == range(2, 3)
    assert upstream_indices(REGIONS, 1, upstream, None, 3) == range(0, 1)
    assert upstream_indices(REGIONS, 1, REGIONS, None, 2) == range(1, 2)
    assert downstream_indices(REGIONS, upstream, None, 2, 2) == range(0, 1)
    assert downstream_indices(REGIONS, upstream, None, 1, 2) == range(0, 0)
    assert check_mapping(REGIONS, upstream, None) is None


def test_check_mapping_accepts_time_to_time() -> None:
    assert check_mapping(DAILY_2013, MONTHLY_2013, None) is None
    assert check_mapping(DAILY_2013, DAILY_2013, (-6, 0)) is None
    assert check_mapping(DAILY_2013, HourlyPartitions("2013-01-01"), (0, 0)) is None


# Errors


@pytest.mark.parametrize(
    ("downstream", "upstream", "offset", "message"),
    [
        (
            DAILY_2013,
            None,
            (-1, 0),
            "an offset needs time partitions on both sides, but the upstream asset is "
            "unpartitioned",
        ),
        (None, DAILY_2013, (-1, 0), "but the downstream asset is unpartitioned"),
        (REGIONS, REGIONS, (0, 1), r"but the downstream asset is static: eu, us"),
        (DAILY_2013, DAILY_2013, (0, -6), r"offset \(0, -6\) is backwards.*did you mean \(-6, 0\)"),
        (DAILY_2013, DAILY_2013, (1, 2, 3), r"offset \(1, 2, 3\) is not a pair of integers"),
        (
            StaticPartitions(["eu", "us", "asia"]),
            REGIONS,
            None,
            r"the upstream static partitions \(static: eu, us\) lack the downstream keys 'asia'",
        ),
        (REGIONS, DAILY_2013, None, r"\(static: eu, us\) can't be mapped to the upstream"),
        (DAILY_2013, REGIONS, None, "static keys have no time interval"),
    ],
)
def test_check_mapping_explains_problems(
    downstream: Partitions | None,
    upstream: Partitions | None,
    offset: tuple[int, int] | None,
    message: str,
) -> None:
    problem = check_mapping(downstream, upstream, offset)
    assert problem is not None
    assert re.search(message, problem), problem


def test_invalid_mappings_raise_at_runtime() -> None:
    with pytest.raises(PartitionError, match="an offset needs time partitions on both sides"):
        upstream_indices(DAILY_2013, 0, None, (-1, 0), 0)
    with pytest.raises(PartitionError, match="can't be mapped"):
        upstream_indices(REGIONS, 0, DAILY_2013, None, 365)
    with pytest.raises(PartitionError, match="can't be mapped"):
        downstream_indices(DAILY_2013, REGIONS, None, 0, 365)
    with pytest.raises(PartitionError, match="is backwards"):
        downstream_indices(DAILY_2013, DAILY_2013, (0, -1), 0, 365)
    with pytest.raises(
        PartitionError, match="downstream partition 'asia' has no upstream partition: the upstream"
    ):
        upstream_indices(StaticPartitions(["asia"]), 0, REGIONS, None, 2)
    with pytest.raises(PartitionError, match="no downstream partition given"):
        upstream_indices(DAILY_2013, None, DAILY_2013, None, 365)


# Invariants

TIMEZONES = ["UTC", "America/New_York", "Asia/Kolkata"]
CADENCES: list[type[TimePartitions]] = [
    HourlyPartitions,
    DailyPartitions,
    WeeklyPartitions,
    MonthlyPartitions,
]


@st.composite
def small_time_partitions(draw: st.DrawFn) -> TimePartitions:
    """Bounded partitions starting near the 2013-03-10 DST change, so they overlap often."""
    cadence = draw(st.sampled_from(CADENCES))
    timezone = draw(st.sampled_from(TIMEZONES))
    day = date(2013, 3, 1) + timedelta(days=draw(st.integers(-40, 40)))
    if cadence is WeeklyPartitions:
        day -= timedelta(days=day.weekday())
    elif cadence is MonthlyPartitions:
        day = day.replace(day=1)
    start = datetime(day.year, day.month, day.day)
    if cadence is HourlyPartitions:
        start += timedelta(hours=draw(st.integers(0, 23)))
    length = draw(st.integers(1, 80 if cadence is HourlyPartitions else 12))
    open_ended = cadence(start, timezone=timezone)
    return cadence(start, open_ended.partition_start(length), timezone)


offsets = st.one_of(
    st.none(),
    st.tuples(st.integers(-3, 3), st.integers(-3, 3)).map(lambda pair: tuple(sorted(pair))),
)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open overlap in UTC; an hour skipped by DST is empty but sits where it is."""
    a_start, a_end, b_start, b_end = (
        moment.astimezone(UTC) for moment in (a_start, a_end, b_start, b_end)
    )
    if a_start == a_end or b_start == b_end:
        return a_start <= b_end and b_start <= a_end
    return a_start < b_end and b_start < a_end


@settings(max_examples=200)
@given(small_time_partitions(), small_time_partitions(), st.data())
def test_upstream_indices_overlap_the_downstream_interval(
    downstream: TimePartitions, upstream: TimePartitions, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, downstream.count() - 1))
    found = upstream_indices(downstream, index, upstream, None, upstream.count())
    assert found is not None
    start, end = downstream.partition_start(index), downstream.partition_end(index)
    for upstream_index in found:
        assert overlaps(
            start,
            end,
            upstream.partition_start(upstream_index),
            upstream.partition_end(upstream_index),
        )
    # and nothing overlapping is left out
    for upstream_index in (found.start - 1, found.stop):
        if 0 <= upstream_index < upstream.count() and upstream_index not in found:
            upstream_start = upstream.partition_start(upstream_index).astimezone(UTC)
            upstream_end = upstream.partition_end(upstream_index).astimezone(UTC)
            assert not (
                upstream_start < end.astimezone(UTC) and start.astimezone(UTC) < upstream_end
            )


@settings(max_examples=300)
@given(
    st.one_of(small_time_partitions(), st.sampled_from([REGIONS]), st.none()),
    st.one_of(small_time_partitions(), st.sampled_from([REGIONS]), st.none()),
    offsets,
    st.booleans(),
)
def test_downstream_indices_inverts_upstream_indices(
    downstream: Partitions | None,
    upstream: Partitions | None,
    offset: tuple[int, int] | None,
    same: bool,
) -> None:
    if same:
        upstream = downstream
    if check_mapping(downstream, upstream, offset) is not None:
        return
    downstream_count = 1 if downstream is None else downstream.count()
    upstream_count = 1 if upstream is None else upstream.count()
    reads: dict[int, set[int]] = {upstream_index: set() for upstream_index in range(upstream_count)}
    for downstream_index in range(downstream_count):
        found = upstream_indices(
            downstream,
            None if downstream is None else downstream_index,
            upstream,
            offset,
            upstream_count,
        )
        for upstream_index in range(upstream_count) if found is None else found:
            reads[upstream_index].add(downstream_index)
    for upstream_index in range(upstream_count):
        readers = downstream_indices(
            downstream,
            upstream,
            offset,
            upstream_index,
            downstream_count,
        )
        expected = reads[upstream_index]
        if readers is None:
            assert downstream is None
        else:
            assert set(readers) == expected
