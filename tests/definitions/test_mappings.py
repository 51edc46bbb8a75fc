"""Partition mappings: examples of each, their definition errors, and the overlap rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partita.definitions.mappings import (
    AllPartitions,
    Identity,
    LastPartition,
    PartitionMapping,
    StaticKeys,
    TimeWindow,
    default_mapping,
)
from partita.definitions.partitions import (
    DailyPartitions,
    HourlyPartitions,
    MonthlyPartitions,
    Partitions,
    StaticPartitions,
    TimePartitions,
    WeeklyPartitions,
)

from .mappings import small_time_partitions

DAILY_2013 = DailyPartitions("2013-01-01", "2014-01-01")
MONTHLY_2013 = MonthlyPartitions("2013-01", "2014-01")
REGIONS = StaticPartitions(["eu", "us"])


def window(
    mapping: PartitionMapping,
    downstream: Partitions | None,
    index: int,
    upstream: Partitions | None,
    count: int,
) -> range:
    """The upstream indices downstream partition `index` reads."""
    mapped = mapping.windows(downstream, np.array([index]), upstream, count)
    return range(int(mapped.low[0]), int(mapped.high[0]))


def clipped(mapping, downstream, index, upstream, count) -> bool:
    return bool(mapping.windows(downstream, np.array([index]), upstream, count).clipped[0])


# Examples


def test_monthly_downstream_reads_the_days_of_its_month() -> None:
    february = MONTHLY_2013.index("2013-02")
    days = window(TimeWindow(), MONTHLY_2013, february, DAILY_2013, DAILY_2013.count())
    assert days == range(31, 59)
    assert DAILY_2013.key(days[0]) == "2013-02-01"
    assert DAILY_2013.key(days[-1]) == "2013-02-28"


def test_daily_downstream_reads_the_month_containing_it() -> None:
    day = DAILY_2013.index("2013-02-14")
    assert window(TimeWindow(), DAILY_2013, day, MONTHLY_2013, 12) == range(1, 2)


def test_rolling_window_is_clipped_to_the_partitions_that_exist() -> None:
    rolling = TimeWindow(offset=(-6, 0))
    assert window(rolling, DAILY_2013, 3, DAILY_2013, 365) == range(0, 4)
    assert clipped(rolling, DAILY_2013, 3, DAILY_2013, 365)
    assert window(rolling, DAILY_2013, 10, DAILY_2013, 365) == range(4, 11)
    assert not clipped(rolling, DAILY_2013, 10, DAILY_2013, 365)
    # upstream partitions that don't exist yet are left out
    assert window(rolling, DAILY_2013, 10, DAILY_2013, 8) == range(4, 8)
    assert window(rolling, DAILY_2013, 10, DAILY_2013, 2) == range(2, 2)
    assert clipped(rolling, DAILY_2013, 10, DAILY_2013, 2)


def test_offset_applies_to_the_overlap() -> None:
    weekly = WeeklyPartitions("2012-12-31")
    # the week of 2013-01-07 overlaps days 6..12; (-1, 1) widens that by a day each side
    assert window(TimeWindow((-1, 1)), weekly, 1, DAILY_2013, 365) == range(5, 14)
    assert window(TimeWindow((-1, -1)), weekly, 1, weekly, 100) == range(0, 1)


def test_all_partitions_reads_every_existing_upstream_partition() -> None:
    assert window(AllPartitions(), DAILY_2013, 4, None, 1) == range(0, 1)
    assert window(AllPartitions(), None, 0, DAILY_2013, 20) == range(0, 20)
    assert window(AllPartitions(), REGIONS, 1, REGIONS, 2) == range(0, 2)
    assert AllPartitions().validate(None, DAILY_2013) is None


def test_last_partition_reads_the_latest_existing_upstream_partition() -> None:
    assert window(LastPartition(), DAILY_2013, 4, DAILY_2013, 20) == range(19, 20)
    assert window(LastPartition(), None, 0, MONTHLY_2013, 3) == range(2, 3)
    assert window(LastPartition(), DAILY_2013, 4, DAILY_2013, 0) == range(0, 0)
    assert clipped(LastPartition(), DAILY_2013, 4, DAILY_2013, 0)


def test_identity_reads_the_same_index() -> None:
    assert window(Identity(), REGIONS, 1, REGIONS, 2) == range(1, 2)
    assert window(Identity(), DAILY_2013, 7, DAILY_2013, 365) == range(7, 8)
    assert Identity().validate(DAILY_2013, MONTHLY_2013) is not None


def test_across_timezones_and_cadences() -> None:
    hourly_new_york = HourlyPartitions("2013-01-01", timezone="America/New_York")
    # the UTC day 2013-01-02 is 19:00 on 01-01 to 19:00 on 01-02 in New York (EST, UTC-5)
    day = DAILY_2013.index("2013-01-02")
    hours = window(TimeWindow(), DAILY_2013, day, hourly_new_york, 1000)
    assert hours == range(19, 43)
    assert hourly_new_york.key(hours[0]) == "2013-01-01T19"
    daily_tokyo = DailyPartitions("2013-01-01", timezone="Asia/Tokyo")
    # a Tokyo day straddles two UTC days
    assert window(TimeWindow(), daily_tokyo, 1, DAILY_2013, 365) == range(0, 2)


def test_static_keys_map_by_key_or_by_the_given_renaming() -> None:
    upstream = StaticPartitions(["us", "asia", "eu"])
    assert window(StaticKeys(), REGIONS, 0, upstream, 3) == range(2, 3)
    assert window(StaticKeys(), REGIONS, 1, upstream, 3) == range(0, 1)
    renamed = StaticKeys({"eu": "asia"})
    assert window(renamed, REGIONS, 0, upstream, 3) == range(1, 2)
    assert renamed.validate(REGIONS, upstream) is None
    assert StaticKeys({"eu": "mars"}).validate(REGIONS, upstream) is not None
    assert StaticKeys({"eu": "asia"}) == StaticKeys({"eu": "asia"})


def test_default_mappings() -> None:
    assert default_mapping(DAILY_2013, DAILY_2013) == Identity()
    assert default_mapping(DAILY_2013, MONTHLY_2013) == TimeWindow()
    assert default_mapping(DAILY_2013, DAILY_2013, (-6, 0)) == TimeWindow((-6, 0))
    assert default_mapping(None, DAILY_2013) == AllPartitions()
    assert default_mapping(REGIONS, None) == AllPartitions()
    assert default_mapping(REGIONS, StaticPartitions(["us", "eu"])) == StaticKeys()


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
def test_the_default_mapping_explains_problems(
    downstream: Partitions | None,
    upstream: Partitions | None,
    offset: tuple[int, int] | None,
    message: str,
) -> None:
    problem = default_mapping(downstream, upstream, offset).validate(downstream, upstream)
    assert problem is not None
    assert re.search(message, problem), problem


# Invariants


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
def test_a_time_window_reads_the_upstream_partitions_overlapping_the_downstream_interval(
    downstream: TimePartitions, upstream: TimePartitions, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, downstream.count() - 1))
    found = window(TimeWindow(), downstream, index, upstream, upstream.count())
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
