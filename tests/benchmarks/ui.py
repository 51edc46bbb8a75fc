"""The web UI at scale: the planning benchmark's project (50 hourly assets over 5 years,
about 2.2 million asset partitions, 90% materialized, one upstream partition changed)
plus one asset of 1,000,000 hourly partitions with a hole every 997 partitions (so its
health bar has about 2,000 ranges to draw).

Measures the graph's counts over the 2.2 million computed from nothing (the handler
in-process, the planner's modules loaded, nothing cached); then, against the running
`partita ui`, for each route the first request after start (the server counts the
starting selection as it starts, and every selection reuses per-asset counts) and the
median of the next ones (answered from the server's cache, valid while the catalog
does not change): `GET /api/assets` over the 2.2 million and over everything, an asset
page's requests for a 43,800-partition asset, and the 1,000,000-partition asset's
partitions and watermark; then, in headless Chromium, the time from navigation start to the
health bar drawn (`performance.now()` when drawing ends), with the baseline `partita
status` of the whole project as a process measured in the same run.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import statistics
import time
from pathlib import Path

from tests.ui.harness import launch_chromium, start_server

from .common import partita_command, report, run_process, temporary_project
from .planning import change_one_upstream_partition, fill_catalog, project_source

BIG = """
from partita import HourlyPartitions, asset

BIG = HourlyPartitions(start="1900-01-01T00", end="{end}")


@asset(partitions=BIG, group="big")
def big():
    return None
"""
HOLE_EVERY = 997


def punch_holes(root: Path) -> None:
    """Remove every HOLE_EVERY-th state of `big`, so it alternates fresh and missing."""
    from partita import load_project
    from partita.catalog import catalog_path

    partitions = load_project(root).graph["big"].partitions
    keys = list(partitions.keys(0, partitions.index_bound()))[::HOLE_EVERY]
    connection = sqlite3.connect(catalog_path(root / "warehouse"))
    with connection:
        connection.executemany(
            "DELETE FROM partition_states WHERE asset = 'big' AND partition = ?",
            [(key,) for key in keys],
        )
    connection.close()


def median_request(server, path: str, repeat: int) -> float:
    def once() -> float:
        start = time.perf_counter()
        server.get_json(path)
        return time.perf_counter() - start

    return statistics.median(once() for _ in range(repeat))


def bar_drawn_ms(browser, url: str, repeat: int) -> tuple[list[float], int]:
    """Milliseconds from navigation start to the bar drawn, per navigation, and the
    ranges drawn."""
    figures, ranges = [], 0
    for _ in range(repeat):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.wait_for_selector("body[data-bar-drawn-ms]", timeout=120_000)
        figures.append(float(page.locator("body").get_attribute("data-bar-drawn-ms")))
        ranges = int(page.locator("body").get_attribute("data-bar-ranges"))
        page.close()
    return figures, ranges


def counts_from_nothing(root: Path, now: str, selection: str) -> float:
    """Seconds to answer `GET /api/assets?select=...` in a process that has loaded the
    project and the planner's modules but cached nothing (what the first request costs
    when the server could not count ahead of it): the handler called in-process."""
    from partita.app.session import open_session
    from partita.ui import api

    moment = dt.datetime.fromisoformat(now)
    with open_session(root) as session:
        state = api.UiState(session, "token", moment)
        api.health_counts(session, ["l0_0"], now=moment)  # imports and code versions
        request = _Query({"select": [selection]})
        start = time.perf_counter()
        answer = api.list_assets(state, request)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - start
    assert answer["assets"], "the benchmark selection is empty"
    return elapsed


class _Query:
    """Stands for a request with query parameters, for a handler called in-process."""

    def __init__(self, params: dict[str, list[str]]) -> None:
        self.query_params = self
        self._params = params

    def getlist(self, name: str) -> list[str]:
        return self._params.get(name, [])


def run(smoke: bool) -> None:
    from playwright.sync_api import sync_playwright

    years = 0.02 if smoke else 5.0
    big_partitions = 2_000 if smoke else 1_000_000
    end = dt.datetime(2020, 1, 1) + dt.timedelta(hours=round(years * 8766))
    big_end = dt.datetime(1900, 1, 1) + dt.timedelta(hours=big_partitions)
    now = end.isoformat() + "+00:00"
    modules = {
        "layers.py": project_source(end.strftime("%Y-%m-%dT%H")),
        "big.py": BIG.format(end=big_end.strftime("%Y-%m-%dT%H")),
    }
    repeat = 2 if smoke else 5
    with temporary_project(modules) as root:
        filled = fill_catalog(root, 0.9)
        punch_holes(root)
        change_one_upstream_partition(root)
        run_process(partita_command("--project", str(root), "status", "--now", now))  # snapshots
        baseline, _ = run_process(partita_command("--project", str(root), "status", "--now", now))
        computed = counts_from_nothing(root, now, "group:default")
        server = start_server(root, "--now", now, log=root / "ui.log", timeout=300)
        try:
            figures = [
                ("baseline: `partita status` (whole process)", f"{baseline:.2f} s"),
                (
                    "GET /api/assets (the 2.2 M), counts planned from nothing (in-process)",
                    f"{computed:.3f} s ({computed / baseline:.2f}x baseline)",
                ),
            ]
            for label, path in [
                ("GET /api/assets (the 2.2 M)", "/api/assets?select=group:default"),
                ("GET /api/assets (all)", "/api/assets"),
                ("GET /api/assets/l4_0 (definition)", "/api/assets/l4_0"),
                ("GET /api/assets/l4_0/partitions (43,800)", "/api/assets/l4_0/partitions"),
                ("GET /api/assets/big/partitions (1 M)", "/api/assets/big/partitions"),
                ("GET /api/assets/big/watermark (1 M)", "/api/assets/big/watermark"),
            ]:
                first = median_request(server, path, 1)  # computed: nothing cached yet
                again = median_request(server, path, repeat)  # cached until the catalog changes
                figures.append(
                    (
                        label,
                        f"first {first:.3f} s ({first / baseline:.2f}x baseline), "
                        f"then {again:.3f} s",
                    )
                )
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                try:
                    for name in ("l4_0", "big"):
                        drawn, ranges = bar_drawn_ms(browser, f"{server.url}/assets/{name}", repeat)
                        figures.append(
                            (
                                f"browser: /assets/{name} health bar drawn ({ranges:,} ranges)",
                                f"first {drawn[0]:.0f} ms after navigation start, then "
                                f"{statistics.median(drawn[1:]):.0f} ms",
                            )
                        )
                finally:
                    browser.close()
        finally:
            server.stop()
    report(
        f"Web UI at scale: {filled / 0.9:,.0f} asset partitions plus one asset of "
        f"{big_partitions:,} hourly partitions",
        figures,
    )
