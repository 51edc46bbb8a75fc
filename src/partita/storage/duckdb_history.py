"""Replaced versions of DuckDB-stored partitions, kept in the same database file.

Two tables beside the asset tables, both under the reserved `_partita_` prefix:
`_partita_versions` lists, per asset table and partition (`""` when unpartitioned), the
data version of the current rows (`current`) and of each kept one, with its size;
`_partita_history_<table>` holds the kept rows, the asset table's columns plus
`_partita_version`. A write copies the rows it replaces there in its own transaction, so
the replaced version is kept exactly when the new one is committed. A merging storage
(upserts) replaces no partition and keeps nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from partita.errors import StorageError
from partita.faults import fault_point
from partita.storage.base import RetainedVersion, WriteResult, describe_location
from partita.storage.duckdb_dimensions import dimension_values, fill_dimensions
from partita.storage.duckdb_files import database_file

if TYPE_CHECKING:
    import duckdb

VERSIONS_TABLE = "_partita_versions"
BOOKKEEPING_TABLE = "_partita_partitions"  # the partitions each asset table holds
VERSION_COLUMN = "_partita_version"
_PARTITION_COLUMN = "_partition"
UNPARTITIONED = ""
_MEMO_KEY = "\x00history:"  # in the held file's memo; no table name starts with NUL


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def history_table(table: str) -> str:
    """The table holding the kept rows of asset table `table`."""
    return f"_partita_history_{table}"


class DuckDBHistory:
    """The history half of `DuckDBStorage` (which supplies these attributes)."""

    table: str
    asset: str
    partitioned: bool
    dimensions: tuple[str, ...]
    merge_on: tuple[str, ...] | None
    keep_history: bool
    _connection: Callable[..., AbstractContextManager[duckdb.DuckDBPyConnection]]

    def _read_back(self, relation: duckdb.DuckDBPyRelation) -> pa.Table: ...

    def _roll_back(self, connection: duckdb.DuckDBPyConnection) -> None: ...

    def _history_is_kept(self) -> bool:
        return self.merge_on is None

    def _replace_version(
        self,
        connection: duckdb.DuckDBPyConnection,
        partition: str | None,
        version: str,
        size: int,
        stored: set[str] | None = None,
    ) -> None:
        """Inside a write's transaction, before the partition's rows are replaced: keep
        the current rows (when `keep_history`) and record `version` as current. With
        history off only the current version's record goes (no rows are copied), so a
        version is never recorded for rows that are not its own. `stored`: the asset
        table's casefolded columns when the caller knows them (empty: no table yet)."""
        if not self._history_is_kept():
            return
        known = self._known()
        if not known.versions_table:
            known.versions_table = _table_exists(connection, VERSIONS_TABLE)  # committed
            _ensure_versions(connection)
        key = partition if partition is not None else UNPARTITIONED
        recorded = connection.execute(
            f"SELECT data_version, current FROM {_quote(VERSIONS_TABLE)} "
            "WHERE asset_table = ? AND partition = ?",
            [self.table, key],
        ).fetchall()
        current = next((found for found, is_current in recorded if is_current), None)
        if not self.keep_history:
            if current is not None:
                connection.execute(
                    f"DELETE FROM {_quote(VERSIONS_TABLE)} "
                    "WHERE asset_table = ? AND partition = ? AND current",
                    [self.table, key],
                )
            return
        if current == version:
            return  # an identical rebuild keeps nothing
        exists = bool(stored) if stored is not None else _table_exists(connection, self.table)
        if current is not None and exists:
            self._keep_rows(connection, partition, current, known, stored)
            connection.execute(
                f"UPDATE {_quote(VERSIONS_TABLE)} SET current = false "
                "WHERE asset_table = ? AND partition = ? AND data_version = ?",
                [self.table, key, current],
            )
        elif current is not None:
            self._forget(connection, key, current)
        if any(found == version for found, is_current in recorded if not is_current):
            self._forget(connection, key, version)  # current again: no longer kept
        connection.execute(
            f"INSERT INTO {_quote(VERSIONS_TABLE)} VALUES (?, ?, ?, ?, true)",
            [self.table, key, version, size],
        )
        fault_point("duckdb-kept")

    def retained_versions(self) -> list[RetainedVersion]:
        """Every kept version, by partition and version."""
        if not self._history_is_kept() or not self.path.is_file():  # type: ignore[attr-defined]
            return []
        with self._connection(None, read_only=True) as connection:
            if not _table_exists(connection, VERSIONS_TABLE):
                return []
            rows = connection.execute(
                f"SELECT partition, data_version, bytes FROM {_quote(VERSIONS_TABLE)} "
                "WHERE asset_table = ? AND NOT current ORDER BY partition, data_version",
                [self.table],
            ).fetchall()
        return [
            RetainedVersion(key if self.partitioned else None, version, size)
            for key, version, size in rows
        ]

    def read_version(self, partition: str | None, data_version: str) -> pa.Table:
        """The kept (or current) rows of `data_version`, as `read` returns them."""
        key = partition if partition is not None else UNPARTITIONED
        with self._connection(partition, read_only=True) as connection:
            kept = self._kept(connection, key, data_version)
            if kept is None and self._is_current(connection, key, data_version):
                return self.read(None if partition is None else [partition])  # type: ignore[attr-defined]
            if kept is None:
                raise self._not_kept(partition, data_version)
            return self._read_back(connection.sql(self._kept_rows_query(), params=kept))

    def restore(
        self,
        partition: str | None,
        data_version: str,
        before_publish: Callable[[], None] | None = None,
    ) -> WriteResult:
        """Put the kept rows back in one transaction, keeping the replaced ones."""
        if not self._history_is_kept():
            raise self._not_kept(partition, data_version)
        key = partition if partition is not None else UNPARTITIONED
        with self._connection(partition, read_only=False) as connection:
            if self._is_current(connection, key, data_version):
                rows = self._count(connection, partition)
                return WriteResult(rows=rows, bytes=0, data_version=data_version)
            kept = self._kept(connection, key, data_version)
            if kept is None:
                raise self._not_kept(partition, data_version)
            size = self._kept_size(connection, key, data_version)
            connection.execute("BEGIN TRANSACTION")
            try:
                rows = self._restore_in_transaction(connection, partition, data_version, size)
                fault_point("duckdb-restore")
                if before_publish is not None:
                    before_publish()
                connection.execute("COMMIT")
            except BaseException:
                self._roll_back(connection)
                raise
        return WriteResult(rows=rows, bytes=size, data_version=data_version)

    def delete(
        self, partitions: Sequence[str | None], before_commit: Callable[[], None] | None = None
    ) -> None:
        """Delete the partitions' rows, bookkeeping and kept versions in one transaction;
        `before_commit` runs inside it, just before COMMIT."""
        if not partitions or not self.path.is_file():  # type: ignore[attr-defined]
            if before_commit is not None:
                before_commit()
            return
        keys = [partition if partition is not None else UNPARTITIONED for partition in partitions]
        # Its own cursor: `before_commit` may delete from another table of this file in a
        # transaction of its own (DuckDB transactions don't nest).
        with (
            self._connection(None, read_only=False) as shared,
            shared.cursor() as connection,
        ):
            connection.execute("BEGIN TRANSACTION")
            try:
                self._delete_in_transaction(connection, keys)
                if before_commit is not None:
                    before_commit()
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            finally:  # what a held connection learnt of these tables may be gone now
                database_file(self.path).memo.clear()  # type: ignore[attr-defined]

    def _delete_in_transaction(
        self, connection: duckdb.DuckDBPyConnection, keys: list[str]
    ) -> None:
        target, partition_column = _quote(self.table), _quote(_PARTITION_COLUMN)
        tables = {row[0].casefold() for row in connection.execute("SHOW TABLES").fetchall()}
        if self.table.casefold() in tables and self.partitioned:
            connection.executemany(
                f"DELETE FROM {target} WHERE {partition_column} = ?", [[key] for key in keys]
            )
        elif self.table.casefold() in tables:
            connection.execute(f"DROP TABLE {target}")
        if BOOKKEEPING_TABLE in tables and self.partitioned:
            connection.executemany(
                f'DELETE FROM {_quote(BOOKKEEPING_TABLE)} WHERE "asset_table" = ? '
                'AND "partition" = ?',
                [[self.table, key] for key in keys],
            )
        if history_table(self.table).casefold() in tables:
            where = f" WHERE {partition_column} = ?" if self.partitioned else ""
            connection.executemany(
                f"DELETE FROM {_quote(history_table(self.table))}{where}",
                [[key] for key in keys] if self.partitioned else [[]],
            )
        if VERSIONS_TABLE in tables:
            connection.executemany(
                f"DELETE FROM {_quote(VERSIONS_TABLE)} WHERE asset_table = ? AND partition = ?",
                [[self.table, key] for key in keys],
            )

    def discard_version(self, partition: str | None, data_version: str) -> int:
        """Delete one kept version (never the current one); return its recorded size."""
        if not self._history_is_kept() or not self.path.is_file():  # type: ignore[attr-defined]
            return 0
        key = partition if partition is not None else UNPARTITIONED
        with self._connection(partition, read_only=False) as connection:
            if self._kept(connection, key, data_version) is None:
                return 0
            size = self._kept_size(connection, key, data_version)
            connection.execute("BEGIN TRANSACTION")
            try:
                self._forget(connection, key, data_version)
                connection.execute("COMMIT")
            except BaseException:
                self._roll_back(connection)
                raise
        return size

    def _restore_in_transaction(
        self, connection: duckdb.DuckDBPyConnection, partition: str | None, version: str, size: int
    ) -> int:
        target, history = _quote(self.table), _quote(history_table(self.table))
        key = partition if partition is not None else UNPARTITIONED
        where, parameters = self._where(partition)
        # Out of the history first: keeping the replaced rows may add to the same table.
        restored = connection.sql(
            f"SELECT * EXCLUDE ({_quote(VERSION_COLUMN)}) FROM {history} "
            f"WHERE {_quote(VERSION_COLUMN)} = ?{where} ORDER BY rowid",
            params=[version, *parameters],
        ).to_arrow_table()
        connection.execute(
            f"DELETE FROM {history} WHERE {_quote(VERSION_COLUMN)} = ?{where}",
            [version, *parameters],
        )
        self._forget(connection, key, version)
        self._replace_version(connection, partition, version, size)
        connection.register("_partita_restored", restored)
        try:
            delete_where = f" WHERE {_quote(_PARTITION_COLUMN)} = ?" if self.partitioned else ""
            connection.execute(f"DELETE FROM {target}{delete_where}", parameters)
            connection.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _partita_restored")
            if self.dimensions:  # rows kept before the table had dimension columns
                values = dimension_values(self.dimensions, key, describe_location(self.asset, key))
                fill_dimensions(connection, self.table, self.dimensions, key, values)
        finally:
            connection.unregister("_partita_restored")
        return restored.num_rows

    def _keep_rows(
        self,
        connection: duckdb.DuckDBPyConnection,
        partition: str | None,
        version: str,
        known: _KnownHistory,
        stored: set[str] | None,
    ) -> None:
        """Copy the partition's current rows into the history table, in the write's
        transaction: one INSERT ... SELECT, no row passes through Python."""
        history = _quote(history_table(self.table))
        target = _quote(self.table)
        if known.history_columns is None:
            if _table_exists(connection, history_table(self.table)):  # committed before
                described = connection.execute(f"DESCRIBE {history}").fetchall()
                known.history_columns = {row[0].casefold() for row in described}
            else:
                connection.execute(
                    f"CREATE TABLE {history} AS SELECT *, "
                    f"CAST(NULL AS VARCHAR) AS {_quote(VERSION_COLUMN)} FROM {target} LIMIT 0"
                )
        if stored is None or not stored <= (known.history_columns or set()):
            self._add_history_columns(connection, known)
        where = f" WHERE {_quote(_PARTITION_COLUMN)} = ?" if self.partitioned else ""
        parameters = [partition] if self.partitioned else []
        # A scan without ORDER BY keeps insertion order (DuckDB's preserve_insertion_order).
        connection.execute(
            f"INSERT INTO {history} BY NAME SELECT *, CAST(? AS VARCHAR) AS "
            f"{_quote(VERSION_COLUMN)} FROM {target}{where}",
            [version, *parameters],
        )

    def _add_history_columns(
        self, connection: duckdb.DuckDBPyConnection, known: _KnownHistory
    ) -> None:
        """Add to the history table the asset table's columns it lacks."""
        history = _quote(history_table(self.table))
        columns = connection.execute(f"DESCRIBE {_quote(self.table)}").fetchall()
        kept = known.history_columns or {name.casefold() for name, *_ in columns}
        for name, column_type, *_ in columns:
            if name.casefold() not in kept:
                connection.execute(f"ALTER TABLE {history} ADD COLUMN {_quote(name)} {column_type}")
                known.history_columns = None  # learnt again once committed

    def _known(self) -> _KnownHistory:
        """What this process learnt of the history tables through the held connection of
        a run (valid while it is held: nobody else writes the file); a throwaway record
        outside a run. Only what was committed before is learnt, so a rolled-back write
        never leaves a table believed to exist."""
        file = database_file(self.path)  # type: ignore[attr-defined]
        if not file.holding:
            return _KnownHistory()
        found = file.memo.get(_MEMO_KEY + self.table.casefold())
        if not isinstance(found, _KnownHistory):
            found = _KnownHistory()
            file.memo[_MEMO_KEY + self.table.casefold()] = found
        return found

    def _forget(self, connection: duckdb.DuckDBPyConnection, key: str, version: str) -> None:
        """Drop the record (and kept rows) of one version of one partition."""
        if _table_exists(connection, history_table(self.table)):
            where, parameters = self._where(None if not self.partitioned else key)
            connection.execute(
                f"DELETE FROM {_quote(history_table(self.table))} "
                f"WHERE {_quote(VERSION_COLUMN)} = ?{where}",
                [version, *parameters],
            )
        connection.execute(
            f"DELETE FROM {_quote(VERSIONS_TABLE)} "
            "WHERE asset_table = ? AND partition = ? AND data_version = ?",
            [self.table, key, version],
        )

    def _where(self, partition: str | None) -> tuple[str, list[str]]:
        if not self.partitioned:
            return "", []
        return f" AND {_quote(_PARTITION_COLUMN)} = ?", [partition or ""]

    def _kept_rows_query(self) -> str:
        exclude = [VERSION_COLUMN] + ([_PARTITION_COLUMN] if self.partitioned else [])
        exclude += self.dimensions
        columns = ", ".join(_quote(name) for name in exclude)
        where = f" AND {_quote(_PARTITION_COLUMN)} = ?" if self.partitioned else ""
        return (
            f"SELECT * EXCLUDE ({columns}) FROM {_quote(history_table(self.table))} "
            f"WHERE {_quote(VERSION_COLUMN)} = ?{where} ORDER BY rowid"
        )

    def _kept(
        self, connection: duckdb.DuckDBPyConnection, key: str, version: str
    ) -> list[str] | None:
        """The parameters of `_kept_rows_query` when that version is kept, else None."""
        if not _table_exists(connection, VERSIONS_TABLE):
            return None
        found = connection.execute(
            f"SELECT count(*) FROM {_quote(VERSIONS_TABLE)} WHERE asset_table = ? "
            "AND partition = ? AND data_version = ? AND NOT current",
            [self.table, key, version],
        ).fetchall()[0][0]
        if not found:
            return None
        return [version, key] if self.partitioned else [version]

    def _kept_size(self, connection: duckdb.DuckDBPyConnection, key: str, version: str) -> int:
        return connection.execute(
            f"SELECT bytes FROM {_quote(VERSIONS_TABLE)} "
            "WHERE asset_table = ? AND partition = ? AND data_version = ?",
            [self.table, key, version],
        ).fetchall()[0][0]

    def _current_version(self, connection: duckdb.DuckDBPyConnection, key: str) -> str | None:
        rows = connection.execute(
            f"SELECT data_version FROM {_quote(VERSIONS_TABLE)} "
            "WHERE asset_table = ? AND partition = ? AND current",
            [self.table, key],
        ).fetchall()
        return rows[0][0] if rows else None

    def _is_current(self, connection: duckdb.DuckDBPyConnection, key: str, version: str) -> bool:
        if not _table_exists(connection, VERSIONS_TABLE):
            return False
        return self._current_version(connection, key) == version

    def _count(self, connection: duckdb.DuckDBPyConnection, partition: str | None) -> int:
        where = f" WHERE {_quote(_PARTITION_COLUMN)} = ?" if self.partitioned else ""
        parameters = [partition] if self.partitioned else []
        query = f"SELECT count(*) FROM {_quote(self.table)}{where}"
        return connection.execute(query, parameters).fetchall()[0][0]

    def _not_kept(self, partition: str | None, data_version: str) -> StorageError:
        why = (
            "this DuckDB table is upserted (merge_on), which keeps no history"
            if not self._history_is_kept()
            else "it was pruned, or written before partita kept history"
        )
        return StorageError(
            f"Version {data_version} of {describe_location(self.asset, partition)} is not "
            f"kept in table {self.table!r} of {str(self.path)!r}: {why}. "  # type: ignore[attr-defined]
            f"Pick a retained version (partita history {self.asset}) or rebuild it with "
            f"partita materialize --force."
        )


@dataclass
class _KnownHistory:
    """Facts about the history tables of one asset table, learnt once per held file."""

    versions_table: bool = False  # `_partita_versions` exists
    history_columns: set[str] | None = None  # casefolded columns of its history table


def _ensure_versions(connection: duckdb.DuckDBPyConnection) -> None:
    # No primary key: DuckDB checks one eagerly, refusing a key deleted and inserted again
    # in one transaction, which replacing a version does.
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {_quote(VERSIONS_TABLE)} (asset_table VARCHAR, "
        "partition VARCHAR, data_version VARCHAR, bytes BIGINT, current BOOLEAN)"
    )


def _table_exists(connection: duckdb.DuckDBPyConnection, name: str) -> bool:
    # duckdb_tables() is about twice as quick as information_schema, and a write asks.
    rows = connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE lower(table_name) = lower(?)", [name]
    ).fetchall()
    return rows[0][0] > 0
