"""A small project with a history (a failed run, hostile names), and the API over it.

The project is built once per module (per xdist worker): two CLI runs, one of which fails
on purpose with an error holding markup. API tests use Starlette's in-process client;
the browser tests (`test_browser.py`) start the real `partita ui` on it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PARTITA = [sys.executable, "-m", "partita"]
NOW = "2013-01-12T00:00:00+00:00"
TOKEN = "test-token"
HOSTILE_KEY = "<img src=x onerror=alert(1)>"
HOSTILE_ERROR = "<script>alert('error')</script>"

ASSETS = '''
import pandas as pd

from partita import DailyPartitions, FreshnessPolicy, StaticPartitions, asset

DAYS = DailyPartitions(start="2013-01-01", end="2013-01-11")


@asset(partitions=DAYS, group="raw", watermark="ts", freshness=FreshnessPolicy(max_lag="6h"))
def events(context) -> pd.DataFrame:
    """Events of the day."""
    return pd.DataFrame({"ts": [context.partition_start], "value": [1]})


@asset(partitions=DAYS, group="metrics")
def daily_totals(events: pd.DataFrame) -> pd.DataFrame:
    """Total value per day."""
    return events.groupby("ts", as_index=False)["value"].sum()


@asset(
    partitions=StaticPartitions(["<img src=x onerror=alert(1)>", "plain"]),
    group="<b>hostile</b>",
    description="<script>alert('description')</script>",
)
def hostile(context) -> pd.DataFrame:
    if context.partition_key != "plain":
        raise ValueError("<script>alert('error')</script>")
    return pd.DataFrame({"x": ["<script>alert('value')</script>"]})
'''


def run_cli(root: Path, *args: str, check: int) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [*PARTITA, "--project", str(root), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )
    assert completed.returncode == check, (completed.stdout, completed.stderr)
    return completed


def build_project(root: Path) -> Path:
    """The project with events 2013-01-01..05 materialized and a failed hostile run."""
    (root / "assets").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    (root / "assets" / "demo.py").write_text(textwrap.dedent(ASSETS).lstrip())
    run_cli(root, "materialize", "events", "--from", "2013-01-01", "--to", "2013-01-05",
            "--now", NOW, check=0)  # fmt: skip
    run_cli(root, "materialize", "hostile", "--now", NOW, check=1)
    return root


@pytest.fixture(scope="module")
def ui_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project(tmp_path_factory.mktemp("ui") / "proj")


@pytest.fixture(scope="module")
def client(ui_project: Path):
    from datetime import datetime

    from starlette.testclient import TestClient

    from partita.app.session import open_session
    from partita.ui.server import build_app

    with open_session(ui_project) as session:
        app = build_app(session, token=TOKEN, now=datetime.fromisoformat(NOW))
        with TestClient(app) as test_client:
            yield test_client


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's), one per module."""
    from playwright.sync_api import sync_playwright

    from .harness import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, server):
    """A fresh page on the module's `server`; fails the test if the page ever opened a
    dialog (a script from the data ran)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_default_timeout(30_000)
    page.base = server.url  # type: ignore[attr-defined]
    yield page
    context.close()
    assert dialogs == [], f"a script from the data ran: {dialogs}"
