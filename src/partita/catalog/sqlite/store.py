"""The SQLite catalog: runs, attempts and states, snapshots and history in one file.

Schema in `schema.py`, connection and errors in `connection.py`, leases in `leases.py`,
alert incidents in `incidents.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from partita.catalog.records import (
    CheckResult,
    FailedCheck,
    MaterializationRecord,
    PartitionState,
    RunRecord,
    RunStatus,
    StateRow,
    new_run_id,
)
from partita.catalog.sqlite.attempt_details import SQLiteAttemptDetails
from partita.catalog.sqlite.attempts import (
    current_sequence,
    draw_sequences,
    record_parameters,
    write_attempt,
)
from partita.catalog.sqlite.automation import SQLiteAutomation
from partita.catalog.sqlite.dynamic_keys import SQLiteDynamicKeys
from partita.catalog.sqlite.incidents import SQLiteIncidents
from partita.catalog.sqlite.leases import SQLiteLeases
from partita.catalog.sqlite.quarantines import SQLiteQuarantines
from partita.catalog.sqlite.rows import (
    HISTORY_COLUMNS,
    RUN_COLUMNS,
    STATE_COLUMNS,
    STATE_ROW_COLUMNS,
    history_from_row,
    partition_from_text,
    partition_to_text,
    run_from_row,
    sql_limit,
    state_rows,
    states_from_rows,
)
from partita.catalog.sqlite.versions import SQLiteVersions
from partita.errors import CatalogError, unit_label
from partita.processes import ProcessIdentity, process_is_alive

_UNITS_PER_QUERY = 500  # bound parameters per query stay under SQLite's old limit of 999

# Another layout always replaces a snapshot; the same layout only from as far or further.
_SAVE_SNAPSHOT = """
INSERT INTO state_snapshots (asset, layout, through_seq, payload) VALUES (?, ?, ?, ?)
ON CONFLICT (asset) DO UPDATE SET
    layout = excluded.layout,
    through_seq = excluded.through_seq,
    payload = excluded.payload
WHERE state_snapshots.layout IS DISTINCT FROM excluded.layout
    OR state_snapshots.through_seq <= excluded.through_seq
"""

_FAILED_CHECKS = """
SELECT m.asset, m.partition, c.name, c.severity, c.passed, c.message
FROM check_results c JOIN materializations m ON m.id = c.materialization_id
WHERE c.passed = 0 AND m.id IN (SELECT max(id) FROM materializations GROUP BY asset, partition)
ORDER BY m.asset, m.partition, c.name
"""


class SQLiteCatalog(
    SQLiteVersions,
    SQLiteAttemptDetails,
    SQLiteLeases,
    SQLiteDynamicKeys,
    SQLiteQuarantines,
    SQLiteAutomation,
    SQLiteIncidents,
):
    """Runs, materialization history, current partition states and leases in one SQLite file.

    Opens (creating the file, its folders and the schema if needed) on construction. One
    instance may be shared by threads: calls are serialized on its single connection.
    `process` is whose leases it takes (this process by default).
    """

    # --- runs ---

    def start_run(self, command: str, started: datetime) -> str:
        """Record a new running run of `command` by this process; return its sortable id."""
        started_text = self._timestamp(started)
        me = self._process or ProcessIdentity.current()
        with self._transaction(f"start a run of {command!r}") as connection:
            while True:  # a clash needs two runs in one second drawing the same 24 random bits
                run_id = new_run_id(started)
                cursor = connection.execute(
                    f"INSERT INTO runs ({RUN_COLUMNS}, host)"
                    " VALUES (?, ?, ?, NULL, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING",
                    (run_id, command, started_text, RunStatus.RUNNING, "{}", me.pid, me.host),
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
                f"SELECT {RUN_COLUMNS} FROM runs ORDER BY started DESC, run_id DESC LIMIT ?",
                (sql_limit(limit),),
            ).fetchall()
        return [run_from_row(row) for row in rows]

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run with this id, or None if the catalog has none."""
        with self._reading(f"read run {run_id}") as connection:
            row = connection.execute(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        return None if row is None else run_from_row(row)

    def mark_interrupted_runs(self, finished: datetime) -> list[str]:
        """Set runs still "running" whose process is gone to "interrupted"; return their ids.

        Liveness is `os.kill(pid, 0)` (POSIX); a run without a pid counts as gone. Only runs
        of this host (or of an unknown one: an older partita) are judged: a pid says nothing
        about another machine's processes.
        """
        finished_text = self._timestamp(finished)
        here = (self._process or ProcessIdentity.current()).host
        with self._reading("look for interrupted runs") as connection:
            running = connection.execute(
                "SELECT run_id, pid, host FROM runs WHERE status = ? ORDER BY started, run_id",
                (RunStatus.RUNNING,),
            ).fetchall()
        gone = [
            run_id
            for run_id, pid, host in running
            if host in (None, here) and not process_is_alive(pid)
        ]
        if not gone:
            return []
        marked = []
        with self._transaction("mark interrupted runs") as connection:
            for run_id in gone:
                # The status guard skips a run that finished since we looked.
                cursor = connection.execute(
                    "UPDATE runs SET status = ?, finished = ? WHERE run_id = ? AND status = ?",
                    (RunStatus.INTERRUPTED, finished_text, run_id, RunStatus.RUNNING),
                )
                if cursor.rowcount == 1:
                    marked.append(run_id)
        return marked

    # --- attempts and states ---

    def record(self, record: MaterializationRecord) -> None:
        """Append one attempt to the history and update its partition's state, atomically."""
        self.record_many([record])

    def record_many(self, records: Sequence[MaterializationRecord]) -> None:
        """Record several attempts in one transaction, in order: all of them, or none. Each
        draws the next sequence; each drops its run's lease of its unit."""
        if not records:
            return
        parameters = [record_parameters(record, self._timestamp) for record in records]
        first = records[0]
        action = (
            f"record the materialization of {unit_label(first.asset, first.partition)}"
            if len(records) == 1
            else f"record {len(records)} materializations"
        )
        with self._transaction(action) as connection:
            seq = draw_sequences(connection, len(records))
            for offset, (record, values) in enumerate(zip(records, parameters, strict=True)):
                write_attempt(connection, record, values, seq + offset)
                connection.execute(
                    "DELETE FROM leases WHERE asset = ? AND partition = ? AND run_id = ?",
                    (values["asset"], values["partition"], values["run_id"]),
                )

    def failed_checks(self) -> list[FailedCheck]:
        """Checks that did not pass in the latest attempt of each unit."""
        with self._reading("read check results") as connection:
            rows = connection.execute(_FAILED_CHECKS).fetchall()
        return [
            FailedCheck(
                asset,
                partition_from_text(partition),
                CheckResult(name, severity, bool(passed), message),
            )
            for asset, partition, name, severity, passed, message in rows
        ]

    def state(self, asset: str, partition: str | None) -> PartitionState | None:
        """The current state of one unit, read fresh (another run may have changed it)."""
        key = partition_to_text(partition)
        found = self._read_states(
            f"read the state of {unit_label(asset, partition)}",
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
            wanted.setdefault(asset, set()).add(partition_to_text(partition))
        rows: list[Sequence[Any]] = []
        with self._read_transaction("read partition states") as connection:
            for asset, unsorted in wanted.items():
                keys = sorted(unsorted)  # in key order, consecutive lookups share pages
                for start in range(0, len(keys), _UNITS_PER_QUERY):
                    chunk = keys[start : start + _UNITS_PER_QUERY]
                    placeholders = ", ".join("?" * len(chunk))
                    rows += connection.execute(
                        f"SELECT {STATE_COLUMNS} FROM partition_states"
                        f" WHERE asset = ? AND partition IN ({placeholders})",
                        (asset, *chunk),
                    ).fetchall()
            sequence = current_sequence(connection)
        return states_from_rows(rows), sequence

    def sequence(self) -> int:
        """The catalog's current sequence: the last one an attempt drew, 0 when none."""
        with self._reading("read the catalog sequence") as connection:
            return current_sequence(connection)

    def _read_states(
        self, action: str, where: str, parameters: tuple[object, ...]
    ) -> dict[str, dict[str | None, PartitionState]]:
        with self._reading(action) as connection:
            rows = connection.execute(
                f"SELECT {STATE_COLUMNS} FROM partition_states {where} ORDER BY asset, partition",
                parameters,
            ).fetchall()
        return states_from_rows(rows)

    # --- snapshots ---

    def snapshot_and_changes(
        self, asset: str, layout: str
    ) -> tuple[bytes | None, int, list[StateRow]]:
        """The stored snapshot of `asset` in `layout` (None if there is none in that layout),
        the sequence it is valid through (0 with None), and the rows changed since, ordered
        by seq (every row, even one never attempted, when there is no snapshot); all read as
        one consistent snapshot."""
        with self._read_transaction(f"read the state snapshot of {asset}") as connection:
            found = connection.execute(
                "SELECT through_seq, payload FROM state_snapshots WHERE asset = ? AND layout = ?",
                (asset, layout),
            ).fetchone()
            payload, through_seq = (None, 0) if found is None else (found[1], found[0])
            # Without a snapshot every row is a change, even one with no sequence (seq 0).
            since = -1 if payload is None else through_seq
            # Converted while read (no list of raw rows beside them: a million at a rebuild).
            rows = state_rows(
                connection.execute(
                    f"SELECT {STATE_ROW_COLUMNS} FROM partition_states"
                    " WHERE asset = ? AND seq > ? ORDER BY seq",
                    (asset, since),
                )
            )
        return payload, through_seq, rows

    def snapshot_layout(self, asset: str) -> str | None:
        """The layout of the snapshot stored for `asset`, None when there is none."""
        with self._reading(f"read the state snapshot layout of {asset}") as connection:
            found = connection.execute(
                "SELECT layout FROM state_snapshots WHERE asset = ?", (asset,)
            ).fetchone()
        return None if found is None else found[0]

    def save_snapshot(self, asset: str, layout: str, through_seq: int, payload: bytes) -> None:
        """Store the planner's snapshot of `asset`, unless one of the same layout through a
        later sequence is already stored (another process saved a newer one)."""
        with self._transaction(f"save the state snapshot of {asset}") as connection:
            connection.execute(_SAVE_SNAPSHOT, (asset, layout, through_seq, payload))

    # --- history ---

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
        parameters.append(sql_limit(limit))
        with self._reading("read the materialization history") as connection:
            rows = connection.execute(
                f"SELECT {HISTORY_COLUMNS} FROM materializations {where} ORDER BY id DESC LIMIT ?",
                parameters,
            ).fetchall()
        return [history_from_row(row) for row in rows]

    def run_history(self, run_id: str) -> list[MaterializationRecord]:
        """The attempts `run_id` recorded, oldest first."""
        with self._reading(f"read the attempts of run {run_id}") as connection:
            rows = connection.execute(
                f"SELECT {HISTORY_COLUMNS} FROM materializations WHERE run_id = ? ORDER BY id",
                (run_id,),
            ).fetchall()
        return [history_from_row(row) for row in rows]

    def run_leases(self, run_id: str) -> list[tuple[str, str | None]]:
        """The units `run_id` holds a lease on now, sorted."""
        with self._reading(f"read the leases of run {run_id}") as connection:
            rows = connection.execute(
                "SELECT asset, partition FROM leases WHERE run_id = ? ORDER BY asset, partition",
                (run_id,),
            ).fetchall()
        return [(asset, partition_from_text(key)) for asset, key in rows]
