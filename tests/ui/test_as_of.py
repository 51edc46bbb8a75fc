"""The partition page over a partition's history: its data "as of" a run or a time
(issue 16), and the check results of each attempt. The API routes and the page.

A project of two assets written twice by two runs with different values: `readings`
keeps its replaced versions (the default retention) and has a warning check that fails
on the first value only; `unkept` keeps none (`retain_versions=0`), so its version as of
the first run is gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from .conftest import NOW, PARTITA, TOKEN
from .harness import UiServer, open_page, screenshot, start_server

ASSETS = """
import os

import pandas as pd

from partita import StaticPartitions, asset
from partita.checks import accepted_values

KEYS = StaticPartitions(["north", "south"])


@asset(partitions=KEYS, checks=[accepted_values("value", [2], severity="warn")])
def readings(context) -> pd.DataFrame:
    value = int(os.environ["UI_VALUE"])
    return pd.DataFrame({"site": [context.partition_key], "value": [value]})


@asset(partitions=KEYS, retain_versions=0)
def unkept(context) -> pd.DataFrame:
    return pd.DataFrame({"value": [int(os.environ["UI_VALUE"])]})
"""


def materialize(root: Path, value: int, *extra: str) -> dict:
    completed = subprocess.run(
        [*PARTITA, "--project", str(root), "materialize", "--json", "--now", NOW, *extra],
        capture_output=True,
        text=True,
        env={**os.environ, "UI_VALUE": str(value)},
        timeout=300,
    )
    assert completed.returncode == 0, (completed.stdout, completed.stderr)
    return json.loads(completed.stdout)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The project, the first run (value 1) and the second (value 2, forced)."""
    root = tmp_path_factory.mktemp("as-of") / "proj"
    (root / "assets").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    (root / "assets" / "demo.py").write_text(textwrap.dedent(ASSETS).lstrip())
    first = materialize(root, 1)["run_id"]
    second = materialize(root, 2, "--force")["run_id"]
    return {"root": root, "first": first, "second": second}


@pytest.fixture(scope="module")
def as_of_client(history: dict):
    from starlette.testclient import TestClient

    from partita.app.session import open_session
    from partita.ui.server import build_app

    with open_session(history["root"]) as session:
        app = build_app(session, token=TOKEN, now=datetime.fromisoformat(NOW))
        with TestClient(app) as test_client:
            yield test_client


def test_data_is_the_current_version_without_as_of(as_of_client) -> None:
    answer = as_of_client.get("/api/assets/readings/partitions/north/data").json()
    assert answer["columns"] == ["site", "value"]
    assert answer["rows"] == [["north", "2"]]
    assert "version" not in answer


def test_data_as_of_a_run_is_the_version_it_wrote(as_of_client, history: dict) -> None:
    first = history["first"]
    answer = as_of_client.get(
        "/api/assets/readings/partitions/north/data", params={"as_of": first}
    ).json()
    assert answer["rows"] == [["north", "1"]]
    assert answer["as_of"] == first
    assert answer["version"]["run_id"] == first
    # The older preview route takes it too.
    older = as_of_client.get("/api/assets/readings/preview/south", params={"as_of": first})
    assert older.json()["rows"] == [["south", "1"]]


def test_data_as_of_a_time_between_the_runs(as_of_client, history: dict) -> None:
    runs = {r["run_id"]: r for r in as_of_client.get("/api/runs").json()["runs"]}
    between = runs[history["first"]]["finished"]
    answer = as_of_client.get(
        "/api/assets/readings/partitions/south/data", params={"as_of": between}
    ).json()
    assert answer["rows"] == [["south", "1"]]
    latest = runs[history["second"]]["finished"]
    answer = as_of_client.get(
        "/api/assets/readings/partitions/south/data", params={"as_of": latest}
    ).json()
    assert answer["rows"] == [["south", "2"]]


def test_a_pruned_version_is_gone_naming_the_partition(as_of_client, history: dict) -> None:
    answer = as_of_client.get(
        "/api/assets/unkept/partitions/north/data", params={"as_of": history["first"]}
    )
    assert answer.status_code == 410
    error = answer.json()["error"]
    assert "asset 'unkept'" in error
    assert "north" in error
    assert "no longer kept" in error


def test_as_of_unknown_run_or_before_any_data_is_404(as_of_client) -> None:
    unknown = as_of_client.get(
        "/api/assets/readings/partitions/north/data", params={"as_of": "no-such-run"}
    )
    assert unknown.status_code == 404
    assert "no-such-run" in unknown.json()["error"]
    early = as_of_client.get(
        "/api/assets/readings/partitions/north/data", params={"as_of": "2001-01-01"}
    )
    assert early.status_code == 404
    assert "had no materialized data as of" in early.json()["error"]


def test_each_attempt_has_its_own_check_results(as_of_client, history: dict) -> None:
    attempts = as_of_client.get("/api/assets/readings/partitions/north").json()["attempts"]
    assert [a["run_id"] for a in attempts] == [history["second"], history["first"]]
    newest, first = attempts
    assert [(c["check"], c["passed"]) for c in newest["checks"]] == [
        ("accepted_values(value)", True)
    ]
    ((check),) = first["checks"]
    assert (check["check"], check["severity"], check["passed"]) == (
        "accepted_values(value)",
        "warn",
        False,
    )
    assert "1" in check["message"]
    assert newest["worker"] and newest["worker"].rsplit(":", 1)[1].isdigit()


@pytest.fixture(scope="module")
def server(history: dict, tmp_path_factory) -> Iterator[UiServer]:
    log = tmp_path_factory.mktemp("as-of-log") / "server.log"
    running = start_server(history["root"], "--now", NOW, log=log)
    try:
        yield running
    finally:
        running.stop()


def test_the_partition_page_shows_the_data_as_of_a_run(page, history: dict) -> None:
    open_page(page, "/assets/readings/partitions/north")
    assert page.locator("#preview tbody td").all_text_contents() == ["north", "2"]
    page.fill("#as-of", history["first"])
    page.click("#as-of-form button")
    page.wait_for_url(f"**/assets/readings/partitions/north?as_of={history['first']}")
    page.wait_for_selector("body[data-ready]")
    assert page.locator("#preview tbody td").all_text_contents() == ["north", "1"]
    assert history["first"] in page.locator("#preview-caption").text_content()
    rows = page.locator("#attempts tbody tr")
    assert rows.nth(0).locator(".check-passed").count() == 1
    assert (
        rows.nth(1)
        .locator(".check-failed")
        .text_content()
        .startswith("FAILED accepted_values(value)")
    )
    screenshot(page, "partition-as-of")

    open_page(page, f"/assets/unkept/partitions/north?as_of={history['first']}")
    error = page.locator("#preview-error").text_content()
    assert "asset 'unkept'" in error and "north" in error and "no longer kept" in error
    assert page.locator("#attempts tbody tr").count() == 2
