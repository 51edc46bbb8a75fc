"""Watermarks: how far each asset's data has landed. Pure functions over partition states.

The high-water mark is the maximum of the asset's watermark column over its published
partitions; `complete_through` is the partition through which it is complete with no gap
since its start (the low watermark).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..catalog.records import PartitionState
from ..definitions.partitions import MultiPartitions
from ..errors import PartitionError
from ..graph.graph import AssetGraph
from .staleness import States


@dataclass(frozen=True)
class CombinationWatermark:
    """The watermarks of one combination of a multi-dimensional asset's non-time
    dimensions (`group`, such as `region=eu`): its time keys."""

    group: str
    high_water: str | None
    latest_partition: str | None
    complete_through: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "high_water": self.high_water,
            "latest_partition": self.latest_partition,
            "complete_through": self.complete_through,
        }


@dataclass(frozen=True)
class WatermarkReport:
    """An asset's watermarks; for a multi-dimensional asset with time, `complete_through`
    is the time key through which every combination is complete, and `combinations` has
    each one's own."""

    asset: str
    high_water: str | None
    latest_partition: str | None
    complete_through: str | None
    combinations: tuple[CombinationWatermark, ...] = ()

    def to_json(self) -> dict[str, Any]:
        found = {
            "asset": self.asset,
            "high_water": self.high_water,
            "latest_partition": self.latest_partition,
            "complete_through": self.complete_through,
        }
        if self.combinations:
            found["combinations"] = [c.to_json() for c in self.combinations]
        return found


def _sort_key(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return (2, value)
    # As instants: text order is wrong across offsets (a DST change, another zone).
    return (1, (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def max_watermark(marks: Iterable[str | None]) -> str | None:
    """The greatest of some watermarks (numbers compare as numbers, ISO timestamps as instants)."""
    present = [mark for mark in marks if mark is not None]
    return max(present, key=_sort_key) if present else None


def high_water_mark(states: Iterable[PartitionState]) -> str | None:
    """The maximum watermark over an asset's published partitions."""
    return max_watermark(state.watermark for state in states)


def parse_watermark(text: str | None) -> Any:
    """A stored watermark back as a datetime, int or float when it reads as one."""
    if text is None:
        return None
    for parse in (int, float, datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    return text


def latest_materialized(graph: AssetGraph, asset: str, states: States) -> str | None:
    """The key of the asset's latest partition holding published data."""
    partitions = graph[asset].partitions
    published = [key for key, s in states.get(asset, {}).items() if s.data_version is not None]
    if partitions is None or not published:
        return None
    indices = []
    for key in published:
        try:
            indices.append(partitions.index(key))
        except Exception:  # a key from an older declaration of the partitions
            continue
    return partitions.key(max(indices)) if indices else None


def complete_through(graph: AssetGraph, asset: str, states: States, now: datetime) -> str | None:
    """The last key of the gap-free run of published partitions from the asset's start
    (for multi-dimensional partitions with time: the time key through which every
    combination is complete)."""
    partitions = graph[asset].partitions
    if partitions is None:
        return None
    if isinstance(partitions, MultiPartitions) and partitions.time is not None:
        reports = combination_watermarks(partitions, states.get(asset, {}), now)
        throughs = [report.complete_through for report in reports]
        if None in throughs:
            return None
        return partitions.time.key(min(partitions.time.index(key) for key in throughs))
    published = {key for key, s in states.get(asset, {}).items() if s.data_version is not None}
    available = partitions.count(now)
    through = None
    for index in range(available):
        key = partitions.key(index)
        if key not in published:
            break
        through = key
    return through


def combination_watermarks(
    partitions: MultiPartitions, states: Mapping[str | None, PartitionState], now: datetime
) -> tuple[CombinationWatermark, ...]:
    """Per combination of the non-time dimensions, its watermarks over time."""
    time = partitions.time
    assert time is not None
    size = partitions.combinations
    published: dict[int, set[int]] = {combination: set() for combination in range(size)}
    marks: dict[int, list[str | None]] = {combination: [] for combination in range(size)}
    for key, state in states.items():
        if state.data_version is None or key is None:
            continue
        try:
            time_index, combination = partitions.split(partitions.index(key))
        except PartitionError:  # a key from an older declaration of the partitions
            continue
        published[combination].add(time_index)
        marks[combination].append(state.watermark)
    available = time.count(now)
    reports = []
    for combination in range(size):
        done = published[combination]
        through = 0
        while through < available and through in done:
            through += 1
        reports.append(
            CombinationWatermark(
                partitions.combination_label(combination),
                max_watermark(marks[combination]),
                time.key(max(done)) if done else None,
                time.key(through - 1) if through else None,
            )
        )
    return tuple(reports)


def build_watermarks(
    graph: AssetGraph, assets: list[str], states: States, now: datetime
) -> list[WatermarkReport]:
    reports = []
    for asset in assets:
        partitions = graph[asset].partitions
        combinations: tuple[CombinationWatermark, ...] = ()
        if isinstance(partitions, MultiPartitions) and partitions.time is not None:
            combinations = combination_watermarks(partitions, states.get(asset, {}), now)
        reports.append(
            WatermarkReport(
                asset,
                high_water_mark(states.get(asset, {}).values()),
                latest_materialized(graph, asset, states),
                complete_through(graph, asset, states, now),
                combinations,
            )
        )
    return reports
