"""The SQLite catalog, as the contract suite drives it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from partita.catalog import Catalog, SQLiteCatalog
from partita.catalog.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, _backfill_sequences
from partita.processes import ProcessIdentity

from .helpers import T0_TEXT


class SQLiteBackend:
    name = "sqlite"
    old_versions = tuple(range(SCHEMA_VERSION))

    def __init__(self, tmp_path: Path, request: object = None) -> None:
        self.path = tmp_path / "warehouse" / ".partita" / "catalog.db"

    def open(self, process: ProcessIdentity | None = None) -> Catalog:
        return SQLiteCatalog(self.path, process=process)

    def create_old(self, version: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            for steps in MIGRATIONS[:version]:
                for step in steps:
                    if callable(step):
                        step(connection)
                    else:
                        connection.execute(step)
            if version == 0:
                return  # a new, empty file
            connection.execute(
                "INSERT INTO runs (run_id, command, started, status, pid)"
                " VALUES ('run-old', 'materialize', ?, 'running', NULL)",
                (T0_TEXT,),
            )
            for status, data_version in (("materialized", "dv-old"), ("failed", None)):
                connection.execute(
                    "INSERT INTO materializations (asset, partition, run_id, status, started,"
                    " finished, attempts, data_version) VALUES"
                    " ('flights', '2013-01-01', 'run-old', ?, ?, ?, 1, ?)",
                    (status, T0_TEXT, T0_TEXT, data_version),
                )
            if version >= 5:  # from schema 5 each attempt draws from the counter
                connection.execute(
                    "UPDATE sequence_counter SET value = (SELECT max(id) FROM materializations)"
                )
            connection.execute(
                "INSERT INTO partition_states (asset, partition, last_status, data_version,"
                " materialized_at, last_attempt_at) VALUES"
                " ('flights', '2013-01-01', 'failed', 'dv-old', ?, ?)",
                (T0_TEXT, T0_TEXT),
            )
            if version >= 5:  # the counter and sequence columns recording keeps in step
                connection.execute(
                    "UPDATE sequence_counter SET value = (SELECT max(id) FROM materializations)"
                )
                _backfill_sequences(connection)
            if version >= 2:
                connection.execute(
                    "INSERT INTO leases (asset, partition, run_id, pid, heartbeat)"
                    " VALUES ('airports', '', 'run-old', 1, ?)",
                    (T0_TEXT,),
                )
            if version >= 5:  # these schemas keep sequences: set them as recording would
                _backfill_sequences(connection)
                connection.execute(
                    "UPDATE sequence_counter SET value ="
                    " (SELECT coalesce(max(id), 0) FROM materializations)"
                )
        finally:
            connection.close()
