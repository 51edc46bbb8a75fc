"""Leases: which run works on which unit right now, so overlapping runs never run it twice.

A lease names its holder's process by host, pid, start time and boot id. On this host the
holder keeps it while that process lives, however old its heartbeat: an asset holding the
GIL, a paused VM or a clock jump must not hand a live run's unit to another run. A pid
alone is trusted only together with a start time; a lease written without one (by an older
partita, or where the start time is unknown) also dies when its heartbeat is stale. On
another host only the heartbeat can tell: a lease not refreshed for `stale_after` seconds
is dead.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from partita.catalog.records import AttemptStatus, DeadLease, LeaseHolder, MaterializationRecord
from partita.catalog.sqlite.attempts import draw_sequences, record_parameters, write_attempt
from partita.catalog.sqlite.connection import SQLiteConnection
from partita.catalog.sqlite.rows import partition_from_text, partition_to_text
from partita.errors import unit_label
from partita.processes import ProcessIdentity, this_host

_LEASE_COLUMNS = "run_id, pid, heartbeat, host, process_start, boot_id"
_TAKE_OVER = (
    " ON CONFLICT (asset, partition) DO UPDATE SET run_id = excluded.run_id,"
    " pid = excluded.pid, heartbeat = excluded.heartbeat, host = excluded.host,"
    " process_start = excluded.process_start, boot_id = excluded.boot_id"
)


class _Lease(NamedTuple):
    run_id: str
    pid: int
    heartbeat: str
    host: str
    process_start: int | None
    boot_id: str | None

    def is_dead(self, now: datetime, stale_after: float) -> bool:
        age = (now - datetime.fromisoformat(self.heartbeat)).total_seconds()
        if self.host != this_host():  # a pid says nothing about another machine's processes
            return age > stale_after
        holder = ProcessIdentity(self.host, self.pid, self.process_start, self.boot_id)
        if not holder.is_alive():
            return True
        return self.process_start is None and age > stale_after


class SQLiteLeases(SQLiteConnection):
    """The lease role of the SQLite catalog.

    `process` is whose leases this catalog takes (this process by default, looked up at
    each lease, so a catalog used after a fork leases as the child).
    """

    def __init__(self, path: Path, process: ProcessIdentity | None = None) -> None:
        self._process = process
        super().__init__(path)

    def acquire_lease(
        self, asset: str, partition: str | None, run_id: str, now: datetime, stale_after: float
    ) -> LeaseHolder | None:
        """Lease a unit for `run_id`. Returns None when leased, or the live holder.

        A dead holder's lease (see the module) is taken over; the unit is then recorded as
        interrupted, since the dead run may have written data it never recorded.
        """
        key = partition_to_text(partition)
        me = self._process or ProcessIdentity.current()
        with self._transaction(f"lease {unit_label(asset, partition)}") as connection:
            row = connection.execute(
                f"SELECT {_LEASE_COLUMNS} FROM leases WHERE asset = ? AND partition = ?",
                (asset, key),
            ).fetchone()
            if row is not None and row[0] != run_id:
                lease = _Lease(*row)
                if not lease.is_dead(now, stale_after):
                    return LeaseHolder(run_id=lease.run_id, pid=lease.pid)
                self._record_interrupted_lease(connection, asset, key, lease, now)
            connection.execute(
                f"INSERT INTO leases (asset, partition, {_LEASE_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)" + _TAKE_OVER,
                (asset, key, run_id, me.pid, self._timestamp(now), me.host, me.start_time, me.boot),
            )
        return None

    def lease_holder(self, asset: str, partition: str | None) -> LeaseHolder | None:
        """Who holds the unit's lease now (alive or not), or None; reads only."""
        with self._reading(f"read the lease of {unit_label(asset, partition)}") as connection:
            row = connection.execute(
                "SELECT run_id, pid FROM leases WHERE asset = ? AND partition = ?",
                (asset, partition_to_text(partition)),
            ).fetchone()
        return None if row is None else LeaseHolder(run_id=row[0], pid=row[1])

    def heartbeat(self, run_id: str, now: datetime) -> None:
        """Keep the run's leases alive."""
        with self._transaction(f"refresh the leases of run {run_id}") as connection:
            connection.execute(
                "UPDATE leases SET heartbeat = ? WHERE run_id = ?", (self._timestamp(now), run_id)
            )

    def release_lease(self, asset: str, partition: str | None, run_id: str) -> None:
        """Drop one lease of the run (the unit turned out not to need running)."""
        key = partition_to_text(partition)
        with self._transaction(f"release {unit_label(asset, partition)}") as connection:
            connection.execute(
                "DELETE FROM leases WHERE asset = ? AND partition = ? AND run_id = ?",
                (asset, key, run_id),
            )

    def release_leases(self, run_id: str) -> None:
        """Drop every lease the run still holds (at its end)."""
        with self._transaction(f"release the leases of run {run_id}") as connection:
            connection.execute("DELETE FROM leases WHERE run_id = ?", (run_id,))

    def dead_leases(self, now: datetime, stale_after: float = 30.0) -> list[DeadLease]:
        """The units leased by dead runs (dead: see the module), read only;
        `interrupt_dead_leases` records them."""
        return [
            DeadLease(asset, partition_from_text(key), lease.run_id, lease.pid)
            for asset, key, lease in self._dead_leases(now, stale_after)
        ]

    def _dead_leases(self, now: datetime, stale_after: float) -> list[tuple[str, str, _Lease]]:
        with self._reading("look for leases of dead runs") as connection:
            rows = connection.execute(
                f"SELECT asset, partition, {_LEASE_COLUMNS} FROM leases"
            ).fetchall()
        leases = [(row[0], row[1], _Lease(*row[2:])) for row in rows]
        return [
            (asset, key, lease) for asset, key, lease in leases if lease.is_dead(now, stale_after)
        ]

    def interrupt_dead_leases(
        self, now: datetime, stale_after: float = 30.0
    ) -> list[tuple[str, str | None]]:
        """Record the units leased by dead runs as interrupted, drop those leases, and
        return the units (dead: see the module).

        The dead run may have replaced the unit's data without recording it (killed between
        the write and the catalog commit), so the published state no longer vouches for the
        data: an interrupted last attempt makes the next run rebuild the unit.
        """
        dead = self._dead_leases(now, stale_after)
        if not dead:
            return []
        interrupted = []
        with self._transaction("record the units of dead runs as interrupted") as connection:
            for asset, key, lease in dead:
                if self._record_interrupted_lease(connection, asset, key, lease, now):
                    interrupted.append((asset, partition_from_text(key)))
        return interrupted

    def _record_interrupted_lease(
        self, connection: sqlite3.Connection, asset: str, key: str, lease: _Lease, now: datetime
    ) -> bool:
        """Drop a dead run's lease and record its unit as interrupted (published data
        kept). False when the lease is gone or was taken over meanwhile."""
        cursor = connection.execute(
            "DELETE FROM leases WHERE asset = ? AND partition = ? AND run_id = ? AND pid = ?",
            (asset, key, lease.run_id, lease.pid),
        )
        if cursor.rowcount == 0:
            return False
        dead = DeadLease(asset, partition_from_text(key), lease.run_id, lease.pid)
        record = MaterializationRecord(
            asset=asset,
            partition=dead.partition,
            run_id=lease.run_id,
            status=AttemptStatus.INTERRUPTED,
            started=now,
            finished=now,
            attempts=0,
            error=dead.error,
        )
        values = record_parameters(record, self._timestamp)
        write_attempt(connection, record, values, draw_sequences(connection, 1))
        return True
