"""build_plan: units in topological order, reasons, propagation, and re-planning."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from partita.planning.plan import build_plan
from partita.planning.reasons import ReasonKind
from partita.planning.status import build_status
from partita.planning.targets import PartitionRange

from . import DAILY, MONTHLY, NOW, consistent_states, day, make_graph, republished, tables

GRAPH = make_graph()
ALL = ["flights", "rolling", "monthly", "report", "weather"]


def planned(plan) -> dict[tuple[str, str | None], str]:
    return {(u.asset, u.partition): str(u.reason) for u in plan.to_run}


def test_an_empty_catalog_plans_every_existing_partition_in_topological_order() -> None:
    plan = build_plan(GRAPH, ALL, PartitionRange(), {}, NOW)
    assert plan.now == NOW
    assert len(plan.units) == 40 + 40 + 1 + 1 + 40
    assert all(str(u.reason) == "missing" for u in plan.units)
    order = [u.asset for u in plan.units]
    assert order.index("report") > order.index("monthly")
    assert max(i for i, a in enumerate(order) if a == "flights") < order.index("monthly")
    assert max(i for i, a in enumerate(order) if a == "flights") < order.index("rolling")
    flights = [u for u in plan.units if u.asset == "flights"]
    assert [u.partition for u in flights] == [day(i) for i in range(40)]
    assert [u.index for u in flights] == list(range(40))
    assert next(u for u in plan.units if u.asset == "report").partition is None


def test_a_consistent_catalog_plans_nothing() -> None:
    plan = build_plan(GRAPH, ALL, PartitionRange(), tables(GRAPH, consistent_states(GRAPH)), NOW)
    assert plan.to_run == []
    assert len(plan.units) == 122


def test_a_stale_upstream_partition_plans_exactly_the_partitions_that_read_it() -> None:
    states = consistent_states(GRAPH)
    jan_5 = states["flights"]["2024-01-05"]
    states["flights"]["2024-01-05"] = replace(jan_5, last_status="failed", error="boom")
    plan = build_plan(GRAPH, ALL, PartitionRange(), tables(GRAPH, states), NOW)
    stale = "upstream stale: flights 2024-01-05"
    assert planned(plan) == {
        ("flights", "2024-01-05"): "failed last time",
        **{("rolling", f"2024-01-{d:02d}"): stale for d in range(5, 12)},
        ("monthly", "2024-01"): stale,
        ("report", None): "upstream stale: monthly 2024-01",
    }


def test_a_missing_february_day_does_not_touch_january() -> None:
    states = consistent_states(GRAPH)
    del states["flights"]["2024-02-09"]
    plan = build_plan(GRAPH, ALL, PartitionRange(), tables(GRAPH, states), NOW)
    assert planned(plan) == {
        ("flights", "2024-02-09"): "missing",
        ("rolling", "2024-02-09"): "upstream stale: flights 2024-02-09",
    }


def test_a_changed_upstream_propagates_through_its_stale_readers() -> None:
    states = consistent_states(GRAPH)
    states["flights"]["2024-01-31"] = republished(states["flights"]["2024-01-31"], "v2")
    plan = build_plan(GRAPH, ALL, PartitionRange(), tables(GRAPH, states), NOW)
    changed = "upstream changed: flights 2024-01-31"
    assert planned(plan) == {
        **{("rolling", day(i)): changed for i in range(30, 37)},
        ("monthly", "2024-01"): changed,
        ("report", None): "upstream stale: monthly 2024-01",
    }


def test_a_code_change_plans_every_partition_of_that_asset_and_its_readers() -> None:
    states = consistent_states(GRAPH)
    states["monthly"] = {
        key: replace(s, code_version="old") for key, s in states["monthly"].items()
    }
    plan = build_plan(GRAPH, ALL, PartitionRange(), tables(GRAPH, states), NOW)
    assert planned(plan) == {
        ("monthly", "2024-01"): "code changed",
        ("report", None): "upstream stale: monthly 2024-01",
    }


def test_force_plans_every_targeted_unit() -> None:
    states = consistent_states(GRAPH)
    plan = build_plan(
        GRAPH, ["monthly", "report"], PartitionRange(), tables(GRAPH, states), NOW, force=True
    )
    assert planned(plan) == {("monthly", "2024-01"): "forced", ("report", None): "forced"}


def test_a_partition_range_limits_the_plan_but_not_the_reads() -> None:
    states = consistent_states(GRAPH)
    del states["flights"]["2024-01-05"]
    requested = PartitionRange("2024-01-05", "2024-01-06")
    plan = build_plan(GRAPH, ["flights", "rolling"], requested, tables(GRAPH, states), NOW)
    assert [(u.asset, u.partition) for u in plan.units] == [
        ("flights", "2024-01-05"),
        ("flights", "2024-01-06"),
        ("rolling", "2024-01-05"),
        ("rolling", "2024-01-06"),
    ]
    assert planned(plan) == {
        ("flights", "2024-01-05"): "missing",
        ("rolling", "2024-01-05"): "upstream stale: flights 2024-01-05",
        ("rolling", "2024-01-06"): "upstream stale: flights 2024-01-05",
    }


def test_a_day_key_plans_the_month_containing_it_in_a_monthly_asset() -> None:
    plan = build_plan(GRAPH, ["monthly"], PartitionRange.single("2024-01-17"), {}, NOW)
    assert [(u.asset, u.partition, str(u.reason)) for u in plan.units] == [
        ("monthly", "2024-01", "missing")
    ]


def test_an_unselected_stale_upstream_does_not_propagate() -> None:
    """Only units planned in this run make their readers `upstream stale`."""
    states = consistent_states(GRAPH)
    states["flights"]["2024-01-05"] = replace(states["flights"]["2024-01-05"], last_status="failed")
    plan = build_plan(GRAPH, ["rolling", "monthly"], PartitionRange(), tables(GRAPH, states), NOW)
    assert plan.to_run == []


def test_status_counts_states_from_a_plan() -> None:
    states = consistent_states(GRAPH)
    states["flights"]["2024-01-02"] = replace(states["flights"]["2024-01-02"], last_status="failed")
    del states["flights"]["2024-01-03"]
    plan = build_plan(GRAPH, ALL, PartitionRange(), tables(GRAPH, states), NOW)
    by_asset = {s.asset: s for s in build_status(plan, ["flights", "rolling", "report"])}
    flights = by_asset["flights"].to_json()
    assert (flights["fresh"], flights["stale"], flights["missing"], flights["failed"]) == (
        38,
        0,
        1,
        1,
    )
    assert {p["partition"]: p["state"] for p in flights["partitions"]}["2024-01-03"] == "missing"
    assert by_asset["rolling"].count("stale") == 8  # windows ending Jan 2 .. Jan 9
    assert by_asset["rolling"].count("fresh") == 32
    assert by_asset["report"].to_json()["partitions"] == [
        {"partition": None, "state": "stale", "reason": "upstream stale: monthly 2024-01"}
    ]


def test_a_needs_work_limit_bounds_the_listed_partitions_not_the_counts_or_ranges() -> None:
    states = consistent_states(GRAPH)
    for i in (2, 3, 7):
        del states["flights"][day(i)]
    plan = build_plan(GRAPH, ALL, PartitionRange(), tables(GRAPH, states), NOW)
    (full,) = build_status(plan, ["flights"])
    (bounded,) = build_status(plan, ["flights"], needs_work_limit=2)
    assert [p.partition for p in full.partitions] == [day(2), day(3), day(7)]
    assert [p.partition for p in bounded.partitions] == [day(2), day(3)]
    assert [p.reason for p in bounded.partitions] == ["missing", "missing"]
    assert bounded.counts == full.counts
    assert bounded.ranges == full.ranges
    assert [(r.first, r.last, r.state) for r in bounded.ranges][:3] == [
        (day(0), day(1), "fresh"),
        (day(2), day(3), "missing"),
        (day(4), day(6), "fresh"),
    ]


# Properties


@settings(max_examples=60, deadline=None)
@given(
    days=st.integers(min_value=0, max_value=75),
    hour=st.integers(min_value=0, max_value=23),
    seed=st.integers(min_value=0, max_value=10**6),
)
def test_replanning_a_fully_materialized_graph_plans_nothing(days, hour, seed) -> None:
    now = DAILY.start + timedelta(days=days, hours=hour)
    flight_days = DAILY.count(now)
    months = MONTHLY.count(now)

    def version(asset: str, key: str | None) -> str:
        return f"{seed}:{asset}:{key}"

    states = consistent_states(GRAPH, flight_days, months, version)
    plan = build_plan(GRAPH, ALL, PartitionRange(), tables(GRAPH, states), now)
    assert plan.to_run == []
    assert sum(1 for u in plan.units if u.asset == "flights") == flight_days


@settings(max_examples=60, deadline=None)
@given(
    days=st.integers(min_value=1, max_value=75),
    data=st.data(),
)
def test_a_changed_day_plans_exactly_its_transitive_readers(days, data) -> None:
    now = DAILY.start + timedelta(days=days)
    flight_days = DAILY.count(now)
    months = MONTHLY.count(now)
    changed = data.draw(st.integers(min_value=0, max_value=flight_days - 1))
    states = consistent_states(GRAPH, flight_days, months)
    key = day(changed)
    states["flights"][key] = republished(states["flights"][key], "changed")

    plan = build_plan(GRAPH, ALL, PartitionRange(), tables(GRAPH, states), now)
    expected = {("rolling", day(i)) for i in range(changed, min(changed + 7, flight_days))}
    month = MONTHLY.index(key[:7])
    if month < months:
        expected |= {("monthly", key[:7]), ("report", None)}
    assert set(planned(plan)) == expected


def test_a_plan_restricted_to_reasons_keeps_only_those_units() -> None:
    states = consistent_states(GRAPH)
    states["flights"]["2024-01-05"] = replace(states["flights"]["2024-01-05"], last_status="failed")
    del states["weather"]["2024-01-07"]
    plan = build_plan(GRAPH, ALL, PartitionRange(), tables(GRAPH, states), NOW)
    failed = plan.restricted_to({ReasonKind.FAILED})
    assert planned(failed) == {("flights", "2024-01-05"): "failed last time"}
    assert failed.unit_count == 1
    by_kind = plan.restricted_to({ReasonKind.MISSING, ReasonKind.FAILED})
    assert planned(by_kind) == {
        ("weather", "2024-01-07"): "missing",
        ("flights", "2024-01-05"): "failed last time",
    }
