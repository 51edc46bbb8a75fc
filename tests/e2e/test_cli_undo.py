"""The undo story on the example project, through the real CLI: a wrong change to
`flights_weather` is backfilled over January and rebuilt downstream; after the code is
reverted, one `partita rollback` brings the good data back, the readers go stale with
`upstream restored`, and rebuilding them gives the content hashes from before."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import TempProject

from partita.catalog.sqlite import SQLiteCatalog

EXAMPLE = Path(__file__).resolve().parents[2] / "assets"
NOW = "2013-02-01T12:00:00+00:00"
JANUARY = ("--from", "2013-01-01", "--to", "2013-01-31")
GOOD = '    return flights.merge(conditions, on=["origin", "time_hour"], how="left")\n'
BAD = (
    '    merged = flights.merge(conditions, on=["origin", "time_hour"], how="left")\n'
    '    return merged.assign(arr_delay=merged["arr_delay"] * 60)  # minutes, not hours\n'
)
READERS = ("carrier_delays", "carrier_scorecard")


def example(tmp_path: Path) -> TempProject:
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root / "assets", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text(
        '[project]\nname = "example"\nversion = "0"\n\n'
        '[tool.partita]\nassets = "assets"\nwarehouse = "warehouse"\n'
    )
    return TempProject(root)


def versions(project: TempProject) -> dict[tuple[str, str | None], str | None]:
    with SQLiteCatalog(project.warehouse / ".partita" / "catalog.db") as catalog:
        return {
            (asset, key): state.data_version
            for asset in ("flights_weather", *READERS)
            for key, state in catalog.states(asset).items()
        }


def test_a_bad_backfill_is_rolled_back_with_one_command(tmp_path: Path) -> None:
    project = example(tmp_path)
    metrics = project.root / "assets" / "metrics.py"
    project.cli("materialize", "+carrier_scorecard", *JANUARY, "--now", NOW, check=0)
    project.cli("materialize", "carrier_scorecard", "--partition", "2013-01", "--now", NOW, check=0)
    before = versions(project)
    assert len(before) == 31 + 31 + 1

    # A bad deploy: the wrong code, backfilled over the month with everything downstream.
    metrics.write_text(metrics.read_text().replace(GOOD, BAD))
    project.cli("backfill", "flights_weather+", *JANUARY, "--now", NOW, check=0)
    project.cli("materialize", "carrier_scorecard", "--partition", "2013-01", "--now", NOW, check=0)
    bad = versions(project)
    assert all(bad[unit] != before[unit] for unit in bad)
    backfill = next(
        run["run_id"]
        for run in project.cli("runs", "--json", check=0).json()["runs"]
        if "backfill" in run["command"]
    )
    shown_bad = project.cli(
        "show",
        "flights_weather",
        "--partition",
        "2013-01-05",
        "--as-of",
        backfill,
        "--json",
        check=0,
    )

    # The fix: revert the code, and roll the backfill back with one command.
    metrics.write_text(metrics.read_text().replace(BAD, GOOD))
    plan = project.cli("rollback", backfill, "flights_weather", "--plan", "--json", check=0).json()
    assert len(plan["restore"]) == 31
    readers: dict[str, list] = {}
    for reader in plan["readers"]:
        readers.setdefault(reader["asset"], []).append(reader)
    assert set(readers) == {"carrier_delays", "carrier_scorecard"}  # transitively
    assert {r["reason"] for r in readers["carrier_delays"]} == {
        f"upstream restored: flights_weather {r['partition']}" for r in readers["carrier_delays"]
    }
    [scorecard] = readers["carrier_scorecard"]
    assert scorecard["partition"] == "2013-01"
    assert scorecard["reason"].startswith("upstream stale: carrier_delays 2013-01-")
    rolled = project.cli("rollback", backfill, "flights_weather", "--json", check=0).json()
    assert rolled["status"] == "succeeded"
    assert {r["status"] for r in rolled["results"]} == {"restored"}
    restored = versions(project)
    assert all(restored[unit] == before[unit] for unit in restored if unit[0] == "flights_weather")
    stale = project.cli("materialize", "--plan", "--json", "--now", NOW, check=0).json()
    reasons = {(u["asset"], u["partition"]): u["reason"] for u in stale["units"] if u["reason"]}
    assert reasons[("carrier_delays", "2013-01-05")] == (
        "upstream restored: flights_weather 2013-01-05"
    )
    assert ("flights_weather", "2013-01-05") not in reasons
    downstream = {unit for unit in reasons if unit[0] in readers}
    assert downstream == {(r["asset"], r["partition"]) for r in plan["readers"] if r["stale"]}

    project.cli("materialize", "--now", NOW, check=0)
    assert versions(project) == before
    # Reading as of the backfill still shows the bad data, which is kept in its turn.
    again = project.cli(
        "show",
        "flights_weather",
        "--partition",
        "2013-01-05",
        "--as-of",
        backfill,
        "--json",
        check=0,
    )
    assert again.stdout == shown_bad.stdout
    history = project.cli(
        "history", "flights_weather", "--partition", "2013-01-05", "--json", check=0
    ).json()["versions"]
    assert [v["restored"] for v in history][:1] == [True]
    assert all(v["retained"] for v in history)
    usage = project.cli("status", "--history", "--json", check=0).json()
    by_asset = {u["asset"]: u for u in usage["history"]}
    assert by_asset["flights_weather"]["versions"] == 31
    assert by_asset["flights_weather"]["bytes"] > 0
