"""Contract: attempts, partition states and the sequences staleness compares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partita.catalog import Catalog, ConsumedInput, FailedCheck
from partita.catalog.records import CheckResult
from partita.errors import CatalogError
from partita.processes import ProcessIdentity, this_host

from .conftest import Backend
from .helpers import at, attempt, dead_pid


def test_record_and_states_round_trip(catalog: Catalog) -> None:
    inputs = (
        ConsumedInput("raw_flights", "2013-01-01", "a1"),
        ConsumedInput("airports", None, "b2"),
    )
    catalog.record(attempt(inputs=inputs, watermark="2013-01-01T23:59:00", rows=42))
    catalog.record(attempt(asset="airports", partition=None, minute=1))

    flights = catalog.states("flights")
    state = flights["2013-01-01"]
    assert state.partition == "2013-01-01"
    assert state.last_status == "materialized"
    assert state.data_version == "dv-0"
    assert state.code_version == "v1"
    assert state.inputs == inputs
    assert state.materialized_at == at(0) + timedelta(seconds=30)
    assert state.last_attempt_at == state.materialized_at
    assert state.materialized_at.tzinfo is not None
    assert state.watermark == "2013-01-01T23:59:00"
    assert state.rows == 42
    assert state.error is None

    airports = catalog.states("airports")
    assert list(airports) == [None]
    assert airports[None].partition is None
    assert airports[None].inputs == ()
    assert catalog.state("airports", None) == airports[None]
    assert catalog.state("airports", "x") is None

    assert catalog.states("nothing") == {}
    assert catalog.all_states() == {"airports": airports, "flights": flights}


def test_failed_attempt_keeps_published_data(catalog: Catalog) -> None:
    published_inputs = (ConsumedInput("raw_flights", "2013-01-01", "a1"),)
    catalog.record(attempt(minute=0, inputs=published_inputs, watermark="w0"))
    catalog.record(attempt(status="failed", minute=5, error="KeyError: 'dep_time'", attempts=3))

    state = catalog.states("flights")["2013-01-01"]
    assert state.last_status == "failed"
    assert state.error == "KeyError: 'dep_time'"
    assert state.last_attempt_at == at(5) + timedelta(seconds=30)
    assert state.data_version == "dv-0"
    assert state.code_version == "v1"
    assert state.inputs == published_inputs
    assert state.materialized_at == at(0) + timedelta(seconds=30)
    assert state.watermark == "w0"
    assert state.rows == 10

    catalog.record(attempt(minute=10))
    recovered = catalog.states("flights")["2013-01-01"]
    assert recovered.last_status == "materialized"
    assert recovered.error is None
    assert recovered.data_version == "dv-10"
    assert recovered.inputs == ()


def test_first_attempt_failing_publishes_nothing(catalog: Catalog) -> None:
    catalog.record(attempt(status="interrupted", error="KeyboardInterrupt"))

    state = catalog.states("flights")["2013-01-01"]
    assert state.last_status == "interrupted"
    assert state.data_version is None
    assert state.materialized_at is None
    assert state.inputs == ()


def test_record_many_is_atomic(catalog: Catalog) -> None:
    batch = [
        attempt(partition="2013-01-01"),
        attempt(partition="2013-01-02", status="exploded"),  # breaks the status constraint
        attempt(partition="2013-01-03"),
    ]
    with pytest.raises(CatalogError, match="constraint"):
        catalog.record_many(batch)

    assert catalog.all_states() == {}
    assert catalog.history() == []
    assert catalog.sequence() == 0  # the failed transaction drew no sequence

    catalog.record_many([batch[0], batch[2]])
    assert set(catalog.states("flights")) == {"2013-01-01", "2013-01-03"}


def test_record_many_applies_attempts_in_order(catalog: Catalog) -> None:
    catalog.record_many([attempt(minute=0), attempt(status="failed", minute=1)])
    state = catalog.states("flights")["2013-01-01"]
    assert (state.last_status, state.data_version) == ("failed", "dv-0")


def test_naive_datetime_is_refused(catalog: Catalog) -> None:
    with pytest.raises(CatalogError, match="time zone"):
        catalog.start_run("materialize", at(0).replace(tzinfo=None))


def test_failed_checks_of_the_latest_attempts(catalog: Catalog) -> None:
    bad = CheckResult("not_null", "error", False, "3 nulls")
    warn = CheckResult("rows", "warn", False)
    good = CheckResult("unique", "error", True)
    catalog.record(attempt(partition="2013-01-01", checks=(bad,)))
    catalog.record(attempt(partition="2013-01-01", minute=1, checks=(good,)))  # fixed since
    catalog.record(attempt(partition="2013-01-02", status="failed", checks=(bad, warn, good)))
    catalog.record(attempt(asset="airports", partition=None, checks=(warn,)))

    assert catalog.failed_checks() == [
        FailedCheck("airports", None, warn),
        FailedCheck("flights", "2013-01-02", bad),
        FailedCheck("flights", "2013-01-02", warn),
    ]
    assert catalog.failed_checks()[0].check.severity == "warn"


# --- sequences ---


def sequences(catalog: Catalog, partition: str | None = "2013-01-01") -> tuple[int, ...]:
    state = catalog.states("flights")[partition]
    return (state.seq, state.published_seq, state.consumed_seq)


def test_success_sets_every_sequence(catalog: Catalog) -> None:
    catalog.record(attempt(asset="other", partition=None))  # seq 1
    catalog.record(attempt(consumed_seq=1))  # seq 2

    assert sequences(catalog) == (2, 2, 1)
    assert catalog.sequence() == 2


def test_identical_rebuild_keeps_published_seq(catalog: Catalog) -> None:
    catalog.record(attempt(minute=0, data_version="same", consumed_seq=0))  # seq 1
    catalog.record(attempt(minute=1, data_version="same", consumed_seq=1))  # seq 2
    assert sequences(catalog) == (2, 1, 1)

    catalog.record(attempt(minute=2, data_version="changed", consumed_seq=2))  # seq 3
    assert sequences(catalog) == (3, 3, 2)


def test_unsuccessful_attempts_move_only_seq(catalog: Catalog) -> None:
    catalog.record(attempt(status="failed", minute=0))  # seq 1
    assert sequences(catalog) == (1, 0, 0)

    catalog.record(attempt(minute=1, consumed_seq=1))  # seq 2
    catalog.record(attempt(status="failed", minute=2, consumed_seq=99))  # seq 3
    assert sequences(catalog) == (3, 2, 1)
    catalog.record(attempt(status="interrupted", minute=3))  # seq 4
    assert sequences(catalog) == (4, 2, 1)


def test_interrupted_lease_moves_seq(backend: Backend, catalog: Catalog) -> None:
    catalog.record(attempt(minute=0, consumed_seq=0))  # seq 1
    with backend.open(process=ProcessIdentity(this_host(), dead_pid())) as dead_run:
        assert dead_run.acquire_lease("flights", "2013-01-01", "dead-run", at(1), 30.0) is None

    assert catalog.acquire_lease("flights", "2013-01-01", "run-2", at(1), 30.0) is None

    assert catalog.history(limit=1)[0].status == "interrupted"
    assert sequences(catalog) == (2, 1, 0)
    assert catalog.sequence() == 2


def test_sequence_of_an_empty_catalog_is_zero(catalog: Catalog) -> None:
    assert catalog.sequence() == 0
    assert catalog.read_units([("flights", "2013-01-01")]) == ({}, 0)


def test_read_units_reads_only_the_given_units(catalog: Catalog) -> None:
    catalog.record_many(
        [
            attempt(partition="2013-01-01"),
            attempt(partition="2013-01-02"),
            attempt(asset="airports", partition=None),
        ]
    )

    states, sequence = catalog.read_units(
        [("flights", "2013-01-02"), ("airports", None), ("flights", "2099-01-01")]
    )

    assert sequence == 3
    assert states == {
        "flights": {"2013-01-02": catalog.states("flights")["2013-01-02"]},
        "airports": {None: catalog.states("airports")[None]},
    }
    assert states["airports"][None].seq == 3


def test_read_units_reads_many_units(catalog: Catalog) -> None:
    keys = [f"p{i:04d}" for i in range(1200)]  # more than one query's worth
    catalog.record_many([attempt(partition=key) for key in keys])

    states, sequence = catalog.read_units([("flights", key) for key in keys[1:]])

    assert sorted(states["flights"]) == keys[1:]
    assert sequence == 1200


# A batch: (partition index, succeeded, data version index) per attempt.
_BATCHES = st.lists(
    st.lists(
        st.tuples(st.integers(0, 3), st.booleans(), st.integers(0, 1)), min_size=1, max_size=4
    ),
    min_size=1,
    max_size=6,
)


@given(batches=_BATCHES)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_sequences_follow_the_order_of_recording(
    fresh_catalog: Callable[[], Catalog], batches: list[list[tuple[int, bool, int]]]
) -> None:
    """Each attempt draws the next sequence: seq is the last attempt's, published_seq the
    first of the unbroken run of successes with the current data version."""
    with fresh_catalog() as catalog:
        expected: dict[str, tuple[int, int]] = {}  # partition -> (seq, published_seq)
        published: dict[str, str] = {}
        drawn = 0
        for batch in batches:
            records = []
            for index, succeeded, version in batch:
                key, drawn = f"p{index}", drawn + 1
                status = "materialized" if succeeded else "failed"
                records.append(attempt(partition=key, status=status, data_version=f"v{version}"))
                first = expected.get(key, (0, 0))[1]
                if succeeded and published.get(key) != f"v{version}":
                    first, published[key] = drawn, f"v{version}"
                expected[key] = (drawn, first)
            catalog.record_many(records)
        found = {key: (s.seq, s.published_seq) for key, s in catalog.states("flights").items()}
        assert found == expected
        assert catalog.sequence() == drawn
