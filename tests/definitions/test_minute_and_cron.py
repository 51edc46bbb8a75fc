"""Minute and cron partitions: keys, windows, errors, and mappings to the other grains."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from cronsim import CronSim
from hypothesis import given, settings
from hypothesis import strategies as st

import partita
from partita.definitions.mappings import TimeWindow, default_mapping
from partita.definitions.partitions import (
    CronPartitions,
    DailyPartitions,
    HourlyPartitions,
    MinutePartitions,
)
from partita.errors import DefinitionError, PartitionError

_NAMES = {"MinutePartitions": partita.MinutePartitions, "CronPartitions": partita.CronPartitions}


def test_minute_keys_and_windows() -> None:
    slots = MinutePartitions(every=15, start="2024-01-01", timezone="UTC")
    assert slots.keys(0, 5) == [
        "2024-01-01T00:00",
        "2024-01-01T00:15",
        "2024-01-01T00:30",
        "2024-01-01T00:45",
        "2024-01-01T01:00",
    ]
    assert slots.index("2024-01-02T00:00") == 96
    assert slots.partition_start(97) == datetime(2024, 1, 2, 0, 15, tzinfo=UTC)
    assert slots.partition_duration(97) == timedelta(minutes=15)
    assert slots.count(datetime(2024, 1, 1, 1, 7, tzinfo=UTC)) == 4
    assert slots.describe() == "every 15 minutes from 2024-01-01T00:00 on (UTC)"
    assert slots.hive_key == "minute"


def test_minute_keys_across_days_match_one_by_one() -> None:
    slots = MinutePartitions(every=5, start="2024-02-28T23:00", timezone="Europe/Paris")
    keys = slots.keys(3, 600)
    assert keys == [slots.key(index) for index in range(3, 600)]
    assert [slots.index(key) for key in keys] == list(range(3, 600))


def test_minute_partitions_are_distinct_by_step() -> None:
    assert MinutePartitions(5, "2024-01-01") != MinutePartitions(10, "2024-01-01")
    assert MinutePartitions(5, "2024-01-01") == MinutePartitions(5, "2024-01-01")
    rebuilt = eval(repr(MinutePartitions(10, "2024-01-01", "2024-02-01")), _NAMES)
    assert rebuilt == MinutePartitions(10, "2024-01-01", "2024-02-01")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: MinutePartitions(7, "2024-01-01"), "every=7 is not one of 5, 10, 15, 30"),
        (lambda: MinutePartitions(True, "2024-01-01"), "every=True is not one of"),
        (
            lambda: MinutePartitions(15, "2024-01-01T00:05"),
            "start '2024-01-01T00:05' is not on a multiple of 15 minutes.*"
            "use start='2024-01-01T00:00'",
        ),
        (lambda: CronPartitions("bogus", "2024-01-01"), "'bogus' is not a cron schedule"),
        (
            lambda: CronPartitions("0 6 * * MON-FRI", "2024-01-06T06"),
            "start '2024-01-06T06' is not a tick of the schedule '0 6 \\* \\* MON-FRI'.*"
            "use start='2024-01-05T06:00'",
        ),
    ],
)
def test_declaration_errors(build, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        build()


def test_minute_key_errors() -> None:
    slots = MinutePartitions(every=30, start="2024-01-01")
    with pytest.raises(PartitionError, match="'2024-01-01T00:15' is not a valid minute key"):
        slots.index("2024-01-01T00:15")
    with pytest.raises(PartitionError, match="expected YYYY-MM-DDTHH:MM"):
        slots.index("2024-01-01T00")


def test_cron_business_days() -> None:
    days = CronPartitions("0 6 * * MON-FRI", start="2024-01-01T06", timezone="America/New_York")
    assert days.keys(0, 6) == [
        "2024-01-01T06:00",
        "2024-01-02T06:00",
        "2024-01-03T06:00",
        "2024-01-04T06:00",
        "2024-01-05T06:00",
        "2024-01-08T06:00",
    ]
    friday = days.index("2024-01-05T06:00")
    assert days.partition_duration(friday) == timedelta(days=3)
    # Ended by Tuesday 07:00 New York: Monday to Friday's five and Friday's weekend one.
    assert days.count(datetime(2024, 1, 9, 12, tzinfo=UTC)) == 6
    assert days.key(days.index_containing(datetime(2024, 1, 6, tzinfo=UTC))) == "2024-01-05T06:00"
    with pytest.raises(PartitionError, match=r"not a tick of the schedule.*tick before is"):
        days.index("2024-01-06T06:00")
    assert "cron '0 6 * * MON-FRI'" in days.describe()


def test_cron_indices_before_the_start() -> None:
    days = CronPartitions("0 0 1,15 * *", start="2024-03-01")
    assert days.partition_start(-1) == datetime(2024, 2, 15, tzinfo=UTC)
    assert days.partition_start(-3) == datetime(2024, 1, 15, tzinfo=UTC)
    assert days.count(datetime(2024, 2, 20, tzinfo=UTC)) == 0


def test_cron_identity_and_pickle() -> None:
    days = CronPartitions("0 6 * * MON-FRI", start="2024-01-01T06", end="2024-06-03T06")
    assert days.index_bound() == 110  # the weekdays of January to May
    assert days != CronPartitions("0 7 * * MON-FRI", start="2024-01-01T07", end="2024-06-03T07")
    rebuilt = eval(repr(days), _NAMES)
    assert rebuilt == days
    copied = pickle.loads(pickle.dumps(days))
    assert copied == days
    assert len(copied._later) == 1  # ticks are a cache, not shipped to workers
    assert copied.key(109) == days.key(109) == "2024-05-31T06:00"


def test_cron_tick_in_a_clock_gap_starts_at_the_change() -> None:
    nightly = CronPartitions("30 2 * * *", start="2024-03-08T02:30", timezone="America/New_York")
    gap_day = nightly.index("2024-03-10T02:30")  # 02:30 does not exist that night
    assert nightly.partition_start(gap_day).astimezone(UTC) == datetime(2024, 3, 10, 7, tzinfo=UTC)
    assert nightly.partition_duration(gap_day - 1) == timedelta(hours=23, minutes=30)


def test_mappings_between_minutes_hours_days_and_cron() -> None:
    slots = MinutePartitions(every=15, start="2024-01-01", timezone="Europe/Berlin")
    days = DailyPartitions(start="2024-01-01", timezone="Europe/Berlin")
    hours = HourlyPartitions(start="2024-01-01", timezone="UTC")
    assert isinstance(default_mapping(days, slots), TimeWindow)
    windows = TimeWindow().windows(days, np.array([0, 1]), slots, 1000)
    assert windows.low.tolist() == [0, 96] and windows.high.tolist() == [96, 192]
    # other timezone: Berlin's first hour is UTC 2023-12-31T23, before the hourly start
    windows = TimeWindow().windows(slots, np.array([4]), hours, 1000)
    assert (windows.low.tolist(), windows.high.tolist()) == ([0], [1])
    business = CronPartitions("0 6 * * MON-FRI", start="2024-01-01T06", timezone="Europe/Berlin")
    windows = TimeWindow().windows(business, np.array([4]), days, 1000)  # Fri 06:00 - Mon 06:00
    assert (windows.low.tolist(), windows.high.tolist()) == ([4], [8])
    windows = TimeWindow().windows(days, np.array([5, 7]), business, 1000)  # Sat, Mon
    assert (windows.low.tolist(), windows.high.tolist()) == ([4, 4], [5, 6])


@settings(max_examples=60, deadline=None)
@given(
    schedule=st.sampled_from(["*/10 * * * *", "0 6 * * MON-FRI", "30 2 * * *", "0 0 L * *"]),
    zone=st.sampled_from(["UTC", "America/New_York", "Pacific/Apia", "Antarctica/Troll"]),
    moment=st.datetimes(datetime(1975, 1, 1), datetime(2035, 1, 1)),
    probe=st.floats(0, 1),
)
def test_cron_windows_tile_and_count_agrees(schedule, zone, moment, probe) -> None:
    first = next(CronSim(schedule, moment))
    partitions = CronPartitions(schedule, first, timezone=zone)
    starts = [partitions.partition_start(index).astimezone(UTC) for index in range(-3, 31)]
    assert starts == sorted(starts)
    for index in range(-3, 30):
        assert partitions.partition_end(index) == partitions.partition_start(index + 1)
    now = starts[3] + (starts[-1] - starts[3]) * probe
    assert partitions.count(now) == sum(start <= now for start in starts[4:])
