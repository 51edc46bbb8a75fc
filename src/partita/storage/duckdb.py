"""One DuckDB table per asset; a partition's rows are replaced (or upserted) in a transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from partita.errors import InvalidDataError, StorageError
from partita.faults import fault_point
from partita.storage.base import WriteResult, describe_location
from partita.storage.canonical import canonical_table, check_unique_names
from partita.storage.duckdb_dimensions import (
    add_dimension_columns,
    check_no_dimension_column,
    dimension_columns,
    dimension_select,
    dimension_values,
    exclude_clause,
    hidden_columns,
)
from partita.storage.duckdb_files import DEFAULT_IDLE_SECONDS, DatabaseFile, database_file
from partita.storage.duckdb_history import BOOKKEEPING_TABLE, DuckDBHistory
from partita.storage.encoding import table_version
from partita.storage.paths import check_relative_file, ensure_inside

if TYPE_CHECKING:
    from partita.definitions.storage import DuckDB

PARTITION_COLUMN = "_partition"
_INCOMING_VIEW = "_partita_incoming"
_RESERVED_PREFIX = "_partita_"


@dataclass
class _KnownTable:
    """A table as a held connection last left it: casefolded columns, recorded partitions."""

    columns: set[str]
    recorded: set[str]


def open_declared(
    declaration: DuckDB, warehouse: Path, asset: str, hive_key: str | None
) -> DuckDBStorage:
    """The registry's entry point (`partita.storage.registry`)."""
    return DuckDBStorage(
        warehouse, asset, hive_key, declaration.table, declaration.merge_on, declaration.database
    )


def quote_identifier(name: str) -> str:
    """Quote a SQL identifier for DuckDB, doubling embedded double quotes."""
    return '"' + name.replace('"', '""') + '"'


class DuckDBStorage(DuckDBHistory):
    """An asset stored as one table in the DuckDB file `warehouse/<database>`.

    Partitioned assets get a VARCHAR column `_partition`, which `read` leaves out. Data is
    written in canonical form (`partita.storage.canonical`); column names differing only
    in case are refused (DuckDB identifiers ignore case). DuckDB reads some types back
    as its own (durations as intervals, fixed-size binary as binary), so a run does not
    serve this storage's writes from memory. During a run (`open`) the file stays open
    between writes (`partita.storage.duckdb_files`). Replaced partitions are kept
    (`partita.storage.duckdb_history`).
    """

    single_process = True
    reads_back_exactly = False

    def __init__(
        self,
        warehouse: Path,
        asset: str,
        hive_key: str | None,
        table: str | None,
        merge_on: tuple[str, ...] | None,
        database: str,
    ) -> None:
        self.asset = asset
        self.partitioned = hive_key is not None
        self.dimensions = dimension_columns(hive_key)  # multi-dimensional: a column each
        self.table = table if table is not None else asset
        self.merge_on = tuple(merge_on) if merge_on else None
        self.idle_seconds = DEFAULT_IDLE_SECONDS
        self.keep_history = self.merge_on is None
        self._run_id: str | None = None
        self._attached: DatabaseFile | None = None
        self.path = ensure_inside(
            warehouse / check_relative_file(database, "DuckDB database"), warehouse
        )
        reserved = self.table.casefold().startswith(_RESERVED_PREFIX)  # identifiers ignore case
        if not self.table or "\x00" in self.table or reserved:
            raise StorageError(
                f"The DuckDB table name {self.table!r} of asset {asset!r} cannot be used: it "
                f"is empty, contains a NUL character or starts with the reserved prefix "
                f"{_RESERVED_PREFIX!r}. Set DuckDB(table=...) to another name."
            )

    @property
    def merges(self) -> bool:
        return self.merge_on is not None

    def location(self, partition: str | None = None) -> str:
        return f"table '{self.table}' of {self.path}"

    def open(self, run_id: str, *, shared: bool = False) -> None:
        """Keep the file open between this run's writes, unless other processes of the run
        write it too (`shared`)."""
        if self._run_id == run_id and (self._attached is not None) != shared:
            return  # already open for this run
        self.close()
        self._run_id = run_id
        if not shared:
            self._attached = database_file(self.path)
            self._attached.attach(run_id, self.idle_seconds)

    def close(self) -> None:
        attached, self._attached = self._attached, None
        if attached is not None:
            attached.detach()

    def canonical(self, table: pa.Table, partition: str | None = None) -> pa.Table:
        where = describe_location(self.asset, partition)
        location = f"table {self.table!r} of {str(self.path)!r}"
        check_unique_names(table.column_names, where, location, ignore_case=False)
        check_unique_names(table.column_names, where, location, ignore_case=True)
        return canonical_table(table, where, location)

    def write(
        self,
        partition: str | None,
        table: pa.Table,
        evolve: bool = False,
        before_publish: Callable[[], None] | None = None,
    ) -> WriteResult:
        """Replace the partition's rows (or upsert on `merge_on`) in one transaction.

        With `evolve`, columns new in `table` are added to the table in that transaction;
        `before_publish` runs inside it, just before COMMIT."""
        self._check_partition(partition)
        table = self.canonical(table, partition)
        self._check_columns(partition, table)
        version = table_version(table)
        file = database_file(self.path)
        key = self.table.casefold()
        with self._connection(partition, read_only=False) as connection:
            memo = file.memo if file.holding else None
            known: _KnownTable | None = memo.pop(key, None) if memo is not None else None
            connection.register(_INCOMING_VIEW, table)
            stored = known.columns if known else _stored_columns(connection, self.table)
            connection.execute("BEGIN TRANSACTION")
            try:
                if evolve and stored:
                    stored = self._add_new_columns(connection, stored)
                if stored and self.dimensions:
                    stored = add_dimension_columns(connection, self.table, stored, self.dimensions)
                recorded = known.recorded if known and stored else None
                self._replace_version(connection, partition, version, table.nbytes, stored)
                self._write_in_transaction(connection, partition, table, stored, recorded)
                if before_publish is not None:
                    before_publish()
                connection.execute("COMMIT")
            except BaseException:
                self._roll_back(connection)
                raise
            finally:
                if memo is None:  # a held connection replaces the view on the next write
                    connection.unregister(_INCOMING_VIEW)
            if memo is not None:
                memo[key] = self._known_after(connection, partition, table, stored, recorded)
        return WriteResult(rows=table.num_rows, bytes=table.nbytes, data_version=version)

    def _known_after(
        self,
        connection: duckdb.DuckDBPyConnection,
        partition: str | None,
        table: pa.Table,
        stored: set[str],
        recorded: set[str] | None,
    ) -> _KnownTable:
        """What the table is after a committed write, for the next write to skip asking."""
        incoming = {name.casefold() for name in table.column_names}
        if not self.partitioned and self.merge_on is None:
            columns = incoming
        elif not stored:
            columns = incoming | {
                c.casefold() for c in hidden_columns(self.partitioned, self.dimensions)
            }
        else:
            columns = stored
        if not self.partitioned:
            return _KnownTable(columns, set())
        if not stored:
            return _KnownTable(columns, {partition} if partition is not None else set())
        if recorded is None:
            recorded = self._recorded_partitions(connection)
        return _KnownTable(columns, recorded | {partition} if partition is not None else recorded)

    def _recorded_partitions(self, connection: duckdb.DuckDBPyConnection) -> set[str]:
        rows = connection.execute(
            f'SELECT "partition" FROM {quote_identifier(BOOKKEEPING_TABLE)} '
            'WHERE "asset_table" = ?',
            [self.table],
        ).fetchall()
        return {row[0] for row in rows}

    def _roll_back(self, connection: duckdb.DuckDBPyConnection) -> None:
        try:
            connection.execute("ROLLBACK")
        except duckdb.Error:
            # DuckDB invalidated the connection: nothing was committed; start afresh.
            if self._attached is not None:
                self._attached.discard()
            raise

    def read(self, partitions: list[str] | None) -> pa.Table:
        """Read the whole table (None) or exactly `partitions`, concatenated in that order."""
        if not self.partitioned and partitions is not None:
            raise StorageError(
                f"Asset {self.asset!r} is not partitioned, but partitions {partitions!r} were "
                f"requested from it. Read it as a whole."
            )
        table = quote_identifier(self.table)
        if not self.path.is_file():
            raise self._missing_table_error(None)
        with self._connection(None, read_only=True) as connection:
            if not self._table_exists(connection):
                raise self._missing_table_error(None)
            if not self.partitioned:
                return self._read_back(connection.sql(f"SELECT * FROM {table}"))
            columns = f"*{exclude_clause(hidden_columns(True, self.dimensions))}"
            if partitions is None:
                order = f"{quote_identifier(PARTITION_COLUMN)}, rowid"
                return self._read_back(
                    connection.sql(f"SELECT {columns} FROM {table} ORDER BY {order}")
                )
            for partition in partitions:
                if not self._partition_recorded(connection, partition):
                    raise StorageError(
                        f"No data for {describe_location(self.asset, partition)} in table "
                        f"{self.table!r} of {str(self.path)!r}. Materialize that partition first."
                    )
            query = (
                f"SELECT {columns} FROM {table} "
                f"WHERE {quote_identifier(PARTITION_COLUMN)} = ? ORDER BY rowid"
            )
            tables = [
                self._read_back(connection.sql(query, params=[partition]))
                for partition in partitions
            ]
            if not tables:
                return self._read_back(connection.sql(f"SELECT {columns} FROM {table} LIMIT 0"))
            return pa.concat_tables(tables)

    def _read_back(self, relation: duckdb.DuckDBPyRelation) -> pa.Table:
        """The rows as Arrow, in canonical form: DuckDB gives zoned timestamps in the
        session's zone (the machine's), partita in UTC."""
        table = relation.to_arrow_table()
        try:
            return canonical_table(table, f"asset {self.asset!r}", self.location())
        except InvalidDataError:
            return table  # written before partita stored canonical data: as stored

    def exists(self, partition: str | None) -> bool:
        """Whether the table exists and, for a partitioned asset, the partition was written."""
        self._check_partition(partition)
        if not self.path.is_file():
            return False
        with self._connection(partition, read_only=True) as connection:
            if not self._table_exists(connection):
                return False
            return partition is None or self._partition_recorded(connection, partition)

    def cleanup(self) -> list[Path]:
        """Nothing to clean: an interrupted transaction is rolled back by DuckDB itself."""
        return []

    def _write_in_transaction(
        self,
        connection: duckdb.DuckDBPyConnection,
        partition: str | None,
        table: pa.Table,
        stored: set[str],
        recorded: set[str] | None,
    ) -> None:
        """The statements of one write; `recorded` (if known) are the partitions the
        bookkeeping table already lists."""
        target = quote_identifier(self.table)
        incoming = quote_identifier(_INCOMING_VIEW)
        partition_column = quote_identifier(PARTITION_COLUMN)
        if not self.partitioned and self.merge_on is None:
            connection.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {incoming}")
            return
        extra = f", CAST(NULL AS VARCHAR) AS {partition_column}" if self.partitioned else ""
        extra += dimension_select(self.dimensions, empty=True)
        if not stored:
            connection.execute(f"CREATE TABLE {target} AS SELECT *{extra} FROM {incoming} LIMIT 0")
            self._forget_partitions(connection)
        else:
            self._check_same_columns(stored, partition, table)
        if self.merge_on is not None:
            self._check_unique_keys(connection, partition)
            matches = " AND ".join(
                f"{target}.{quote_identifier(key)} IS NOT DISTINCT FROM "
                f"{incoming}.{quote_identifier(key)}"
                for key in self.merge_on
            )
            connection.execute(f"DELETE FROM {target} USING {incoming} WHERE {matches}")
        else:
            connection.execute(f"DELETE FROM {target} WHERE {partition_column} = ?", [partition])
        fault_point("duckdb-transaction")
        if self.partitioned:
            location = describe_location(self.asset, partition)
            connection.execute(
                f"INSERT INTO {target} BY NAME SELECT *, CAST(? AS VARCHAR) AS "
                f"{partition_column}{dimension_select(self.dimensions)} FROM {incoming}",
                [partition, *dimension_values(self.dimensions, partition, location)],
            )
            if recorded is None or partition not in recorded:
                self._record_partition(connection, partition)
        else:
            connection.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {incoming}")

    def _add_new_columns(self, connection: duckdb.DuckDBPyConnection, stored: set[str]) -> set[str]:
        """ALTER the table to add the incoming columns it lacks, with DuckDB's own types."""
        incoming = connection.execute(
            f"DESCRIBE SELECT * FROM {quote_identifier(_INCOMING_VIEW)}"
        ).fetchall()
        for name, column_type, *_ in incoming:
            if name.casefold() not in stored:
                connection.execute(
                    f"ALTER TABLE {quote_identifier(self.table)} "
                    f"ADD COLUMN {quote_identifier(name)} {column_type}"
                )
        return stored | {row[0].casefold() for row in incoming}

    def published_schema(self, excluding: str | None = None) -> pa.Schema | None:
        """The table's schema without the partition column (None if there is no table)."""
        if not self.path.is_file():
            return None
        with self._connection(None, read_only=True) as connection:
            if not self._table_exists(connection):
                return None
            exclude = exclude_clause(hidden_columns(self.partitioned, self.dimensions))
            query = f"SELECT *{exclude} FROM {quote_identifier(self.table)} LIMIT 0"
            return connection.sql(query).to_arrow_table().schema

    def _check_partition(self, partition: str | None) -> None:
        if self.partitioned and partition is None:
            raise StorageError(
                f"Asset {self.asset!r} is partitioned, but no partition was given. "
                f"Pass the partition key."
            )
        if not self.partitioned and partition is not None:
            raise StorageError(
                f"Asset {self.asset!r} is not partitioned, but partition {partition!r} was "
                f"given. Declare partitions on the asset or pass no partition."
            )

    def _check_columns(self, partition: str | None, table: pa.Table) -> None:
        location = describe_location(self.asset, partition)
        names = {name.casefold() for name in table.column_names}
        if self.partitioned and PARTITION_COLUMN in names:
            raise InvalidDataError(
                f"The data of {location} has a column {PARTITION_COLUMN!r}, which DuckDB "
                f"storage keeps for the partition key in {str(self.path)!r}. Rename the column."
            )
        check_no_dimension_column(
            self.dimensions, table.column_names, location, repr(str(self.path))
        )
        if self.merge_on is not None:
            missing = [key for key in self.merge_on if key.casefold() not in names]
            if missing:
                raise InvalidDataError(
                    f"The data of {location} lacks the merge_on column(s) {missing!r} needed "
                    f"to upsert into table {self.table!r} of {str(self.path)!r}. Add them to "
                    f"the data or fix DuckDB(merge_on=...)."
                )

    def _check_same_columns(self, stored: set[str], partition: str | None, table: pa.Table) -> None:
        stored = stored - {c.casefold() for c in hidden_columns(True, self.dimensions)}
        incoming = {name.casefold() for name in table.column_names}
        if stored != incoming:
            raise InvalidDataError(
                f"The data of {describe_location(self.asset, partition)} does not match table "
                f"{self.table!r} of {str(self.path)!r}: missing columns "
                f"{sorted(stored - incoming)}, unexpected columns {sorted(incoming - stored)}. "
                f"Return the table's columns, or drop the table and re-materialize the asset "
                f"with --force."
            )

    def _check_unique_keys(
        self, connection: duckdb.DuckDBPyConnection, partition: str | None
    ) -> None:
        assert self.merge_on is not None
        keys = ", ".join(quote_identifier(key) for key in self.merge_on)
        duplicates = connection.execute(
            f"SELECT {keys} FROM {quote_identifier(_INCOMING_VIEW)} "
            f"GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
        ).fetchall()
        if duplicates:
            duplicate = duplicates[0]
            raise InvalidDataError(
                f"The data of {describe_location(self.asset, partition)} has several rows with "
                f"the merge_on key {dict(zip(self.merge_on, duplicate, strict=True))!r}, so "
                f"they cannot be upserted into table {self.table!r} of {str(self.path)!r}. "
                f"Deduplicate the rows on {list(self.merge_on)!r}."
            )

    def _table_exists(self, connection: duckdb.DuckDBPyConnection) -> bool:
        return _table_exists(connection, self.table)

    def _ensure_bookkeeping(self, connection: duckdb.DuckDBPyConnection) -> None:
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_identifier(BOOKKEEPING_TABLE)} "
            '("asset_table" VARCHAR, "partition" VARCHAR, PRIMARY KEY ("asset_table", "partition"))'
        )

    def _record_partition(
        self, connection: duckdb.DuckDBPyConnection, partition: str | None
    ) -> None:
        # The bookkeeping table is created with the asset table (_forget_partitions).
        connection.execute(
            f"INSERT INTO {quote_identifier(BOOKKEEPING_TABLE)} VALUES (?, ?) "
            "ON CONFLICT DO NOTHING",
            [self.table, partition],
        )

    def _forget_partitions(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Drop bookkeeping left from an earlier table of the same name (dropped by hand)."""
        if self.partitioned:
            self._ensure_bookkeeping(connection)
            connection.execute(
                f'DELETE FROM {quote_identifier(BOOKKEEPING_TABLE)} WHERE "asset_table" = ?',
                [self.table],
            )

    def _partition_recorded(self, connection: duckdb.DuckDBPyConnection, partition: str) -> bool:
        if not _table_exists(connection, BOOKKEEPING_TABLE):
            return False
        rows = connection.execute(
            f"SELECT count(*) FROM {quote_identifier(BOOKKEEPING_TABLE)} "
            'WHERE "asset_table" = ? AND "partition" = ?',
            [self.table, partition],
        ).fetchall()
        return rows[0][0] > 0

    def _missing_table_error(self, partition: str | None) -> StorageError:
        return StorageError(
            f"No data for {describe_location(self.asset, partition)}: table {self.table!r} "
            f"does not exist in {str(self.path)!r}. Materialize the asset first."
        )

    @contextmanager
    def _connection(
        self, partition: str | None, *, read_only: bool
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the database file for one operation, translating DuckDB errors."""
        location = describe_location(self.asset, partition)
        file = database_file(self.path)
        with file.connection(write=not read_only, run_id=self._run_id, location=location) as (
            connection
        ):
            try:
                yield connection
            except duckdb.Error as error:
                raise StorageError(
                    f"DuckDB failed on table {self.table!r} of {str(self.path)!r} for "
                    f"{location}: {error}. Nothing was changed; fix the data or the table "
                    f"(or re-materialize with --force) and run again."
                ) from error


def _table_exists(connection: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(_stored_columns(connection, name))


def _stored_columns(connection: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    """The casefolded column names of a table; empty when it does not exist.

    Selecting no rows is an order of magnitude faster than the catalog functions on a
    fresh connection. Call it outside a transaction: a failed statement aborts one.
    """
    try:
        cursor = connection.execute(f"SELECT * FROM {quote_identifier(name)} LIMIT 0")
    except (duckdb.CatalogException, duckdb.PermissionException):
        return set()  # no such table (a file-like name is refused, not scanned)
    columns = {column[0].casefold() for column in cursor.description}
    cursor.fetchall()
    return columns
