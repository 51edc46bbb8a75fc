"""The automation role of the SQLite catalog: ticks, cursors, the daemon lease, pool slots.

A tick's requests are committed before its run launches (`record_tick`), and a run process
claims the tick (`claim_tick`) before it runs it, so a daemon killed in between neither
loses the requests (the next daemon finds the tick still requested) nor repeats them (a
claimed tick is never claimed again). Holders of the daemon lease and of pool slots are
processes, alive as leases say (`leases.py`): by pid and start time on this host, by
heartbeat elsewhere.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from partita.catalog.automation_records import (
    DaemonLease,
    Holder,
    PoolSlot,
    RequestedUnit,
    TickRecord,
    TickStatus,
    holder_is_dead,
)
from partita.catalog.sqlite.connection import SQLiteConnection
from partita.catalog.sqlite.rows import partition_from_text, partition_to_text, sql_limit

DAEMON = "daemon"
_TICK_COLUMNS = (
    "tick_id, at, status, evaluated, requested, run_ids, error,"
    " launcher_host, launcher_pid, launcher_start, launcher_boot"
)
_HOLDER_COLUMNS = "host, pid, process_start, boot_id"


def _tick(row: Sequence) -> TickRecord:
    launcher = None if row[8] is None else Holder(row[7], row[8], row[9], row[10])
    return TickRecord(
        tick_id=row[0],
        at=datetime.fromisoformat(row[1]),
        status=TickStatus(row[2]),
        evaluated=tuple(json.loads(row[3])),
        requested=tuple(RequestedUnit(*unit) for unit in json.loads(row[4])),
        run_ids=tuple(json.loads(row[5])),
        error=row[6],
        launcher=launcher,
    )


class SQLiteAutomation(SQLiteConnection):
    """Ticks, cursors, the daemon lease and pool slots in the catalog file."""

    # --- ticks and cursors ---

    def record_tick(
        self,
        at: datetime,
        evaluated: Sequence[str],
        requested: Sequence[RequestedUnit],
        cursors: dict[str, str],
        error: str | None = None,
    ) -> TickRecord:
        """Record a tick and set `cursors` in one transaction (see the module)."""
        status = TickStatus.REQUESTED if requested else TickStatus.FINISHED
        units = [[r.asset, r.partition, r.why, r.force] for r in requested]
        with self._transaction("record a daemon tick") as connection:
            cursor = connection.execute(
                "INSERT INTO ticks (at, recorded, status, evaluated, requested, error)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING tick_id",
                (
                    self._timestamp(at),
                    self._timestamp(datetime.now(at.tzinfo)),
                    status,
                    json.dumps(list(evaluated)),
                    json.dumps(units),
                    error,
                ),
            )
            tick_id = cursor.fetchone()[0]
            for name, value in cursors.items():
                self._set_cursor(connection, name, value)
        return TickRecord(tick_id, at, status, tuple(evaluated), tuple(requested), (), error)

    def claim_tick(self, tick_id: int, launcher: Holder, now: datetime) -> bool:
        """Mark a requested tick launched by `launcher`; False when it is not requested."""
        with self._transaction(f"claim daemon tick {tick_id}") as connection:
            cursor = connection.execute(
                "UPDATE ticks SET status = ?, launcher_host = ?, launcher_pid = ?,"
                " launcher_start = ?, launcher_boot = ? WHERE tick_id = ? AND status = ?",
                (
                    TickStatus.LAUNCHED,
                    launcher.host,
                    launcher.pid,
                    launcher.process_start,
                    launcher.boot_id,
                    tick_id,
                    TickStatus.REQUESTED,
                ),
            )
        return cursor.rowcount == 1

    def add_tick_run(self, tick_id: int, run_id: str) -> None:
        """Name a run the tick started."""
        with self._transaction(f"name the run of daemon tick {tick_id}") as connection:
            row = connection.execute(
                "SELECT run_ids FROM ticks WHERE tick_id = ?", (tick_id,)
            ).fetchone()
            if row is not None:
                run_ids = [*json.loads(row[0]), run_id]
                connection.execute(
                    "UPDATE ticks SET run_ids = ? WHERE tick_id = ?",
                    (json.dumps(run_ids), tick_id),
                )

    def finish_tick(self, tick_id: int, error: str | None = None) -> None:
        """Mark a tick finished, keeping an earlier error unless a new one is given."""
        with self._transaction(f"finish daemon tick {tick_id}") as connection:
            connection.execute(
                "UPDATE ticks SET status = ?, error = coalesce(?, error) WHERE tick_id = ?",
                (TickStatus.FINISHED, error, tick_id),
            )

    def requeue_tick(self, tick_id: int) -> None:
        """Put a launched tick back to requested, forgetting its launcher."""
        with self._transaction(f"requeue daemon tick {tick_id}") as connection:
            connection.execute(
                "UPDATE ticks SET status = ?, launcher_host = NULL, launcher_pid = NULL,"
                " launcher_start = NULL, launcher_boot = NULL WHERE tick_id = ? AND status = ?",
                (TickStatus.REQUESTED, tick_id, TickStatus.LAUNCHED),
            )

    def open_ticks(self) -> list[TickRecord]:
        """Ticks requested or launched and not finished, oldest first."""
        with self._reading("read the open daemon ticks") as connection:
            rows = connection.execute(
                f"SELECT {_TICK_COLUMNS} FROM ticks WHERE status IN (?, ?) ORDER BY tick_id",
                (TickStatus.REQUESTED, TickStatus.LAUNCHED),
            ).fetchall()
        return [_tick(row) for row in rows]

    def ticks(self, limit: int | None = None) -> list[TickRecord]:
        """Recorded ticks, newest first."""
        with self._reading("read the daemon ticks") as connection:
            rows = connection.execute(
                f"SELECT {_TICK_COLUMNS} FROM ticks ORDER BY tick_id DESC LIMIT ?",
                (sql_limit(limit),),
            ).fetchall()
        return [_tick(row) for row in rows]

    def cursor(self, name: str) -> str | None:
        """A stored cursor, or None."""
        with self._reading(f"read cursor {name}") as connection:
            row = connection.execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def set_cursor(self, name: str, value: str) -> None:
        """Store a cursor."""
        with self._transaction(f"store cursor {name}") as connection:
            self._set_cursor(connection, name, value)

    @staticmethod
    def _set_cursor(connection: sqlite3.Connection, name: str, value: str) -> None:
        connection.execute(
            "INSERT INTO cursors (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    # --- the daemon lease ---

    def acquire_daemon_lease(
        self, holder: Holder, now: datetime, stale_after: float
    ) -> Holder | None:
        """Take or refresh the daemon lease: None when `holder` has it, else the live one."""
        with self._transaction("take the daemon lease") as connection:
            row = connection.execute(
                f"SELECT {_HOLDER_COLUMNS}, heartbeat FROM daemon_lease WHERE name = ?",
                (DAEMON,),
            ).fetchone()
            if row is not None:
                current = Holder(*row[:4])
                if current != holder and not holder_is_dead(current, row[4], now, stale_after):
                    return current
            connection.execute(
                f"INSERT INTO daemon_lease (name, {_HOLDER_COLUMNS}, heartbeat)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " host = excluded.host, pid = excluded.pid,"
                " process_start = excluded.process_start, boot_id = excluded.boot_id,"
                " heartbeat = excluded.heartbeat",
                (DAEMON, *_holder_values(holder), self._timestamp(now)),
            )
        return None

    def release_daemon_lease(self, holder: Holder) -> None:
        """Drop the daemon lease if `holder` has it."""
        with self._transaction("release the daemon lease") as connection:
            connection.execute(
                "DELETE FROM daemon_lease WHERE name = ? AND host = ? AND pid = ?",
                (DAEMON, holder.host, holder.pid),
            )

    def daemon_lease(self) -> DaemonLease | None:
        """The daemon lease as stored (its holder, alive or not, and last heartbeat)."""
        with self._reading("read the daemon lease") as connection:
            row = connection.execute(
                f"SELECT {_HOLDER_COLUMNS}, heartbeat FROM daemon_lease WHERE name = ?",
                (DAEMON,),
            ).fetchone()
        if row is None:
            return None
        return DaemonLease(Holder(*row[:4]), datetime.fromisoformat(row[4]))

    # --- pool slots ---

    def acquire_pool_slot(
        self,
        pool: str,
        size: int,
        unit: tuple[str, str | None],
        run_id: str,
        holder: Holder,
        now: datetime,
        stale_after: float,
    ) -> bool:
        """Take a slot of `pool` if fewer than `size` live holders have one."""
        asset, partition = unit
        with self._transaction(f"take a slot of pool {pool}") as connection:
            rows = connection.execute(
                f"SELECT asset, partition, run_id, {_HOLDER_COLUMNS}, heartbeat"
                " FROM pool_slots WHERE pool = ?",
                (pool,),
            ).fetchall()
            live = 0
            for row in rows:
                if holder_is_dead(Holder(*row[3:7]), row[7], now, stale_after):
                    connection.execute(
                        "DELETE FROM pool_slots WHERE pool = ? AND asset = ? AND partition = ?",
                        (pool, row[0], row[1]),
                    )
                elif (row[0], row[1], row[2]) != (asset, partition_to_text(partition), run_id):
                    live += 1
            if live >= size:
                return False
            connection.execute(
                "INSERT INTO pool_slots (pool, asset, partition, run_id,"
                f" {_HOLDER_COLUMNS}, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (pool, asset, partition) DO UPDATE SET run_id = excluded.run_id,"
                " host = excluded.host, pid = excluded.pid,"
                " process_start = excluded.process_start, boot_id = excluded.boot_id,"
                " heartbeat = excluded.heartbeat",
                (
                    pool,
                    asset,
                    partition_to_text(partition),
                    run_id,
                    *_holder_values(holder),
                    self._timestamp(now),
                ),
            )
        return True

    def release_pool_slot(self, pool: str, unit: tuple[str, str | None], run_id: str) -> None:
        """Free the unit's slot."""
        asset, partition = unit
        with self._transaction(f"free a slot of pool {pool}") as connection:
            connection.execute(
                "DELETE FROM pool_slots WHERE pool = ? AND asset = ? AND partition = ?"
                " AND run_id = ?",
                (pool, asset, partition_to_text(partition), run_id),
            )

    def pool_slots(self, pool: str | None = None) -> list[PoolSlot]:
        """The slots held now (of one pool, or of all), dead holders included."""
        where = "" if pool is None else "WHERE pool = ?"
        with self._reading("read the pool slots") as connection:
            rows = connection.execute(
                f"SELECT pool, asset, partition, run_id, {_HOLDER_COLUMNS} FROM pool_slots"
                f" {where} ORDER BY pool, asset, partition",
                () if pool is None else (pool,),
            ).fetchall()
        return [
            PoolSlot(row[0], row[1], partition_from_text(row[2]), row[3], Holder(*row[4:8]))
            for row in rows
        ]


def _holder_values(holder: Holder) -> tuple:
    return (holder.host, holder.pid, holder.process_start, holder.boot_id)
