"""Contract: several processes at once. Never two holders of a lease; sequences unique and
in commit order whatever the number of writers; consistent reads."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from typing import Any

from .conftest import Backend
from .helpers import at, attempt

PROCESSES = 6
UNITS = [f"2013-01-{day:02d}" for day in range(1, 6)]
_FORK = multiprocessing.get_context("fork")  # children inherit the backend as it is


def run_in_processes(backend: Backend, target: Any, count: int) -> list[Any]:
    """Run `target(backend, index, barrier)` in `count` processes started together; return
    what each put on its queue, by process index."""
    barrier = _FORK.Barrier(count)
    results = _FORK.Queue()

    def main(index: int) -> None:
        results.put((index, target(backend, index, barrier)))

    processes = [_FORK.Process(target=main, args=(index,)) for index in range(count)]
    for process in processes:
        process.start()
    found = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return [found[index] for index in range(count)]


def _race_for_leases(backend: Backend, index: int, barrier: Any) -> list[str | None]:
    with backend.open() as catalog:
        barrier.wait()
        holders = []
        for unit in UNITS:
            holder = catalog.acquire_lease("flights", unit, f"run-{index}", at(0), 30.0)
            holders.append(None if holder is None else holder.run_id)
        return holders


def test_processes_racing_for_leases_end_with_one_holder_each(backend: Backend) -> None:
    backend.open().close()  # the schema exists before the race
    outcomes = run_in_processes(backend, _race_for_leases, PROCESSES)

    with backend.open() as catalog:
        for position, unit in enumerate(UNITS):
            won = [f"run-{index}" for index, held in enumerate(outcomes) if held[position] is None]
            assert len(won) == 1, (unit, outcomes)
            holder = catalog.lease_holder("flights", unit)
            assert holder is not None and holder.run_id == won[0]
            # Everyone else was told who holds it.
            assert {held[position] for held in outcomes} == {None, won[0]}
        assert catalog.history() == []  # a live holder is never recorded as interrupted


RECORDS = 25


def _record_concurrently(backend: Backend, index: int, barrier: Any) -> list[tuple[int, ...]]:
    """Record attempts of its own units and of one shared unit; after each, what it saw."""
    seen = []
    with backend.open() as catalog:
        barrier.wait()
        for number in range(RECORDS):
            shared, sequence = catalog.read_units([("shared", None)])
            before = shared["shared"][None].seq if shared else 0
            assert before <= sequence  # one snapshot: no state newer than its sequence
            own = f"p{index}-{number:03d}"
            catalog.record_many(
                [
                    attempt(partition=own, consumed_seq=sequence, run_id=f"run-{index}"),
                    attempt(
                        asset="shared",
                        partition=None,
                        minute=index,
                        consumed_seq=sequence,
                        status="materialized" if number % 3 else "failed",
                    ),
                ]
            )
            state = catalog.state("flights", own)
            assert state is not None
            seen.append((state.seq, sequence, catalog.sequence()))
    return seen


def test_sequences_of_concurrent_writers_are_unique_and_in_commit_order(
    backend: Backend,
) -> None:
    backend.open().close()
    seen = run_in_processes(backend, _record_concurrently, 4)

    own_seqs = [seq for rows in seen for seq, _, _ in rows]
    assert len(set(own_seqs)) == len(own_seqs)  # unique across every writer
    for rows in seen:
        seqs = [seq for seq, _, _ in rows]
        assert seqs == sorted(seqs)  # a writer's later commit has a later sequence
        for seq, read_before, read_after in rows:
            assert read_before < seq <= read_after  # drawn after what it read, before reads
    with backend.open() as catalog:
        flights = catalog.states("flights")
        shared = catalog.state("shared", None)
        assert shared is not None
        total = catalog.sequence()
        assert total == 2 * RECORDS * 4 == len(catalog.history())
        every = sorted([state.seq for state in flights.values()] + [shared.seq])
        assert len(set(every)) == len(every) and every[-1] == total
        for state in (*flights.values(), shared):
            assert state.consumed_seq < state.seq
            assert 0 < state.published_seq <= state.seq
        assert Counter(state.last_status for state in flights.values()) == {
            "materialized": RECORDS * 4
        }
