"""Contract: the automation role. Ticks are recorded with their cursors in one step and
claimed once; one daemon lease; pool slots bounded by live holders."""

from __future__ import annotations

import threading

from partita.catalog import Catalog
from partita.catalog.automation_records import (
    DaemonLease,
    Holder,
    RequestedUnit,
    TickStatus,
    current_holder,
)

from .helpers import at, dead_pid

ELSEWHERE = Holder("another-host.example", 4242)
UNITS = (
    RequestedUnit("flights", "2013-01-01", "on_missing"),
    RequestedUnit("airports", None, "eager", force=True),
)


def test_a_tick_is_recorded_with_its_cursors_and_read_back(catalog: Catalog) -> None:
    tick = catalog.record_tick(at(0), ["flights", "airports"], UNITS, {"asset:flights": "c1"})
    idle = catalog.record_tick(at(1), ["flights"], [], {"asset:flights": "c2"}, error="boom")

    assert tick.status == TickStatus.REQUESTED and idle.status == TickStatus.FINISHED
    newest, oldest = catalog.ticks()
    assert (newest.tick_id, newest.error, newest.requested) == (idle.tick_id, "boom", ())
    assert oldest.requested == UNITS and oldest.evaluated == ("flights", "airports")
    assert oldest.at == at(0)
    assert catalog.cursor("asset:flights") == "c2"
    assert catalog.cursor("sensor:none") is None
    assert [t.tick_id for t in catalog.open_ticks()] == [tick.tick_id]
    assert len(catalog.ticks(limit=1)) == 1


def test_a_requested_tick_is_claimed_once_then_finished(catalog: Catalog) -> None:
    tick = catalog.record_tick(at(0), ["flights"], UNITS, {})

    assert catalog.claim_tick(tick.tick_id, current_holder(), at(0))
    assert not catalog.claim_tick(tick.tick_id, ELSEWHERE, at(0))
    catalog.requeue_tick(tick.tick_id)  # its run was stopped: claimable again
    assert catalog.open_ticks()[0].status == TickStatus.REQUESTED
    assert catalog.claim_tick(tick.tick_id, current_holder(), at(0))
    catalog.add_tick_run(tick.tick_id, "run-1")
    (opened,) = catalog.open_ticks()
    assert opened.status == TickStatus.LAUNCHED and opened.launcher == current_holder()
    catalog.finish_tick(tick.tick_id)

    assert catalog.open_ticks() == []
    assert catalog.ticks()[0].run_ids == ("run-1",)


def test_concurrent_claims_of_one_tick_let_exactly_one_through(catalog: Catalog, backend) -> None:
    tick = catalog.record_tick(at(0), ["flights"], UNITS, {})
    wins = []

    def claim(pid: int) -> None:
        with backend.open() as own:
            wins.append(own.claim_tick(tick.tick_id, Holder("h", pid), at(0)))

    threads = [threading.Thread(target=claim, args=(pid,)) for pid in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]


def test_one_daemon_lease_held_by_a_live_process_taken_over_from_a_dead_one(
    catalog: Catalog,
) -> None:
    me = current_holder()
    assert catalog.acquire_daemon_lease(me, at(0), 30.0) is None
    assert catalog.acquire_daemon_lease(me, at(1), 30.0) is None  # a refresh
    assert catalog.acquire_daemon_lease(ELSEWHERE, at(60), 30.0) == me  # alive, however old

    catalog.release_daemon_lease(me)
    assert catalog.acquire_daemon_lease(ELSEWHERE, at(0), 30.0) is None
    assert catalog.acquire_daemon_lease(me, at(0.25), 30.0) == ELSEWHERE  # fresh heartbeat
    assert catalog.acquire_daemon_lease(me, at(2), 30.0) is None  # another host, stale

    dead = Holder(me.host, dead_pid())
    catalog.release_daemon_lease(me)
    assert catalog.acquire_daemon_lease(dead, at(0), 30.0) is None
    assert catalog.acquire_daemon_lease(me, at(0), 30.0) is None  # its process is gone


def test_the_daemon_lease_reads_back_with_its_latest_heartbeat(catalog: Catalog) -> None:
    assert catalog.daemon_lease() is None
    me = current_holder()
    assert catalog.acquire_daemon_lease(me, at(0), 30.0) is None
    assert catalog.daemon_lease() == DaemonLease(me, at(0))
    assert catalog.acquire_daemon_lease(me, at(5), 30.0) is None  # a heartbeat
    assert catalog.daemon_lease() == DaemonLease(me, at(5))
    assert catalog.acquire_daemon_lease(ELSEWHERE, at(6), 30.0) == me
    assert catalog.daemon_lease() == DaemonLease(me, at(5))  # a refused rival changes nothing
    catalog.release_daemon_lease(me)
    assert catalog.daemon_lease() is None


def test_pool_slots_are_bounded_by_live_holders(catalog: Catalog) -> None:
    me = current_holder()
    dead = Holder(me.host, dead_pid())

    def take(asset: str, holder: Holder = me) -> bool:
        return catalog.acquire_pool_slot("db", 2, (asset, None), "run-1", holder, at(0), 30.0)

    assert take("a", dead)
    assert take("b")
    assert take("c")  # the dead holder's slot was freed
    assert not take("d")
    assert take("c")  # the same unit again keeps its slot
    assert [s.asset for s in catalog.pool_slots("db")] == ["b", "c"]
    catalog.release_pool_slot("db", ("b", None), "run-1")
    assert take("d")
    assert catalog.acquire_pool_slot("other", 1, ("a", "k"), "run-2", me, at(0), 30.0)
    assert {(s.pool, s.asset, s.partition) for s in catalog.pool_slots()} == {
        ("db", "c", None),
        ("db", "d", None),
        ("other", "a", "k"),
    }
