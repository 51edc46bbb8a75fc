"""Data in and out of asset functions: load the mapped upstream partitions in the shape
each parameter asks for, and check what the function returned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from ..definitions.asset import AssetDefinition
from ..errors import PermanentError
from ..planning.staleness import UpstreamRead
from ..storage.base import Storage


class OutputTypeError(PermanentError):
    """An asset returned something other than a DataFrame or an Arrow table."""


class MissingUpstreamError(PermanentError):
    """An upstream partition the unit reads has never been materialized."""


def input_kind(annotation: Any) -> str:
    """`arrow`, `relation` or `pandas` (the default), from a parameter's annotation."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    if text.endswith("DuckDBPyRelation"):
        return "relation"
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
        label = f"'{first.asset}'" + (f" partition {first.partition}" if first.partition else "")
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise MissingUpstreamError(
            f"upstream {label}{more} has not been materialized. Materialize it first, "
            f"for example: partita materialize +{asset}"
        )


def load_inputs(
    definition: AssetDefinition,
    reads: list[UpstreamRead],
    storage_for: Callable[[str], Storage],
    duckdb_connection: Callable[[], Any],
) -> dict[str, Any]:
    """Keyword arguments holding the upstream data, one per data parameter."""
    by_parameter: dict[str, list[UpstreamRead]] = {}
    for read in reads:
        if read.parameter is not None:
            by_parameter.setdefault(read.parameter, []).append(read)
    annotations = {p.name: p.annotation for p in definition.parameters}
    arguments: dict[str, Any] = {}
    for parameter, upstream_reads in by_parameter.items():
        upstream = upstream_reads[0].asset
        keys = [r.partition for r in upstream_reads]
        table = storage_for(upstream).read(None if keys == [None] else keys)
        kind = input_kind(annotations.get(parameter))
        if kind == "arrow":
            arguments[parameter] = table
        elif kind == "relation":
            arguments[parameter] = duckdb_connection().from_arrow(table)
        else:
            arguments[parameter] = table.to_pandas()
    return arguments


def to_arrow(asset: str, partition: str | None, value: Any) -> pa.Table:
    """The returned data as an Arrow table; anything but a DataFrame or Table fails."""
    if isinstance(value, pa.Table):
        return value
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        # A named index carries data (e.g. after a groupby); an unnamed one is positional.
        keep_index = any(name is not None for name in value.index.names)
        return pa.Table.from_pandas(value, preserve_index=keep_index)
    where = f"asset '{asset}'" + (f" partition {partition}" if partition else "")
    raise OutputTypeError(
        f"{where} returned {type(value).__module__}.{type(value).__qualname__}; an asset must "
        "return a pandas DataFrame or a pyarrow Table."
    )
