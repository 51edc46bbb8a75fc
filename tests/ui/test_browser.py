"""The page in a real browser: headless Chromium (Debian's) driven by Playwright, against
`partita ui` started as a subprocess. One server and one browser per module; each test
writes the screenshots the README shows into `tests/ui/screenshots/`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import HOSTILE_ERROR, HOSTILE_KEY, NOW
from .harness import UiServer, open_page, screenshot, start_server


@pytest.fixture(scope="module")
def server(ui_project: Path, tmp_path_factory) -> Iterator[UiServer]:
    log = tmp_path_factory.mktemp("ui-log") / "server.log"
    running = start_server(ui_project, "--now", NOW, log=log)
    try:
        yield running
    finally:
        running.stop()


def test_click_through_graph_asset_partition_and_run(page) -> None:
    open_page(page, "/")
    nodes = page.locator("g.node")
    assert sorted(nodes.evaluate_all("ns => ns.map(n => n.dataset.asset)")) == [
        "daily_totals",
        "events",
        "hostile",
    ]
    assert "5 fresh · 0 stale · 5 missing" in page.locator('g[data-asset="events"]').text_content()
    screenshot(page, "graph")

    page.locator('g[data-asset="hostile"]').click()
    page.wait_for_url("**/assets/hostile")
    page.wait_for_selector("body[data-ready]")
    assert page.locator("#asset-name").text_content() == "hostile"
    assert page.locator("body").get_attribute("data-bar-ranges") == "2"
    page.locator("#needs-work a").first.click()

    page.wait_for_url(lambda url: "/assets/hostile/partitions/%3Cimg" in url)
    page.wait_for_selector("body[data-ready]")
    assert page.locator("#partition-key").text_content() == HOSTILE_KEY
    assert "failed" in page.locator("#partition-state").text_content()
    assert HOSTILE_ERROR in page.locator("#attempts pre.error").text_content()
    page.click("#attempts details summary")
    traceback = page.locator("#attempts pre.traceback")
    assert traceback.is_visible()
    assert f"ValueError: {HOSTILE_ERROR}" in traceback.text_content()
    screenshot(page, "partition")

    page.locator("#attempts a").first.click()
    page.wait_for_url("**/runs/*")
    page.wait_for_selector("body[data-ready]")
    assert page.locator("#run-status").text_content() == "failed"
    assert page.locator("#units tbody tr").count() == 2


def test_the_health_bar_hovers_and_zooms(page) -> None:
    open_page(page, "/assets/events")
    bar = page.locator("#health-bar")
    box = bar.bounding_box()
    # Over a range of five, the tooltip names the partition under the cursor (the 8th of
    # ten), asked of the server by position.
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    expect(page.locator("#tooltip")).to_have_text(re.compile(r"^2013-01-08"))
    tooltip = page.locator("#tooltip").text_content()
    assert tooltip.splitlines() == [
        "2013-01-08",
        "state: missing",
        "reason: missing",
        "in 2013-01-06 .. 2013-01-10 (5 partitions, state missing)",
    ]
    page.mouse.move(box["x"] + box["width"] * 0.95, box["y"] + box["height"] / 2)
    expect(page.locator("#tooltip")).to_have_text(re.compile(r"^2013-01-10\nstate: missing"))
    assert page.locator("#needs-work tbody tr").count() == 5
    screenshot(page, "asset")

    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    page.wait_for_url("**/assets/events?first=2013-01-01&last=2013-01-05")
    page.wait_for_selector("body[data-ready]")
    assert page.locator("#counts").text_content().startswith("5 fresh")
    assert page.locator("body").get_attribute("data-bar-ranges") == "1"


def test_hostile_names_render_as_text(page) -> None:
    open_page(page, "/assets/hostile")
    assert page.locator("main h1 + p").text_content() == "<script>alert('description')</script>"
    assert page.locator("main script").count() == 0
    assert page.locator("#needs-work a").text_content() == HOSTILE_KEY
    assert page.locator("main img").count() == 0

    open_page(page, "/")
    labels = page.locator("g.group .group-label").all_text_contents()
    assert "group <b>hostile</b>" in labels
    assert page.locator("main b").count() == 0

    open_page(page, "/assets/hostile/partitions/plain")
    assert page.locator("#preview td").text_content() == "<script>alert('value')</script>"
    assert page.locator("main script").count() == 0


def test_a_post_without_the_token_is_refused(page) -> None:
    open_page(page, "/")
    statuses = page.evaluate(
        """async () => {
            const body = JSON.stringify({selection: ["events"]});
            const plain = await fetch("/api/runs", {method: "POST", body});
            const wrong = await fetch("/api/plan",
                {method: "POST", body, headers: {"X-Partita-Token": "guess"}});
            return [plain.status, wrong.status];
        }"""
    )
    assert statuses == [403, 403]


def test_a_backfill_launched_from_the_page_runs_and_shows_live(page, server: UiServer) -> None:
    open_page(page, "/assets/events")
    page.fill("#backfill-from", "2013-01-06")
    page.fill("#backfill-to", "2013-01-08")
    page.click("#backfill")
    page.wait_for_selector("#plan-table")
    assert page.locator("#plan-table tbody td").all_text_contents() == [
        "events",
        "2013-01-06 .. 2013-01-08 (3 partitions)",
        "missing",
    ]
    screenshot(page, "plan")

    page.click("#confirm-launch")
    page.wait_for_url("**/runs/*")
    run_id = page.url.rsplit("/", 1)[1]
    # The run page polls while the run goes; the status turns succeeded without a reload.
    page.wait_for_selector("#run-status.status-succeeded", timeout=120_000)
    assert page.locator("#units tbody tr").count() == 3
    screenshot(page, "run")

    run = server.get_json(f"/api/runs/{run_id}")
    assert sorted(u["partition"] for u in run["units"]) == [
        "2013-01-06",
        "2013-01-07",
        "2013-01-08",
    ]
    assert run["command"].startswith("partita --project")

    open_page(page, "/runs")
    assert page.locator("#runs tbody tr").first.locator("a").text_content() == run_id
    screenshot(page, "runs")
    open_page(page, "/freshness")
    assert page.locator("#freshness-board tbody td").first.text_content() == "events"
    screenshot(page, "freshness")


def test_the_graph_filters_with_the_selection_syntax(page) -> None:
    open_page(page, "/")
    page.fill("#selection", "+daily_totals")
    page.click("text=Filter")
    page.wait_for_url("**/?select=%2Bdaily_totals")
    page.wait_for_selector("body[data-ready]")
    names = page.locator("g.node").evaluate_all("ns => ns.map(n => n.dataset.asset)")
    assert sorted(names) == ["daily_totals", "events"]
    page.fill("#selection", "group:nope")
    page.click("text=Filter")
    page.wait_for_selector(".error")
    assert "no asset is in group 'nope'" in page.locator(".error").text_content()
