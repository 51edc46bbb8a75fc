"""Partition schemes: how an asset is split into keys, each covering a half-open interval.

Time partitions cover consecutive half-open intervals [start, end) of logical time in their
timezone; static partitions are a fixed list of names. Index arithmetic is O(1): nothing
iterates over partitions and nothing reads the current time. One module per kind.
"""

from __future__ import annotations

from .base import Partitions, clip_range
from .cadences import DailyPartitions, HourlyPartitions, MonthlyPartitions, WeeklyPartitions
from .cron import CronPartitions
from .dynamic import DynamicPartitions
from .minutes import MinutePartitions
from .multi import MultiPartitions
from .static import StaticPartitions
from .time import TimePartitions

__all__ = [
    "CronPartitions",
    "DailyPartitions",
    "DynamicPartitions",
    "HourlyPartitions",
    "MinutePartitions",
    "MonthlyPartitions",
    "MultiPartitions",
    "Partitions",
    "StaticPartitions",
    "TimePartitions",
    "WeeklyPartitions",
    "clip_range",
]
