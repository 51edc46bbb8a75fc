"""Copying a whole catalog into an empty one of another backend (SQLite to PostgreSQL, or
back), so a team moves without rebuilding: runs, the history with its check results,
partition states (with their data versions, sequences and watermarks) and the sequence.

Leases are not copied (a run must not be going: the copy refuses while any is held) and
planner snapshots are not either (a cache: the planner rebuilds it). A table added to the
catalog schema that holds state must be added to `TABLES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from partita.catalog.sqlite.rows import HISTORY_COLUMNS, RUN_COLUMNS, STATE_COLUMNS
from partita.errors import CatalogError

# (table, columns) in an order that respects references.
TABLES: tuple[tuple[str, str], ...] = (
    ("runs", f"{RUN_COLUMNS}, host"),
    ("materializations", f"id, {HISTORY_COLUMNS}"),
    ("check_results", "materialization_id, name, severity, passed, message"),
    ("partition_states", STATE_COLUMNS),
    ("dynamic_partition_sets", "name, generation"),
    ("dynamic_partitions", "name, partition_key, position"),
    ("quarantines", "asset, partition, run_id, rows, total_rows, checks, location, recorded_at"),
    ("cursors", "name, value"),
    (
        "incidents",
        "id, incident_key, rule, kind, asset, partition, run_id, opened, resolved, message",
    ),
    ("notifications", "incident_id, event, channel, sent, delivered, attempts, error"),
)


@dataclass(frozen=True)
class CopyResult:
    """How many rows of each table were copied, and the sequence the target continues from."""

    rows: dict[str, int]
    sequence: int


def copy_catalog(source: Any, target: Any) -> CopyResult:
    """Copy everything of `source` into the empty `target` (both SQL catalogs of partita),
    in one write transaction of the target: all of it, or nothing."""
    if _has_leases(source):
        raise CatalogError(
            f"Could not copy catalog {source.path}: a run holds leases in it (it is going, or"
            " died a moment ago). Wait for it to end, then copy again."
        )
    if target.sequence() or target.runs(limit=1):
        raise CatalogError(
            f"Could not copy into catalog {target.path}: it is not empty. Copy into a new"
            " database (or schema); nothing was written."
        )
    rows: dict[str, list[tuple]] = {}
    with source._read_transaction("read the catalog to copy") as connection:
        for table, columns in TABLES:
            rows[table] = [tuple(row) for row in connection.execute(_select(table, columns))]
        sequence = connection.execute("SELECT value FROM sequence_counter").fetchone()[0]
    with target._transaction("copy a catalog into it") as connection:
        for table, columns in TABLES:
            if rows[table]:
                marks = ", ".join("?" * len(columns.split(",")))
                connection.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows[table]
                )
        connection.execute("UPDATE sequence_counter SET value = ?", (sequence,))
        restart = getattr(target, "restart_history_ids", None)
        if restart is not None:
            restart(connection)
    return CopyResult({table: len(found) for table, found in rows.items()}, sequence)


def _select(table: str, columns: str) -> str:
    return f"SELECT {columns} FROM {table}"


def _has_leases(catalog: Any) -> bool:
    with catalog._reading("look for leases") as connection:
        return connection.execute("SELECT count(*) FROM leases").fetchone()[0] > 0
