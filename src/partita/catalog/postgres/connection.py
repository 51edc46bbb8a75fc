"""One PostgreSQL catalog connection, with the transaction and error behaviour of the
SQLite catalog's, so that the SQLite catalog's queries run on it unchanged.

The queries (`catalog/sqlite/store.py`, `leases.py`, `attempts.py`) are written with
SQLite's `?` and `:name` placeholders in SQL that both databases read; `_Dialect`
translates the placeholders to psycopg's. Write transactions take one advisory lock per
catalog first, like SQLite's `BEGIN IMMEDIATE` takes its write lock, so writers on any
number of machines run one after the other: a lease is read and replaced with nobody in
between, and sequences grow in commit order. Reads that must be one consistent snapshot
run as REPEATABLE READ transactions.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from partita.catalog.postgres.schema import migrate
from partita.errors import CatalogError
from partita.urls import redact, scrub

CONNECT_TIMEOUT_S = 10

# A quoted literal (kept as is), a `?` or a `:name` placeholder (outside `::` casts).
_TOKENS = re.compile(r"'(?:[^']|'')*'|(?<!:):([A-Za-z_]\w*)|\?|%")


@lru_cache(maxsize=256)
def translate(sql: str) -> str:
    """SQLite placeholders (`?`, `:name`) as psycopg's (`%s`, `%(name)s`)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if match.group(1) is not None:
            return f"%({match.group(1)})s"
        return token

    return _TOKENS.sub(replace, sql)


class _Dialect:
    """A psycopg connection that takes the SQLite catalog's SQL (see the module)."""

    def __init__(self, connection: Any) -> None:
        self.raw = connection

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Any:
        return self.raw.execute(translate(sql), parameters)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(translate(sql), rows)


class PostgresConnection:
    """An open PostgreSQL catalog, shared by threads: calls are serialized on one
    connection. Connects (and creates or upgrades the schema) on construction.

    `self.path` is the URL without its password: every message names the catalog by it.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = redact(url)  # type: ignore[assignment]
        self._lock = threading.RLock()
        self._connection: _Dialect | None = self._open()

    def close(self) -> None:
        """Close the connection; further calls raise CatalogError. Safe to call twice."""
        with self._lock:
            if self._connection is not None:
                self._connection.raw.close()
                self._connection = None

    def _open(self) -> _Dialect:
        import psycopg

        try:
            raw = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as error:
            raise self._error("connect to the catalog", error) from error
        try:
            schema = raw.execute("SELECT current_schema()").fetchone()[0]
            # One lock per catalog (a database and schema), so writers take turns.
            self._lock_key = zlib.crc32(f"partita:{schema}".encode())
            migrate(raw, self._lock_key, self.path)
        except psycopg.Error as error:
            raw.close()
            raise self._error("open the catalog", error) from error
        except BaseException:
            raw.close()
            raise
        return _Dialect(raw)

    @contextmanager
    def _reading(self, action: str) -> Iterator[_Dialect]:
        import psycopg

        with self._lock:
            connection = self._require_open(action)
            try:
                yield connection
            except psycopg.Error as error:
                raise self._error(action, error) from error

    @contextmanager
    def _read_transaction(self, action: str) -> Iterator[_Dialect]:
        """One read transaction: every read in it sees the same committed catalog."""
        with self._within("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", action) as conn:
            yield conn

    @contextmanager
    def _transaction(self, action: str) -> Iterator[_Dialect]:
        """One write transaction, holding the catalog's write lock (see the module)."""
        with self._within("BEGIN", action) as connection:
            connection.raw.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            yield connection

    @contextmanager
    def _within(self, begin: str, action: str) -> Iterator[_Dialect]:
        import psycopg

        with self._lock:
            connection = self._require_open(action)
            try:
                connection.raw.execute(begin)
                yield connection
                connection.raw.execute("COMMIT")
            except BaseException as error:
                if not connection.raw.closed:
                    connection.raw.execute("ROLLBACK")
                if isinstance(error, psycopg.Error):
                    raise self._error(action, error) from error
                raise

    def _require_open(self, action: str) -> _Dialect:
        if self._connection is None:
            raise CatalogError(
                f"Could not {action} in catalog {self.path}: the catalog was closed. Open a"
                " new PostgresCatalog."
            )
        return self._connection

    def _error(self, action: str, error: Exception) -> CatalogError:
        import psycopg

        message = scrub(str(error).strip(), self.url)
        if isinstance(error, psycopg.OperationalError):
            advice = (
                "check that the server is running and reachable, and the user name, database"
                " and credentials (in the URL, the PG* environment variables or ~/.pgpass)"
            )
        elif isinstance(error, psycopg.IntegrityError):
            advice = "the data breaks a catalog constraint; this is a bug, please report it"
        else:
            advice = "check the server's log and that the user may read and write the catalog"
        return CatalogError(
            f"Could not {action} in catalog {self.path}: {message}. To fix: {advice}."
        )

    def _timestamp(self, moment: datetime) -> str:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise CatalogError(
                f"Could not store the time {moment.isoformat()} in catalog {self.path}: it has"
                " no time zone. Pass an aware datetime, e.g. datetime.now(UTC)."
            )
        return moment.astimezone(UTC).isoformat(timespec="microseconds")

    def server_now(self) -> datetime:
        """The database server's clock: the one clock every machine of a cluster shares."""
        with self._reading("read the server's clock") as connection:
            (moment,) = connection.raw.execute("SELECT clock_timestamp()").fetchone()
        return moment.astimezone(UTC)

    def restart_history_ids(self, connection: _Dialect) -> None:
        """After rows were inserted with their ids (a copy), new rows continue after them."""
        for table, column in (("materializations", "id"), ("incidents", "id")):
            connection.raw.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" coalesce(max({column}), 0) + 1, false) FROM {table}"
            )
