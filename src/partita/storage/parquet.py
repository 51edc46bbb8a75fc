"""Hive-partitioned Parquet files, one file per partition, replaced atomically."""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from partita.errors import InvalidDataError, StorageError
from partita.faults import fault_point
from partita.processes import process_is_alive, process_start_time
from partita.storage.base import RetainedVersion, WriteResult, describe_location
from partita.storage.canonical import canonical_table, check_unique_names
from partita.storage.encoding import data_version, encode_parquet
from partita.storage.history import HistoryArea, file_version, place_copy
from partita.storage.paths import (
    NAME_MAX,
    check_hive_names,
    check_no_hive_column,
    ensure_inside,
    hive_folder,
    storage_hive_key,
    stored_partitions,
)
from partita.storage.schemas import unify_schemas

if TYPE_CHECKING:
    from partita.definitions.storage import Parquet

log = logging.getLogger("partita")
FILE_NAME = "part-0.parquet"
# `.part-0.parquet.t<process start time>.<pid>.<uuid>.tmp`; older versions wrote no start
# time. Cleanup removes only names of this form: other hidden files are the user's.
TEMPORARY_NAME = re.compile(r"\.part-0\.parquet\.(?:t(\d+)\.)?(\d+)\.[0-9a-f]{32}\.tmp")


def open_declared(
    declaration: Parquet, warehouse: Path, asset: str, hive_key: str | None
) -> ParquetStorage:
    """The registry's entry point (`partita.storage.registry`)."""
    return ParquetStorage(
        warehouse, asset, storage_hive_key(declaration.partition_column, hive_key)
    )


class ParquetStorage:
    """An asset stored as `warehouse/<asset>/<hive_key>=<partition>/part-0.parquet`.

    Unpartitioned assets (`hive_key` None) are one file, `warehouse/<asset>/part-0.parquet`.
    Data is written in canonical form (`partita.storage.canonical`), which reads back
    exactly; duplicate column names are refused.
    """

    single_process = False
    reads_back_exactly = True
    merges = False
    keep_history = True

    def __init__(self, warehouse: Path, asset: str, hive_key: str | None) -> None:
        check_hive_names(asset, hive_key)
        self.warehouse = warehouse
        self.asset = asset
        self.hive_key = hive_key
        self.root = ensure_inside(warehouse / asset, warehouse)
        self.history = HistoryArea(warehouse, asset, hive_key, temporary_name)

    def location(self, partition: str | None = None) -> str:
        return str(self.root if partition is None else self._file(partition))

    def open(self, run_id: str, *, shared: bool = False) -> None:
        """Nothing to keep between writes: each write is one file."""

    def close(self) -> None:
        """Nothing was kept."""

    def canonical(self, table: pa.Table, partition: str | None = None) -> pa.Table:
        where = describe_location(self.asset, partition)
        check_unique_names(table.column_names, where, str(self.root), ignore_case=False)
        return canonical_table(table, where, str(self.root))

    def write(
        self,
        partition: str | None,
        table: pa.Table,
        evolve: bool = False,
        before_publish: Callable[[], None] | None = None,
    ) -> WriteResult:
        """Replace the partition's file with `table`: readers see the old or the new file.

        `evolve` needs nothing here: each partition file carries its own schema.
        `before_publish` runs once the temporary file is synced, before the rename."""
        where = describe_location(self.asset, partition)
        check_no_hive_column(table.column_names, self.hive_key, where, str(self.root))
        path = self._file(partition)
        encoded = encode_parquet(self.canonical(table, partition))
        temporary = path.parent / temporary_name()
        created: list[Path] = []
        try:
            created = _make_directories(path.parent)
            with open(temporary, "wb") as file:
                half = len(encoded) // 2
                file.write(encoded[:half])
                file.flush()
                fault_point("parquet-write")
                file.write(encoded[half:])
                file.flush()
                os.fsync(file.fileno())
            version = data_version(encoded)
            if self.keep_history:
                self.history.keep(partition, path, version)
            fault_point("parquet-kept")
            if before_publish is not None:
                before_publish()
            os.replace(temporary, path)
            _sync_directory(path.parent)
            for directory in created:
                _sync_directory(directory.parent)
        except BaseException as error:
            _remove_unpublished(temporary, created)
            if not isinstance(error, OSError):
                raise
            raise StorageError(
                f"Could not write {describe_location(self.asset, partition)} to {str(path)!r}: "
                f"{error}. Check that the warehouse folder is writable and has free space, "
                f"then run again."
            ) from error
        self._forget_kept(partition, version)
        return WriteResult(rows=table.num_rows, bytes=len(encoded), data_version=version)

    def read(self, partitions: list[str] | None) -> pa.Table:
        """Read the whole asset (partitions in key order) or exactly `partitions`, in order."""
        if self.hive_key is None:
            if partitions is not None:
                raise StorageError(
                    f"Asset {self.asset!r} is not partitioned, but partitions {partitions!r} "
                    f"were requested from it. Read it as a whole."
                )
            return self._read_file(None, self._file(None))
        if partitions is None:
            partitions = self._stored_partitions()
            if not partitions:
                raise StorageError(
                    f"Asset {self.asset!r} has no data under {str(self.root)!r}. "
                    f"Materialize it first."
                )
        if not partitions:
            return pa.table({})
        tables = [self._read_file(partition, self._file(partition)) for partition in partitions]
        try:
            return pa.concat_tables(tables, promote_options="default")
        except (pa.ArrowException, ValueError) as error:
            raise StorageError(
                f"The partitions of asset {self.asset!r} under {str(self.root)!r} have "
                f"incompatible schemas: {error}. Re-materialize the asset with --force so "
                f"every partition has the current schema."
            ) from error

    def exists(self, partition: str | None) -> bool:
        """Whether the partition's file exists."""
        return self._file(partition).is_file()

    def delete(
        self, partitions: Sequence[str | None], before_commit: Callable[[], None] | None = None
    ) -> None:
        """Delete the partitions' files, their kept versions and the folders they leave
        empty, after `before_commit` (a removed file cannot be taken back)."""
        paths = [self._file(partition) for partition in partitions]
        if before_commit is not None:
            before_commit()
        kept = self.history.versions()
        for partition, path in zip(partitions, paths, strict=True):
            for version in kept:
                if version.partition == partition:
                    self.history.discard(partition, version.data_version)
            self._delete_file(path)

    def _delete_file(self, path: Path) -> None:
        """Delete a file and the folders it leaves empty (no-op if absent)."""
        path.unlink(missing_ok=True)
        directory = path.parent
        while directory != self.root and directory.is_relative_to(self.root):
            with suppress(OSError):  # not empty: other partitions or the user's files
                directory.rmdir()
            directory = directory.parent

    def cleanup(self) -> list[Path]:
        """Remove temporary files left under `warehouse/<asset>/` (and its history area) by
        writes whose process has died; files of writes still running are left alone."""
        removed = []
        for root in (self.root, self.history.root):
            # os.walk does not follow symbolic links, so nothing outside the asset is touched.
            for directory, _, names in os.walk(root):
                for name in names:
                    if TEMPORARY_NAME.fullmatch(name) and not _writer_alive(name):
                        leftover = Path(directory) / name
                        leftover.unlink(missing_ok=True)
                        removed.append(leftover)
        return sorted(removed)

    def retained_versions(self) -> list[RetainedVersion]:
        return self.history.versions()

    def read_version(self, partition: str | None, data_version: str) -> pa.Table:
        """The kept (or current) file of `data_version`, read as `read` reads."""
        path = self._version_file(partition, data_version)
        return self._read_file(partition, path)

    def restore(
        self,
        partition: str | None,
        data_version: str,
        before_publish: Callable[[], None] | None = None,
    ) -> WriteResult:
        """Put the kept file back in place with one rename, keeping the replaced file."""
        path = self._file(partition)
        kept = self._version_file(partition, data_version)
        temporary = path.parent / temporary_name()
        created: list[Path] = []
        try:
            created = _make_directories(path.parent)
            place_copy(kept, temporary)
            if self.keep_history:
                self.history.keep(partition, path, data_version)
            fault_point("parquet-restore")
            if before_publish is not None:
                before_publish()
            os.replace(temporary, path)
            # A rename between two links of one file does nothing: the link stays behind.
            temporary.unlink(missing_ok=True)
            _sync_directory(path.parent)
            fault_point("parquet-restored")
        except BaseException as error:
            _remove_unpublished(temporary, created)
            if not isinstance(error, OSError):
                raise
            raise StorageError(
                f"Could not restore version {data_version} of "
                f"{describe_location(self.asset, partition)} to {str(path)!r}: {error}. "
                f"Check that the warehouse folder is writable, then run again."
            ) from error
        self._forget_kept(partition, data_version)
        rows = pq.ParquetFile(path).metadata.num_rows
        return WriteResult(rows=rows, bytes=path.stat().st_size, data_version=data_version)

    def _forget_kept(self, partition: str | None, data_version: str) -> None:
        """Delete the kept copy of the version just published, current now. Best effort:
        the write succeeded, and a copy left behind is kept again when it is replaced."""
        try:
            self.history.discard(partition, data_version)
        except (OSError, StorageError) as error:
            log.warning(
                "could not delete the kept copy of version %s of %s: %s",
                data_version,
                describe_location(self.asset, partition),
                error,
            )

    def discard_version(self, partition: str | None, data_version: str) -> int:
        return self.history.discard(partition, data_version)

    def _version_file(self, partition: str | None, data_version: str) -> Path:
        """The file holding `data_version` of the partition: kept, or the current one."""
        kept = self.history.find(partition, data_version)
        if kept is not None:
            return kept
        current = self._file(partition)
        if current.is_file() and file_version(current) == data_version:
            return current
        raise StorageError(
            f"Version {data_version} of {describe_location(self.asset, partition)} is not "
            f"kept under {str(self.history.root)!r}: it was pruned, or written "
            f"before partita kept history. Pick a retained version (partita history "
            f"{self.asset}) or rebuild it with partita materialize --force."
        )

    def _file(self, partition: str | None) -> Path:
        if self.hive_key is None:
            if partition is not None:
                raise StorageError(
                    f"Asset {self.asset!r} is not partitioned, but partition {partition!r} "
                    f"was given. Declare partitions on the asset or pass no partition."
                )
            return self.root / FILE_NAME
        if partition is None:
            raise StorageError(
                f"Asset {self.asset!r} is partitioned by {self.hive_key!r}, but no partition "
                f"was given. Pass the partition key."
            )
        name = hive_folder(self.hive_key, partition, self.asset)
        if max(len(part.encode("utf-8")) for part in name.split("/")) > NAME_MAX:
            raise StorageError(
                f"The partition key of {describe_location(self.asset, partition[:40] + '...')} "
                f"is too long for the file system: its folder name {name[:40]!r}... would be "
                f"{len(name.encode('utf-8'))} bytes, over the limit of {NAME_MAX}. Use shorter "
                f"partition keys, or DuckDB storage, which keeps keys in a column."
            )
        return ensure_inside(self.root / name, self.warehouse) / FILE_NAME

    def published_schema(self, excluding: str | None = None) -> pa.Schema | None:
        """The unified schema of the published partitions other than `excluding` (None if
        there is none, or for an unpartitioned asset, which is replaced whole)."""
        if self.hive_key is None or not self.root.is_dir():
            return None
        schemas = []
        for partition in stored_partitions(self.root, self.hive_key, FILE_NAME):
            path = self._file(partition)
            if partition != excluding:
                try:
                    schemas.append(pq.read_schema(path).remove_metadata())
                except (OSError, pa.ArrowException):
                    continue  # an unreadable file is reported when it is read
        return unify_schemas(schemas)

    def _stored_partitions(self) -> list[str]:
        return stored_partitions(self.root, self.hive_key, FILE_NAME)

    def _read_file(self, partition: str | None, path: Path) -> pa.Table:
        location = describe_location(self.asset, partition)
        if not path.is_file():
            raise StorageError(
                f"No data for {location}: {str(path)!r} does not exist. Materialize it first."
            )
        try:
            # ParquetFile reads exactly this file: no hive discovery, no added column.
            with pq.ParquetFile(path) as file:
                table = file.read()
        except (pa.ArrowException, OSError) as error:
            raise StorageError(
                f"Could not read {location} from {str(path)!r}: {error}. The file is "
                f"corrupt or unreadable; re-materialize it with --force."
            ) from error
        try:
            # Files from before partita wrote canonical data read as one table with the rest.
            return canonical_table(table, location, str(path))
        except InvalidDataError:
            return table  # not convertible without loss: as stored


def _make_directories(directory: Path) -> list[Path]:
    """Create `directory` and missing parents; return the created ones, outermost first."""
    missing = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    created = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue  # a concurrent writer created it
        created.append(path)
    return created


def _sync_directory(directory: Path) -> None:
    """Make a rename or creation inside `directory` durable."""
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def temporary_name() -> str:
    """A temporary file name naming this process by pid and start time, so cleanup can
    tell a live writer from a dead one whose pid was reused."""
    pid = os.getpid()
    started = process_start_time(pid)
    owner = str(pid) if started is None else f"t{started}.{pid}"
    return f".{FILE_NAME}.{owner}.{uuid.uuid4().hex}.tmp"


def _writer_alive(temporary_name: str) -> bool:
    """Whether the process that named this temporary file is still running."""
    match = TEMPORARY_NAME.fullmatch(temporary_name)
    if match is None:
        return False
    recorded, pid = match.group(1), int(match.group(2))
    # This process has no write in flight while it cleans up.
    if pid == os.getpid() or not process_is_alive(pid):
        return False
    started = process_start_time(pid)
    return recorded is None or started is None or int(recorded) == started


def _remove_unpublished(temporary: Path, created: list[Path]) -> None:
    """Remove what a failed write left: its temporary file and the folders it created.
    Errors here must not hide the write's own error."""
    with suppress(OSError):
        temporary.unlink(missing_ok=True)
    for directory in reversed(created):
        with suppress(OSError):
            directory.rmdir()
