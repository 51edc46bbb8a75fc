"""Watermarks: the maximum of a column in the data written, and the asset's high-water mark."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import pyarrow as pa

from ..catalog.records import PartitionState
from ..errors import PermanentError


def watermark_of(table: pa.Table, column: str | None) -> str | None:
    """The maximum of `column` in `table` as text (ISO 8601 for dates and times)."""
    if column is None or table.num_rows == 0:
        return None
    if column not in table.column_names:
        raise PermanentError(
            f"the watermark column '{column}' is not in the data; the columns are "
            f"{', '.join(table.column_names)}. Fix @asset(watermark=...)."
        )
    import pyarrow.compute as pc

    value = pc.max(table[column]).as_py()
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


def _sort_key(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def high_water_mark(states: Iterable[PartitionState]) -> str | None:
    """The maximum watermark over an asset's published partitions."""
    marks = [state.watermark for state in states if state.watermark is not None]
    return max(marks, key=_sort_key) if marks else None
