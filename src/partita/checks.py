"""Data-quality checks run on new data before it is published (write-audit-publish).

`@asset(checks=[not_null("id"), unique("id"), row_count(min=1)])`. A failing check with
severity `"error"` (the default) fails the unit and nothing is published; `"warn"`
records the failure and publishes. Any callable taking the data (a pandas DataFrame, or
a pyarrow Table when annotated so) and returning a bool, or raising, is a check too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SEVERITIES = ("error", "warn")


@dataclass(frozen=True)
class Check:
    """A named test of an asset's data; `evaluate` returns None when it passes, else why."""

    name: str
    evaluate: Callable[[Any], str | None]
    severity: str = "error"

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"check severity must be 'error' or 'warn', not {self.severity!r}")


def _columns_present(table, columns: Iterable[str]) -> str | None:
    missing = [column for column in columns if column not in table.column_names]
    return f"missing column(s) {', '.join(missing)}" if missing else None


def not_null(*columns: str, severity: str = "error") -> Check:
    """No nulls (or NaN) in any of `columns`."""

    def evaluate(table) -> str | None:
        import pyarrow as pa
        import pyarrow.compute as pc

        problem = _columns_present(table, columns)
        if problem:
            return problem
        found = []
        for column in columns:
            values = table[column]
            nulls = values.null_count
            if pa.types.is_floating(values.type):
                nulls += pc.sum(pc.is_nan(values)).as_py() or 0
            if nulls:
                found.append(f"{column} has {nulls} null(s)")
        return "; ".join(found) or None

    return Check(f"not_null({', '.join(columns)})", evaluate, severity)


def unique(*columns: str, severity: str = "error") -> Check:
    """No two rows share the same values in `columns`."""

    def evaluate(table) -> str | None:
        import pyarrow.compute as pc

        problem = _columns_present(table, columns)
        if problem:
            return problem
        counts = table.select(list(columns)).group_by(list(columns)).aggregate([([], "count_all")])
        duplicated = counts.filter(pc.greater(counts["count_all"], 1))
        if duplicated.num_rows == 0:
            return None
        example = {c: duplicated[c][0].as_py() for c in columns}
        return f"{duplicated.num_rows} duplicated key(s), e.g. {example}"

    return Check(f"unique({', '.join(columns)})", evaluate, severity)


def row_count(min: int | None = None, max: int | None = None, severity: str = "error") -> Check:
    """The number of rows is within [min, max] (either bound optional)."""

    def evaluate(table) -> str | None:
        rows = table.num_rows
        if min is not None and rows < min:
            return f"{rows} rows, fewer than the minimum {min}"
        if max is not None and rows > max:
            return f"{rows} rows, more than the maximum {max}"
        return None

    return Check(f"row_count(min={min}, max={max})", evaluate, severity)


def accepted_values(column: str, values: Iterable[Any], severity: str = "error") -> Check:
    """Every non-null value of `column` is one of `values`."""
    accepted = list(values)

    def evaluate(table) -> str | None:
        import pyarrow as pa
        import pyarrow.compute as pc

        problem = _columns_present(table, [column])
        if problem:
            return problem
        column_values = table[column]
        allowed = pa.array(accepted).cast(column_values.type)
        outside = pc.filter(column_values, pc.invert(pc.is_in(column_values, value_set=allowed)))
        outside = pc.drop_null(outside)
        if len(outside) == 0:
            return None
        examples = sorted({str(v) for v in outside.to_pylist()})[:5]
        return f"{len(outside)} value(s) of {column} not accepted, e.g. {', '.join(examples)}"

    return Check(f"accepted_values({column})", evaluate, severity)


_TYPE_ALIASES = {
    "string": {"string", "large_string"},
    "str": {"string", "large_string"},
    "int": {"int64"},
    "float": {"double"},
    "bool": {"bool"},
}


def expect_columns(columns: Mapping[str, Any], severity: str = "error") -> Check:
    """The data has these columns with these types (`"int64"`, `"string"`, a pyarrow type)."""

    def evaluate(table) -> str | None:
        problems = []
        for name, expected in columns.items():
            if name not in table.column_names:
                problems.append(f"missing column {name}")
                continue
            actual = str(table.schema.field(name).type)
            wanted = _TYPE_ALIASES.get(str(expected), {str(expected)})
            if actual not in wanted:
                problems.append(f"{name} is {actual}, expected {expected}")
        return "; ".join(problems) or None

    return Check(f"expect_columns({', '.join(columns)})", evaluate, severity)


def expect(
    function: Callable[[Any], Any], *, name: str | None = None, severity: str = "error"
) -> Check:
    """A check from a callable taking the data and returning a bool or raising; use it to
    give a callable a name or `severity="warn"`."""
    wants_arrow = _wants_arrow(function)

    def evaluate(table) -> str | None:
        data = table if wants_arrow else table.to_pandas()
        passed = function(data)  # an exception fails the check, with its message
        return None if passed is None or bool(passed) else "returned False"

    label = name or getattr(function, "__name__", type(function).__name__)
    return Check(label, evaluate, severity)


@dataclass(frozen=True)
class Quarantine:
    """Rows for which `keep` is False are removed from the published data and written to
    the asset's quarantine dataset; more than `max_fraction` of the rows fails the unit.

    `keep` takes the data (an Arrow table) and returns a boolean Arrow array, one value
    per row (a null counts as False)."""

    name: str
    keep: Callable[[Any], Any]
    reason: str
    max_fraction: float | None = None
    severity: str = "error"


def quarantine(
    predicate: Callable[[Any], Any],
    *,
    name: str | None = None,
    reason: str | None = None,
    max_fraction: float | None = None,
) -> Quarantine:
    """Set aside the rows `predicate` rejects instead of failing the whole partition.

    `predicate` takes the data (a pandas DataFrame; an Arrow table or a Polars DataFrame
    when annotated so) and returns a boolean mask, True for the rows to keep (a Series,
    an array or a list). The rejected rows go to `warehouse/_quarantine/<asset>/...` with
    the check's `name` and `reason`; when they are more than `max_fraction` (0 to 1) of the
    rows, the check fails and nothing is published."""
    if max_fraction is not None and not 0 <= max_fraction <= 1:
        raise ValueError(f"max_fraction must be between 0 and 1, not {max_fraction!r}")
    label = name or getattr(predicate, "__name__", "quarantine")
    if label == "<lambda>":
        label = "quarantine"
    shape = _data_shape(predicate)

    def keep(table) -> Any:
        import pyarrow as pa

        data = _shaped(table, shape)
        mask = predicate(data)
        if hasattr(mask, "to_arrow"):  # a Polars Series
            mask = mask.to_arrow()
        if not isinstance(mask, pa.Array | pa.ChunkedArray):
            mask = pa.array(getattr(mask, "to_numpy", lambda: mask)(), type=pa.bool_())
        if len(mask) != table.num_rows:
            raise ValueError(
                f"the predicate returned {len(mask)} values for {table.num_rows} rows; return "
                "one boolean per row (True to keep it)"
            )
        return mask.cast(pa.bool_()).fill_null(False)

    return Quarantine(label, keep, reason or f"rejected by {label}", max_fraction)


def as_check(value: Any) -> Check | Quarantine:
    """A `Check` or `Quarantine` as given, or a check wrapping a callable that returns a
    bool or raises."""
    if isinstance(value, Check | Quarantine):
        return value
    if not callable(value):
        raise TypeError(f"checks= takes partita.checks objects or callables, not {value!r}")
    return expect(value)


def _wants_arrow(function: Callable[..., Any]) -> bool:
    return _data_shape(function) == "arrow"


def _data_shape(function: Callable[..., Any]) -> str:
    """`arrow`, `polars` or `pandas`: what the first parameter's annotation asks for."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return "pandas"
    annotation = parameters[0].annotation if parameters else None
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    if text in ("Table", "pa.Table", "pyarrow.Table"):
        return "arrow"
    module = "" if isinstance(annotation, str) else getattr(annotation, "__module__", "")
    if text in ("pl.DataFrame", "polars.DataFrame") or (
        module.startswith("polars") and text == "DataFrame"
    ):
        return "polars"
    return "pandas"


def _shaped(table, shape: str) -> Any:
    if shape == "arrow":
        return table
    if shape == "polars":
        import polars

        return polars.from_arrow(table)
    return table.to_pandas()


__all__ = [
    "Check",
    "Quarantine",
    "accepted_values",
    "as_check",
    "expect",
    "expect_columns",
    "not_null",
    "quarantine",
    "row_count",
    "unique",
]
