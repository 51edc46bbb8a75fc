"""The catalog: one SQLite file recording every run and materialization attempt.

Schema version 4 (kept in `PRAGMA user_version`; migrations in `_MIGRATIONS`):

- `runs`: one row per command invocation.
- `materializations`: append-only history, one row per attempt of a unit. Its AUTOINCREMENT
  id is the catalog's sequence: assigned inside write transactions, so it grows in commit order.
- `partition_states`: the current state, one row per (asset, partition); planning reads only
  this. Its sequence columns (`seq`: last attempt, `published_seq`: first publication of the
  current data version, `consumed_seq`: inputs read as of) let planning compare integers;
  `deps_version` says what the last success read (its dependencies and their mappings).
- `check_results`: the data-quality checks of each attempt.
- `leases`: which run (pid, host, heartbeat) is working on which unit right now.
- `state_snapshots`: an opaque per-asset cache of the planner, valid through a sequence.

Unpartitioned assets are stored under partition `""` (a primary key column cannot hold NULL
usefully) and surface as `None`. Timestamps are UTC ISO-8601 text with microseconds, so they
sort as text. Consumed inputs are JSON columns (`[[asset, partition, data_version], ...]`) in
both the history and the state rows: they are always read with their record and never searched,
so a child table would only add one insert per input and a join per read.

The file is in WAL mode so readers in other processes never block on a writer, and a 30 s
busy timeout for writers. `synchronous=NORMAL`: a commit survives a crash of the process
(a SIGKILL) but not of the machine, and commits cost no fsync. That is safe for the one
promise the catalog keeps: data files are fsynced before the catalog is told about them,
so losing the last commits to a power cut only makes partita rebuild data that exists,
never claim data that does not.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from partita.catalog.records import (
    INTERRUPTED,
    MATERIALIZED,
    RUNNING,
    CheckResult,
    ConsumedInput,
    LeaseHolder,
    MaterializationRecord,
    PartitionState,
    RunRecord,
)
from partita.errors import CatalogError
from partita.processes import process_is_alive

SCHEMA_VERSION = 4
BUSY_TIMEOUT_SECONDS = 30.0
_UNPARTITIONED = ""
_JSON_DECODER = json.JSONDecoder()
_UNITS_PER_QUERY = 500  # bound parameters per query stay under SQLite's old limit of 999

# Sets the sequence columns of existing states from the history, so that a migrated catalog
# plans as before: `consumed_seq` is the last success only while every input it consumed is
# still the upstream's current data version (0, stale, otherwise).
_BACKFILL_SEQUENCES = """
UPDATE partition_states SET
    seq = coalesce((
        SELECT max(m.id) FROM materializations AS m
        WHERE m.asset = partition_states.asset AND m.partition = partition_states.partition
    ), 0),
    published_seq = CASE WHEN data_version IS NULL THEN 0 ELSE coalesce((
        SELECT min(m.id) FROM materializations AS m
        WHERE m.asset = partition_states.asset AND m.partition = partition_states.partition
            AND m.status = :materialized AND m.data_version = partition_states.data_version
            AND m.id > coalesce((
                SELECT max(o.id) FROM materializations AS o
                WHERE o.asset = partition_states.asset AND o.partition = partition_states.partition
                    AND o.status = :materialized
                    AND o.data_version IS NOT partition_states.data_version
            ), 0)
    ), 0) END,
    consumed_seq = CASE WHEN EXISTS (
        SELECT 1 FROM json_each(partition_states.inputs) AS i
        LEFT JOIN partition_states AS u
            ON u.asset = json_extract(i.value, '$[0]')
            AND u.partition = coalesce(json_extract(i.value, '$[1]'), :unpartitioned)
        WHERE u.data_version IS NOT json_extract(i.value, '$[2]')
    ) THEN 0 ELSE coalesce((
        SELECT max(m.id) FROM materializations AS m
        WHERE m.asset = partition_states.asset AND m.partition = partition_states.partition
            AND m.status = :materialized
    ), 0) END
"""


def _backfill_sequences(connection: sqlite3.Connection) -> None:
    connection.execute(
        _BACKFILL_SEQUENCES, {"materialized": MATERIALIZED, "unpartitioned": _UNPARTITIONED}
    )


# A migration step is a statement, or a function run in the same migration transaction.
_Step = str | Callable[[sqlite3.Connection], None]

# _MIGRATIONS[n] brings a catalog from schema n to n + 1; each ends by setting user_version.
_MIGRATIONS: tuple[tuple[_Step, ...], ...] = (
    (
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            command TEXT NOT NULL,
            started TEXT NOT NULL,
            finished TEXT,
            status TEXT NOT NULL
                CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
            counts TEXT NOT NULL DEFAULT '{}',
            pid INTEGER
        )
        """,
        "CREATE INDEX runs_by_started ON runs (started)",
        """
        CREATE TABLE materializations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            asset TEXT NOT NULL,
            partition TEXT NOT NULL,
            run_id TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('materialized', 'failed', 'interrupted')),
            started TEXT NOT NULL,
            finished TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            rows INTEGER,
            bytes INTEGER,
            data_version TEXT,
            code_version TEXT,
            inputs TEXT NOT NULL DEFAULT '[]',
            watermark TEXT,
            error TEXT
        )
        """,
        "CREATE INDEX materializations_by_unit ON materializations (asset, partition, id)",
        """
        CREATE TABLE partition_states (
            asset TEXT NOT NULL,
            partition TEXT NOT NULL,
            last_status TEXT NOT NULL
                CHECK (last_status IN ('materialized', 'failed', 'interrupted')),
            data_version TEXT,
            code_version TEXT,
            inputs TEXT NOT NULL DEFAULT '[]',
            materialized_at TEXT,
            last_attempt_at TEXT NOT NULL,
            watermark TEXT,
            rows INTEGER,
            error TEXT,
            PRIMARY KEY (asset, partition)
        ) WITHOUT ROWID
        """,
        "PRAGMA user_version = 1",
    ),
    (
        # Data-quality check results of each attempt.
        """
        CREATE TABLE check_results (
            materialization_id INTEGER NOT NULL REFERENCES materializations (id),
            name TEXT NOT NULL,
            severity TEXT NOT NULL CHECK (severity IN ('error', 'warn')),
            passed INTEGER NOT NULL,
            message TEXT
        )
        """,
        "CREATE INDEX check_results_by_attempt ON check_results (materialization_id)",
        # A unit is leased by the run working on it, so overlapping runs never run it twice.
        """
        CREATE TABLE leases (
            asset TEXT NOT NULL,
            partition TEXT NOT NULL,
            run_id TEXT NOT NULL,
            pid INTEGER NOT NULL,
            heartbeat TEXT NOT NULL,
            PRIMARY KEY (asset, partition)
        ) WITHOUT ROWID
        """,
        "PRAGMA user_version = 2",
    ),
    (
        # The host of a lease's process: its pid says nothing about another machine.
        "ALTER TABLE leases ADD COLUMN host TEXT NOT NULL DEFAULT ''",
        "PRAGMA user_version = 3",
    ),
    (
        # Sequence numbers, so planning compares integers instead of data versions.
        "ALTER TABLE partition_states ADD COLUMN published_seq INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE partition_states ADD COLUMN consumed_seq INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE partition_states ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
        # What the last success read (dependencies and mappings); unknown (NULL) for old rows.
        "ALTER TABLE partition_states ADD COLUMN deps_version TEXT",
        _backfill_sequences,
        # Indexed after the backfill, which rewrites every seq.
        "CREATE INDEX partition_states_by_seq ON partition_states (asset, seq)",
        """
        CREATE TABLE state_snapshots (
            asset TEXT PRIMARY KEY,
            layout TEXT NOT NULL,
            through_seq INTEGER NOT NULL,
            payload BLOB NOT NULL
        )
        """,
        "PRAGMA user_version = 4",
    ),
)
assert len(_MIGRATIONS) == SCHEMA_VERSION

_INSERT_HISTORY = """
INSERT INTO materializations (
    asset, partition, run_id, status, started, finished, attempts,
    rows, bytes, data_version, code_version, inputs, watermark, error
) VALUES (
    :asset, :partition, :run_id, :status, :started, :finished, :attempts,
    :rows, :bytes, :data_version, :code_version, :inputs, :watermark, :error
)
"""

# A success publishes everything it produced. `:seq` is the id of its history row; an
# identical rebuild (same data version) keeps the sequence that first published that data.
# (The right-hand sides of an UPDATE all read the row as it was before it.)
_UPSERT_SUCCESS = """
INSERT INTO partition_states (
    asset, partition, last_status, data_version, code_version, inputs,
    materialized_at, last_attempt_at, watermark, rows, error,
    published_seq, consumed_seq, seq, deps_version
) VALUES (
    :asset, :partition, :status, :data_version, :code_version, :inputs,
    :finished, :finished, :watermark, :rows, NULL,
    :seq, :consumed_seq, :seq, :deps_version
)
ON CONFLICT (asset, partition) DO UPDATE SET
    last_status = excluded.last_status,
    data_version = excluded.data_version,
    code_version = excluded.code_version,
    inputs = excluded.inputs,
    materialized_at = excluded.materialized_at,
    last_attempt_at = excluded.last_attempt_at,
    watermark = excluded.watermark,
    rows = excluded.rows,
    error = NULL,
    published_seq = CASE WHEN data_version IS excluded.data_version
        THEN published_seq ELSE excluded.published_seq END,
    consumed_seq = excluded.consumed_seq,
    seq = excluded.seq,
    deps_version = excluded.deps_version
"""

# A failed or interrupted attempt leaves the previously published data as it was.
_UPSERT_FAILURE = """
INSERT INTO partition_states (asset, partition, last_status, last_attempt_at, error, seq)
VALUES (:asset, :partition, :status, :finished, :error, :seq)
ON CONFLICT (asset, partition) DO UPDATE SET
    last_status = excluded.last_status,
    last_attempt_at = excluded.last_attempt_at,
    error = excluded.error,
    seq = excluded.seq
"""

_STATE_COLUMNS = """
    asset, partition, last_status, data_version, code_version, inputs,
    materialized_at, last_attempt_at, watermark, rows, error,
    published_seq, consumed_seq, seq, deps_version
"""

# What planning needs of a state, as compact tuples (see `snapshot_and_changes`).
_COMPACT_STATE_COLUMNS = """
    partition, last_status, data_version IS NOT NULL, code_version,
    published_seq, consumed_seq, materialized_at, seq, deps_version
"""

# Another layout always replaces a snapshot; the same layout only from as far or further.
_SAVE_SNAPSHOT = """
INSERT INTO state_snapshots (asset, layout, through_seq, payload) VALUES (?, ?, ?, ?)
ON CONFLICT (asset) DO UPDATE SET
    layout = excluded.layout,
    through_seq = excluded.through_seq,
    payload = excluded.payload
WHERE layout IS NOT excluded.layout OR through_seq <= excluded.through_seq
"""

_HISTORY_COLUMNS = """
    asset, partition, run_id, status, started, finished, attempts,
    rows, bytes, data_version, code_version, inputs, watermark, error
"""

_RUN_COLUMNS = "run_id, command, started, finished, status, counts, pid"


class SQLiteCatalog:
    """Runs, materialization history and current partition states in one SQLite file.

    Opens (creating the file, its folders and the schema if needed) on construction. One
    instance may be shared by threads: calls are serialized on its single connection.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = self._open()

    def close(self) -> None:
        """Close the connection; further calls raise CatalogError. Safe to call twice."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> SQLiteCatalog:
        return self

    def __exit__(
        self,
        exception_type: type[BaseException] | None,
        exception: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- runs ---

    def start_run(self, command: str, started: datetime) -> str:
        """Record a new running run of `command` by this process; return its sortable id."""
        started_text = self._timestamp(started)
        stamp = started.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
        with self._transaction(f"start a run of {command!r}") as connection:
            while True:  # a clash needs two runs in one second drawing the same 24 random bits
                run_id = f"{stamp}-{uuid.uuid4().hex[:6]}"
                cursor = connection.execute(
                    f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, NULL, ?, ?, ?)"
                    " ON CONFLICT (run_id) DO NOTHING",
                    (run_id, command, started_text, RUNNING, "{}", os.getpid()),
                )
                if cursor.rowcount == 1:
                    return run_id

    def finish_run(
        self, run_id: str, finished: datetime, status: str, counts: dict[str, int]
    ) -> None:
        """Set a run's end time, final status and per-unit-status counts."""
        finished_text = self._timestamp(finished)
        with self._transaction(f"finish run {run_id}") as connection:
            cursor = connection.execute(
                "UPDATE runs SET finished = ?, status = ?, counts = ? WHERE run_id = ?",
                (finished_text, status, json.dumps(counts, sort_keys=True), run_id),
            )
            if cursor.rowcount == 0:
                raise CatalogError(
                    f"Could not finish run {run_id} in catalog {self.path}: there is no such"
                    " run. Finish only run ids returned by start_run on this catalog."
                )

    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """Runs, newest first; at most `limit` of them."""
        with self._reading("list runs") as connection:
            rows = connection.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY started DESC, run_id DESC LIMIT ?",
                (_sql_limit(limit),),
            ).fetchall()
        return [_run_from_row(row) for row in rows]

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run with this id, or None if the catalog has none."""
        with self._reading(f"read run {run_id}") as connection:
            row = connection.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        return None if row is None else _run_from_row(row)

    def mark_interrupted_runs(self, finished: datetime) -> list[str]:
        """Set runs still "running" whose process is gone to "interrupted"; return their ids.

        Liveness is `os.kill(pid, 0)` (POSIX); a run without a pid counts as gone.
        """
        finished_text = self._timestamp(finished)
        with self._reading("look for interrupted runs") as connection:
            running = connection.execute(
                "SELECT run_id, pid FROM runs WHERE status = ? ORDER BY started, run_id",
                (RUNNING,),
            ).fetchall()
        gone = [run_id for run_id, pid in running if not process_is_alive(pid)]
        if not gone:
            return []
        marked = []
        with self._transaction("mark interrupted runs") as connection:
            for run_id in gone:
                # The status guard skips a run that finished since we looked.
                cursor = connection.execute(
                    "UPDATE runs SET status = ?, finished = ? WHERE run_id = ? AND status = ?",
                    (INTERRUPTED, finished_text, run_id, RUNNING),
                )
                if cursor.rowcount == 1:
                    marked.append(run_id)
        return marked

    # --- materializations ---

    def record(self, record: MaterializationRecord) -> None:
        """Append one attempt to the history and update its partition's state, atomically."""
        self.record_many([record])

    def record_many(self, records: Sequence[MaterializationRecord]) -> None:
        """Record several attempts in one transaction: all of them are written, or none."""
        if not records:
            return
        parameters = [self._record_parameters(record) for record in records]
        action = (
            f"record the materialization of {_unit_name(records[0])}"
            if len(records) == 1
            else f"record {len(records)} materializations"
        )
        with self._transaction(action) as connection:
            for record, values in zip(records, parameters, strict=True):
                cursor = connection.execute(_INSERT_HISTORY, values)
                values["seq"] = cursor.lastrowid
                upsert = _UPSERT_SUCCESS if record.status == MATERIALIZED else _UPSERT_FAILURE
                connection.execute(upsert, values)
                connection.executemany(
                    "INSERT INTO check_results VALUES (?, ?, ?, ?, ?)",
                    [
                        (cursor.lastrowid, c.name, c.severity, int(c.passed), c.message)
                        for c in record.checks
                    ],
                )
                connection.execute(
                    "DELETE FROM leases WHERE asset = ? AND partition = ? AND run_id = ?",
                    (values["asset"], values["partition"], values["run_id"]),
                )

    def failed_checks(self) -> list[tuple[str, str | None, CheckResult]]:
        """Checks that did not pass in the latest attempt of each unit."""
        with self._reading("read check results") as connection:
            rows = connection.execute(
                "SELECT m.asset, m.partition, c.name, c.severity, c.passed, c.message "
                "FROM check_results c JOIN materializations m ON m.id = c.materialization_id "
                "WHERE c.passed = 0 AND m.id IN "
                "(SELECT max(id) FROM materializations GROUP BY asset, partition) "
                "ORDER BY m.asset, m.partition, c.name"
            ).fetchall()
        return [
            (asset, partition or None, CheckResult(name, severity, bool(passed), message))
            for asset, partition, name, severity, passed, message in rows
        ]

    # --- leases ---

    def acquire_lease(
        self, asset: str, partition: str | None, run_id: str, now: datetime, stale_after: float
    ) -> LeaseHolder | None:
        """Lease a unit for `run_id`. Returns None when leased, or the live holder.

        A lease not refreshed for `stale_after` seconds, or held by a process of this host
        that is gone, is taken over; the unit is then recorded as interrupted, since the
        dead run may have written data it never recorded.
        """
        key = _partition_to_text(partition)
        with self._transaction(f"lease {_unit_label(asset, partition)}") as connection:
            row = connection.execute(
                "SELECT run_id, pid, heartbeat, host FROM leases WHERE asset = ? AND partition = ?",
                (asset, key),
            ).fetchone()
            if row is not None and row[0] != run_id:
                if not _lease_is_dead(row[1], row[2], row[3], now, stale_after):
                    return LeaseHolder(run_id=row[0], pid=row[1])
                self._record_interrupted_lease(connection, asset, key, row[0], row[1], now)
            connection.execute(
                "INSERT OR REPLACE INTO leases (asset, partition, run_id, pid, heartbeat, host) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (asset, key, run_id, os.getpid(), self._timestamp(now), socket.gethostname()),
            )
        return None

    def lease_holder(self, asset: str, partition: str | None) -> LeaseHolder | None:
        """Who holds the unit's lease right now (read only), or None."""
        with self._reading(f"read the lease of {_unit_label(asset, partition)}") as connection:
            row = connection.execute(
                "SELECT run_id, pid FROM leases WHERE asset = ? AND partition = ?",
                (asset, _partition_to_text(partition)),
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
        key = _partition_to_text(partition)
        with self._transaction(f"release {_unit_label(asset, partition)}") as connection:
            connection.execute(
                "DELETE FROM leases WHERE asset = ? AND partition = ? AND run_id = ?",
                (asset, key, run_id),
            )

    def release_leases(self, run_id: str) -> None:
        """Drop every lease the run still holds (at its end)."""
        with self._transaction(f"release the leases of run {run_id}") as connection:
            connection.execute("DELETE FROM leases WHERE run_id = ?", (run_id,))

    def interrupt_dead_leases(
        self, now: datetime, stale_after: float = 30.0
    ) -> list[tuple[str, str | None]]:
        """Record the units leased by dead runs as interrupted, drop those leases, and
        return the units (dead: see `acquire_lease`).

        The dead run may have replaced the unit's data without recording it (killed between
        the write and the catalog commit), so the published state no longer vouches for the
        data: an interrupted last attempt makes the next run rebuild the unit.
        """
        with self._reading("look for leases of dead runs") as connection:
            rows = connection.execute(
                "SELECT asset, partition, run_id, pid, heartbeat, host FROM leases"
            ).fetchall()
        dead = [row for row in rows if _lease_is_dead(*row[3:], now, stale_after)]
        if not dead:
            return []
        interrupted = []
        with self._transaction("record the units of dead runs as interrupted") as connection:
            for asset, partition, run_id, pid, _, _ in dead:
                if self._record_interrupted_lease(connection, asset, partition, run_id, pid, now):
                    interrupted.append((asset, _partition_from_text(partition)))
        return interrupted

    def _record_interrupted_lease(
        self,
        connection: sqlite3.Connection,
        asset: str,
        partition: str,
        run_id: str,
        pid: int,
        now: datetime,
    ) -> bool:
        """Drop a dead run's lease and record its unit as interrupted (published data
        kept). False when the lease is gone or was taken over meanwhile."""
        cursor = connection.execute(
            "DELETE FROM leases WHERE asset = ? AND partition = ? AND run_id = ? AND pid = ?",
            (asset, partition, run_id, pid),
        )
        if cursor.rowcount == 0:
            return False
        record = MaterializationRecord(
            asset=asset,
            partition=_partition_from_text(partition),
            run_id=run_id,
            status=INTERRUPTED,
            started=now,
            finished=now,
            attempts=0,
            error=f"interrupted: run {run_id} (pid {pid}) died while working on it",
        )
        values = self._record_parameters(record)
        values["seq"] = connection.execute(_INSERT_HISTORY, values).lastrowid
        connection.execute(_UPSERT_FAILURE, values)
        return True

    def state(self, asset: str, partition: str | None) -> PartitionState | None:
        """The current state of one unit, read fresh (another run may have changed it)."""
        key = _partition_to_text(partition)
        found = self._read_states(
            f"read the state of {_unit_label(asset, partition)}",
            "WHERE asset = ? AND partition = ?",
            (asset, key),
        )
        return found.get(asset, {}).get(partition)

    def states(self, asset: str) -> dict[str | None, PartitionState]:
        """The current state of every recorded partition of `asset`, by partition."""
        action = f"read the partition states of {asset}"
        return self._read_states(action, "WHERE asset = ?", (asset,)).get(asset, {})

    def all_states(self) -> dict[str, dict[str | None, PartitionState]]:
        """The current state of every recorded partition of every asset, by asset and partition."""
        return self._read_states("read all partition states", "", ())

    def read_units(
        self, units: Iterable[tuple[str, str | None]]
    ) -> tuple[dict[str, dict[str | None, PartitionState]], int]:
        """The current states of the given (asset, partition) units (unrecorded ones absent)
        and the catalog's sequence, read as one consistent snapshot."""
        wanted: dict[str, set[str]] = {}
        for asset, partition in units:
            wanted.setdefault(asset, set()).add(_partition_to_text(partition))
        rows: list[Sequence[Any]] = []
        with self._read_transaction("read partition states") as connection:
            for asset, unsorted in wanted.items():
                keys = sorted(unsorted)  # in key order, consecutive lookups share pages
                for start in range(0, len(keys), _UNITS_PER_QUERY):
                    chunk = keys[start : start + _UNITS_PER_QUERY]
                    placeholders = ", ".join("?" * len(chunk))
                    rows += connection.execute(
                        f"SELECT {_STATE_COLUMNS} FROM partition_states"
                        f" WHERE asset = ? AND partition IN ({placeholders})",
                        (asset, *chunk),
                    ).fetchall()
            sequence = _sequence(connection)
        return _states_from_rows(rows), sequence

    def sequence(self) -> int:
        """The catalog's current sequence: the id of the last recorded attempt, 0 when none."""
        with self._reading("read the catalog sequence") as connection:
            return _sequence(connection)

    def snapshot_and_changes(
        self, asset: str, layout: str
    ) -> tuple[bytes | None, int, list[tuple[Any, ...]]]:
        """The stored snapshot of `asset` in `layout` (None if there is none in that layout),
        the sequence it is valid through (0 with None), and the states changed since, as
        `(partition, last_status, has_data, code_version, published_seq, consumed_seq,
        materialized_at, seq, deps_version)` tuples ordered by seq; all read as one
        consistent snapshot."""
        with self._read_transaction(f"read the state snapshot of {asset}") as connection:
            found = connection.execute(
                "SELECT through_seq, payload FROM state_snapshots WHERE asset = ? AND layout = ?",
                (asset, layout),
            ).fetchone()
            payload, through_seq = (None, 0) if found is None else (found[1], found[0])
            # Without a snapshot every row is a change, even one with no sequence (seq 0).
            since = -1 if payload is None else through_seq
            rows = connection.execute(
                f"SELECT {_COMPACT_STATE_COLUMNS} FROM partition_states"
                " WHERE asset = ? AND seq > ? ORDER BY seq",
                (asset, since),
            ).fetchall()
        with _garbage_collection_paused():
            changes = [
                (_partition_from_text(row[0]), row[1], bool(row[2]), *row[3:]) for row in rows
            ]
        return payload, through_seq, changes

    def save_snapshot(self, asset: str, layout: str, through_seq: int, payload: bytes) -> None:
        """Store the planner's snapshot of `asset`, unless one of the same layout through a
        later sequence is already stored (another process saved a newer one)."""
        with self._transaction(f"save the state snapshot of {asset}") as connection:
            connection.execute(_SAVE_SNAPSHOT, (asset, layout, through_seq, payload))

    def history(
        self, asset: str | None = None, partition: str | None = None, limit: int | None = None
    ) -> list[MaterializationRecord]:
        """Recorded attempts, newest first, optionally of one asset and/or one partition.

        `partition=None` means any partition (an unpartitioned asset has only one).
        """
        conditions = []
        parameters: list[object] = []
        if asset is not None:
            conditions.append("asset = ?")
            parameters.append(asset)
        if partition is not None:
            conditions.append("partition = ?")
            parameters.append(partition)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        parameters.append(_sql_limit(limit))
        with self._reading("read the materialization history") as connection:
            rows = connection.execute(
                f"SELECT {_HISTORY_COLUMNS} FROM materializations {where} ORDER BY id DESC LIMIT ?",
                parameters,
            ).fetchall()
        return [_history_from_row(row) for row in rows]

    def _read_states(
        self, action: str, where: str, parameters: tuple[object, ...]
    ) -> dict[str, dict[str | None, PartitionState]]:
        with self._reading(action) as connection:
            rows = connection.execute(
                f"SELECT {_STATE_COLUMNS} FROM partition_states {where} ORDER BY asset, partition",
                parameters,
            ).fetchall()
        return _states_from_rows(rows)

    # --- connection ---

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CatalogError(
                f"Could not create the folder of catalog {self.path}: {error}. Check that the"
                " warehouse folder is writable."
            ) from error
        try:
            # isolation_level=None: no implicit transactions; writes use explicit BEGIN IMMEDIATE.
            connection = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            raise self._error("open the catalog", error) from error
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            self._migrate(connection)
        except sqlite3.Error as error:
            connection.close()
            raise self._error("open the catalog", error) from error
        except BaseException:
            connection.close()
            raise
        return connection

    def _migrate(self, connection: sqlite3.Connection) -> None:
        if self._schema_version(connection) == SCHEMA_VERSION:
            return  # the common case takes no write lock
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = self._schema_version(connection)  # another process may have migrated
            tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if version == 0 and tables:
                raise CatalogError(
                    f"Could not open catalog {self.path}: it is a SQLite database but not a"
                    " partita catalog. Move it aside; partita will create a new catalog there."
                )
            for steps in _MIGRATIONS[version:]:
                for step in steps:
                    if callable(step):
                        step(connection)
                    else:
                        connection.execute(step)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def _schema_version(self, connection: sqlite3.Connection) -> int:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"Could not open catalog {self.path}: it was written by a newer partita (schema"
                f" {version}, this partita reads up to {SCHEMA_VERSION}): upgrade partita."
            )
        return version

    @contextmanager
    def _reading(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = self._require_open(action)
            try:
                yield connection
            except sqlite3.Error as error:
                raise self._error(action, error) from error

    @contextmanager
    def _read_transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        """One read transaction: every read in it sees the same committed catalog."""
        with self._reading(action) as connection:
            try:
                connection.execute("BEGIN")
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    @contextmanager
    def _transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock up front so it cannot deadlock."""
        with self._lock:
            connection = self._require_open(action)
            try:
                connection.execute("BEGIN IMMEDIATE")
                yield connection
                connection.execute("COMMIT")
            except BaseException as error:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error):
                    raise self._error(action, error) from error
                raise

    def _require_open(self, action: str) -> sqlite3.Connection:
        if self._connection is None:
            raise CatalogError(
                f"Could not {action} in catalog {self.path}: the catalog was closed. Open a new"
                " SQLiteCatalog."
            )
        return self._connection

    def _error(self, action: str, error: sqlite3.Error) -> CatalogError:
        message = str(error)
        if isinstance(error, sqlite3.IntegrityError):
            advice = "the data breaks a catalog constraint; this is a bug, please report it"
        elif "locked" in message or "busy" in message:
            advice = (
                f"another partita process held the catalog for over {BUSY_TIMEOUT_SECONDS:g} s;"
                " wait for it to finish (or stop it) and retry"
            )
        elif "not a database" in message or "malformed" in message:
            advice = (
                "the file is not a partita catalog or is damaged; move it aside and partita will"
                " create a new one (the run history in it is lost)"
            )
        else:
            advice = "check that the file and its folder are readable and writable"
        return CatalogError(
            f"Could not {action} in catalog {self.path}: {message}. To fix: {advice}."
        )

    def _timestamp(self, moment: datetime) -> str:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise CatalogError(
                f"Could not store the time {moment.isoformat()} in catalog {self.path}: it has no"
                " time zone. Pass an aware datetime, e.g. datetime.now(UTC)."
            )
        return moment.astimezone(UTC).isoformat(timespec="microseconds")

    def _record_parameters(self, record: MaterializationRecord) -> dict[str, object]:
        return {
            "asset": record.asset,
            "partition": _partition_to_text(record.partition),
            "run_id": record.run_id,
            "status": record.status,
            "started": self._timestamp(record.started),
            "finished": self._timestamp(record.finished),
            "attempts": record.attempts,
            "rows": record.rows,
            "bytes": record.bytes,
            "data_version": record.data_version,
            "code_version": record.code_version,
            "inputs": _inputs_to_json(record.inputs),
            "watermark": record.watermark,
            "error": record.error,
            "consumed_seq": record.consumed_seq,
            "deps_version": record.deps_version,
        }


@contextmanager
def _garbage_collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects that hold no cycles.

    Its repeated passes over the growing set of new objects cost about 40% of reading
    100k partition states.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _sequence(connection: sqlite3.Connection) -> int:
    return connection.execute("SELECT coalesce(max(id), 0) FROM materializations").fetchone()[0]


def _states_from_rows(rows: Sequence[Sequence[Any]]) -> dict[str, dict[str | None, PartitionState]]:
    result: dict[str, dict[str | None, PartitionState]] = {}
    with _garbage_collection_paused():
        for row in rows:
            state = _state_from_row(row)
            result.setdefault(row[0], {})[state.partition] = state
    return result


def _sql_limit(limit: int | None) -> int:
    return -1 if limit is None else limit  # SQLite reads a negative LIMIT as no limit


def _unit_name(record: MaterializationRecord) -> str:
    return _unit_label(record.asset, record.partition)


def _lease_is_dead(pid: int, heartbeat: str, host: str, now: datetime, stale_after: float) -> bool:
    """A lease is dead when not refreshed for `stale_after` s, or when its process, on
    this host, is gone (a pid says nothing about another machine's processes)."""
    age = (now - datetime.fromisoformat(heartbeat)).total_seconds()
    return age > stale_after or (host == socket.gethostname() and not process_is_alive(pid))


def _inputs_to_json(inputs: Sequence[ConsumedInput]) -> str:
    return json.dumps(
        [[item.asset, item.partition, item.data_version] for item in inputs],
        separators=(",", ":"),
    )


def _inputs_from_json(text: str) -> tuple[ConsumedInput, ...]:
    if text == "[]":
        return ()
    # raw_decode skips json.loads' whitespace checks: a third of the time of reading 100k states.
    return tuple([ConsumedInput(*item) for item in _JSON_DECODER.raw_decode(text)[0]])


def _partition_to_text(partition: str | None) -> str:
    return _UNPARTITIONED if partition is None else partition


def _partition_from_text(partition: str) -> str | None:
    return None if partition == _UNPARTITIONED else partition


def _datetime_or_none(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _state_from_row(row: Sequence[Any]) -> PartitionState:
    (
        _asset,
        partition,
        last_status,
        data_version,
        code_version,
        inputs,
        materialized_at,
        last_attempt_at,
        watermark,
        rows,
        error,
        published_seq,
        consumed_seq,
        seq,
        deps_version,
    ) = row
    last_attempt = datetime.fromisoformat(last_attempt_at)
    # After a success both times are the same text: parse it once.
    if materialized_at == last_attempt_at:
        materialized = last_attempt
    else:
        materialized = _datetime_or_none(materialized_at)
    return PartitionState(
        partition=_partition_from_text(partition),
        last_status=last_status,
        data_version=data_version,
        code_version=code_version,
        inputs=_inputs_from_json(inputs),
        materialized_at=materialized,
        last_attempt_at=last_attempt,
        watermark=watermark,
        rows=rows,
        error=error,
        published_seq=published_seq,
        consumed_seq=consumed_seq,
        seq=seq,
        deps_version=deps_version,
    )


def _history_from_row(row: Sequence[Any]) -> MaterializationRecord:
    (
        asset,
        partition,
        run_id,
        status,
        started,
        finished,
        attempts,
        rows,
        size,
        data_version,
        code_version,
        inputs,
        watermark,
        error,
    ) = row
    return MaterializationRecord(
        asset=asset,
        partition=_partition_from_text(partition),
        run_id=run_id,
        status=status,
        started=datetime.fromisoformat(started),
        finished=datetime.fromisoformat(finished),
        attempts=attempts,
        rows=rows,
        bytes=size,
        data_version=data_version,
        code_version=code_version,
        inputs=_inputs_from_json(inputs),
        watermark=watermark,
        error=error,
    )


def _run_from_row(row: Sequence[Any]) -> RunRecord:
    run_id, command, started, finished, status, counts, pid = row
    return RunRecord(
        run_id=run_id,
        command=command,
        started=datetime.fromisoformat(started),
        finished=_datetime_or_none(finished),
        status=status,
        counts=json.loads(counts),
        pid=pid,
    )


def _unit_label(asset: str, partition: str | None) -> str:
    return asset if partition is None else f"{asset} {partition}"
