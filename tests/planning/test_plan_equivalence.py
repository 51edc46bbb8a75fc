"""build_plan (whole assets at once, over columns) gives every unit exactly the reason
that stale_reason (one unit at a time, what the runner checks) gives it, on random states
over graphs with every kind of partition mapping."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import event, given, settings
from hypothesis import strategies as st

from partita import (
    AssetDep,
    DailyPartitions,
    HourlyPartitions,
    MonthlyPartitions,
    StaticPartitions,
    asset,
)
from partita.catalog.records import PartitionState
from partita.graph.graph import build_graph
from partita.planning.plan import build_plan
from partita.planning.staleness import Lineage, stale_reason
from partita.planning.targets import PartitionRange, target_indices

from . import tables

DAYS = DailyPartitions(start="2024-01-01", end="2024-03-05")
HOURS = HourlyPartitions(start="2024-01-30T00", end="2024-02-02T00")
REGIONS = StaticPartitions(["eu", "us", "apac"])
NOW = datetime(2024, 3, 1, tzinfo=UTC)


@asset(partitions=DAYS)
def days():
    return None


@asset(partitions=DAYS, deps=[AssetDep("days", offset=(-3, 1))])
def rolling(days):
    return days


@asset(partitions=MonthlyPartitions(start="2024-01-01"))
def months(days):
    return days


@asset(partitions=HOURS)
def hours(days, rolling):
    return days


@asset
def dimension():
    return None


@asset(partitions=DAYS)
def enriched(days, dimension):
    return days


@asset
def everything(months, hours):
    return months


@asset(partitions=REGIONS)
def regions():
    return None


@asset(partitions=REGIONS)
def by_region(regions, dimension):
    return regions


GRAPH = build_graph(
    [days, rolling, months, hours, dimension, enriched, everything, regions, by_region]
)
CODES = {name: GRAPH[name].code_version for name in GRAPH.order}
DEPS = {name: GRAPH.deps_version(name) for name in GRAPH.order}


def reference(assets, requested, states, force):
    """The plan, one unit at a time, as the runner would judge each unit."""
    lineage = Lineage(GRAPH, NOW)
    planned: set = set()
    result = []
    for name in GRAPH.sorted(assets):
        indices = target_indices(GRAPH[name], requested, NOW)
        for index in [None] if indices is None else indices:
            key = lineage.key(name, index)
            reason = stale_reason(lineage, name, index, states, planned, force)
            if reason is not None:
                planned.add((name, key))
            result.append((name, key, reason))
    return result


@st.composite
def partition_state(draw, name: str, key: str | None) -> PartitionState | None:
    status = draw(st.sampled_from(["none", "materialized", "failed", "interrupted"]))
    if status == "none":
        return None
    published = status == "materialized" or draw(st.booleans())
    return PartitionState(
        partition=key,
        last_status=status,
        data_version=f"{name}@{key}" if published else None,
        code_version=draw(st.sampled_from([CODES[name], "old"])) if published else None,
        inputs=(),
        materialized_at=NOW if published else None,
        last_attempt_at=NOW,
        watermark=None,
        rows=None,
        error=None,
        # Few distinct sequences, so windows often hold one newer than what was consumed.
        published_seq=draw(st.integers(1, 8)) if published else 0,
        consumed_seq=draw(st.integers(0, 8)) if published else 0,
        deps_version=draw(st.sampled_from([DEPS[name], "old", None])) if published else None,
    )


@st.composite
def catalog_states(draw) -> dict:
    states: dict = {}
    for name in GRAPH.order:
        partitions = GRAPH[name].partitions
        keys = [None] if partitions is None else partitions.keys(0, partitions.count(NOW))
        # Mostly consistent assets with a few odd partitions, as real catalogs are.
        odd = draw(st.sets(st.integers(0, len(keys) - 1), max_size=4))
        published_at, read_at = draw(st.integers(1, 6)), draw(st.integers(3, 6))
        by_key = {}
        for position, key in enumerate(keys):
            if position in odd:
                found = draw(partition_state(name, key))
            else:
                found = PartitionState(
                    key, "materialized", f"{name}@{key}", CODES[name], (), NOW, NOW,
                    None, None, None, published_seq=published_at, consumed_seq=read_at,
                    deps_version=DEPS[name],
                )  # fmt: skip
            if found is not None:
                by_key[key] = found
        states[name] = by_key
    return states


@settings(max_examples=150, deadline=None)
@given(
    states=catalog_states(),
    assets=st.lists(st.sampled_from(GRAPH.order), min_size=1, unique=True),
    requested=st.sampled_from(
        [PartitionRange(), PartitionRange("2024-01-31", "2024-02-01"), PartitionRange.single("us")]
    ),
    force=st.sampled_from([False, False, False, True]),
)
def test_the_vectorized_plan_gives_every_unit_the_reason_of_stale_reason(
    states, assets, requested, force
) -> None:
    if requested.first == "us":
        assets = [a for a in assets if GRAPH[a].partitions in (REGIONS, None)] or ["regions"]
    elif not requested.everything:
        assets = [a for a in assets if GRAPH[a].partitions not in (REGIONS,)] or ["days"]
    plan = build_plan(GRAPH, assets, requested, tables(GRAPH, states), NOW, force)
    got = [(unit.asset, unit.partition, unit.reason) for unit in plan.units]
    expected = reference(assets, requested, states, force)
    for _, _, reason in expected:
        event(str(reason).split(":")[0])
    assert got == expected
