"""Undo on a warehouse on object storage, through the real CLI against the session's S3
server: a bad run is rolled back with one command, its readers rebuild to the data they
had, and history and pruning work on the history prefix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from partita.storage.object_location import parse_object_url

ASSETS = """
import pathlib

import pyarrow as pa
from partita import DailyPartitions, asset

ROOT = pathlib.Path(__file__).parent.parent


@asset(partitions=DailyPartitions(start="2024-01-01"))
def sales(context):
    generation = int((ROOT / "generation.txt").read_text())
    return pa.table({"day": [context.partition_key], "amount": [10 * generation]})


@asset(partitions=DailyPartitions(start="2024-01-01"))
def totals(sales):
    return pa.table({"total": [int(sales["amount"].sum())]})
"""
NOW = "2024-01-03"  # two complete days
DAYS = ["2024-01-01", "2024-01-02"]


def data_versions(project, asset: str) -> dict[str, str]:
    found = {}
    for day in DAYS:
        result = project.cli("history", asset, "--partition", day, "--json", check=0)
        current = [v for v in result.json()["versions"] if v["current"]]
        found[day] = current[0]["data_version"]
    return found


def test_a_bad_run_on_s3_is_rolled_back_and_its_readers_rebuild_as_before(
    project, s3_server, tmp_path
) -> None:
    project.write("assets/sales.py", ASSETS)
    warehouse = parse_object_url(s3_server.new_prefix())
    settings = f'warehouse = "{warehouse.url}"\ncatalog = "sqlite:///{tmp_path}/c.db"'
    with open(project.root / "pyproject.toml", "a") as pyproject:
        pyproject.write(f"\n[tool.partita]\n{settings}\n")
    (project.root / "generation.txt").write_text("1")
    project.cli("materialize", "--now", NOW, check=0)
    good = {asset: data_versions(project, asset) for asset in ("sales", "totals")}

    (project.root / "generation.txt").write_text("7")  # the bad change
    project.cli("materialize", "--force", "--now", NOW, "sales", check=0)
    bad = project.cli("runs", "--json", check=0).json()["runs"][0]["run_id"]
    shown = project.cli("show", "totals", "--json", check=0).stdout
    assert '"total":10' in shown

    plan = project.cli("rollback", bad, "--plan", "--json", check=0).json()
    assert sorted(r["partition"] for r in plan["restore"]) == DAYS
    kept = s3_server.client().list_objects_v2(
        Bucket=warehouse.bucket, Prefix=warehouse.key(".history", "sales")
    )
    assert len(kept["Contents"]) == 2  # the good version of each day, kept
    rolled = project.cli("rollback", bad, check=0)
    assert "restored" in rolled.stdout
    assert data_versions(project, "sales") == good["sales"]
    assert '"amount":10' in project.cli("show", "sales", "--json", check=0).stdout

    units = project.cli("materialize", "--plan", "--json", "--now", NOW, check=0).json()["units"]
    assert sorted((u["asset"], u["partition"]) for u in units) == []  # totals never read it
    usage = project.cli("status", "--history", "--json", check=0).json()["history"]
    by_asset = {u["asset"]: u for u in usage}
    assert by_asset["sales"]["versions"] == 2 and by_asset["sales"]["bytes"] > 0

    # the bad version is kept in its turn: rolling the rollback back brings it back
    project.cli("materialize", "--force", "--now", NOW, "totals", check=0)
    assert data_versions(project, "totals") == good["totals"]
    later = (datetime.now(UTC) + timedelta(days=8)).isoformat()
    pruned = project.cli("prune", "--now", later, "--json", check=0).json()
    assert len(pruned["pruned"]) == 2 and pruned["bytes"] > 0
    history = warehouse.key(".history")
    listed = s3_server.client().list_objects_v2(Bucket=warehouse.bucket, Prefix=history)
    assert listed.get("Contents", []) == []
