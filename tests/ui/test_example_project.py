"""The issue's "done when" for the web UI, on the example project (NYC flights 2013):
`partita ui` shows the flights graph, a full year's partition bar per daily asset and the
run history, and a backfill launched from the page runs and shows up live."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import run_cli
from .harness import UiServer, open_page, start_server

EXAMPLE = Path(__file__).resolve().parents[2] / "assets"
PREPARED = "2013-01-04T12:00:00-05:00"  # January 1-3 complete and materialized
LATER = "2014-01-02T12:00:00-05:00"  # the page's time: the whole year is due
DAILY = ("flights", "weather", "flights_weather", "carrier_delays", "on_time_rolling")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[UiServer]:
    root = tmp_path_factory.mktemp("example") / "example"
    shutil.copytree(EXAMPLE, root / "assets", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text(
        '[project]\nname = "example"\nversion = "0"\n\n'
        '[tool.partita]\nassets = "assets"\nwarehouse = "warehouse"\n'
    )
    run_cli(root, "materialize", "--now", PREPARED, check=0)
    log = tmp_path_factory.mktemp("ui-log") / "server.log"
    running = start_server(root, "--now", LATER, log=log)
    try:
        yield running
    finally:
        running.stop()


def test_the_flights_project_its_year_of_partitions_and_a_backfill_from_the_page(
    page, server: UiServer
) -> None:
    open_page(page, "/")
    names = set(page.locator("g.node").evaluate_all("ns => ns.map(n => n.dataset.asset)"))
    assert {*DAILY, "carrier_scorecard", "airlines", "weather_corrections"} <= names

    for asset in DAILY:  # a bar over the whole year: 3 fresh days, then 362 to build
        ranges = server.get_json(f"/api/assets/{asset}/partitions")["ranges"]
        assert [(r["state"], r["count"]) for r in ranges] == [("fresh", 3), ("missing", 362)]
        assert (ranges[0]["first"], ranges[-1]["last"]) == ("2013-01-01", "2013-12-31")
    open_page(page, "/assets/carrier_delays")
    assert page.locator("body").get_attribute("data-bar-ranges") == "2"

    open_page(page, "/runs")
    assert f"materialize --now {PREPARED}" in page.locator("#runs tbody").text_content()

    open_page(page, "/assets/flights")
    page.fill("#backfill-from", "2013-01-04")
    page.fill("#backfill-to", "2013-01-05")
    page.click("#backfill")
    page.wait_for_selector("#plan-table")
    assert "2013-01-04 .. 2013-01-05 (2 partitions)" in page.locator("#plan-table").text_content()
    page.click("#confirm-launch")
    page.wait_for_url("**/runs/*")
    page.wait_for_selector("#run-status.status-succeeded", timeout=180_000)
    assert page.locator("#units tbody tr").count() == 2
    ranges = server.get_json("/api/assets/flights/partitions")["ranges"]
    assert [(r["state"], r["count"]) for r in ranges] == [("fresh", 5), ("missing", 360)]
