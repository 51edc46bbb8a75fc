"""Contract: leases. One holder per unit; a holder of this host keeps its lease while its
process lives (however old its heartbeat), one of another host while its heartbeat is fresh."""

from __future__ import annotations

import os

import pytest

from partita.catalog import Catalog, LeaseHolder
from partita.processes import ProcessIdentity, boot_id, process_start_time, this_host

from .conftest import Backend
from .helpers import at, attempt, dead_pid

ELSEWHERE = ProcessIdentity("another-host.example", 4242)


def lease_as(backend: Backend, process: ProcessIdentity, run_id: str, minute: float) -> None:
    """Lease flights 2013-01-01 for `run_id` as `process` would, at `minute`."""
    with backend.open(process=process) as other:
        assert other.acquire_lease("flights", "2013-01-01", run_id, at(minute), 30.0) is None


def this_process() -> ProcessIdentity:
    identity = ProcessIdentity.current()
    assert identity.start_time is not None and identity.boot is not None  # Linux: /proc
    return identity


def test_a_live_process_of_this_host_keeps_its_lease_however_old_its_heartbeat(
    catalog: Catalog,
) -> None:
    assert catalog.acquire_lease("flights", "2013-01-01", "run-1", at(0), 30.0) is None

    # Ten minutes without a heartbeat (a VM pause, a clock jump, an asset holding the GIL).
    holder = catalog.acquire_lease("flights", "2013-01-01", "run-2", at(10), 30.0)

    assert holder == LeaseHolder(run_id="run-1", pid=os.getpid())
    assert catalog.interrupt_dead_leases(at(10)) == []
    assert catalog.lease_holder("flights", "2013-01-01") == holder
    assert catalog.history() == []


def test_a_dead_process_of_this_host_loses_its_lease_at_once(
    backend: Backend, catalog: Catalog
) -> None:
    catalog.record(attempt(minute=0))
    lease_as(backend, ProcessIdentity(this_host(), dead_pid()), "dead-run", 1)

    assert catalog.acquire_lease("flights", "2013-01-01", "run-2", at(1), 30.0) is None

    assert catalog.lease_holder("flights", "2013-01-01") == LeaseHolder("run-2", os.getpid())
    interrupted = catalog.history(limit=1)[0]
    assert (interrupted.status, interrupted.run_id) == ("interrupted", "dead-run")
    assert "died while working on it" in (interrupted.error or "")
    state = catalog.state("flights", "2013-01-01")
    assert state is not None and (state.last_status, state.data_version) == ("interrupted", "dv-0")


@pytest.mark.parametrize(
    "differs",
    ["start_time", "boot"],
    ids=["pid-reused-since", "pid-of-an-earlier-boot"],
)
def test_a_live_pid_of_another_process_does_not_hold_the_lease(
    backend: Backend, catalog: Catalog, differs: str
) -> None:
    me = this_process()
    if differs == "start_time":
        holder = ProcessIdentity(me.host, me.pid, me.start_time - 1, me.boot)  # type: ignore[operator]
    else:
        holder = ProcessIdentity(me.host, me.pid, me.start_time, "an-earlier-boot")
    lease_as(backend, holder, "old-run", 0)

    assert catalog.acquire_lease("flights", "2013-01-01", "run-2", at(0), 30.0) is None
    assert catalog.lease_holder("flights", "2013-01-01") == LeaseHolder("run-2", me.pid)
    assert catalog.history(limit=1)[0].run_id == "old-run"


def test_a_lease_without_a_start_time_also_dies_with_its_heartbeat(
    backend: Backend, catalog: Catalog
) -> None:
    """A pid alone (a lease of an older partita) may have been reused: after `stale_after`
    without a heartbeat it no longer proves the holder alive."""
    lease_as(backend, ProcessIdentity(this_host(), os.getpid()), "old-run", 0)

    assert catalog.acquire_lease("flights", "2013-01-01", "run-2", at(0.25), 30.0) is not None
    assert catalog.acquire_lease("flights", "2013-01-01", "run-2", at(1), 30.0) is None


def test_a_lease_of_another_host_holds_while_its_heartbeat_is_fresh(
    backend: Backend, catalog: Catalog
) -> None:
    with backend.open(process=ELSEWHERE) as remote:
        assert remote.acquire_lease("flights", "2013-01-01", "run-1", at(0), 30.0) is None
        held = catalog.acquire_lease("flights", "2013-01-01", "run-2", at(29 / 60), 30.0)
        assert held == LeaseHolder("run-1", ELSEWHERE.pid)
        remote.heartbeat("run-1", at(20 / 60))
        assert catalog.acquire_lease("flights", "2013-01-01", "run-2", at(45 / 60), 30.0)
        assert catalog.interrupt_dead_leases(at(45 / 60)) == []

    # No heartbeat for over 30 s: the remote holder loses the unit.
    assert catalog.acquire_lease("flights", "2013-01-01", "run-2", at(51 / 60), 30.0) is None
    assert catalog.lease_holder("flights", "2013-01-01") == LeaseHolder("run-2", os.getpid())


def test_interrupt_dead_leases_takes_only_the_dead(backend: Backend, catalog: Catalog) -> None:
    catalog.acquire_lease("flights", "live", "run-live", at(0), 30.0)
    with backend.open(process=ProcessIdentity(this_host(), dead_pid())) as dead:
        dead.acquire_lease("flights", "dead", "run-dead", at(0), 30.0)
        dead.acquire_lease("airports", None, "run-dead", at(0), 30.0)
    with backend.open(process=ELSEWHERE) as remote:
        remote.acquire_lease("flights", "remote-fresh", "run-remote", at(10), 30.0)
        remote.acquire_lease("flights", "remote-stale", "run-stale", at(0), 30.0)

    interrupted = catalog.interrupt_dead_leases(at(10))

    assert sorted(interrupted, key=str) == [
        ("airports", None),
        ("flights", "dead"),
        ("flights", "remote-stale"),
    ]
    assert catalog.lease_holder("flights", "live") == LeaseHolder("run-live", os.getpid())
    assert catalog.lease_holder("flights", "remote-fresh") == LeaseHolder("run-remote", 4242)
    assert catalog.lease_holder("flights", "dead") is None
    assert catalog.state("airports", None).last_status == "interrupted"  # type: ignore[union-attr]
    assert catalog.interrupt_dead_leases(at(10)) == []


def test_lease_holder_follows_the_lease(catalog: Catalog) -> None:
    assert catalog.lease_holder("flights", "2013-01-01") is None
    catalog.acquire_lease("flights", "2013-01-01", "run-1", at(0), 30.0)
    catalog.acquire_lease("airports", None, "run-1", at(0), 30.0)
    assert catalog.lease_holder("flights", "2013-01-01") == LeaseHolder("run-1", os.getpid())
    assert catalog.lease_holder("airports", None) == LeaseHolder("run-1", os.getpid())
    assert catalog.lease_holder("flights", "2013-01-02") is None

    catalog.record(attempt(run_id="run-1"))  # recording the unit drops the run's lease
    assert catalog.lease_holder("flights", "2013-01-01") is None
    catalog.release_lease("airports", None, "run-2")  # not its lease: kept
    assert catalog.lease_holder("airports", None) is not None
    catalog.release_lease("airports", None, "run-1")
    assert catalog.lease_holder("airports", None) is None


def test_the_same_run_leases_again_and_releases_all(catalog: Catalog) -> None:
    assert catalog.acquire_lease("flights", "a", "run-1", at(0), 30.0) is None
    assert catalog.acquire_lease("flights", "a", "run-1", at(1), 30.0) is None
    assert catalog.acquire_lease("flights", "b", "run-1", at(1), 30.0) is None

    catalog.release_leases("run-1")

    assert catalog.lease_holder("flights", "a") is None
    assert catalog.lease_holder("flights", "b") is None
    assert catalog.acquire_lease("flights", "a", "run-2", at(1), 30.0) is None


def test_process_identity_of_this_process_is_complete() -> None:
    me = this_process()
    assert me.pid == os.getpid()
    assert me.start_time == process_start_time(os.getpid())
    assert me.boot == boot_id()
    assert me.is_alive()


def test_run_leases_lists_what_a_run_is_working_on(catalog: Catalog) -> None:
    assert catalog.acquire_lease("flights", "2013-01-02", "run-a", at(0), 30.0) is None
    assert catalog.acquire_lease("airports", None, "run-a", at(0), 30.0) is None
    assert catalog.acquire_lease("flights", "2013-01-01", "run-b", at(0), 30.0) is None
    assert catalog.run_leases("run-a") == [("airports", None), ("flights", "2013-01-02")]
    catalog.record(attempt(partition="2013-01-02", run_id="run-a"))  # drops its lease
    assert catalog.run_leases("run-a") == [("airports", None)]
    catalog.release_leases("run-a")
    assert catalog.run_leases("run-a") == []
    assert catalog.run_leases("run-b") == [("flights", "2013-01-01")]
