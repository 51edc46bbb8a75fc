"""DuckDB database files as one process uses them.

During a run the process keeps one read-write connection per file (opening one costs
tens of milliseconds), closed when the run ends or once the run has written nothing to
the file for `idle_seconds`, so other programs can open the file between runs and in
pauses. Outside a run, and in pool workers that share files with each other, every
operation opens and closes its own connection.

While a process holds a read-write connection, a holder file beside the database
(`.<name>.holder`: run id and pid) lets a process waiting for the file's lock say who
holds it. Waiting is bounded by `PARTITA_DUCKDB_LOCK_TIMEOUT` seconds.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import duckdb

from partita.errors import StorageError
from partita.processes import process_is_alive

LOCK_TIMEOUT_VARIABLE = "PARTITA_DUCKDB_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_SECONDS = 300.0
DEFAULT_IDLE_SECONDS = 1.0
PROGRESS_SECONDS = 5.0  # how often a wait for the lock is logged

# No file access from SQL: a table named like a file ("data.csv") must never be read
# from disk by DuckDB's replacement scans.
_CONFIG = {"enable_external_access": False}

log = logging.getLogger("partita")


def lock_timeout() -> float:
    """Seconds to wait for a DuckDB file another process holds (`PARTITA_DUCKDB_LOCK_TIMEOUT`)."""
    text = os.environ.get(LOCK_TIMEOUT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses NaN
        raise StorageError(
            f"{LOCK_TIMEOUT_VARIABLE}={text!r} is not a number of seconds. Set it to how long "
            f"to wait for a DuckDB file another process holds, e.g. "
            f"{LOCK_TIMEOUT_VARIABLE}=300, or unset it."
        )
    return seconds


def holder_path(database: Path) -> Path:
    return database.with_name(f".{database.name}.holder")


class DatabaseFile:
    """One DuckDB file in this process: the connection a run holds, and its users."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()  # one operation at a time on the file, per process
        self._wakeup = threading.Condition(self.lock)
        self._held: duckdb.DuckDBPyConnection | None = None
        self._current: duckdb.DuckDBPyConnection | None = None  # of one operation
        self._users = 0
        self._run_id: str | None = None
        self._idle_seconds = DEFAULT_IDLE_SECONDS
        self._last_write = 0.0
        # What storages learned about their tables through the held connection; valid
        # while it is held, as nobody else can write the file meanwhile.
        self.memo: dict[str, Any] = {}

    def attach(self, run_id: str, idle_seconds: float) -> None:
        """A storage of run `run_id` writes this file from this process until `detach`."""
        with self.lock:
            self._users += 1
            self._run_id = run_id
            self._idle_seconds = idle_seconds

    def detach(self) -> None:
        with self.lock:
            self._users = max(0, self._users - 1)
            if self._users == 0:
                self.release()

    @property
    def holding(self) -> bool:
        return self._held is not None

    @contextmanager
    def connection(
        self, *, write: bool, run_id: str | None, location: str
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one operation: the held one if there is, a new held one for a
        write while attached, else one opened and closed around the operation."""
        with self.lock:
            if self._held is None and write and self._users > 0:
                self._held = connect(self.path, self._run_id, location, read_only=False)
                threading.Thread(target=self._close_when_idle, daemon=True).start()
            if self._held is not None:
                try:
                    yield self._held
                finally:
                    if write:
                        self._last_write = time.monotonic()
                return
            if self._current is not None:  # reentered (a read inside a write): reuse it
                yield self._current
                return
            connection = connect(self.path, run_id, location, read_only=not write)
            self._current = connection
            try:
                yield connection
            finally:
                self._current = None
                _close(connection, self.path, holder=write)

    def release(self) -> None:
        """Close the held connection (if any) and remove the holder file."""
        with self.lock:
            held, self._held = self._held, None
            self.memo.clear()
            if held is not None:
                _close(held, self.path, holder=True)
            self._wakeup.notify_all()

    def discard(self) -> None:
        """Drop a held connection DuckDB may have invalidated (a failed rollback)."""
        try:
            self.release()
        except duckdb.Error:
            log.debug("closing an invalidated DuckDB connection failed", exc_info=True)

    def _close_when_idle(self) -> None:
        with self.lock:
            while self._held is not None:
                remaining = self._last_write + self._idle_seconds - time.monotonic()
                if remaining <= 0:
                    self.release()
                    return
                self._wakeup.wait(remaining)


_files: dict[Path, DatabaseFile] = {}
_files_guard = threading.Lock()


def database_file(path: Path) -> DatabaseFile:
    """The process-wide state of the DuckDB file at `path`."""
    key = path.resolve()
    with _files_guard:
        file = _files.get(key)
        if file is None:
            file = _files[key] = DatabaseFile(key)
        return file


_inherited: list[DatabaseFile] = []


def _forget_after_fork() -> None:
    """A forked child must not use (or, by garbage collection, close) the parent's
    connections; its locks may have been held by another thread at the fork."""
    global _files_guard
    _inherited.extend(_files.values())
    _files.clear()
    _files_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def connect(
    path: Path, run_id: str | None, location: str, *, read_only: bool
) -> duckdb.DuckDBPyConnection:
    """Connect, waiting (bounded, with progress in the log) while another process holds
    the file's lock; a read-write connection writes the holder file."""
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        connection = _wait_for_lock(path, location, read_only)
    except (duckdb.Error, OSError) as error:
        raise StorageError(
            f"Could not open {str(path)!r} for {location}: {error}. Check that no other "
            f"program keeps the database open for writing, then run again."
        ) from error
    if not read_only:
        _write_holder(path, run_id)
    return connection


def _wait_for_lock(path: Path, location: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    timeout = lock_timeout()
    started = time.monotonic()
    next_report = started + PROGRESS_SECONDS
    delay = 0.005
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=_CONFIG)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise
            now = time.monotonic()
            if now - started >= timeout:
                raise StorageError(
                    f"Could not open {str(path)!r} for {location}: {describe_holder(path)} "
                    f"has held it for more than {timeout:g} s. Wait for it to finish and run "
                    f"again, or set {LOCK_TIMEOUT_VARIABLE} to wait longer (seconds)."
                ) from error
            if now >= next_report:
                log.warning("waiting for %s, held by %s", path.name, describe_holder(path))
                next_report = now + PROGRESS_SECONDS
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)  # writes are short: poll often


def describe_holder(path: Path) -> str:
    """Who holds the file: "run R (pid P)" from its holder file, else another process."""
    try:
        holder = json.loads(holder_path(path).read_text(encoding="utf-8"))
        pid = int(holder["pid"])
        run_id = holder.get("run_id")
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (not a partita run)"
    if not process_is_alive(pid):
        return "another process (not a partita run)"
    return f"run {run_id} (pid {pid})" if run_id else f"a partita process (pid {pid})"


def _write_holder(path: Path, run_id: str | None) -> None:
    """Record who holds the file, atomically (a reader sees the old or the new file)."""
    target = holder_path(path)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps({"run_id": run_id, "pid": os.getpid()}), "utf-8")
        os.replace(temporary, target)
    except OSError:
        temporary.unlink(missing_ok=True)  # only advice for waiters: never fail a write


def _close(connection: duckdb.DuckDBPyConnection, path: Path, *, holder: bool) -> None:
    if holder:  # removed while the lock is still ours; only advice, so never fatal
        with suppress(OSError):
            holder_path(path).unlink(missing_ok=True)
    try:
        connection.close()  # checkpoints the write-ahead log into the file
    except duckdb.Error as error:
        raise StorageError(
            f"Could not close {str(path)!r}: {error}. The committed partitions are safe in "
            "its write-ahead log; free space or fix the file system, then run again."
        ) from error
