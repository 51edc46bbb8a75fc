"""What an asset function receives in its `context` parameter."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class AssetContext:
    """The unit being materialized: which asset and partition, its interval, and the run.

    `partition_start`/`partition_end` bound the partition's half-open interval
    `[partition_start, partition_end)` in logical time (None for unpartitioned and static
    assets; the time dimension's for multi-dimensional ones). `partition_keys` gives the
    key by dimension name (`context.partition_keys["region"]`; `{"date": key}` for daily).
    `partition_duration` is the interval's elapsed length: 23 hours for a spring-forward
    day, zero for a slot the clock skipped. Don't compute it as `partition_end -
    partition_start`: Python subtracts datetimes that share a tzinfo on the wall clock,
    which gives 24 hours for that day. `watermark` is the asset's previous high-water mark
    (None the first time): a datetime, int or float when the column held one, else text.
    """

    asset_name: str
    partition_key: str | None
    partition_start: datetime | None
    partition_end: datetime | None
    run_id: str
    log: logging.Logger
    watermark: object = None
    partition_duration: timedelta | None = None
    partition_keys: Mapping[str, str] | None = None
