"""`--defer-to ENV`: a run in one environment reads the upstream assets it does not select
from another environment's warehouse and catalog, and never writes there."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

PYPROJECT = """
[project]
name = "demo"
version = "0"

[tool.partita]
warehouse = "warehouse"

[tool.partita.env.prod]
warehouse = "prod-warehouse"

[tool.partita.env.dev]
warehouse = "dev-warehouse"
"""

ASSETS = """
import os

import pandas as pd
from partita import StaticPartitions, asset

REGIONS = StaticPartitions(["eu", "us"])


@asset(partitions=REGIONS)
def raw(context) -> pd.DataFrame:
    scale = float(os.environ.get("SCALE", "1"))
    return pd.DataFrame({"region": [context.partition_key] * 3, "amount": [1.0, 2.0, 3.0]}).assign(
        amount=lambda f: f["amount"] * scale
    )


@asset(partitions=REGIONS)
def clean(raw: pd.DataFrame) -> pd.DataFrame:
    return raw[raw["amount"] > 1.5]


@asset(partitions=REGIONS)
def report(clean: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"total": [clean["amount"].sum()]})
"""


def _fingerprint(warehouse: Path) -> dict[str, str]:
    """Every data file's hash, and the catalog's content."""
    files = {
        str(path.relative_to(warehouse)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(warehouse.rglob("*.parquet"))
    }
    with sqlite3.connect(warehouse / ".partita" / "catalog.db") as connection:
        files["catalog"] = hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()
    return files


def _results(report) -> dict[tuple[str, str], str]:
    return {(r["asset"], r["partition"]): r["status"] for r in report["results"]}


def test_a_dev_run_reads_unselected_upstreams_from_prod_and_never_writes_there(project):
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    project.write("assets/sales.py", ASSETS)
    project.cli("--env", "prod", "materialize", check=0)
    prod = project.root / "prod-warehouse"
    before = _fingerprint(prod)

    project.write("assets/sales.py", ASSETS.replace('{"total"', '{"grand_total"'))
    run = project.cli(
        "--env", "dev", "materialize", "report", "--defer-to", "prod", "--workers", "2",
        "--json", check=0,
    )  # fmt: skip
    assert _results(run.json()) == {
        ("report", "eu"): "materialized",
        ("report", "us"): "materialized",
    }
    dev = project.root / "dev-warehouse"
    assert not (dev / "clean").exists() and not (dev / "raw").exists()
    shown = project.cli("--env", "dev", "show", "report", "--partition", "eu", "--json", check=0)
    assert shown.json() == [{"grand_total": 5.0}]
    assert _fingerprint(prod) == before

    again = project.cli(
        "--env", "dev", "materialize", "report", "--defer-to", "prod", "--json", check=0
    )
    assert set(_results(again.json()).values()) == {"up_to_date"}

    # New data in prod makes the dev report stale; its own plan says why.
    project.cli(
        "--env", "prod", "materialize", "raw", "clean", "--force", env={"SCALE": "2"}, check=0
    )
    plan = project.cli(
        "--env", "dev", "materialize", "report", "--defer-to", "prod", "--plan", "--json", check=0
    )
    reasons = {u["partition"]: u["reason"] for u in plan.json()["units"]}
    assert reasons == {"eu": "upstream changed: clean eu", "us": "upstream changed: clean us"}


def test_an_upstream_changed_in_code_is_not_deferred(project):
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    project.write("assets/sales.py", ASSETS)
    project.cli("--env", "prod", "materialize", check=0)
    project.write("assets/sales.py", ASSETS.replace("> 1.5", "> 2.5"))
    run = project.cli(
        "--env", "dev", "materialize", "report", "--defer-to", "prod", "--json", check=1
    )
    assert "clean is read from this environment: its code changed since environment 'prod'" in (
        run.stderr
    )
    error = run.json()["results"][0]["error"]
    assert "upstream 'clean' partition eu has not been materialized" in error


def test_deferring_to_the_same_warehouse_or_an_empty_one_is_refused(project):
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    project.write("assets/sales.py", ASSETS)
    same = project.cli("--env", "dev", "materialize", "report", "--defer-to", "dev", check=2)
    assert "uses the same warehouse as this one" in same.stderr
    empty = project.cli("--env", "dev", "materialize", "report", "--defer-to", "prod", check=2)
    assert "environment 'prod' has no catalog at" in empty.stderr
    assert not (project.root / "prod-warehouse").exists()
