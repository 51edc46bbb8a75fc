"""When an observable source is due: `every` passed on the evaluation clock (`--now`) or on
the real clock, so a daemon with a fixed `--now` still polls its sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from partita.automation.tick import ObservedAt

EVERY = timedelta(minutes=1)
AT = datetime(2013, 1, 5, 11, 30, tzinfo=UTC)
WALL = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def test_never_observed_is_due():
    assert ObservedAt.loads(None).due(AT, WALL, EVERY)


def test_due_when_every_passed_on_either_clock():
    observed = ObservedAt.loads(ObservedAt(AT, WALL).dumps())
    assert observed == ObservedAt(AT, WALL)
    assert not observed.due(AT, WALL + timedelta(seconds=59), EVERY)  # the same --now
    assert observed.due(AT, WALL + EVERY, EVERY)  # a fixed --now: the real clock moved
    assert observed.due(AT + EVERY, WALL, EVERY)  # --once runs at later evaluation times


def test_a_cursor_of_an_earlier_release_holds_the_evaluation_time_only():
    observed = ObservedAt.loads(AT.isoformat())
    assert observed == ObservedAt(AT, None)
    assert not observed.due(AT, WALL, EVERY)
    assert observed.due(AT + EVERY, WALL, EVERY)
