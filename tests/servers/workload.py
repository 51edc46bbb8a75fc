"""The workload of the cluster tests: three daily assets (raw -> cleaned -> summary), as in
the benchmarks, with a hook to hold one unit while a test kills its worker."""

from __future__ import annotations

import shutil
from pathlib import Path

from partita.catalog import open_catalog

ASSETS = """
import os
import pathlib
import time

import numpy as np
import pandas as pd
from partita import DailyPartitions, asset

DAILY = DailyPartitions(start="2024-01-01")
HERE = pathlib.Path(__file__).parent


@asset(partitions=DAILY)
def raw(context):
    hold = HERE / f"hold-{context.partition_key}"
    if hold.exists():  # a test kills this unit's worker while it waits here
        (HERE / f"pid-{context.partition_key}").write_text(str(os.getpid()))
        while hold.exists():
            time.sleep(0.05)
    seed = int(context.partition_key.replace("-", ""))
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "product": rng.integers(0, 20, 200).astype("int64"),
            "quantity": rng.integers(-1, 10, 200).astype("int64"),
            "price": rng.uniform(1, 100, 200).round(2),
        }
    )


@asset(partitions=DAILY)
def cleaned(raw):
    valid = raw[raw["quantity"] > 0].reset_index(drop=True)
    return valid.assign(revenue=valid["quantity"] * valid["price"])


@asset(partitions=DAILY)
def summary(cleaned):
    return cleaned.groupby("product", as_index=False).agg(revenue=("revenue", "sum"))
"""

DAYS = 60
NOW = "2024-03-01T00:00:00+00:00"  # 2024-01-01 .. 2024-02-29: 60 complete days


def write_project(root: Path, settings: str = "") -> Path:
    """A project at `root` with the workload and `[tool.partita]` `settings`."""
    (root / "assets").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "cluster"\nversion = "0"\n\n[tool.partita]\n{settings}\n'
    )
    (root / "assets" / "workload.py").write_text(ASSETS.lstrip())
    return root


def data_versions(root: Path, catalog: str | None = None) -> dict[tuple[str, str | None], str]:
    """The data version of every materialized unit of the project's catalog."""
    with open_catalog(root / "warehouse", catalog) as opened:
        return {
            (asset, partition): state.data_version
            for asset, states in opened.all_states().items()
            for partition, state in states.items()
            if state.data_version is not None and state.last_status == "materialized"
        }


def remove(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
