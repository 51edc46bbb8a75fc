"""One catalog file's connection: opening, read and write transactions, errors for people.

The file is in WAL mode so readers in other processes never block on a writer, and a 30 s
busy timeout for writers. `synchronous=NORMAL`: a commit survives a crash of the process
(a SIGKILL) but not of the machine, and commits cost no fsync. That is safe for the one
promise the catalog keeps: data files are fsynced before the catalog is told about them,
so losing the last commits to a power cut only makes partita rebuild data that exists,
never claim data that does not.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from partita.catalog.sqlite.migrations import migrate
from partita.errors import CatalogError, CatalogFullError

BUSY_TIMEOUT_SECONDS = 30.0


class SQLiteConnection:
    """An open catalog file, shared by threads: calls are serialized on one connection.

    Opens (creating the file, its folders and the schema if needed) on construction.
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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exception_type: type[BaseException] | None,
        exception: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

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
            migrate(connection, self.path)
        except sqlite3.Error as error:
            connection.close()
            raise self._error("open the catalog", error) from error
        except BaseException:
            connection.close()
            raise
        return connection

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
        return translate_error(self.path, action, error)

    def _timestamp(self, moment: datetime) -> str:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise CatalogError(
                f"Could not store the time {moment.isoformat()} in catalog {self.path}: it has no"
                " time zone. Pass an aware datetime, e.g. datetime.now(UTC)."
            )
        return moment.astimezone(UTC).isoformat(timespec="microseconds")


def translate_error(path: Path, action: str, error: sqlite3.Error) -> CatalogError:
    """The CatalogError for a person, for `error` raised while trying to `action`."""
    message = str(error)
    code = getattr(error, "sqlite_errorcode", None)
    if (code is not None and code & 0xFF == sqlite3.SQLITE_FULL) or "disk is full" in message:
        return CatalogFullError(
            f"Could not {action} in catalog {path}: the disk holding the catalog (the file"
            f" system of {path.parent}) is full. To fix: free space on that disk, then run"
            " again."
        )
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
    return CatalogError(f"Could not {action} in catalog {path}: {message}. To fix: {advice}.")
