"""Safe file names under the warehouse: user-given names never escape it."""

from __future__ import annotations

from collections.abc import Sequence
from glob import escape
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from partita.errors import InvalidDataError, StorageError

# Characters a hive directory name must not contain verbatim: path separators, the hive
# `key=value` separator, the escape character itself, glob wildcards and characters that
# are not allowed in file names on common file systems.
NAME_MAX = 255  # bytes in one file name on common file systems
_ENCODED_CHARACTERS = frozenset('%/\\=*?[]{}:"<>|')


def _escape_character(character: str) -> str:
    return "".join(f"%{byte:02X}" for byte in character.encode("utf-8"))


def encode_partition_value(value: str) -> str:
    """Percent-encode a partition value so it is one safe hive directory name segment.

    The encoding is reversible (`decode_partition_value`) and is what pyarrow, pandas and
    DuckDB decode when they read the hive column back.
    """
    encoded = "".join(
        _escape_character(character)
        if character in _ENCODED_CHARACTERS or not character.isprintable()
        else character
        for character in value
    )
    # A leading dot would make a hidden file (ignored by dataset readers), and `.`/`..`
    # are special path names.
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    return encoded


def decode_partition_value(encoded: str) -> str:
    """Invert `encode_partition_value`."""
    return unquote(encoded, encoding="utf-8", errors="strict")


def check_path_segment(name: str, what: str) -> str:
    """Return `name` if it is usable as one file name inside the warehouse, else raise.

    `what` says what the name is (e.g. "asset name") for the error message.
    """
    problem = None
    if not name:
        problem = "it is empty"
    elif name in (".", ".."):
        problem = "it is a special path name"
    elif name.startswith("."):
        problem = "it starts with '.' (hidden files are ignored by dataset readers)"
    elif any(character in "/\\" for character in name):
        problem = "it contains a path separator"
    elif not name.isprintable():
        problem = "it contains control characters"
    if problem:
        raise StorageError(
            f"The {what} {name!r} cannot be used as a file name in the warehouse: {problem}. "
            f"Rename it to a plain name such as 'daily_sales'."
        )
    return name


def check_hive_names(asset: str, hive_key: str | None) -> None:
    """The asset name and partition column a hive layout puts in paths: plain segments,
    and no '=' in the column (hive folder names reserve it)."""
    check_path_segment(asset, "asset name")
    if hive_key is None:
        return
    check_path_segment(hive_key, "partition column")
    if "=" in hive_key:
        raise StorageError(
            f"The partition column {hive_key!r} of asset {asset!r} contains '=', "
            f"which hive-style directory names reserve. "
            f"Set Parquet(partition_column=...) to a plain name."
        )


def check_relative_file(name: str, what: str) -> PurePosixPath:
    """Check that `name` is a relative path with no `..` parts, e.g. "warehouse.duckdb"."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or "\\" in name or ".." in path.parts or "\x00" in name:
        raise StorageError(
            f"The {what} {name!r} must be a relative file name inside the warehouse "
            f"(no absolute path, no '..', no backslash), e.g. 'warehouse.duckdb'."
        )
    return path


def ensure_inside(path: Path, warehouse: Path) -> Path:
    """Return `path` if, once resolved, it lies inside `warehouse`; else raise StorageError."""
    resolved_warehouse = warehouse.resolve()
    resolved = path.resolve()
    if resolved != resolved_warehouse and not resolved.is_relative_to(resolved_warehouse):
        raise StorageError(
            f"The path {str(path)!r} resolves to {str(resolved)!r}, outside the warehouse "
            f"{str(resolved_warehouse)!r}; refusing to touch it. Check the asset and storage "
            f"names (and any symbolic links in the warehouse)."
        )
    return path


# Multi-dimensional partitions: the hive key names every dimension, joined by `|` as the
# key joins their values; each dimension is one folder level (`date=.../region=.../`).
DIMENSION_SEPARATOR = "|"


def hive_columns(hive_key: str) -> list[str]:
    """The hive column of each dimension a hive key names (one for single partitions)."""
    return hive_key.split(DIMENSION_SEPARATOR)


def storage_hive_key(partition_column: str | None, hive_key: str | None) -> str | None:
    """The hive key a Parquet storage lays its folders out by: the declared
    `partition_column` of a single partitioning, else the asset's own key (a
    multi-dimensional asset has one folder column per dimension)."""
    if hive_key is None or len(hive_columns(hive_key)) > 1:
        return hive_key
    return partition_column or hive_key


def hive_folder(hive_key: str, partition: str, asset: str | None = None) -> str:
    """The relative folder of a partition: `date=2024-01-01` or, one level per dimension,
    `date=2024-01-01/region=eu`. Values are encoded with `encode_partition_value`."""
    columns = hive_columns(hive_key)
    if len(columns) == 1:
        return f"{hive_key}={encode_partition_value(partition)}"
    values = partition.split(DIMENSION_SEPARATOR)
    if len(values) != len(columns):
        raise StorageError(
            f"The partition key {partition!r} has {len(values)} values joined by '|', but "
            f"{'the asset' if asset is None else f'asset {asset!r}'} is partitioned by "
            f"{len(columns)} dimensions ({', '.join(columns)}). "
            f"Give one value per dimension, in that order (for example "
            f"{DIMENSION_SEPARATOR.join(c.upper() for c in columns)!r})."
        )
    return "/".join(
        f"{column}={encode_partition_value(value)}"
        for column, value in zip(columns, values, strict=True)
    )


def stored_partitions(root: Path, hive_key: str, file_name: str) -> list[str]:
    """The partitions with a `file_name` under `root`, as keys, sorted; folders this layout
    did not write (another encoding, other columns) are skipped."""
    columns = hive_columns(hive_key)
    if not root.is_dir():
        return []
    found = []
    pattern = "/".join(f"{escape(column)}=*" for column in columns) + "/" + escape(file_name)
    for path in root.glob(pattern):
        partition = partition_of_folder(hive_key, "/".join(path.relative_to(root).parts[:-1]))
        if partition is not None:
            found.append(partition)
    return sorted(found)


def partition_of_folder(hive_key: str, folder: str) -> str | None:
    """The partition whose `hive_folder` is `folder` (relative, `/`-separated); None for
    a folder this layout did not write (another encoding, other columns or depth)."""
    parts = folder.split("/")
    columns = hive_columns(hive_key)
    if len(parts) != len(columns):
        return None
    try:
        values = [decode_partition_value(part.split("=", 1)[1]) for part in parts if "=" in part]
    except UnicodeDecodeError:
        return None
    partition = DIMENSION_SEPARATOR.join(values)
    if len(values) != len(columns) or hive_folder(hive_key, partition) != folder:
        return None
    return partition


def check_no_hive_column(
    column_names: Sequence[str], hive_key: str | None, where: str, location: str
) -> None:
    """Refuse data with a column named like a hive folder column (which readers of the
    dataset would see twice)."""
    if hive_key is None:
        return
    columns = hive_columns(hive_key)
    hive = {column.casefold() for column in columns}
    clashing = [name for name in column_names if name.casefold() in hive]
    if not clashing:
        return
    if len(columns) > 1:
        raise InvalidDataError(
            f"The data of {where} has a column {clashing[0]!r}, which clashes with the "
            f"dimension folders ({', '.join(columns)}) in {location!r}: readers of the "
            f"dataset get each dimension as a column. Rename the column."
        )
    raise InvalidDataError(
        f"The data of {where} has a column {clashing[0]!r}, which clashes with the hive "
        f"partition column {hive_key!r} in {location!r}. Rename the column, or set "
        f"Parquet(partition_column=...) to another name."
    )
