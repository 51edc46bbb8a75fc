"""DuckDB tables of multi-dimensional partitions: one VARCHAR column per dimension.

A partition key `2024-01-01|eu|p1` of `MultiPartitions(date=..., region=..., product=...)`
is stored in `_partition` as a whole (what partita reads and deletes by) and, split, in the
columns `date`, `region` and `product`, so SQL can filter by each dimension
(`WHERE region = 'eu'`). Reads leave these columns out, as they leave out `_partition`.
Tables written before partita stored the dimensions get the columns on their next write,
filled from `_partition` in that write's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from partita.errors import InvalidDataError, StorageError
from partita.storage.paths import DIMENSION_SEPARATOR, hive_columns

if TYPE_CHECKING:
    import duckdb

PARTITION_COLUMN = "_partition"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def dimension_columns(hive_key: str | None) -> tuple[str, ...]:
    """The dimension columns of an asset partitioned by `hive_key`: none unless it names
    several dimensions."""
    if hive_key is None:
        return ()
    columns = hive_columns(hive_key)
    return tuple(columns) if len(columns) > 1 else ()


def hidden_columns(partitioned: bool, dimensions: tuple[str, ...]) -> list[str]:
    """The columns partita keeps beside the asset's data, which reads leave out."""
    return ([PARTITION_COLUMN] if partitioned else []) + list(dimensions)


def exclude_clause(columns: list[str]) -> str:
    """` EXCLUDE ("a", "b")` for `SELECT *`, or nothing."""
    if not columns:
        return ""
    return f" EXCLUDE ({', '.join(_quote(name) for name in columns)})"


def dimension_values(
    dimensions: tuple[str, ...], partition: str | None, location: str
) -> list[str]:
    """The value of each dimension in `partition` (empty for single partitions)."""
    if not dimensions:
        return []
    values = (partition or "").split(DIMENSION_SEPARATOR)
    if len(values) != len(dimensions):
        raise StorageError(
            f"The partition key {partition!r} of {location} has {len(values)} values joined "
            f"by '|', but the asset is partitioned by {len(dimensions)} dimensions "
            f"({', '.join(dimensions)}). Pass one value per dimension."
        )
    return values


def dimension_select(dimensions: tuple[str, ...], empty: bool = False) -> str:
    """`, CAST(? AS VARCHAR) AS "date", ...` (NULLs when `empty`: a new table's shape)."""
    value = "NULL" if empty else "?"
    return "".join(f", CAST({value} AS VARCHAR) AS {_quote(name)}" for name in dimensions)


def check_no_dimension_column(
    dimensions: tuple[str, ...], names: list[str], location: str, where: str
) -> None:
    """Refuse data with a column named like a dimension (identifiers ignore case)."""
    kept = {name.casefold() for name in dimensions}
    clashing = [name for name in names if name.casefold() in kept]
    if clashing:
        raise InvalidDataError(
            f"The data of {location} has a column {clashing[0]!r}, which DuckDB storage keeps "
            f"for the partition dimension of that name in {where}. Rename the column."
        )


def add_dimension_columns(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    stored: set[str],
    dimensions: tuple[str, ...],
) -> set[str]:
    """Give a table written before partita stored dimensions their columns, filled from
    `_partition` (inside the caller's transaction); returns the columns it now has."""
    missing = [
        (position, name)
        for position, name in enumerate(dimensions, start=1)
        if name.casefold() not in stored
    ]
    if not missing:
        return stored
    target = _quote(table)
    for position, name in missing:
        connection.execute(f"ALTER TABLE {target} ADD COLUMN {_quote(name)} VARCHAR")
        connection.execute(
            f"UPDATE {target} SET {_quote(name)} = "
            f"split_part({_quote(PARTITION_COLUMN)}, ?, {position})",
            [DIMENSION_SEPARATOR],
        )
    return stored | {name.casefold() for _, name in missing}


def fill_dimensions(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    dimensions: tuple[str, ...],
    partition: str,
    values: list[str],
) -> None:
    """Set the dimension columns of `partition`'s rows (restored rows kept before the
    table had them), adding the columns to a table written before partita stored them."""
    if not dimensions:
        return
    described = connection.execute(f"DESCRIBE {_quote(table)}").fetchall()
    add_dimension_columns(connection, table, {row[0].casefold() for row in described}, dimensions)
    assignments = ", ".join(f"{_quote(name)} = ?" for name in dimensions)
    connection.execute(
        f"UPDATE {_quote(table)} SET {assignments} WHERE {_quote(PARTITION_COLUMN)} = ?",
        [*values, partition],
    )
