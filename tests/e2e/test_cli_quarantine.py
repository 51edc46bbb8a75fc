"""Quarantined rows end to end: removed from the published partition, written to
`warehouse/_quarantine/...`, recorded, shown by `status` and `show --quarantine`;
`max_fraction` fails the unit and publishes nothing."""

from __future__ import annotations

import pyarrow.parquet as pq

ASSETS = """
from __future__ import annotations

import os

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from partita import DailyPartitions, DuckDB, StaticPartitions, asset, checks

BAD = int(os.environ.get("BAD_ROWS", "2"))


def positive(frame: pd.DataFrame):
    return frame["amount"] > 0


@asset(
    partitions=DailyPartitions(start="2024-01-01", end="2024-01-04"),
    checks=[
        checks.quarantine(positive, reason="amount must be positive", max_fraction=0.5),
        checks.quarantine(lambda frame: frame["region"] != "zz", name="known_region"),
        checks.row_count(min=1),
    ],
)
def sales(context) -> pd.DataFrame:
    amounts = [-1.0] * BAD + [1.0] * (10 - BAD)
    return pd.DataFrame({"amount": amounts, "region": ["eu"] * 9 + ["zz"]})


def not_null_carrier(table: pa.Table):
    return pc.is_valid(table["carrier"])


def short_name(frame: pl.DataFrame):
    return frame["carrier"].str.len_chars() < 3


@asset(
    partitions=StaticPartitions(["a"]),
    storage=DuckDB(),
    checks=[
        checks.quarantine(not_null_carrier, name="carrier_present"),
        checks.quarantine(short_name, name="short_carrier"),
    ],
)
def carriers() -> pl.DataFrame:
    return pl.DataFrame({"carrier": ["UA", None, "DELTA", "AA"]})
"""


def _project(project):
    project.write("assets/sales.py", ASSETS)
    return project


def test_rejected_rows_are_quarantined_recorded_and_shown(project) -> None:
    _project(project)
    project.cli("materialize", "--now", "2024-02-01", check=0)
    published = project.load().read("sales", "2024-01-02")
    assert published["amount"].tolist() == [1.0] * 7  # 2 negative and 1 unknown region out
    folder = project.warehouse / "_quarantine" / "sales" / "date=2024-01-02"
    aside = pq.read_table(folder / "part-0.parquet").to_pandas()
    assert aside["_quarantine_check"].tolist() == ["positive", "positive", "known_region"]
    assert aside["_quarantine_reason"].tolist()[0] == "amount must be positive"
    assert aside["_quarantine_reason"].tolist()[2] == "rejected by known_region"

    status = project.cli("status", "--json", "--now", "2024-02-01", check=0).json()
    by_asset = {a["asset"]: a for a in status["assets"]}
    assert by_asset["sales"]["quarantined"] == {"rows": 9, "partitions": 3}
    assert by_asset["carriers"]["quarantined"] == {"rows": 2, "partitions": 1}
    table = project.cli("status", "--now", "2024-02-01", check=0)
    assert "quarantined rows" in table.stdout

    shown = project.cli("show", "carriers", "--quarantine", "--json", check=0).json()
    assert [(r["carrier"], r["_quarantine_check"]) for r in shown] == [
        (None, "carrier_present"),
        ("DELTA", "short_carrier"),
    ]
    text = project.cli("show", "sales", "--quarantine", "--partition", "2024-01-01", check=0)
    assert "sales 2024-01-01 quarantined: 3 rows" in text.stdout
    assert project.load().read("carriers")["carrier"].tolist() == ["UA", "AA"]


def test_too_many_quarantined_rows_fail_the_unit_and_publish_nothing(project) -> None:
    _project(project)
    project.cli("materialize", "sales", "--partition", "2024-01-01", check=0)
    folder = project.warehouse / "sales" / "date=2024-01-01"
    before = (folder / "part-0.parquet").read_bytes()
    aside = project.warehouse / "_quarantine" / "sales" / "date=2024-01-01" / "part-0.parquet"
    aside_before = aside.read_bytes()
    result = project.cli(
        "materialize", "sales", "--partition", "2024-01-01", "--force", "--json",
        env={"BAD_ROWS": "6"}, check=1,
    )  # fmt: skip
    error = result.json()["results"][0]["error"]
    assert "failed its quarantine checks, so nothing was published" in error
    assert "positive: 6 of 10 rows quarantined (amount must be positive)" in error
    assert "more than max_fraction=0.5" in error
    assert (folder / "part-0.parquet").read_bytes() == before
    assert aside.read_bytes() == aside_before


def test_a_clean_rebuild_empties_the_partition_s_quarantine(project) -> None:
    _project(project)
    project.cli("materialize", "sales", "--partition", "2024-01-01", check=0)
    project.write("assets/sales.py", ASSETS.replace('["zz"]', '["eu"]'))
    project.cli("materialize", "sales", "--partition", "2024-01-01", env={"BAD_ROWS": "0"}, check=0)
    status = project.cli("status", "sales", "--json", "--now", "2024-01-02", check=0).json()
    assert status["assets"][0]["quarantined"] == {"rows": 0, "partitions": 0}
    missing = project.cli("show", "sales", "--quarantine", check=1)
    assert "asset 'sales' has no quarantined rows" in missing.stderr
    aside = project.warehouse / "_quarantine" / "sales" / "date=2024-01-01" / "part-0.parquet"
    assert pq.read_table(aside).num_rows == 0


def test_an_asset_named_like_the_quarantine_folder_is_refused(project) -> None:
    project.write(
        "assets/a.py",
        "from partita import asset\n\n@asset(name='_quarantine')\ndef q():\n    return None\n",
    )
    result = project.cli("list", check=2)
    assert "reserved for the warehouse's quarantine folder" in result.stderr
