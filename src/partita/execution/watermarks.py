"""The watermark of a write: the maximum of the asset's watermark column in the data."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa

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
