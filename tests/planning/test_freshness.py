"""Freshness verdicts over hand-built partition states: fresh, pending and overdue on
both sides of a deadline, unpartitioned assets by age and staleness, and the reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from partita import DailyPartitions, FreshnessPolicy, asset
from partita.graph.graph import build_graph
from partita.planning.freshness import Verdict, assess
from partita.planning.plan import build_plan
from partita.planning.targets import PartitionRange

from . import DAILY, republished, state, tables

# At NOW (2024-02-10 00:00 UTC) the latest complete daily partition is 2024-02-09; with a
# 6h policy it is due at 2024-02-10 06:00.
NOW = datetime(2024, 2, 10, tzinfo=UTC)
DEADLINE = datetime(2024, 2, 10, 6, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@asset(partitions=DAILY, freshness=FreshnessPolicy(max_lag="6h"))
def events():
    return None


@asset(partitions=DAILY, deps=["events"], freshness=FreshnessPolicy(max_lag="6h"))
def daily_totals(events):
    return events


@asset(freshness=FreshnessPolicy(max_lag=timedelta(hours=2)))
def snapshot():
    return None


@asset(deps=["snapshot"], freshness=FreshnessPolicy(max_lag="2h"))
def summary(snapshot):
    return snapshot


@asset(partitions=DailyPartitions(start="2024-01-01", timezone="America/New_York"))
def untracked():
    return None


@asset(partitions=DailyPartitions(start="2030-01-01"), freshness=FreshnessPolicy(max_lag="1h"))
def future():
    return None


GRAPH = build_graph([events, daily_totals, snapshot, summary, untracked, future])
ALL = [name for name in GRAPH.order]


def days(first: int, last: int) -> list[str]:
    return [DAILY.key(i) for i in range(first, last + 1)]


def published(asset_name: str, keys: list[str], inputs=lambda key: ()) -> dict:
    return {
        key: state(key, f"{asset_name}@{key}", GRAPH[asset_name].code_version, inputs(key))
        for key in keys
    }


def full_states(last_day: int = 39) -> dict:
    """events and daily_totals materialized 2024-01-01 .. day(last_day), consistently."""
    return {
        "events": published("events", days(0, last_day)),
        "daily_totals": published(
            "daily_totals", days(0, last_day), lambda key: [("events", key, f"events@{key}")]
        ),
    }


def verdict(states: dict, name: str, now: datetime):
    """Assess `name` the way Project.freshness does: reasons from a plan at `now`."""
    return assess_with(GRAPH, ALL, states, name, now)


def assess_with(graph, assets, states: dict, name: str, now: datetime):
    by_asset = tables(graph, {asset: states.get(asset, {}) for asset in assets})
    plan = build_plan(graph, assets, PartitionRange(), by_asset, now)
    return assess(graph, name, by_asset[name], plan.asset_plan(name), now)


def test_an_up_to_date_latest_partition_is_fresh() -> None:
    result = verdict(full_states(), "events", NOW + timedelta(hours=10))
    assert result.verdict == Verdict.FRESH
    assert result.expected_partition == "2024-02-09"
    assert result.latest_partition == "2024-02-09"
    assert result.deadline == DEADLINE
    assert result.lag_s == 10 * 3600
    assert result.reason is None


def test_a_missing_latest_partition_is_pending_before_the_deadline_and_overdue_after() -> None:
    states = full_states(last_day=38)  # 2024-02-09 not yet materialized
    before = verdict(states, "events", DEADLINE - SECOND)
    assert before.verdict == Verdict.PENDING
    assert before.expected_partition == "2024-02-09"
    assert before.latest_partition == "2024-02-08"
    assert before.deadline == DEADLINE
    assert before.reason == "missing"
    # The lag is measured from the end of the latest materialized partition.
    assert before.lag_s == pytest.approx((DEADLINE - SECOND - NOW).total_seconds() + 86400)

    after = verdict(states, "events", DEADLINE + SECOND)
    assert after.verdict == Verdict.OVERDUE
    assert after.expected_partition == "2024-02-09"
    assert after.latest_partition == "2024-02-08"
    assert after.deadline == DEADLINE
    assert after.reason == "missing"
    assert after.to_json() == {
        "asset": "events",
        "verdict": "overdue",
        "expected_partition": "2024-02-09",
        "latest_partition": "2024-02-08",
        "deadline": "2024-02-10T06:00:00+00:00",
        "lag_s": 86400 + 6 * 3600 + 1,
        "reason": "missing",
    }


def test_a_new_day_moves_the_expectation_and_the_deadline() -> None:
    # Everything through 2024-02-09 is there: at 2024-02-11 01:00 the 10th is expected.
    result = verdict(full_states(), "events", datetime(2024, 2, 11, 1, tzinfo=UTC))
    assert result.verdict == Verdict.PENDING
    assert result.expected_partition == "2024-02-10"
    assert result.deadline == datetime(2024, 2, 11, 6, tzinfo=UTC)


def test_a_failed_latest_partition_is_overdue_with_the_failure_as_reason() -> None:
    states = full_states()
    latest = states["events"]["2024-02-09"]
    states["events"]["2024-02-09"] = replace(latest, last_status="failed", error="boom")
    result = verdict(states, "events", DEADLINE + SECOND)
    assert result.verdict == Verdict.OVERDUE
    assert result.reason == "failed last time"
    # It still holds the data of its last success.
    assert result.latest_partition == "2024-02-09"


def test_a_partition_that_never_succeeded_says_failed_not_missing() -> None:
    states = full_states(last_day=38)
    states["events"]["2024-02-09"] = state("2024-02-09", None, None, last_status="failed")
    result = verdict(states, "events", DEADLINE + SECOND)
    assert result.verdict == Verdict.OVERDUE
    assert result.reason == "failed last time"
    assert result.latest_partition == "2024-02-08"


def test_a_latest_partition_whose_upstream_changed_is_stale() -> None:
    states = full_states()
    changed = republished(states["events"]["2024-02-09"], "events@new")
    states["events"]["2024-02-09"] = changed
    result = verdict(states, "daily_totals", DEADLINE + SECOND)
    assert result.verdict == Verdict.OVERDUE
    assert result.expected_partition == "2024-02-09"
    assert result.latest_partition == "2024-02-09"
    assert result.reason == "upstream changed: events 2024-02-09"
    assert verdict(states, "events", DEADLINE + SECOND).verdict == Verdict.FRESH
    assert verdict(states, "daily_totals", DEADLINE - SECOND).verdict == Verdict.PENDING


def test_an_older_stale_partition_does_not_spoil_a_fresh_latest_one() -> None:
    states = full_states()
    states["events"]["2024-01-15"] = republished(states["events"]["2024-01-15"], "x")
    assert verdict(states, "daily_totals", DEADLINE + SECOND).verdict == Verdict.FRESH


def test_a_partition_whose_deadline_passed_makes_the_asset_overdue_while_the_next_is_pending() -> (
    None
):
    # Nothing since 2024-02-07: the 8th was due at 2024-02-09 06:00, long before now.
    states = full_states(last_day=37)
    result = verdict(states, "events", DEADLINE - SECOND)
    assert result.verdict == Verdict.OVERDUE
    assert result.latest_partition == "2024-02-07"
    assert "missing" in result.reason
    assert "2024-02-08" in result.reason
    assert result.deadline == datetime(2024, 2, 9, 6, tzinfo=UTC)


def test_no_partition_due_yet_is_fresh() -> None:
    result = verdict({}, "future", NOW)
    assert result.verdict == Verdict.FRESH
    assert result.expected_partition is None
    assert result.reason == "no partition due"


def test_a_deadline_across_a_dst_change_is_max_lag_in_absolute_time() -> None:
    new_york = DailyPartitions(start="2024-03-01", timezone="America/New_York")

    @asset(partitions=new_york, freshness=FreshnessPolicy(max_lag="6h"))
    def local():
        return None

    graph = build_graph([local])
    keys = [new_york.key(i) for i in range(9)]  # 2024-03-01 .. 2024-03-09
    states = {"local": {k: state(k, f"v{k}", graph["local"].code_version) for k in keys}}
    # 2024-03-10 (New York) is 23 hours long; it ends 2024-03-11 04:00 UTC.
    now = datetime(2024, 3, 11, 5, tzinfo=UTC)
    result = assess_with(graph, ["local"], states, "local", now)
    assert result.expected_partition == "2024-03-10"
    assert result.latest_partition == "2024-03-09"
    assert result.verdict == Verdict.PENDING
    assert result.deadline == datetime(2024, 3, 11, 10, tzinfo=UTC)
    late = datetime(2024, 3, 11, 10, 0, 1, tzinfo=UTC)
    assert assess_with(graph, ["local"], states, "local", late).verdict == Verdict.OVERDUE


def unpartitioned_states(materialized_at: datetime) -> dict:
    snap = replace(
        state(None, "snap-v1", GRAPH["snapshot"].code_version), materialized_at=materialized_at
    )
    summ = replace(
        state(None, "summary-v1", GRAPH["summary"].code_version, [("snapshot", None, "snap-v1")]),
        materialized_at=materialized_at,
    )
    return {"snapshot": {None: snap}, "summary": {None: summ}}


def test_an_unpartitioned_asset_is_fresh_while_younger_than_max_lag() -> None:
    built = datetime(2024, 2, 10, 8, tzinfo=UTC)
    states = unpartitioned_states(built)
    young = verdict(states, "snapshot", built + timedelta(hours=2) - SECOND)
    assert young.verdict == Verdict.FRESH
    assert young.deadline == built + timedelta(hours=2)
    assert young.lag_s == 7199
    assert young.expected_partition is None and young.latest_partition is None
    assert young.reason is None

    old = verdict(states, "snapshot", built + timedelta(hours=2) + SECOND)
    assert old.verdict == Verdict.OVERDUE
    assert old.reason == "older than max_lag"
    assert old.lag_s == 7201


def test_an_unpartitioned_asset_whose_upstream_changed_is_overdue_even_when_young() -> None:
    built = datetime(2024, 2, 10, 8, tzinfo=UTC)
    states = unpartitioned_states(built)
    states["snapshot"][None] = republished(states["snapshot"][None], "snap-v2")
    result = verdict(states, "summary", built + timedelta(minutes=5))
    assert result.verdict == Verdict.OVERDUE
    assert result.reason == "upstream changed: snapshot"
    assert verdict(states, "snapshot", built + timedelta(minutes=5)).verdict == Verdict.FRESH


def test_an_unpartitioned_asset_never_materialized_is_overdue_as_missing() -> None:
    result = verdict({}, "snapshot", NOW)
    assert result.verdict == Verdict.OVERDUE
    assert result.reason == "missing"


def test_an_unpartitioned_asset_that_only_failed_says_failed() -> None:
    states = {"snapshot": {None: state(None, None, None, last_status="failed")}}
    result = verdict(states, "snapshot", NOW)
    assert result.verdict == Verdict.OVERDUE
    assert result.reason == "failed last time"


def test_assets_without_a_policy_are_no_policy() -> None:
    states = {"untracked": published("untracked", ["2024-01-01", "2024-01-02"])}
    result = verdict(states, "untracked", NOW)
    assert result.verdict == Verdict.NO_POLICY
    assert result.latest_partition == "2024-01-02"
    assert result.deadline is None and result.reason is None


def test_the_first_partition_is_pending_before_anything_was_due() -> None:
    result = verdict({}, "events", datetime(2024, 1, 2, 5, 59, 59, tzinfo=UTC))
    assert result.verdict == Verdict.PENDING
    assert result.expected_partition == "2024-01-01"
    assert result.latest_partition is None and result.lag_s is None
    assert result.reason == "missing"
