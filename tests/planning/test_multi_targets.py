"""Targets of multi-dimensional assets: time keys, --where, and the partition cap."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest

from partita import (
    DailyPartitions,
    HourlyPartitions,
    MultiPartitions,
    StaticPartitions,
    asset,
)
from partita.errors import PartitionError
from partita.planning.targets import (
    MAX_PARTITIONS,
    PartitionRange,
    check_where,
    target_indices,
    where_mask,
)

NOW = datetime(2024, 1, 11, tzinfo=UTC)
SALES = MultiPartitions(
    region=StaticPartitions(["eu", "us", "asia"]),
    date=DailyPartitions(start="2024-01-01"),
    product=StaticPartitions(["p1", "p2"]),
)


@asset(partitions=SALES)
def sales():
    return None


@asset(partitions=DailyPartitions(start="2024-01-01"))
def daily():
    return None


def test_time_keys_stand_for_every_combination_of_their_days() -> None:
    assert target_indices(sales, PartitionRange(), NOW) == range(0, 60)
    assert target_indices(sales, PartitionRange("2024-01-02", "2024-01-03"), NOW) == range(6, 18)
    # a key of another grain: the days of January that exist at NOW
    assert target_indices(sales, PartitionRange("2024-01", "2024-01"), NOW) == range(0, 60)
    one = PartitionRange.single("us|2024-01-02|p2")
    index = SALES.index("us|2024-01-02|p2")
    assert (index, target_indices(sales, one, NOW)) == (9, range(9, 10))


def test_where_keeps_the_combinations_named() -> None:
    indices = np.arange(12)
    kept = where_mask(sales, indices, (("region", ("eu", "asia")), ("product", ("p2",))))
    assert [SALES.key(int(i)) for i in indices[kept]] == [
        "eu|2024-01-01|p2",
        "asia|2024-01-01|p2",
        "eu|2024-01-02|p2",
        "asia|2024-01-02|p2",
    ]
    assert where_mask(daily, indices, (("region", ("eu",)),)) is None  # no such dimension
    with pytest.raises(PartitionError, match="--where region=mars names a value"):
        where_mask(sales, indices, (("region", ("mars",)),))
    with pytest.raises(PartitionError, match="no selected asset has a dimension 'planet'"):
        check_where([sales, daily], (("planet", ("mars",)),))


def test_the_partition_cap_names_the_latest_now_for_multi_partitions() -> None:
    wide = MultiPartitions(
        hour=HourlyPartitions(start="2024-01-01T00"),
        shard=StaticPartitions([f"s{i}" for i in range(1000)]),
    )

    @asset(partitions=wide)
    def sharded():
        return None

    hours = MAX_PARTITIONS // 1000
    latest = HourlyPartitions(start="2024-01-01T00").partition_end(hours - 1).isoformat()
    with pytest.raises(PartitionError, match=re.escape(f"--now must be at most {latest}")):
        target_indices(sharded, PartitionRange(), datetime(2030, 1, 1, tzinfo=UTC))
