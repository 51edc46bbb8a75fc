"""Shared for the planning tests: a small graph and hand-built partition states.

The graph: `flights` (daily, UTC) is read by `rolling` (daily, a 7-day window
`AssetDep("flights", offset=(-6, 0))`) and `monthly` (monthly); `report`
(unpartitioned) reads `monthly`; `weather` (daily) is independent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from partita import AssetDep, DailyPartitions, MonthlyPartitions, asset
from partita.catalog.records import ConsumedInput, PartitionState
from partita.graph.graph import AssetGraph, build_graph
from partita.planning.state_table import StateTable, table_from_states

DAILY = DailyPartitions(start="2024-01-01")
MONTHLY = MonthlyPartitions(start="2024-01-01")
# At NOW, daily partitions 2024-01-01 .. 2024-02-09 (40) and the month 2024-01 exist.
NOW = datetime(2024, 2, 10, tzinfo=UTC)
WHEN = datetime(2024, 2, 10, 1, tzinfo=UTC)
# Hand-built states were all published, then read, at catalog sequence SEQ.
SEQ = 1


@asset(partitions=DAILY)
def flights():
    return None


@asset(partitions=DAILY, deps=[AssetDep("flights", offset=(-6, 0))])
def rolling(flights):
    return flights


@asset(partitions=MONTHLY)
def monthly(flights):
    return flights


@asset
def report(monthly):
    return monthly


@asset(partitions=DAILY, code_version="weather-v1")
def weather():
    return None


def make_graph() -> AssetGraph:
    return build_graph([flights, rolling, monthly, report, weather])


def day(index: int) -> str:
    return DAILY.key(index)


def state(
    partition: str | None,
    data_version: str | None,
    code_version: str | None,
    inputs: Iterable[tuple[str, str | None, str]] = (),
    last_status: str = "materialized",
) -> PartitionState:
    published = data_version is not None
    return PartitionState(
        partition=partition,
        last_status=last_status,
        data_version=data_version,
        code_version=code_version,
        inputs=tuple(ConsumedInput(*item) for item in inputs),
        materialized_at=WHEN if published else None,
        last_attempt_at=WHEN,
        watermark=None,
        rows=3 if published else None,
        error=None if last_status == "materialized" else "boom",
        published_seq=SEQ if published else 0,
        consumed_seq=SEQ if published else 0,
        seq=SEQ,
        deps_version=None,  # unknown: as in catalogs from before partita kept it
    )


def republished(previous: PartitionState, data_version: str, seq: int = SEQ + 1) -> PartitionState:
    """The state after a rebuild published different data at catalog sequence `seq`."""
    return replace(previous, data_version=data_version, published_seq=seq, seq=seq)


def tables(
    graph: AssetGraph, states: Mapping[str, Mapping[str | None, PartitionState]]
) -> dict[str, StateTable]:
    """The state tables planning reads, built from hand-made states."""
    return {name: table_from_states(graph[name].partitions, s) for name, s in states.items()}


def version_of(asset_name: str, key: str | None) -> str:
    return f"{asset_name}@{key}"


def consistent_states(
    graph: AssetGraph,
    flight_days: int = 40,
    months: int = 1,
    version: Callable[[str, str | None], str] = version_of,
) -> dict[str, dict[str | None, PartitionState]]:
    """States of a fully materialized graph, built by hand (not through the planner): every
    unit recorded the versions its upstream partitions have now."""

    def code(name: str) -> str:
        return graph[name].code_version

    states: dict[str, dict[str | None, PartitionState]] = {
        name: {} for name in ("flights", "rolling", "monthly", "report", "weather")
    }
    for index in range(flight_days):
        key = day(index)
        states["flights"][key] = state(key, version("flights", key), code("flights"))
        states["weather"][key] = state(key, version("weather", key), code("weather"))
    for index in range(flight_days):
        key = day(index)
        window = [day(i) for i in range(max(0, index - 6), index + 1)]
        inputs = [("flights", k, version("flights", k)) for k in window]
        states["rolling"][key] = state(key, version("rolling", key), code("rolling"), inputs)
    for month in range(months):
        key = MONTHLY.key(month)
        inputs = [
            ("flights", day(i), version("flights", day(i)))
            for i in range(flight_days)
            if day(i).startswith(key)
        ]
        states["monthly"][key] = state(key, version("monthly", key), code("monthly"), inputs)
    inputs = [
        ("monthly", MONTHLY.key(m), version("monthly", MONTHLY.key(m))) for m in range(months)
    ]
    states["report"][None] = state(None, version("report", None), code("report"), inputs)
    return states
