"""The catalog as the rest of partita uses it: one protocol per role, and `Catalog` for all.

A backend (SQLite today) implements every role and passes the contract suite in
`tests/catalog/contract/`. What a backend must guarantee, beyond the signatures:

- Sequences: every recorded attempt draws the next value of one counter, incremented under
  the same lock and in the same transaction that records the attempt, so sequences are
  unique and grow in commit order whatever the number of writers. Staleness compares them.
- Leases: at most one holder per unit. A holder of this host keeps its lease while its
  process (pid and start time) lives, however old its heartbeat; a holder of another host
  keeps it while its heartbeat is fresher than `stale_after` seconds.
- Reads that return several things (`read_units`, `snapshot_and_changes`) read them as one
  consistent snapshot.

Timestamps are aware datetimes (a naive one raises CatalogError); unpartitioned assets have
partition `None`; every failure is a CatalogError naming the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from partita.catalog.automation_records import (
    DaemonLease,
    Holder,
    PoolSlot,
    RequestedUnit,
    TickRecord,
)
from partita.catalog.records import (
    DeadLease,
    DynamicKeySet,
    FailedCheck,
    IncidentRecord,
    LeaseHolder,
    MaterializationRecord,
    NotificationRecord,
    PartitionState,
    QuarantineRecord,
    RunRecord,
    StateRow,
)

Unit = tuple[str, str | None]  # (asset, partition)


class RunLog(Protocol):
    """Runs: one per command invocation."""

    def start_run(self, command: str, started: datetime) -> str:
        """Record a new running run of `command` by this process; return its sortable id."""
        ...

    def finish_run(
        self, run_id: str, finished: datetime, status: str, counts: dict[str, int]
    ) -> None:
        """Set a run's end time, final status and per-unit-status counts."""
        ...

    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """Runs, newest first; at most `limit` of them."""
        ...

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run with this id, or None."""
        ...

    def mark_interrupted_runs(self, finished: datetime) -> list[str]:
        """Set runs still running whose process is gone to interrupted; return their ids."""
        ...


class PartitionStates(Protocol):
    """Materialization attempts and the current state of each (asset, partition)."""

    def record(self, record: MaterializationRecord) -> None:
        """Append one attempt to the history and update its partition's state, atomically
        (and drop the run's lease of the unit)."""
        ...

    def record_many(self, records: Sequence[MaterializationRecord]) -> None:
        """Record several attempts in one transaction, in order: all of them, or none."""
        ...

    def state(self, asset: str, partition: str | None) -> PartitionState | None:
        """The current state of one unit, read fresh."""
        ...

    def states(self, asset: str) -> dict[str | None, PartitionState]:
        """The current state of every recorded partition of `asset`, by partition."""
        ...

    def all_states(self) -> dict[str, dict[str | None, PartitionState]]:
        """Every recorded state, by asset and partition."""
        ...

    def read_units(
        self, units: Iterable[Unit]
    ) -> tuple[dict[str, dict[str | None, PartitionState]], int]:
        """The states of the given units (unrecorded ones absent) and the catalog's
        sequence, read as one consistent snapshot."""
        ...

    def sequence(self) -> int:
        """The catalog's current sequence: the last one drawn, 0 when none."""
        ...

    def failed_checks(self) -> list[FailedCheck]:
        """Checks that did not pass in the latest attempt of each unit."""
        ...


class Snapshots(Protocol):
    """The planner's per-asset cache of states, valid through a sequence."""

    def snapshot_and_changes(
        self, asset: str, layout: str
    ) -> tuple[bytes | None, int, list[StateRow]]:
        """The stored snapshot of `asset` in `layout` (None if there is none in that
        layout), the sequence it is valid through (0 with None), and the rows changed since,
        ordered by seq (every row when there is no snapshot); one consistent snapshot."""
        ...

    def save_snapshot(self, asset: str, layout: str, through_seq: int, payload: bytes) -> None:
        """Store a snapshot, unless one of the same layout through a later sequence is
        already stored; another layout always replaces it."""
        ...

    def snapshot_layout(self, asset: str) -> str | None:
        """The layout of the snapshot stored for `asset`, None when there is none (a
        snapshot of an older layout may be carried over to the current one)."""
        ...


class Leases(Protocol):
    """Which run works on which unit right now, so overlapping runs never run it twice."""

    def acquire_lease(
        self, asset: str, partition: str | None, run_id: str, now: datetime, stale_after: float
    ) -> LeaseHolder | None:
        """Lease a unit for `run_id`: None when leased, else the live holder. A dead
        holder's lease is taken over and its unit recorded as interrupted."""
        ...

    def lease_holder(self, asset: str, partition: str | None) -> LeaseHolder | None:
        """Who holds the unit's lease now (alive or not), or None; reads only. A run checks
        it just before publishing a write, to publish only while it still holds the unit."""
        ...

    def heartbeat(self, run_id: str, now: datetime) -> None:
        """Keep the run's leases alive."""
        ...

    def release_lease(self, asset: str, partition: str | None, run_id: str) -> None:
        """Drop one lease of the run."""
        ...

    def release_leases(self, run_id: str) -> None:
        """Drop every lease the run still holds."""
        ...

    def dead_leases(self, now: datetime, stale_after: float = 30.0) -> list[DeadLease]:
        """The units leased by dead runs, read only (nothing is recorded)."""
        ...

    def interrupt_dead_leases(self, now: datetime, stale_after: float = 30.0) -> list[Unit]:
        """Record the units leased by dead runs as interrupted, drop those leases, return
        the units."""
        ...


class History(Protocol):
    """Every recorded attempt."""

    def history(
        self, asset: str | None = None, partition: str | None = None, limit: int | None = None
    ) -> list[MaterializationRecord]:
        """Recorded attempts, newest first, optionally of one asset and/or partition
        (`partition=None` means any)."""
        ...


class DynamicKeys(Protocol):
    """The keys of dynamic partitions, by set name, in an order users control."""

    def dynamic_keys(self, name: str) -> DynamicKeySet:
        """The set's keys in order (none, generation 0, for a set never written)."""
        ...

    def add_dynamic_keys(
        self,
        name: str,
        keys: Sequence[str],
        *,
        after: str | None = None,
        before: str | None = None,
    ) -> DynamicKeySet:
        """Add the keys not in the set yet, in the given order: at the end, or right after
        or before an existing key (which bumps the generation). CatalogError when `after`
        or `before` is not a key of the set. One transaction."""
        ...

    def remove_dynamic_keys(
        self,
        name: str,
        keys: Sequence[str],
        *,
        forget: Sequence[tuple[str, str]] = (),
        key_positions: Mapping[str, Sequence[int]] | None = None,
    ) -> DynamicKeySet:
        """Remove the keys (those present; bumps the generation when any was) and, in the
        same transaction, the states and history of the units in `forget` (asset,
        partition) and the leases of the units of removed keys: `key_positions` says, per
        asset partitioned by the set, where in its `|`-joined keys the set's value is."""
        ...


class Versions(Protocol):
    """Which data version each partition had when, and restores of earlier versions."""

    def versions_as_of(
        self, asset: str, *, run_id: str | None = None, moment: datetime | None = None
    ) -> dict[str | None, MaterializationRecord]:
        """The successful attempt whose data each partition of `asset` had just after run
        `run_id` recorded its last attempt (when it recorded none: when it finished), or
        at `moment`; partitions with no data then are absent. Exactly one of the two."""
        ...

    def record_restore(self, record: MaterializationRecord, readers: Sequence[str]) -> list[Unit]:
        """Record `record` (a success bringing back an earlier data version) as `record`
        does, marked `restored`; in the same transaction, the partitions of the `readers`
        assets that read this unit at the restored version, and whose every input is
        again current, become up to date as of the restore (never having read the data it
        took back). Return those reader units."""
        ...


class Quarantines(Protocol):
    """The rows each unit's latest successful attempt quarantined (one record per unit)."""

    def record_quarantine(self, record: QuarantineRecord) -> None:
        """Record (or replace) the quarantine of the record's unit."""
        ...

    def quarantines(self, asset: str | None = None) -> list[QuarantineRecord]:
        """The current quarantine records, of one asset or all, ordered by asset and
        partition (an unpartitioned asset's `None` first)."""
        ...


class RunHistory(Protocol):
    """The attempts of one run, for a run page."""

    def run_history(self, run_id: str) -> list[MaterializationRecord]:
        """The attempts the run recorded, in the order it recorded them (empty for an
        unknown run or one that recorded none yet)."""
        ...

    def run_leases(self, run_id: str) -> list[Unit]:
        """The units the run holds a lease on now, alive or not (what it is working on),
        sorted; read only."""
        ...


class AttemptDetails(Protocol):
    """One partition's attempts in full, for a partition page."""

    def partition_attempts(
        self, asset: str, partition: str | None, limit: int | None = None
    ) -> list[MaterializationRecord]:
        """The attempts of (asset, partition) (None: the unpartitioned one), newest first,
        at most `limit`, each with the check results it recorded in `checks`."""
        ...


class Automation(Protocol):
    """The daemon's state: ticks recorded before their runs launch, cursors, the daemon
    lease, and the slots of concurrency pools. A holder (`Holder`) of this host holds while
    its process lives; of another host while its heartbeat is fresher than `stale_after`."""

    def record_tick(
        self,
        at: datetime,
        evaluated: Sequence[str],
        requested: Sequence[RequestedUnit],
        cursors: dict[str, str],
        error: str | None = None,
    ) -> TickRecord:
        """Record a tick and set `cursors`, in one transaction: status requested when it
        requested something, else finished."""
        ...

    def claim_tick(self, tick_id: int, launcher: Holder, now: datetime) -> bool:
        """Mark a requested tick launched by `launcher`; False when it is not requested
        (another process launched it already)."""
        ...

    def add_tick_run(self, tick_id: int, run_id: str) -> None:
        """Name a run the tick started."""
        ...

    def finish_tick(self, tick_id: int, error: str | None = None) -> None:
        """Mark a tick finished (its run ended), with an error if it failed to run."""
        ...

    def requeue_tick(self, tick_id: int) -> None:
        """Put a launched tick back to requested (its run was stopped before the end)."""
        ...

    def open_ticks(self) -> list[TickRecord]:
        """Ticks not finished (requested or launched), oldest first."""
        ...

    def ticks(self, limit: int | None = None) -> list[TickRecord]:
        """Recorded ticks, newest first."""
        ...

    def cursor(self, name: str) -> str | None:
        """A stored cursor (of a sensor, or of an asset's automation), or None."""
        ...

    def set_cursor(self, name: str, value: str) -> None:
        """Store a cursor."""
        ...

    def acquire_daemon_lease(
        self, holder: Holder, now: datetime, stale_after: float
    ) -> Holder | None:
        """Take (or refresh) the one daemon lease: None when `holder` has it, else the live
        process holding it. A dead holder's lease is taken over."""
        ...

    def release_daemon_lease(self, holder: Holder) -> None:
        """Drop the daemon lease if `holder` has it."""
        ...

    def daemon_lease(self) -> DaemonLease | None:
        """The daemon lease as stored (its holder, alive or not, and last heartbeat)."""
        ...

    def acquire_pool_slot(
        self,
        pool: str,
        size: int,
        unit: Unit,
        run_id: str,
        holder: Holder,
        now: datetime,
        stale_after: float,
    ) -> bool:
        """Take a slot of `pool` for a unit of `run_id` if fewer than `size` live holders
        have one (slots of dead holders are freed first)."""
        ...

    def release_pool_slot(self, pool: str, unit: Unit, run_id: str) -> None:
        """Free the unit's slot."""
        ...

    def pool_slots(self, pool: str | None = None) -> list[PoolSlot]:
        """The slots held now (of one pool, or of all)."""
        ...


class Incidents(Protocol):
    """Alert incidents: at most one open incident per key, and the notifications sent."""

    def open_incident(
        self,
        key: str,
        *,
        rule: str,
        kind: str,
        asset: str | None,
        partition: str | None,
        run_id: str | None,
        opened: datetime,
        message: str,
    ) -> IncidentRecord | None:
        """Open an incident for `key` and return it; None (nothing written) when one is
        already open for that key. Atomic: two callers never both open one."""
        ...

    def resolve_incident(self, key: str, resolved: datetime) -> IncidentRecord | None:
        """Resolve the open incident of `key` and return it; None when none is open."""
        ...

    def open_incidents(self) -> list[IncidentRecord]:
        """Every incident not resolved yet, oldest first."""
        ...

    def record_notification(self, incident_id: int, notification: NotificationRecord) -> None:
        """Append a notification sent (or tried) about an incident."""
        ...

    def incidents(self, limit: int | None = None) -> list[IncidentRecord]:
        """Incidents with their notifications, the most recently opened first."""
        ...


class Catalog(
    RunLog,
    PartitionStates,
    Snapshots,
    Leases,
    History,
    DynamicKeys,
    Versions,
    Quarantines,
    RunHistory,
    AttemptDetails,
    Automation,
    Incidents,
    Protocol,
):
    """A whole catalog backend: every role, and closing."""

    def close(self) -> None:
        """Close it; further calls raise CatalogError. Safe to call twice."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exception_type: type[BaseException] | None,
        exception: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...
