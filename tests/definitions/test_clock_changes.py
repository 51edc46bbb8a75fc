"""Time partitions across clock changes: skipped wall-clock slots are empty intervals at
the instant of the change, and windows always tile time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import available_timezones

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from partita.definitions.mappings import TimeWindow
from partita.definitions.partitions import (
    DailyPartitions,
    HourlyPartitions,
    MinutePartitions,
    MonthlyPartitions,
    TimePartitions,
    WeeklyPartitions,
)

APIA_JUMP = datetime(2011, 12, 30, 10, tzinfo=UTC)  # 2011-12-29T24:00-10 became 2011-12-31T00+14
TROLL_JUMP = datetime(2024, 3, 31, 1, tzinfo=UTC)  # 01:00+00 became 03:00+02


def _apia_hours() -> HourlyPartitions:
    return HourlyPartitions(start="2011-12-29T22", end="2011-12-31T03", timezone="Pacific/Apia")


def _window(partitions: TimePartitions, key: str) -> tuple[datetime, datetime]:
    index = partitions.index(key)
    return _start(partitions, index), _end(partitions, index)


# Aware datetimes that share a tzinfo compare by wall clock: compare instants in UTC.
def _start(partitions: TimePartitions, index: int) -> datetime:
    return partitions.partition_start(index).astimezone(UTC)


def _end(partitions: TimePartitions, index: int) -> datetime:
    return partitions.partition_end(index).astimezone(UTC)


def test_apia_skipped_hours_are_empty_at_the_jump() -> None:
    hours = _apia_hours()
    for key in ("2011-12-30T00", "2011-12-30T05", "2011-12-30T23"):
        start, end = _window(hours, key)
        assert start == end == APIA_JUMP, key
    start, end = _window(hours, "2011-12-29T23")
    assert (start, end) == (APIA_JUMP - timedelta(hours=1), APIA_JUMP)
    start, end = _window(hours, "2011-12-31T02")
    assert (start, end) == (APIA_JUMP + timedelta(hours=2), APIA_JUMP + timedelta(hours=3))


def test_apia_windows_tile_and_count_agrees() -> None:
    hours = _apia_hours()
    bound = hours.index_bound()
    ends = [_end(hours, index) for index in range(bound)]
    for index in range(bound):
        assert _start(hours, index) <= ends[index]
        if index:
            assert _start(hours, index) == ends[index - 1]
    now = datetime(2011, 12, 30, 10, 30, tzinfo=UTC)
    assert hours.count(now) == sum(end <= now for end in ends) == 26


def test_apia_daily_reads_the_hours_of_its_own_day() -> None:
    hours = _apia_hours()
    days = DailyPartitions(start="2011-12-29", end="2012-01-01", timezone="Pacific/Apia")
    mapped = TimeWindow().windows(days, np.arange(3), hours, hours.index_bound())
    for day in range(3):
        low, high = int(mapped.low[day]), int(mapped.high[day])
        for hour in range(low, high):  # every hour read lies inside the day
            assert _start(days, day) <= _start(hours, hour) <= _end(hours, hour)
            assert _end(hours, hour) <= _end(days, day)
    assert _start(days, 1) == _end(days, 1) == APIA_JUMP
    assert (int(mapped.low[2]), int(mapped.high[2])) == (26, 29)  # 2011-12-31T00..T02


def test_troll_two_hour_gap() -> None:
    hours = HourlyPartitions(start="2024-03-30", end="2024-04-01", timezone="Antarctica/Troll")
    assert _window(hours, "2024-03-31T01") == (TROLL_JUMP, TROLL_JUMP)
    assert _window(hours, "2024-03-31T02") == (TROLL_JUMP, TROLL_JUMP)
    assert _window(hours, "2024-03-31T00")[1] == TROLL_JUMP
    assert _window(hours, "2024-03-31T03")[0] == TROLL_JUMP
    after = TROLL_JUMP + timedelta(minutes=30)
    assert hours.key(hours.index_containing(after)) == "2024-03-31T03"
    assert hours.count(after) == sum(
        _end(hours, index) <= after for index in range(hours.index_bound())
    )


def test_elapsed_duration_of_a_23_hour_day() -> None:
    days = DailyPartitions(start="2013-03-01", timezone="America/New_York")
    index = days.index("2013-03-10")
    assert days.partition_duration(index) == timedelta(hours=23)
    # The pitfall partition_duration avoids: aware datetimes sharing a tzinfo subtract
    # as wall-clock times.
    assert days.partition_end(index) - days.partition_start(index) == timedelta(hours=24)


_ZONES = sorted(
    zone for zone in available_timezones() if "/" in zone and not zone.startswith("posix")
)
_KINDS = (MinutePartitions, HourlyPartitions, DailyPartitions, WeeklyPartitions, MonthlyPartitions)
_STARTS = {
    MinutePartitions: "%Y-%m-%dT%H:00",
    HourlyPartitions: "%Y-%m-%dT%H",
    DailyPartitions: "%Y-%m-%d",
    WeeklyPartitions: "%Y-%m-%d",
    MonthlyPartitions: "%Y-%m",
}


@st.composite
def _spans(draw: st.DrawFn) -> tuple[TimePartitions, int]:
    zone = draw(st.sampled_from(_ZONES))
    kind = draw(st.sampled_from(_KINDS))
    moment = draw(st.datetimes(datetime(1970, 1, 1), datetime(2037, 1, 1)))
    if kind is WeeklyPartitions:
        moment -= timedelta(days=moment.weekday())
    start = moment.strftime(_STARTS[kind])
    length = draw(st.integers(1, 60 if kind in (MinutePartitions, HourlyPartitions) else 12))
    if kind is MinutePartitions:
        every = draw(st.sampled_from([5, 10, 15, 30]))
        return MinutePartitions(every, start=start, timezone=zone), length
    return kind(start=start, timezone=zone), length


@settings(max_examples=300, deadline=None)
@given(span=_spans(), probe=st.integers(0, 10**6))
def test_windows_tile_time_in_every_zone(span: tuple[TimePartitions, int], probe: int) -> None:
    partitions, length = span
    starts = [_start(partitions, index) for index in range(length + 1)]
    for index in range(length):
        assert starts[index] <= starts[index + 1]
        assert _end(partitions, index) == starts[index + 1]
        assert partitions.partition_duration(index) == starts[index + 1] - starts[index]
    elapsed = starts[length] - starts[0]
    now = starts[0] + elapsed * (probe / 10**6)
    ended = sum(starts[index + 1] <= now for index in range(length))
    assert partitions.count(now) == ended
    containing = partitions.index_containing(now)
    if now < starts[length]:
        assert starts[containing] <= now < _end(partitions, containing)
