"""Automation conditions as tables: (state, now) -> requested partitions."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from partita import DailyPartitions, HourlyPartitions, eager, on_cron, on_missing
from partita.automation.evaluate import AssetSituation, AutomationCursor, evaluate, latest_tick
from partita.planning.reasons import ReasonKind as K

DAYS = DailyPartitions(start="2024-01-01")
U, M, C, S, F, CODE = (
    K.UP_TO_DATE,
    K.MISSING,
    K.UPSTREAM_CHANGED,
    K.UPSTREAM_STALE,
    K.FAILED,
    K.CODE_CHANGED,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def situation(kinds, now="2024-01-06T12:00", cursor=None, partitions=DAYS, **extra):
    return AssetSituation(
        partitions=partitions,
        kinds=np.array(kinds, dtype=np.int8),
        now=at(now),
        cursor=cursor or AutomationCursor(),
        **extra,
    )


# (condition, kinds of 5 daily partitions 01-01..01-05 at 01-06 12:00, cursor count, expected)
TABLE = [
    (on_missing(), [U, M, U, M, M], None, [1, 3, 4]),
    (on_missing(max_catch_up=2), [M, M, M, M, M], None, [3, 4]),
    (on_missing(catchup=False), [M, M, M, M, M], None, [4]),
    (on_missing(catchup=False), [M, M, M, M, U], None, []),
    (eager(), [U, C, U, M, M], None, [1]),
    (eager(), [U, C, U, M, M], 4, [1, 4]),  # 01-05 appeared since the last evaluation
    (eager(), [U, S, U, U, U], None, []),  # its upstream is not requested this tick
    (eager() | on_missing(), [M, C, U, CODE, U], None, [0, 1]),
    (eager() & on_missing(), [M, C, U, M, U], 3, [3]),
    (~on_missing(), [M, C, F, U, CODE], None, [1, 2, 4]),  # selected and needing work
    (on_missing() & ~eager(), [M, M, M, M, M], 3, [0, 1, 2]),
    (on_cron("0 6 * * *"), [M, M, M, M, M], None, [0, 1, 2, 3, 4]),
    (on_cron("0 6 * * *", max_catch_up=1), [U, U, M, U, M], None, [4]),
    (on_cron("0 18 * * *"), [M, M, M, M, M], None, [0, 1, 2, 3]),  # 01-05 due at 18:00 only
    (on_cron("0 6 * * 5"), [M, M, M, M, M], None, [0, 1, 2, 3]),  # Friday 01-05 06:00
    (on_cron("0 6 * * 1"), [M, M, M, M, M], None, []),  # Monday 01-01 06:00: none ended
    ((on_cron("0 6 * * *") & on_missing()) | eager(), [M, C, U, S, U], None, [0, 1]),
]


@pytest.mark.parametrize(("condition", "kinds", "count", "expected"), TABLE)
def test_condition_table(condition, kinds, count, expected):
    decision = evaluate(condition, situation(kinds, cursor=AutomationCursor(count=count)))
    assert list(decision.indices) == expected
    assert decision.cursor == AutomationCursor(at("2024-01-06T12:00"), 5)


def test_eager_takes_a_stale_partition_when_its_upstream_is_requested_in_the_same_tick():
    requested = np.array([False, True, False, False, False])
    decision = evaluate(eager(), situation([U, S, U, S, U], upstream_requested=requested))
    assert decision.indices == (1,)
    assert decision.why == ("eager",)


def test_units_in_flight_are_not_requested_again_and_the_limit_counts_the_others():
    excluded = np.array([False, False, False, True, True])
    decision = evaluate(on_missing(max_catch_up=2), situation([M] * 5, excluded=excluded))
    assert decision.indices == (1, 2)


def test_the_reason_names_the_primitives_that_selected_each_partition():
    decision = evaluate(
        on_missing() | eager(), situation([M, C, U, U, M], cursor=AutomationCursor(count=4))
    )
    assert decision.why == ("on_missing", "eager", "on_missing, eager")


@pytest.mark.parametrize(
    ("previous", "now", "kind", "fires"),
    [
        (None, "2024-01-06T07:00", U, False),  # no previous evaluation: wait for a tick
        ("2024-01-06T05:00", "2024-01-06T07:00", U, True),  # up to date, refreshed anyway
        ("2024-01-06T06:00", "2024-01-06T07:00", U, False),  # that tick was served
        ("2024-01-06T06:30", "2024-01-07T05:59", M, False),  # missing, but no tick passed
        ("2024-01-06T06:30", "2024-01-07T06:00", M, True),
    ],
)
def test_cron_on_an_unpartitioned_asset(previous, now, kind, fires):
    cursor = AutomationCursor(None if previous is None else at(previous), 1)
    decision = evaluate(
        on_cron("0 6 * * *"), situation([kind], now=now, cursor=cursor, partitions=None)
    )
    assert decision.indices == ((0,) if fires else ())


# Cron ticks across DST in New York: 2024-03-10 02:30 does not exist, 2024-11-03 01:30
# happens twice. The tick is read in the schedule's zone; an asset's hourly partitions
# become due when they have ended by the tick.
@pytest.mark.parametrize(
    ("schedule", "now", "tick"),
    [
        ("30 2 * * *", "2024-03-10T12:00", "2024-03-10T07:00"),  # skipped 02:30 runs at 03:00
        ("30 2 * * *", "2024-03-11T12:00", "2024-03-11T06:30"),  # EDT: 02:30 is 06:30 UTC
        ("0 6 * * *", "2024-03-09T12:00", "2024-03-09T11:00"),  # EST: 06:00 is 11:00 UTC
        ("0 6 * * *", "2024-03-10T12:00", "2024-03-10T10:00"),  # EDT: 06:00 is 10:00 UTC
        ("30 1 * * *", "2024-11-03T12:00", "2024-11-03T05:30"),  # the first 01:30 only
        ("0 6 * * *", "2024-11-03T10:59", "2024-11-02T10:00"),  # EST again: not yet due
    ],
)
def test_cron_due_times_across_dst(schedule, now, tick):
    condition = on_cron(schedule, timezone="America/New_York")
    assert latest_tick(condition, at(now)) == at(tick)


def test_cron_due_partitions_across_dst_are_the_hours_ended_by_the_tick():
    hours = HourlyPartitions(start="2024-03-10T00:00", timezone="America/New_York")
    now = at("2024-03-10T12:00")  # 08:00 EDT; 23 hours in the day, 02:00 skipped
    count = hours.count(now)
    condition = on_cron("30 2 * * *", timezone="America/New_York")
    decision = evaluate(condition, situation([M] * count, now="2024-03-10T12:00", partitions=hours))
    # The 02:30 tick does not exist; it fires at 03:00 EDT (07:00 UTC): exactly the hours
    # that have ended by then are due.
    tick = at("2024-03-10T07:00")
    ended = [i for i in range(count) if hours.partition_end(i) <= tick]
    assert list(decision.indices) == ended
    assert 0 < len(ended) < count


def test_bad_declarations_say_what_to_write():
    with pytest.raises(ValueError, match="not a cron expression"):
        on_cron("every day")
    with pytest.raises(ValueError, match="unknown time zone"):
        on_cron("0 6 * * *", timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="max_catch_up"):
        on_missing(max_catch_up=0)
    with pytest.raises(TypeError, match="combine only"):
        on_missing() & "eager"


def test_eager_builds_a_missing_partition_whose_inputs_got_new_data_since_the_last_look():
    new = np.array([True, False, True, False, False])
    decision = evaluate(
        eager(), situation([M, M, U, M, M], upstream_new=new, cursor=AutomationCursor(count=5))
    )
    assert decision.indices == (0,)  # 02 is up to date; 03 and 04 have nothing new


@pytest.mark.parametrize(
    "condition", [eager(), on_cron("0 6 * * *"), on_missing(), eager() | on_missing()]
)
def test_a_partition_whose_inputs_hold_no_data_is_not_requested_under_any_condition(condition):
    # 01-05 appeared (eager), is due (cron) and missing, but reads a partition with no data
    # that this tick does not request: it could not run; it waits for its inputs.
    inputs_missing = np.array([False, False, False, True, True])
    decision = evaluate(
        condition,
        situation([U, U, U, M, M], cursor=AutomationCursor(count=3), inputs_missing=inputs_missing),
    )
    assert decision.indices == ()
    ready = evaluate(condition, situation([U, U, U, M, M], cursor=AutomationCursor(count=3)))
    assert ready.indices == (3, 4)
