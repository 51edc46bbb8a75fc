"""Data in and out of asset functions: load the mapped upstream partitions in the shape
each parameter asks for, and check what the function returned."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa

from ..definitions.asset import AssetDefinition
from ..errors import PermanentError, describe_unit
from ..planning.staleness import UpstreamRead
from ..storage.base import Storage
from .cache import TableCache


class OutputTypeError(PermanentError):
    """An asset returned something other than a DataFrame or an Arrow table."""


class MissingUpstreamError(PermanentError):
    """An upstream partition the unit reads has never been materialized."""


_POLARS_KINDS = {"DataFrame": "polars", "LazyFrame": "polars_lazy"}


def input_kind(annotation: Any) -> str:
    """`arrow`, `relation`, `polars`, `polars_lazy` or `pandas` (the default), from a
    parameter's annotation (a class, or its text under `from __future__ import annotations`:
    `pl.DataFrame`, `polars.LazyFrame`...)."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    if text.endswith("DuckDBPyRelation"):
        return "relation"
    if isinstance(annotation, str):
        prefix, _, name = annotation.rpartition(".")
        if prefix in ("pl", "polars") and name in _POLARS_KINDS:
            return _POLARS_KINDS[name]
    elif getattr(annotation, "__module__", "").startswith("polars") and text in _POLARS_KINDS:
        return _POLARS_KINDS[text]
    if text in ("Table", "pa.Table", "pyarrow.Table") and (
        isinstance(annotation, str) or annotation is pa.Table
    ):
        return "arrow"
    return "pandas"


def check_upstream_published(asset: str, partition: str | None, reads: list[UpstreamRead]):
    """Fail before running when an upstream partition the unit reads does not exist."""
    missing = [r for r in reads if r.data_version is None]
    if missing:
        first = missing[0]
        label = describe_unit(first.asset, first.partition).removeprefix("asset ")
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise MissingUpstreamError(
            f"upstream {label}{more} has not been materialized. Materialize it first, "
            f"for example: partita materialize +{asset}"
        )


def load_inputs(
    definition: AssetDefinition,
    reads: list[UpstreamRead],
    read_upstream: Callable[[list[UpstreamRead]], pa.Table],
    duckdb_connection: Callable[[], Any],
    data_parameters: Iterable[str] = (),
) -> dict[str, Any]:
    """Keyword arguments holding the upstream data, one per data parameter.

    A data parameter whose mapped upstream partitions are none (a window before the first
    partition) gets an empty table instead of being left out.
    """
    by_parameter: dict[str, list[UpstreamRead]] = {name: [] for name in data_parameters}
    for read in reads:
        if read.parameter is not None:
            by_parameter.setdefault(read.parameter, []).append(read)
    annotations = {p.name: p.annotation for p in definition.parameters}
    arguments: dict[str, Any] = {}
    for parameter, upstream_reads in by_parameter.items():
        table = read_upstream(upstream_reads) if upstream_reads else pa.table({})
        kind = input_kind(annotations.get(parameter))
        if kind == "arrow":
            arguments[parameter] = table
        elif kind == "relation":
            arguments[parameter] = duckdb_connection().from_arrow(table)
        elif kind in ("polars", "polars_lazy"):
            import polars  # the `polars` extra; loaded only for a Polars parameter

            frame = polars.from_arrow(table)  # shares Arrow's buffers where it can
            arguments[parameter] = frame.lazy() if kind == "polars_lazy" else frame
        else:
            arguments[parameter] = table.to_pandas()
    return arguments


def to_arrow(asset: str, partition: str | None, value: Any) -> pa.Table:
    """The returned data as an Arrow table: from a pandas DataFrame, a pyarrow Table, a
    Polars DataFrame or LazyFrame (collected), or a DuckDB relation (fetched while its
    connection is open); anything else fails."""
    if isinstance(value, pa.Table):
        return value
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if kind.startswith("polars."):
        frame = value.collect() if type(value).__name__ == "LazyFrame" else value
        if hasattr(frame, "to_arrow"):
            return frame.to_arrow()
    if kind.startswith(("duckdb.", "_duckdb.")) and type(value).__name__ == "DuckDBPyRelation":
        fetch = getattr(value, "to_arrow_table", None) or value.fetch_arrow_table
        return fetch()
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        # A named index carries data (e.g. after a groupby); an unnamed one is positional.
        keep_index = any(name is not None for name in value.index.names)
        return pa.Table.from_pandas(value, preserve_index=keep_index)
    raise OutputTypeError(
        f"{describe_unit(asset, partition)} returned {kind}; an asset must return a pandas "
        "DataFrame, a pyarrow Table, a Polars DataFrame or LazyFrame, or a DuckDB relation."
    )


def read_upstream(
    reads: list[UpstreamRead], storage: Storage, cache: TableCache | None
) -> pa.Table:
    """The partitions of one upstream asset, concatenated in order; cached ones from memory."""
    if cache is None:
        keys = [read.partition for read in reads]
        return storage.read(None if keys == [None] else keys)
    tables = []
    for read in reads:
        table = cache.get(read.asset, read.partition, read.data_version or "")
        if table is None:
            table = storage.read(None if read.partition is None else [read.partition])
            if read.data_version:
                cache.put(read.asset, read.partition, read.data_version, table)
        tables.append(table)
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="default")
