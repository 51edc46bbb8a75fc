"""Replaced versions of partitions, kept so a bad run can be undone.

What file storages share: the history area (`HistoryArea`),
`warehouse/.history/<asset>/<hive_key>=<partition>~<data version>.parquet`. Hive readers
of `warehouse/<asset>/` never see it (it is outside the asset's folder, and its top folder
starts with a dot, which dataset discovery skips). A file is named by its content hash, so
keeping the same version twice keeps one file, and a kept file is verified against its
name before it is read or restored.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

from partita.errors import StorageError
from partita.storage.base import RetainedVersion, describe_location
from partita.storage.paths import (
    NAME_MAX,
    decode_partition_value,
    encode_partition_value,
    ensure_inside,
)

HISTORY_FOLDER = ".history"
SUFFIX = ".parquet"
_VERSION_LENGTH = 16  # hex digits of a data version (`partita.storage.encoding`)
_VERSION_SEPARATOR = "~"  # between the hive folder and the version in a kept file's name


def file_version(path: Path) -> str:
    """The data version of a stored Parquet file: the content hash of its bytes."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:_VERSION_LENGTH]


def sync_directory(directory: Path) -> None:
    """Make a rename or creation inside `directory` durable."""
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def place_copy(source: Path, temporary: Path) -> None:
    """Create `temporary` (absent) holding the bytes of `source`, durably: a hard link when
    the file system allows one (no bytes copied), else a synced copy."""
    try:
        os.link(source, temporary)
    except OSError:
        shutil.copyfile(source, temporary)
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())


def link_or_copy(source: Path, target: Path, temporary_name: Callable[[], str]) -> None:
    """Make `target` hold the bytes of `source`, appearing whole or not at all, durably:
    a hard link made at `target` directly (atomic), else a synced copy renamed into place
    from a temporary file named by `temporary_name` (next to `target`, removed if this
    fails)."""
    try:
        os.link(source, target)
    except FileExistsError:  # named by content: the same bytes are there already
        pass
    except OSError:  # no hard links here (another file system, or not supported)
        temporary = target.parent / temporary_name()
        try:
            place_copy(source, temporary)
            os.replace(temporary, target)
        finally:
            with suppress(OSError):
                temporary.unlink(missing_ok=True)
    sync_directory(target.parent)


class HistoryArea:
    """The kept versions of one file-stored asset, flat in `warehouse/.history/<asset>/`.

    A kept file is `<hive folder>~<data version>.parquet` (`<data version>.parquet` when
    the asset is not partitioned): one folder per asset, so keeping a version makes one
    link durable, never a new folder too. Versions kept in the earlier layout, a folder
    per partition (`<hive folder>/<data version>.parquet`), are still found, read and
    pruned."""

    def __init__(
        self,
        warehouse: Path,
        asset: str,
        hive_key: str | None,
        temporary_name: Callable[[], str],
    ) -> None:
        self.temporary_name = temporary_name  # names temporary files cleanup can recognize
        self.warehouse = warehouse
        self.asset = asset
        self.hive_key = hive_key
        self.root = ensure_inside(warehouse / HISTORY_FOLDER / asset, warehouse)

    def path(self, partition: str | None, data_version: str) -> Path:
        """Where that version is kept: flat, one segment of encoded characters (so it
        stays in `root`, checked to be inside the warehouse); in the partition's own
        folder when the flat name would be too long for the file system."""
        folder = self._hive_folder(partition)
        if folder is None:
            return self.root / f"{data_version}{SUFFIX}"
        name = f"{folder}{_VERSION_SEPARATOR}{data_version}{SUFFIX}"
        if len(name.encode("utf-8")) <= NAME_MAX:
            return self.root / name
        return self._folder_path(folder, data_version)

    def keep(self, partition: str | None, current: Path, replacement: str) -> str | None:
        """Keep the file `current`, about to be replaced by version `replacement`; return
        its version, None when there is no such file. Durable when this returns; an
        identical replacement keeps nothing."""
        if not current.is_file():
            return None
        version = file_version(current)
        if version == replacement or self._kept_file(partition, version) is not None:
            return version
        target = self.path(partition, version)
        if not target.parent.is_dir():
            for directory in _missing_parents(target.parent):
                with suppress(FileExistsError):
                    directory.mkdir()
                sync_directory(directory.parent)
        link_or_copy(current, target, self.temporary_name)
        return version

    def find(self, partition: str | None, data_version: str) -> Path | None:
        """The kept file of that version, verified against its name; None when not kept."""
        path = self._kept_file(partition, data_version)
        if path is None:
            return None
        if file_version(path) != data_version:
            raise StorageError(
                f"The kept version {data_version} of "
                f"{describe_location(self.asset, partition)} in {str(path)!r} is damaged: "
                f"its content no longer matches its hash. It cannot be read or restored; "
                f"delete the file (partita prune removes what is no longer needed)."
            )
        return path

    def versions(self) -> list[RetainedVersion]:
        """Every kept version, by partition and version."""
        found = [
            RetainedVersion(partition, version, path.stat().st_size)
            for partition, version, path in self._kept_files()
        ]
        return sorted(found, key=lambda v: (v.partition or "", v.data_version))

    def discard(self, partition: str | None, data_version: str) -> int:
        """Delete one kept version; return the bytes freed (0 when it was not kept)."""
        path = self._kept_file(partition, data_version)
        if path is None:
            return 0
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        sync_directory(path.parent)
        with suppress(OSError):  # an empty folder of the earlier layout goes too
            if path.parent != self.root:
                path.parent.rmdir()
        return size

    def _hive_folder(self, partition: str | None) -> str | None:
        if partition is None or self.hive_key is None:
            return None
        return f"{self.hive_key}={encode_partition_value(partition)}"

    def _folder_path(self, folder: str, data_version: str) -> Path:
        """The version's file in the partition's own folder (the earlier layout)."""
        return ensure_inside(self.root / folder, self.warehouse) / f"{data_version}{SUFFIX}"

    def _kept_file(self, partition: str | None, data_version: str) -> Path | None:
        """The file keeping that version, in either layout; None when not kept."""
        path = self.path(partition, data_version)
        if path.is_file():
            return path
        folder = self._hive_folder(partition)
        if folder is None or not (self.root / folder).is_dir():
            return None
        path = self._folder_path(folder, data_version)
        return path if path.is_file() else None

    def _kept_files(self) -> Iterator[tuple[str | None, str, Path]]:
        """(partition, data version, file) of every kept file, in either layout."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if path.is_dir():
                yield from self._folder_files(path)
                continue
            if not path.name.endswith(SUFFIX) or not path.is_file():
                continue
            folder, _, version = path.name.removesuffix(SUFFIX).rpartition(_VERSION_SEPARATOR)
            partition = self._partition_of(folder) if folder else None
            if not is_version(version) or (folder != "") != (partition is not None):
                continue  # not a kept file, or one of another partitioning
            if (partition is not None) == (self.hive_key is not None):
                yield partition, version, path

    def _folder_files(self, folder: Path) -> Iterator[tuple[str | None, str, Path]]:
        """The kept files of the earlier layout's folder for one partition."""
        partition = self._partition_of(folder.name)
        if partition is None:
            return
        for path in folder.iterdir():
            version = path.name.removesuffix(SUFFIX)
            if path.name.endswith(SUFFIX) and is_version(version) and path.is_file():
                yield partition, version, path

    def _partition_of(self, folder: str) -> str | None:
        """The partition a hive folder name stands for; None when it is not one written
        by this asset's key (names partita would not write are left alone)."""
        prefix = f"{self.hive_key}="
        if self.hive_key is None or not folder.startswith(prefix):
            return None
        try:
            partition = decode_partition_value(folder.removeprefix(prefix))
        except UnicodeDecodeError:
            return None
        return partition if self._hive_folder(partition) == folder else None


def is_version(text: str) -> bool:
    """Whether `text` has the form of a data version (16 lowercase hex digits)."""
    return len(text) == _VERSION_LENGTH and all(c in "0123456789abcdef" for c in text)


def _missing_parents(directory: Path) -> list[Path]:
    """`directory` and its missing parents, outermost first."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    return list(reversed(missing))
