"""Strategies shared by the partition mapping tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import strategies as st

from partita.definitions.partitions import (
    DailyPartitions,
    HourlyPartitions,
    MonthlyPartitions,
    TimePartitions,
    WeeklyPartitions,
)

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


offsets = st.tuples(st.integers(-3, 3), st.integers(-3, 3)).map(lambda pair: (min(pair), max(pair)))
