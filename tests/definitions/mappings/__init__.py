"""Strategies shared by the partition mapping tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import strategies as st

from partita.definitions.partitions import (
    CronPartitions,
    DailyPartitions,
    HourlyPartitions,
    MinutePartitions,
    MonthlyPartitions,
    MultiPartitions,
    StaticPartitions,
    TimePartitions,
    WeeklyPartitions,
)

TIMEZONES = ["UTC", "America/New_York", "Asia/Kolkata"]
CADENCES: list[type[TimePartitions]] = [
    HourlyPartitions,
    DailyPartitions,
    WeeklyPartitions,
    MonthlyPartitions,
    MinutePartitions,
    CronPartitions,
]
BUSINESS_DAYS = "0 6 * * MON-FRI"


@st.composite
def small_time_partitions(draw: st.DrawFn) -> TimePartitions:
    """Bounded partitions starting near the 2013-03-10 DST change, so they overlap often."""
    cadence = draw(st.sampled_from(CADENCES))
    timezone = draw(st.sampled_from(TIMEZONES))
    day = date(2013, 3, 1) + timedelta(days=draw(st.integers(-40, 40)))
    if cadence is WeeklyPartitions:
        day -= timedelta(days=day.weekday())
    elif cadence is CronPartitions:
        day -= timedelta(days=max(day.weekday() - 4, 0))
    elif cadence is MonthlyPartitions:
        day = day.replace(day=1)
    start = datetime(day.year, day.month, day.day)
    if cadence is HourlyPartitions:
        start += timedelta(hours=draw(st.integers(0, 23)))
    length = draw(st.integers(1, 80 if cadence is HourlyPartitions else 12))
    if cadence is MinutePartitions:
        open_ended = MinutePartitions(15, start, timezone=timezone)
        return MinutePartitions(15, start, open_ended.partition_start(length), timezone)
    if cadence is CronPartitions:
        start += timedelta(hours=6)
        open_ended = CronPartitions(BUSINESS_DAYS, start, timezone=timezone)
        return CronPartitions(BUSINESS_DAYS, start, open_ended.partition_start(length), timezone)
    open_ended = cadence(start, timezone=timezone)
    return cadence(start, open_ended.partition_start(length), timezone)


REGIONS = StaticPartitions(["eu", "us", "asia"])
PRODUCTS = StaticPartitions(["p1", "p2"])


@st.composite
def multi_partitions(draw: st.DrawFn, time: TimePartitions | None = None) -> MultiPartitions:
    """date x region (x product), the date at any position (region before product, so
    a partition reads a run of neighbouring combinations)."""
    time = draw(small_time_partitions()) if time is None else time
    dimensions = {"region": REGIONS}
    if draw(st.booleans()):
        dimensions["product"] = PRODUCTS
    names = list(dimensions)
    names.insert(draw(st.integers(0, len(names))), "date")
    dimensions["date"] = time
    return MultiPartitions(**{name: dimensions[name] for name in names})


offsets = st.tuples(st.integers(-3, 3), st.integers(-3, 3)).map(lambda pair: (min(pair), max(pair)))
