"""The synthetic workload shared by partita's assets and the hand-written baseline:
raw events per day from a seeded generator -> cleaned -> per-product summary."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

PRODUCTS = 50


def generate(day: str, rows: int) -> pd.DataFrame:
    """Seeded raw events of one day: some with bad quantities, some without a price."""
    seed = dt.date.fromisoformat(day).toordinal()
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(day, tz="UTC")
    price = rng.uniform(1, 100, rows).round(2)
    price[rng.random(rows) < 0.02] = np.nan
    return pd.DataFrame(
        {
            "event_id": np.arange(rows, dtype="int64") + seed * 1_000_000,
            "at": start + pd.to_timedelta(rng.integers(0, 86_400, rows), unit="s"),
            "product": rng.integers(0, PRODUCTS, rows).astype("int64"),
            "quantity": rng.integers(-1, 10, rows).astype("int64"),
            "price": price,
        }
    )


def clean(raw: pd.DataFrame) -> pd.DataFrame:
    """Drop invalid events and compute revenue."""
    valid = raw[(raw["quantity"] > 0) & raw["price"].notna()].reset_index(drop=True)
    return valid.assign(revenue=valid["quantity"] * valid["price"])


def summarize(cleaned: pd.DataFrame) -> pd.DataFrame:
    """Per product: events, units and revenue."""
    return (
        cleaned.groupby("product", as_index=False)
        .agg(events=("event_id", "size"), units=("quantity", "sum"), revenue=("revenue", "sum"))
        .astype({"events": "int64"})
    )
