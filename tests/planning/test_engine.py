"""The one staleness engine on random states over a graph with every kind of partition
mapping: the check the runner makes just before a unit agrees with the whole-asset plan,
and re-planning right after a plan's results are applied plans nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from partita import (
    AssetDep,
    DailyPartitions,
    HourlyPartitions,
    LastPartition,
    MonthlyPartitions,
    StaticPartitions,
    asset,
)
from partita.catalog.records import PartitionState
from partita.definitions.mappings import AllPartitions
from partita.graph.graph import build_graph
from partita.planning.plan import build_plan, check_unit
from partita.planning.targets import PartitionRange

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


@asset(
    partitions=DAYS,
    deps=[AssetDep("hours", mapping=LastPartition()), AssetDep("regions", mapping=AllPartitions())],
)
def latest(hours, regions):
    return hours


GRAPH = build_graph(
    [days, rolling, months, hours, dimension, enriched, everything, regions, by_region, latest]
)
CODES = {name: GRAPH[name].code_version for name in GRAPH.order}
DEPS = {name: GRAPH.deps_version(name) for name in GRAPH.order}


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


REQUESTS = st.sampled_from(
    [PartitionRange(), PartitionRange("2024-01-31", "2024-02-01"), PartitionRange.single("us")]
)


def _selection(assets, requested):
    if requested.first == "us":
        return [a for a in assets if GRAPH[a].partitions in (REGIONS, None)] or ["regions"]
    if not requested.everything:
        return [a for a in assets if GRAPH[a].partitions not in (REGIONS,)] or ["days"]
    return assets


@settings(max_examples=150, deadline=None)
@given(
    states=catalog_states(),
    assets=st.lists(st.sampled_from(GRAPH.order), min_size=1, unique=True),
    requested=REQUESTS,
    force=st.sampled_from([False, False, False, True]),
)
def test_the_check_before_a_unit_runs_agrees_with_the_plan(
    states, assets, requested, force
) -> None:
    """Planned alone (nothing upstream pending), each unit gets from `check_unit`, on the
    same states, exactly the reason the whole-asset plan gives it."""
    tables_now = tables(GRAPH, states)
    for name in _selection(assets, requested):
        plan = build_plan(GRAPH, [name], requested, tables_now, NOW, force).asset_plan(name)
        positions = np.arange(len(plan))
        for position, unit, reads in zip(
            positions, plan.units(positions), plan.reads(positions), strict=True
        ):
            expected = plan.reason(int(position))
            event(str(expected).split(":")[0])
            assert check_unit(GRAPH, replace(unit, reads=reads), states, force) == expected


@settings(max_examples=100, deadline=None)
@given(
    states=catalog_states(),
    assets=st.lists(st.sampled_from(GRAPH.order), min_size=1, unique=True),
    requested=REQUESTS,
    identical=st.booleans(),
)
def test_replanning_right_after_applying_a_plans_results_plans_nothing(
    states, assets, requested, identical
) -> None:
    """Run every planned unit as the runner would (upstream first, each reading at the
    current catalog sequence and publishing at the next; an identical rebuild keeps its
    published sequence): the same request then plans nothing."""
    assets = _selection(assets, requested)
    plan = build_plan(GRAPH, assets, requested, tables(GRAPH, states), NOW)
    states = {name: dict(by_key) for name, by_key in states.items()}
    sequence = max((s.seq for by_key in states.values() for s in by_key.values()), default=8)
    sequence = max(sequence, 8)  # the strategy's sequences go up to 8
    for unit in plan.units:
        if unit.reason is None:
            continue
        previous = states[unit.asset].get(unit.partition)
        version = f"{unit.asset}@{unit.partition}"
        keep = identical and previous is not None and previous.data_version == version
        states[unit.asset][unit.partition] = PartitionState(
            unit.partition, "materialized", version if keep else version + "'",
            CODES[unit.asset], (), NOW, NOW, None, None, None,
            published_seq=previous.published_seq if keep else sequence + 1,
            consumed_seq=sequence, seq=sequence + 1, deps_version=DEPS[unit.asset],
        )  # fmt: skip
        sequence += 1
    replanned = build_plan(GRAPH, assets, requested, tables(GRAPH, states), NOW)
    assert replanned.to_run_count == 0, [(u.unit, str(u.reason)) for u in replanned.to_run]
