"""The catalog's SQLite schema, version 13, and the statements that built each version.

Kept in `PRAGMA user_version`; `MIGRATIONS[n]` brings a catalog from schema n to n + 1.

- `runs`: one row per command invocation (with its process's pid and host).
- `materializations`: append-only history, one row per attempt of a unit (with the
  traceback of a failure, and the worker, "host:pid", that executed it).
- `sequence_counter`: one row, the catalog's sequence. Each recorded attempt increments it
  in the transaction that records it, under SQLite's write lock, so sequences are unique
  and grow in commit order.
- `partition_states`: the current state, one row per (asset, partition); planning reads only
  this. Its sequence columns (`seq`: last attempt, `published_seq`: first publication of the
  current data version, `consumed_seq`: inputs read as of) let planning compare integers;
  `deps_version` says what the last success read (its dependencies and their mappings).
- `check_results`: the data-quality checks of each attempt.
- `leases`: which run (pid, process start time, boot id, host, heartbeat) works on which
  unit right now.
- `state_snapshots`: an opaque per-asset cache of the planner, valid through a sequence.
- `dynamic_partitions`: the keys of each set of dynamic partitions and their positions
  (0, 1, ...: the partition index); `dynamic_partition_sets` counts each set's generation.
- `quarantines`: per (asset, partition), the rows its latest successful attempt set aside
  (`checks.quarantine`), by which checks, and where they were written.
- `ticks`, `cursors`, `daemon_lease`, `pool_slots`: the daemon's ticks (requests recorded
  before launch), sensor and automation cursors, the one daemon lease, pool slots.
- `incidents`: problems alert rules found, at most one open (`resolved` NULL) per key;
  `notifications`: each message sent (or tried) about one.

Unpartitioned assets are stored under partition `""` (a primary key column cannot hold NULL
usefully) and surface as `None`. Timestamps are UTC ISO-8601 text with microseconds, so they
sort as text. Consumed inputs are JSON columns (`[[asset, partition, data_version], ...]`) in
both the history and the state rows: they are always read with their record and never searched,
so a child table would only add one insert per input and a join per read.

Each migration's statements are frozen: a new schema adds a migration, never edits one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from partita.catalog.records import AttemptStatus

SCHEMA_VERSION = 13
UNPARTITIONED = ""

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
        _BACKFILL_SEQUENCES,
        {"materialized": AttemptStatus.MATERIALIZED, "unpartitioned": UNPARTITIONED},
    )


# A migration step is a statement, or a function run in the same migration transaction.
_Step = str | Callable[[sqlite3.Connection], None]

# MIGRATIONS[n] brings a catalog from schema n to n + 1; each ends by setting user_version.
MIGRATIONS: tuple[tuple[_Step, ...], ...] = (
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
    (
        # The sequence counter: each recorded attempt draws the next value under the write
        # lock, so sequences grow in commit order without relying on how ids are assigned.
        # It continues from the last history id, which was the sequence until now.
        """
        CREATE TABLE sequence_counter (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            value INTEGER NOT NULL
        )
        """,
        "INSERT INTO sequence_counter (id, value)"
        " SELECT 1, coalesce(max(id), 0) FROM materializations",
        # The history without AUTOINCREMENT: its ids no longer carry meaning (rows are never
        # deleted, so they are not reused either), and AUTOINCREMENT would write one more
        # page (sqlite_sequence) per recorded attempt, as the counter now does.
        """
        CREATE TABLE materializations_v5 (
            id INTEGER PRIMARY KEY,
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
        """
        INSERT INTO materializations_v5 (
            id, asset, partition, run_id, status, started, finished, attempts,
            rows, bytes, data_version, code_version, inputs, watermark, error
        )
        SELECT
            id, asset, partition, run_id, status, started, finished, attempts,
            rows, bytes, data_version, code_version, inputs, watermark, error
        FROM materializations
        """,
        "DROP TABLE materializations",
        "ALTER TABLE materializations_v5 RENAME TO materializations",
        "CREATE INDEX materializations_by_unit ON materializations (asset, partition, id)",
        # Who holds a lease, so that a reused pid is not taken for the holder: the start
        # time of its process (clock ticks since boot) and the boot id; NULL when unknown.
        "ALTER TABLE leases ADD COLUMN process_start INTEGER",
        "ALTER TABLE leases ADD COLUMN boot_id TEXT",
        "PRAGMA user_version = 5",
    ),
    (
        """
        CREATE TABLE dynamic_partition_sets (
            name TEXT PRIMARY KEY,
            generation INTEGER NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE dynamic_partitions (
            name TEXT NOT NULL REFERENCES dynamic_partition_sets (name),
            partition_key TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (name, partition_key)
        )
        """,
        "CREATE INDEX dynamic_partitions_by_position ON dynamic_partitions (name, position)",
        "PRAGMA user_version = 6",
    ),
    (
        # Restores (rollback, restore) bring back an earlier data version: marked in the
        # history and on the state they set, so planning can say `upstream restored`.
        "ALTER TABLE materializations ADD COLUMN restored INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE partition_states ADD COLUMN restored INTEGER NOT NULL DEFAULT 0",
        "PRAGMA user_version = 7",
    ),
    (
        """
        CREATE TABLE quarantines (
            asset TEXT NOT NULL,
            partition TEXT NOT NULL,
            run_id TEXT NOT NULL,
            rows INTEGER NOT NULL,
            total_rows INTEGER NOT NULL,
            checks TEXT NOT NULL DEFAULT '[]',
            location TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (asset, partition)
        )
        """,
        "PRAGMA user_version = 8",
    ),
    (
        # A run's attempts, for its run page, without scanning the whole history.
        "CREATE INDEX materializations_by_run ON materializations (run_id, id)",
        "PRAGMA user_version = 9",
    ),
    (
        # The daemon: each tick (requests recorded before their run launches), cursors of
        # sensors and automated assets, the one daemon lease, and concurrency pool slots.
        """
        CREATE TABLE ticks (
            tick_id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            recorded TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('requested', 'launched', 'finished')),
            evaluated TEXT NOT NULL DEFAULT '[]',
            requested TEXT NOT NULL DEFAULT '[]',
            run_ids TEXT NOT NULL DEFAULT '[]',
            error TEXT,
            launcher_host TEXT,
            launcher_pid INTEGER,
            launcher_start INTEGER,
            launcher_boot TEXT
        )
        """,
        "CREATE INDEX ticks_by_status ON ticks (status, tick_id)",
        "CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """
        CREATE TABLE daemon_lease (
            name TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            process_start INTEGER,
            boot_id TEXT,
            heartbeat TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE pool_slots (
            pool TEXT NOT NULL,
            asset TEXT NOT NULL,
            partition TEXT NOT NULL,
            run_id TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            process_start INTEGER,
            boot_id TEXT,
            heartbeat TEXT NOT NULL,
            PRIMARY KEY (pool, asset, partition)
        )
        """,
        "PRAGMA user_version = 10",
    ),
    (
        # Alerts: one open incident per key (a partial unique index), then its resolution.
        """
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            incident_key TEXT NOT NULL,
            rule TEXT NOT NULL,
            kind TEXT NOT NULL,
            asset TEXT,
            partition TEXT,
            run_id TEXT,
            opened TEXT NOT NULL,
            resolved TEXT,
            message TEXT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX incidents_open_by_key ON incidents (incident_key)"
        " WHERE resolved IS NULL",
        "CREATE INDEX incidents_by_opened ON incidents (opened)",
        """
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incidents (id),
            event TEXT NOT NULL CHECK (event IN ('opened', 'resolved')),
            channel TEXT NOT NULL,
            sent TEXT NOT NULL,
            delivered INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            error TEXT
        )
        """,
        "CREATE INDEX notifications_by_incident ON notifications (incident_id)",
        "PRAGMA user_version = 11",
    ),
    (
        # The host of a run's process: on a catalog shared by machines (PostgreSQL), a run
        # is judged interrupted only on its own host, where its pid means something.
        "ALTER TABLE runs ADD COLUMN host TEXT",
        "PRAGMA user_version = 12",
    ),
    (
        # Per attempt: the traceback of a failure (masked) and the process that ran it, so
        # a page shows why it failed and a run's timeline one lane per real worker.
        "ALTER TABLE materializations ADD COLUMN traceback TEXT",
        "ALTER TABLE materializations ADD COLUMN worker TEXT",
        "PRAGMA user_version = 13",
    ),
)
assert len(MIGRATIONS) == SCHEMA_VERSION
