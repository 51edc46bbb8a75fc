"""target_indices: which partitions a command targets, from CLI keys and ranges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from partita import (
    DailyPartitions,
    HourlyPartitions,
    MonthlyPartitions,
    StaticPartitions,
    WeeklyPartitions,
    asset,
)
from partita.errors import PartitionError
from partita.graph.graph import build_graph
from partita.planning.plan import build_plan
from partita.planning.targets import PartitionRange, target_indices

NOW = datetime(2024, 2, 10, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


@asset(partitions=DailyPartitions(start="2024-01-01"))
def daily():
    return None


@asset(partitions=MonthlyPartitions(start="2024-01-01"))
def monthly():
    return None


@asset(partitions=WeeklyPartitions(start="2024-01-01"))
def weekly():
    return None


@asset(partitions=HourlyPartitions(start="2024-01-01T00"))
def hourly():
    return None


@asset(partitions=StaticPartitions(["eu", "us", "asia"]))
def regions():
    return None


@asset(partitions=DailyPartitions(start="2024-01-01", timezone="America/New_York"))
def new_york():
    return None


@asset
def whole():
    return None


def targets(definition, first=None, last=None, now=NOW):
    return target_indices(definition, PartitionRange(first, last), now)


def test_an_unpartitioned_asset_has_no_indices() -> None:
    assert targets(whole) is None
    assert targets(whole, "2024-01-01", "2024-01-01") is None


def test_everything_means_every_partition_complete_at_now() -> None:
    assert targets(daily) == range(0, 40)  # 2024-01-01 .. 2024-02-09
    assert targets(monthly) == range(0, 1)  # February is not over
    assert targets(weekly) == range(0, 5)  # Mondays Jan 1 .. Jan 29
    assert targets(hourly) == range(0, 40 * 24)
    assert targets(regions) == range(0, 3)
    assert targets(daily, now=datetime(2024, 1, 1, 23, tzinfo=UTC)) == range(0, 0)


def test_one_key_is_one_partition() -> None:
    assert targets(daily, "2024-01-05", "2024-01-05") == range(4, 5)
    assert targets(regions, "us", "us") == range(1, 2)
    assert targets(hourly, "2024-01-02T03", "2024-01-02T03") == range(27, 28)
    single = target_indices(daily, PartitionRange.single("2024-02-09"), NOW)
    assert single == range(39, 40)


def test_from_and_to_are_inclusive() -> None:
    assert targets(daily, "2024-01-05", "2024-01-07") == range(4, 7)
    assert targets(regions, "eu", "asia") == range(0, 3)


def test_only_from_or_only_to_is_open_on_the_other_side() -> None:
    assert targets(daily, "2024-02-01", None) == range(31, 40)
    assert targets(daily, None, "2024-01-03") == range(0, 3)


def test_a_key_of_another_granularity_selects_the_overlapping_partitions() -> None:
    assert targets(monthly, "2024-01-17", "2024-01-17") == range(0, 1)
    assert targets(daily, "2024-01", "2024-01") == range(0, 31)
    assert targets(daily, "2024-01-02T05", "2024-01-02T05") == range(1, 2)
    assert targets(hourly, "2024-01-02", "2024-01-02") == range(24, 48)
    # a Wednesday selects its week (keyed by the Monday)
    assert targets(weekly, "2024-01-10", "2024-01-10") == range(1, 2)
    # a month only partly complete at now is clipped to the complete days
    assert targets(daily, "2024-02", "2024-02") == range(31, 40)
    # mixed: from a day to the end of a month
    assert targets(daily, "2024-01-30", "2024-02") == range(29, 40)


def test_from_after_to_is_an_error() -> None:
    with pytest.raises(PartitionError, match="--from 2024-01-07 is after --to 2024-01-05"):
        targets(daily, "2024-01-07", "2024-01-05")
    with pytest.raises(PartitionError, match="is after"):
        targets(regions, "asia", "eu")


def test_a_key_not_complete_at_now_is_an_error() -> None:
    with pytest.raises(PartitionError, match="not complete") as raised:
        targets(daily, "2024-02-10", "2024-02-10")
    assert "2024-02-09" in str(raised.value)  # names the latest complete partition
    with pytest.raises(PartitionError, match="not complete"):
        targets(monthly, "2024-02", "2024-02")
    with pytest.raises(PartitionError, match="not complete"):
        targets(daily, "2024-01-05", "2024-03-01")
    with pytest.raises(PartitionError, match="none yet"):
        targets(daily, "2024-01-01", "2024-01-01", now=datetime(2024, 1, 1, 12, tzinfo=UTC))


def test_completeness_follows_the_partitions_timezone() -> None:
    # the New York day 2024-01-01 ends at 2024-01-02T05:00Z
    before = datetime(2024, 1, 2, 4, 59, tzinfo=UTC)
    after = datetime(2024, 1, 2, 5, tzinfo=UTC)
    with pytest.raises(PartitionError, match="not complete"):
        targets(new_york, "2024-01-01", "2024-01-01", now=before)
    assert targets(new_york, "2024-01-01", "2024-01-01", now=after) == range(0, 1)
    assert targets(new_york, now=after) == range(0, 1)


@pytest.mark.parametrize("key", ["2024-13-01", "yesterday", "2024/01/05", "2023-12-31"])
def test_a_bad_daily_key_is_an_error_naming_the_asset(key) -> None:
    with pytest.raises(PartitionError, match="asset 'daily'"):
        targets(daily, key, key)


def test_an_unknown_static_key_is_an_error() -> None:
    with pytest.raises(PartitionError, match="asset 'regions'"):
        targets(regions, "mars", "mars")
    with pytest.raises(PartitionError, match="asset 'regions'"):
        targets(regions, "2024-01-01", "2024-01-01")


def test_a_range_key_never_reaches_past_now() -> None:
    # a monthly key for a daily asset may reach past now, but only complete days are kept
    indices = targets(daily, "2024-01-15", "2024-02")
    assert indices == range(14, 40)
    assert daily.partitions.key(indices[-1]) == "2024-02-09"


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        # 69,916,152 hourly partitions: planning them took 15 s and 2 GB before failing
        (hourly, r"asset 'hourly': at now=9999-12-31T00:00:00\+00:00 it would have 69,916,152"),
        (daily, r"asset 'daily': now=9999-12-31T00:00:00\+00:00 is outside what its partitions"),
    ],
)
def test_a_now_beyond_what_the_partitions_can_plan_fails_before_planning(
    definition, message
) -> None:
    graph = build_graph([definition])
    with pytest.raises(PartitionError, match=message) as raised:
        build_plan(graph, [definition.name], PartitionRange(), {}, FAR_FUTURE)
    assert "--now" in str(raised.value)
