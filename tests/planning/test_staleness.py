"""The staleness engine on hand-built states: each reason, early cutoff, what a unit reads."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from partita.planning.plan import build_plan, check_unit
from partita.planning.reasons import CODE_CHANGED, DEPS_CHANGED, FAILED, FORCED, MISSING
from partita.planning.staleness import consumed_inputs, upstream_reads
from partita.planning.targets import PartitionRange

from . import (
    DAILY,
    NOW,
    SEQ,
    consistent_states,
    day,
    make_graph,
    republished,
    state,
    tables,
    version_of,
)

GRAPH = make_graph()
JAN_5 = DAILY.index("2024-01-05")


def reason(states, asset, index, pending=(), force=False):
    """The reason the planner gives the unit, as text. Without `pending` it is asked both
    ways, the whole asset at once and the one unit as the runner asks it, and they must
    agree. `pending` units are made missing and planned in the same run, upstream first."""
    if pending:
        states = {name: dict(by_key) for name, by_key in states.items()}
        for upstream, key in pending:
            del states[upstream][key]
    assets = {asset} | {upstream for upstream, _ in pending}
    plan = build_plan(GRAPH, sorted(assets), PartitionRange(), tables(GRAPH, states), NOW, force)
    asset_plan = plan.asset_plan(asset)
    position = asset_plan.position_of(index)
    planned = asset_plan.units(np.array([position]))[0]
    found = asset_plan.reason(position)
    if not pending:
        unit = replace(planned, reads=asset_plan.reads(np.array([position]))[0])
        assert check_unit(GRAPH, unit, states, force) == found
    return None if found is None else str(found)


def reads_of(asset, index, states):
    """What the unit reads, with the data versions published in `states`."""
    plan = build_plan(GRAPH, [asset], PartitionRange(), tables(GRAPH, states), NOW)
    asset_plan = plan.asset_plan(asset)
    position = asset_plan.position_of(index)
    return list(upstream_reads(asset_plan.reads(np.array([position]))[0], states))


def with_state(states, asset, key, new_state):
    return {**states, asset: {**states[asset], key: new_state}}


def test_a_consistent_graph_is_up_to_date() -> None:
    states = consistent_states(GRAPH)
    assert reason(states, "flights", JAN_5) is None
    assert reason(states, "rolling", JAN_5) is None
    assert reason(states, "monthly", 0) is None
    assert reason(states, "report", None) is None
    assert reason(states, "weather", 39) is None


def test_a_never_materialized_partition_is_missing() -> None:
    states = consistent_states(GRAPH)
    del states["flights"]["2024-01-05"]
    assert reason(states, "flights", JAN_5) == MISSING == "missing"
    assert reason({}, "report", None) == "missing"


def test_an_interrupted_first_attempt_is_missing() -> None:
    states = consistent_states(GRAPH)
    interrupted = state("2024-01-05", None, None, last_status="interrupted")
    states = with_state(states, "flights", "2024-01-05", interrupted)
    assert reason(states, "flights", JAN_5) == "missing"


def test_a_failed_last_attempt_is_stale_even_though_data_was_published() -> None:
    states = consistent_states(GRAPH)
    failed = replace(states["flights"]["2024-01-05"], last_status="failed", error="boom")
    states = with_state(states, "flights", "2024-01-05", failed)
    assert reason(states, "flights", JAN_5) == FAILED == "failed last time"
    # its readers still consumed the published version, which has not changed
    assert reason(states, "rolling", JAN_5) is None


def test_a_failed_first_attempt_says_failed_not_missing() -> None:
    states = consistent_states(GRAPH)
    failed = state("2024-01-05", None, None, last_status="failed")
    states = with_state(states, "flights", "2024-01-05", failed)
    assert reason(states, "flights", JAN_5) == "failed last time"


def test_a_changed_upstream_partition_makes_exactly_its_readers_stale() -> None:
    states = consistent_states(GRAPH)
    changed = republished(states["flights"]["2024-01-05"], "new")
    states = with_state(states, "flights", "2024-01-05", changed)
    assert reason(states, "flights", JAN_5) is None
    stale_days = {
        day(i) for i in range(40) if reason(states, "rolling", i) is not None
    }  # the 7-day windows containing Jan 5 end on Jan 5 .. Jan 11
    assert stale_days == {f"2024-01-{d:02d}" for d in range(5, 12)}
    assert reason(states, "rolling", JAN_5 + 6) == "upstream changed: flights 2024-01-05"
    assert reason(states, "monthly", 0) == "upstream changed: flights 2024-01-05"
    # monthly's own published version did not change (yet): report is up to date
    assert reason(states, "report", None) is None
    assert reason(states, "weather", JAN_5) is None


def test_a_changed_unpartitioned_read_is_labelled_with_the_partition_it_reads() -> None:
    states = consistent_states(GRAPH)
    changed = republished(states["monthly"]["2024-01"], "new")
    states = with_state(states, "monthly", "2024-01", changed)
    assert reason(states, "report", None) == "upstream changed: monthly 2024-01"


def test_reads_of_a_rolling_window_are_clipped_at_the_start() -> None:
    states = consistent_states(GRAPH)
    reads = reads_of("rolling", 2, states)
    assert [(r.asset, r.partition) for r in reads] == [
        ("flights", "2024-01-01"),
        ("flights", "2024-01-02"),
        ("flights", "2024-01-03"),
    ]
    assert [r.data_version for r in reads] == [version_of("flights", r.partition) for r in reads]
    assert all(r.parameter == "flights" for r in reads)
    month_reads = reads_of("monthly", 0, states)
    assert [r.partition for r in month_reads] == [day(i) for i in range(31)]


def test_an_unpublished_upstream_is_not_recorded_as_consumed() -> None:
    states = consistent_states(GRAPH)
    del states["flights"]["2024-01-03"]
    reads = reads_of("rolling", 2, states)
    assert [r.data_version for r in reads][2] is None
    consumed = consumed_inputs(reads)
    assert [(c.asset, c.partition) for c in consumed] == [
        ("flights", "2024-01-01"),
        ("flights", "2024-01-02"),
    ]


def test_a_partition_published_after_the_reader_read_its_window_makes_it_stale() -> None:
    """A window partition that had no data when the reader ran and has data now."""
    states = consistent_states(GRAPH)
    late = replace(states["flights"]["2024-01-03"], published_seq=SEQ + 1)
    states = with_state(states, "flights", "2024-01-03", late)
    assert reason(states, "rolling", 2) == "upstream changed: flights 2024-01-03"
    assert reason(states, "rolling", 1) is None


def test_a_reader_that_read_after_the_upstream_publication_is_up_to_date() -> None:
    states = consistent_states(GRAPH)
    states = with_state(
        states, "flights", "2024-01-05", republished(states["flights"]["2024-01-05"], "new", seq=5)
    )
    caught_up = replace(states["rolling"]["2024-01-05"], consumed_seq=5)
    states = with_state(states, "rolling", "2024-01-05", caught_up)
    assert reason(states, "rolling", JAN_5) is None
    assert reason(states, "rolling", JAN_5 + 1) == "upstream changed: flights 2024-01-05"


def test_a_changed_code_version_is_stale() -> None:
    states = consistent_states(GRAPH)
    old_code = replace(states["rolling"]["2024-01-05"], code_version="old")
    states = with_state(states, "rolling", "2024-01-05", old_code)
    assert reason(states, "rolling", JAN_5) == CODE_CHANGED == "code changed"
    assert reason(states, "rolling", JAN_5 + 1) is None


def test_changed_dependencies_are_stale_and_unknown_ones_are_not() -> None:
    states = consistent_states(GRAPH)
    rolling = states["rolling"]["2024-01-05"]
    current = GRAPH.deps_version("rolling")
    for recorded, expected in ((current, None), (None, None), ("before", DEPS_CHANGED)):
        changed = with_state(
            states, "rolling", "2024-01-05", replace(rolling, deps_version=recorded)
        )
        assert reason(changed, "rolling", JAN_5) == expected
    assert DEPS_CHANGED == "dependencies changed"


def test_an_explicit_code_version_is_what_is_compared() -> None:
    assert GRAPH["weather"].code_version == "weather-v1"
    states = consistent_states(GRAPH)
    assert states["weather"]["2024-01-05"].code_version == "weather-v1"
    bumped = replace(states["weather"]["2024-01-05"], code_version="weather-v0")
    states = with_state(states, "weather", "2024-01-05", bumped)
    assert reason(states, "weather", JAN_5) == "code changed"


def test_force_makes_an_up_to_date_unit_run() -> None:
    states = consistent_states(GRAPH)
    assert reason(states, "report", None, force=True) == FORCED == "forced"
    assert reason(states, "flights", JAN_5, force=True) == "forced"


def test_a_pending_upstream_makes_its_readers_stale_until_it_has_run() -> None:
    states = consistent_states(GRAPH)
    pending = {("flights", "2024-01-05")}
    expected = "upstream stale: flights 2024-01-05"
    assert reason(states, "rolling", JAN_5 + 6, pending) == expected
    assert reason(states, "monthly", 0, pending) == expected
    assert reason(states, "rolling", JAN_5 + 7, pending) is None
    assert reason(states, "rolling", JAN_5 - 1, pending) is None


def test_early_cutoff_an_identical_rebuild_leaves_readers_up_to_date() -> None:
    """The planner sees a pending upstream; once it has run and published the same data
    version, the reader is up to date again; a different version makes it stale."""
    states = consistent_states(GRAPH)
    pending = {("flights", "2024-01-05")}
    assert reason(states, "rolling", JAN_5, pending) == "upstream stale: flights 2024-01-05"
    rebuilt = replace(states["flights"]["2024-01-05"], materialized_at=NOW)
    same = with_state(states, "flights", "2024-01-05", rebuilt)
    assert reason(same, "rolling", JAN_5, pending=()) is None
    assert reason(same, "monthly", 0, pending=()) is None
    different = with_state(states, "flights", "2024-01-05", republished(rebuilt, "other"))
    assert reason(different, "rolling", JAN_5) == "upstream changed: flights 2024-01-05"


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda s: replace(s, data_version=None, last_status="failed"), "failed last time"),
        (lambda s: replace(s, last_status="failed", code_version="old"), "failed last time"),
        (lambda s: replace(s, code_version="old", inputs=()), "code changed"),
    ],
)
def test_reason_precedence(setup, expected) -> None:
    """Missing and failed come before code changes, which come before upstream changes."""
    states = consistent_states(GRAPH)
    states = with_state(states, "rolling", "2024-01-05", setup(states["rolling"]["2024-01-05"]))
    assert reason(states, "rolling", JAN_5) == expected
