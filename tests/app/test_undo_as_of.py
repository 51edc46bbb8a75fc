"""`--as-of` (and the UI's `as_of`): a run id is a run id, even one Python would also read
as an ISO basic time with a UTC offset; anything else that is an ISO time is a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from partita.app.undo import parse_as_of
from partita.catalog.records import is_run_id, new_run_id

AMBIGUOUS = "20261202T100652-092120"  # a run id CI drew, all of its random digits decimal


def test_a_run_id_that_reads_as_a_time_too_is_a_run_id() -> None:
    assert datetime.fromisoformat(AMBIGUOUS).utcoffset() == -timedelta(
        hours=9, minutes=21, seconds=20
    )
    assert parse_as_of(AMBIGUOUS) == (AMBIGUOUS, None)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31)),
    st.text("0123456789abcdef", min_size=6, max_size=6),
)
def test_every_run_id_is_read_as_a_run_id(started: datetime, suffix: str) -> None:
    run_id = f"{new_run_id(started.replace(tzinfo=UTC)).rsplit('-', 1)[0]}-{suffix}"
    assert is_run_id(run_id)
    assert parse_as_of(run_id) == (run_id, None)


def test_new_run_ids_have_the_run_id_form() -> None:
    assert is_run_id(new_run_id(datetime(2026, 12, 2, 10, 6, 52, tzinfo=UTC)))


def test_times_and_dates_are_times_naive_ones_in_utc() -> None:
    assert parse_as_of("2026-12-01T09:00") == (None, datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert parse_as_of("2026-12-01") == (None, datetime(2026, 12, 1, tzinfo=UTC))
    moment = parse_as_of("2026-12-01T09:00+01:00")[1]
    assert moment == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert parse_as_of("no-such-run") == ("no-such-run", None)
