"""`rollback`, `restore`, `history`, `prune`, `show --as-of` and `status --history` on a
small project: their output, their errors, and what they leave on disk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

ASSETS = """
import pathlib

import pyarrow as pa
from partita import DailyPartitions, asset

ROOT = pathlib.Path(__file__).parent.parent


@asset(partitions=DailyPartitions(start="2024-01-01"), code_version="1")
def sales(context):
    generation = int((ROOT / "generation.txt").read_text())
    return pa.table({"day": [context.partition_key], "generation": [generation]})


@asset(partitions=DailyPartitions(start="2024-01-01"), retain_versions=0)
def unkept(sales):
    return sales
"""
NOW = "2024-01-03"  # two complete days
DAY = "2024-01-01"


def build(project, generation: int, *args: str) -> str:
    (project.root / "generation.txt").write_text(str(generation))
    project.cli("materialize", "--force", "--now", NOW, *args, check=0)
    return project.cli("runs", "--json", check=0).json()["runs"][0]["run_id"]


def history(project, asset: str = "sales") -> list[dict]:
    result = project.cli("history", asset, "--partition", DAY, "--json", check=0)
    return result.json()["versions"]


def test_restore_history_and_show_as_of(project) -> None:
    project.write("assets/sales.py", ASSETS)
    first = build(project, 1)
    second = build(project, 2)
    versions = history(project)
    assert [(v["run_id"], v["current"], v["retained"]) for v in versions] == [
        (second, True, True),
        (first, False, True),
    ]
    old = versions[1]["data_version"]
    as_of = project.cli("show", "sales", "--partition", DAY, "--as-of", first, "--json", check=0)
    assert '"generation":1' in as_of.stdout
    moment = versions[1]["finished"]
    by_time = project.cli("show", "sales", "--as-of", moment, "--json", check=0)
    assert '"generation":1' in by_time.stdout and '"generation":2' not in by_time.stdout

    plan = project.cli(
        "restore", "sales", "--partition", DAY, "--version", old, "--plan", "--json", check=0
    ).json()
    assert plan["restore"] == [
        {"asset": "sales", "partition": DAY, "data_version": old, "run_id": first}
    ]
    assert plan["readers"] == [
        {
            "asset": "unkept",
            "partition": DAY,
            "stale": True,
            "reason": f"upstream restored: sales {DAY}",
        }
    ]
    done = project.cli("restore", "sales", "--partition", DAY, "--version", old, check=0)
    assert "restored" in done.stdout
    after = history(project)
    assert after[0]["restored"] and after[0]["current"] and after[0]["data_version"] == old
    shown = project.cli("show", "sales", "--partition", DAY, "--json", check=0)
    assert '"generation":1' in shown.stdout
    # the reader went stale with the new reason; the other day did not
    units = project.cli("materialize", "--plan", "--json", "--now", NOW, check=0).json()["units"]
    assert [(u["asset"], u["partition"], u["reason"]) for u in units] == [
        ("unkept", DAY, f"upstream restored: sales {DAY}")
    ]


def test_prune_and_what_it_leaves(project) -> None:
    project.write("assets/sales.py", ASSETS)
    first = build(project, 1)
    for generation in (2, 3, 4, 5):
        build(project, generation)
    kept = [v for v in history(project) if v["retained"] and not v["current"]]
    assert len(kept) == 3  # the default: the last 3 replaced versions (pruned after each run)
    assert not any(v["retained"] for v in history(project, "unkept") if not v["current"])

    usage = project.cli("status", "--history", "--json", check=0).json()
    by_asset = {u["asset"]: u for u in usage["history"]}
    assert by_asset["sales"]["versions"] == 6  # 3 per day
    assert by_asset["unkept"] == {"asset": "unkept", "versions": 0, "bytes": 0}
    table = project.cli("status", "--history", check=0).stdout
    assert "sales" in table and "kept versions" in table

    later = (datetime.now(UTC) + timedelta(days=8)).isoformat()
    pruned = project.cli("prune", "--now", later, "--json", check=0).json()
    assert len(pruned["pruned"]) == 6 and pruned["bytes"] > 0
    assert [v["retained"] for v in history(project)] == [True, False, False, False, False]
    assert project.cli("show", "sales", "--partition", DAY, check=0).exit_code == 0

    gone = project.cli("show", "sales", "--as-of", first)
    assert gone.exit_code == 1
    assert "no longer kept" in gone.stderr and "2024-01-01, 2024-01-02" in gone.stderr
    rolled = project.cli("rollback", build(project, 6), "sales", "--json", check=0).json()
    # the version it replaced was kept after the prune: restored on both days
    assert sorted((r["partition"], r["status"]) for r in rolled["results"]) == [
        ("2024-01-01", "restored"),
        ("2024-01-02", "restored"),
    ]
    old = history(project)[-1]["data_version"]
    refused = project.cli("restore", "sales", "--partition", DAY, "--version", old)
    assert refused.exit_code == 1
    assert "not kept" in refused.stderr and "2024-01-01" in refused.stderr


def test_errors_name_what_to_do(project) -> None:
    project.write("assets/sales.py", ASSETS)
    first = build(project, 1)
    unknown = project.cli("rollback", "nope")
    assert unknown.exit_code == 2
    assert "There is no run nope. List the runs with: partita runs" in unknown.stderr
    version = project.cli("restore", "sales", "--partition", DAY, "--version", "0123")
    assert version.exit_code == 2
    assert f"asset 'sales' partition {DAY} never had data version '0123'" in version.stderr
    assert "partita history sales --partition 2024-01-01" in version.stderr
    created = project.cli("rollback", first, check=0)
    assert "Nothing to restore." in created.stdout  # that run replaced nothing
    wrong = project.cli("history", "sales")
    assert wrong.exit_code == 2 and "pass --partition" in wrong.stderr
    early = project.cli("show", "sales", "--as-of", "2020-01-01")
    assert early.exit_code == 2 and "had no materialized data as of 2020-01-01" in early.stderr


def test_readers_that_never_read_the_bad_data_stay_fresh(project) -> None:
    project.write("assets/sales.py", ASSETS)
    build(project, 1)
    bad = build(project, 2, "sales")  # only sales: its reader still read generation 1
    units = project.cli("materialize", "--plan", "--json", "--now", NOW, check=0).json()["units"]
    assert {u["reason"] for u in units} == {
        f"upstream changed: sales {day}" for day in (DAY, "2024-01-02")
    }
    plan = project.cli("rollback", bad, "--plan", "--json", check=0).json()
    assert {(r["partition"], r["stale"]) for r in plan["readers"]} == {
        (DAY, False),
        ("2024-01-02", False),
    }
    project.cli("rollback", bad, "--from", DAY, "--to", DAY, check=0)
    units = project.cli("materialize", "--plan", "--json", "--now", NOW, check=0).json()["units"]
    # early cutoff: the reader of the restored day read that data, so it is up to date
    assert [(u["asset"], u["partition"]) for u in units] == [("unkept", "2024-01-02")]
    project.cli("rollback", bad, check=0)
    assert (
        project.cli("materialize", "--plan", "--json", "--now", NOW, check=0).json()["units"] == []
    )


def test_the_python_api_reads_as_of_a_run(project) -> None:
    project.write("assets/sales.py", ASSETS)
    first = build(project, 1)
    build(project, 2)
    api = project.load()
    assert api.read("sales", DAY, as_of=first)["generation"].tolist() == [1]
    assert api.read("sales", as_of=first)["generation"].tolist() == [1, 1]
    assert api.read("sales", DAY)["generation"].tolist() == [2]
