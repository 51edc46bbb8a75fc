"""Writing attempts: the history row, the partition state, check results and the sequence.

Every attempt draws its sequence from the one-row `sequence_counter`, incremented in the
transaction that records it. Writers hold SQLite's write lock from `BEGIN IMMEDIATE`, so
sequences are unique and grow in commit order (a backend with concurrent writers gets the
same from a row lock on its counter).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime

from partita.catalog.records import AttemptStatus, MaterializationRecord
from partita.catalog.sqlite.rows import inputs_to_json, partition_to_text

_INSERT_HISTORY = """
INSERT INTO materializations (
    asset, partition, run_id, status, started, finished, attempts,
    rows, bytes, data_version, code_version, inputs, watermark, error, restored,
    traceback, worker
) VALUES (
    :asset, :partition, :run_id, :status, :started, :finished, :attempts,
    :rows, :bytes, :data_version, :code_version, :inputs, :watermark, :error, :restored,
    :traceback, :worker
)
RETURNING id
"""

# A success publishes everything it produced. `:seq` is its sequence; an identical rebuild
# (same data version) keeps the sequence that first published that data.
# A restore marks the state restored; an identical rebuild keeps the mark.
# (The right-hand sides of an UPDATE all read the row as it was before it. The SQL of this
# module and of `store.py` and `leases.py` is shared with the PostgreSQL catalog: keep it
# portable, with columns of the target qualified in ON CONFLICT clauses.)
_UPSERT_SUCCESS = """
INSERT INTO partition_states (
    asset, partition, last_status, data_version, code_version, inputs,
    materialized_at, last_attempt_at, watermark, rows, error,
    published_seq, consumed_seq, seq, deps_version, restored
) VALUES (
    :asset, :partition, :status, :data_version, :code_version, :inputs,
    :finished, :finished, :watermark, :rows, NULL,
    :seq, :consumed_seq, :seq, :deps_version, :restored
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
    published_seq = CASE WHEN partition_states.data_version IS NOT DISTINCT FROM
        excluded.data_version THEN partition_states.published_seq ELSE excluded.published_seq END,
    consumed_seq = excluded.consumed_seq,
    seq = excluded.seq,
    deps_version = excluded.deps_version,
    restored = CASE
        WHEN partition_states.data_version IS NOT DISTINCT FROM excluded.data_version
            AND excluded.restored = 0
        THEN partition_states.restored ELSE excluded.restored END
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

_DRAW_SEQUENCES = "UPDATE sequence_counter SET value = value + ? RETURNING value"


def current_sequence(connection: sqlite3.Connection) -> int:
    """The last sequence drawn, 0 when none."""
    return connection.execute("SELECT value FROM sequence_counter").fetchone()[0]


def draw_sequences(connection: sqlite3.Connection, count: int) -> int:
    """Take the next `count` sequences (inside a write transaction); return the first."""
    ((last,),) = connection.execute(_DRAW_SEQUENCES, (count,)).fetchall()
    return last - count + 1


def write_attempt(
    connection: sqlite3.Connection,
    record: MaterializationRecord,
    values: dict[str, object],
    seq: int,
) -> None:
    """Append the attempt to the history and update its state; `values` are its
    `record_parameters`, `seq` its sequence."""
    values["seq"] = seq
    (attempt_id,) = connection.execute(_INSERT_HISTORY, values).fetchone()
    upsert = _UPSERT_SUCCESS if record.status == AttemptStatus.MATERIALIZED else _UPSERT_FAILURE
    connection.execute(upsert, values)
    if record.checks:
        connection.executemany(
            "INSERT INTO check_results VALUES (?, ?, ?, ?, ?)",
            [(attempt_id, c.name, c.severity, int(c.passed), c.message) for c in record.checks],
        )


def record_parameters(
    record: MaterializationRecord, timestamp: Callable[[datetime], str]
) -> dict[str, object]:
    """The bind parameters of an attempt; `timestamp` turns an aware datetime into text."""
    return {
        "asset": record.asset,
        "partition": partition_to_text(record.partition),
        "run_id": record.run_id,
        "status": record.status,
        "started": timestamp(record.started),
        "finished": timestamp(record.finished),
        "attempts": record.attempts,
        "rows": record.rows,
        "bytes": record.bytes,
        "data_version": record.data_version,
        "code_version": record.code_version,
        "inputs": inputs_to_json(record.inputs),
        "watermark": record.watermark,
        "error": record.error,
        "consumed_seq": record.consumed_seq,
        "deps_version": record.deps_version,
        "restored": int(record.restored),
        "traceback": record.traceback,
        "worker": record.worker,
    }
