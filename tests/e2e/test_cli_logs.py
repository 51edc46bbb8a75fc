"""Unit logs end to end: context.log and stdout/stderr captured per attempt, inline and in
worker processes, shown by `partita logs`; `--log-format json` for partita's own logs."""

from __future__ import annotations

import json

import pytest

NOW = "2024-01-03T00:00:00+00:00"

ASSETS = """
import pathlib
import sys

import pandas as pd
from partita import DailyPartitions, Retry, asset

HERE = pathlib.Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"), retry=Retry(max_attempts=2, initial_delay=0))
def orders(context):
    marker = HERE / f"tried-{context.partition_key}"
    context.log.info("fetching orders of %s", context.partition_key)
    print("printed to stdout", context.partition_key)
    print("printed to stderr", file=sys.stderr)
    if not marker.exists():
        marker.write_text("1")
        raise RuntimeError("flaky API")
    return pd.DataFrame({"id": [1, 2]})


@asset
def quiet():
    return pd.DataFrame({"id": [1]})
"""


def _report(stdout: str) -> dict:
    """The --json report after what the assets printed to stdout (not captured away)."""
    return json.loads(stdout[stdout.index("\n{") + 1 :] if not stdout.startswith("{") else stdout)


BROKEN = """
from partita import asset


@asset
def broken():
    print("starting")
    raise RuntimeError("no data")
"""


@pytest.fixture
def shop(project):
    project.write("assets/shop.py", ASSETS)
    return project


@pytest.mark.parametrize("workers", ["1", "2"])
def test_logs_of_each_attempt_are_kept_and_shown(shop, workers: str) -> None:
    run = _report(
        shop.cli("materialize", "--now", NOW, "--workers", workers, "--json", check=0).stdout
    )
    run_id = run["run_id"]
    entries = shop.cli("logs", run_id, "orders", "2024-01-02", "--json", check=0).json()["entries"]
    assert {e["partition"] for e in entries} == {"2024-01-02"}
    by_attempt = {
        attempt: [(e["stream"], e["message"]) for e in entries if e["attempt"] == attempt]
        for attempt in (1, 2)
    }
    for attempt in (1, 2):
        messages = by_attempt[attempt]
        assert ("log", "fetching orders of 2024-01-02") in messages
        assert ("stdout", "printed to stdout 2024-01-02") in messages
        assert ("stderr", "printed to stderr") in messages
    assert any("failed on attempt 1/2" in m for _, m in by_attempt[1])  # partita's warning

    everything = shop.cli("logs", run_id, "--json", check=0).json()["entries"]
    assert {(e["asset"], e["partition"]) for e in everything} == {
        ("orders", "2024-01-01"),
        ("orders", "2024-01-02"),
    }  # quiet logged nothing
    text = shop.cli("logs", run_id, "orders", check=0).stdout
    assert "orders 2024-01-01 #2 INFO: fetching orders of 2024-01-01" in text


def test_the_error_of_a_failed_unit_ends_its_logs(shop) -> None:
    shop.write("assets/broken.py", BROKEN)
    run = _report(shop.cli("materialize", "broken", "--now", NOW, "--json", check=1).stdout)
    entries = shop.cli("logs", run["run_id"], "broken", "--json", check=0).json()["entries"]
    assert [(e["stream"], e["level"]) for e in entries] == [("stdout", None), ("log", "ERROR")]
    assert entries[-1]["message"] == "asset 'broken' failed: RuntimeError: no data"


def test_logs_of_an_unknown_run_and_of_a_quiet_unit(shop) -> None:
    run_id = shop.cli("materialize", "quiet", "--now", NOW, "--json", check=0).json()["run_id"]
    quiet = shop.cli("logs", run_id, "quiet", check=0)
    assert "has no unit logs for quiet" in quiet.stderr
    missing = shop.cli("logs", "20240101T000000-abcdef", check=2)
    assert "there is no run '20240101T000000-abcdef'" in missing.stderr
    escape = shop.cli("logs", "../../etc", check=2)
    assert "there is no run" in escape.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_log_format_json_names_run_asset_partition_and_attempt(shop, workers: str) -> None:
    result = shop.cli(
        "--log-format",
        "json",
        "materialize",
        "orders",
        "--partition",
        "2024-01-01",
        "--now",
        NOW,
        "--workers",
        workers,
        "--json",
        check=0,
    )
    run_id = _report(result.stdout)["run_id"]
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert lines, result.stderr
    warning = next(line for line in lines if "failed on attempt 1/2" in line["message"])
    assert (warning["run_id"], warning["asset"], warning["partition"], warning["attempt"]) == (
        run_id,
        "orders",
        "2024-01-01",
        1,
    )
    assert all(line["run_id"] == run_id for line in lines)
    infos = [line for line in lines if line["message"] == "fetching orders of 2024-01-01"]
    assert [(info["level"], info["attempt"]) for info in infos] == [("INFO", 1), ("INFO", 2)]
