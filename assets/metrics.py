"""Metrics built from the raw flights: joins, daily carrier delays, a rolling on-time
rate and a monthly carrier scorecard.

Automation (`partita daemon`): the daily metrics follow new or changed raw data at once
(`eager`); a month's scorecard is built on the 1st at 07:00 New York time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from partita import (
    AssetDep,
    DuckDB,
    FreshnessPolicy,
    MonthlyPartitions,
    Parquet,
    asset,
    eager,
    on_cron,
)

from .sources import YEAR_2013

if TYPE_CHECKING:  # pandas loads only when an asset runs: `partita list` stays fast
    import pandas as pd

ON_TIME_MINUTES = 15


@asset(partitions=YEAR_2013, group="metrics", automation=eager())
def flights_weather(flights: pd.DataFrame, weather: pd.DataFrame) -> pd.DataFrame:
    """Each flight of the day with the weather at its origin airport in its departure hour."""
    conditions = weather[
        ["origin", "time_hour", "temp", "wind_speed", "precip", "visib"]
    ].drop_duplicates(["origin", "time_hour"])
    return flights.merge(conditions, on=["origin", "time_hour"], how="left")


@asset(
    partitions=YEAR_2013,
    storage=DuckDB(table="carrier_delays"),
    group="metrics",
    freshness=FreshnessPolicy(max_lag="1d"),
    automation=eager(),
)
def carrier_delays(flights_weather: pd.DataFrame) -> pd.DataFrame:
    """Per carrier and day: flights, cancellations, mean departure and arrival delay,
    share of flights on time (arrival delay under 15 minutes) and delays in bad weather."""
    frame = flights_weather.assign(
        cancelled=flights_weather["dep_time"].isna(),
        on_time=flights_weather["arr_delay"] < ON_TIME_MINUTES,
        bad_weather=(flights_weather["precip"] > 0) | (flights_weather["visib"] < 3),
    )
    daily = frame.groupby(["year", "month", "day", "carrier"], as_index=False).agg(
        flights=("flight", "size"),
        cancelled=("cancelled", "sum"),
        mean_dep_delay=("dep_delay", "mean"),
        mean_arr_delay=("arr_delay", "mean"),
        on_time_rate=("on_time", "mean"),
        bad_weather_flights=("bad_weather", "sum"),
    )
    return daily.astype({"flights": "int64", "cancelled": "int64", "bad_weather_flights": "int64"})


@asset(
    deps=[AssetDep("flights", offset=(-6, 0))],
    partitions=YEAR_2013,
    group="metrics",
    automation=eager(),
)
def on_time_rolling(flights: pd.DataFrame, context) -> pd.DataFrame:
    """Per carrier, the share of arrivals on time over the 7 days ending on the partition's
    day (shorter at the start of the year)."""
    arrived = flights.dropna(subset=["arr_delay"])
    rolling = (
        arrived.assign(on_time=arrived["arr_delay"] < ON_TIME_MINUTES)
        .groupby("carrier", as_index=False)
        .agg(flights=("flight", "size"), on_time_rate=("on_time", "mean"))
    )
    rolling.insert(0, "window_end", context.partition_key)
    return rolling


@asset(
    partitions=MonthlyPartitions(start="2013-01", end="2014-01", timezone="America/New_York"),
    storage=Parquet(partition_column="period"),  # the data has a `month` column already
    group="reports",
    automation=on_cron("0 7 1 * *", timezone="America/New_York"),
)
def carrier_scorecard(carrier_delays: pd.DataFrame, airlines: pd.DataFrame) -> pd.DataFrame:
    """Per airline and month: flights, cancellation rate, mean delays and on-time rate,
    ranked by on-time rate."""
    weighted = carrier_delays.assign(
        on_time_flights=carrier_delays["on_time_rate"] * carrier_delays["flights"],
    )
    monthly = weighted.groupby(["year", "month", "carrier"], as_index=False).agg(
        flights=("flights", "sum"),
        cancelled=("cancelled", "sum"),
        mean_arr_delay=("mean_arr_delay", "mean"),
        on_time_flights=("on_time_flights", "sum"),
    )
    monthly["cancellation_rate"] = monthly["cancelled"] / monthly["flights"]
    monthly["on_time_rate"] = monthly["on_time_flights"] / monthly["flights"]
    monthly = monthly.merge(airlines, on="carrier", how="left").drop(columns="on_time_flights")
    monthly["rank"] = monthly["on_time_rate"].rank(ascending=False, method="min").astype("int64")
    return monthly.sort_values("rank").reset_index(drop=True)
