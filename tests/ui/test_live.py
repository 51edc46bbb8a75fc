"""Live progress by server-sent events: the streams through the in-process client, and
the pages in headless Chromium watching a run started by the CLI in another process."""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from partita.ui import live

from .conftest import NOW, PARTITA
from .harness import UiServer, open_page, screenshot, start_server


def read_events(response) -> list[tuple[str, object]]:
    """The (event, data) pairs of a whole event stream; comments are skipped."""
    events, name = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[len("data: ") :])))
    return events


def without_durations(value):
    return live._without_durations(value)


def test_a_run_stream_pushes_the_run_then_ends(client) -> None:
    run_id = client.get("/api/runs").json()["runs"][0]["run_id"]
    with client.stream("GET", f"/api/events/runs/{run_id}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = read_events(response)
    assert [name for name, _ in events] == ["update", "end"]
    expected = client.get(f"/api/runs/{run_id}").json()
    assert without_durations(events[0][1]) == without_durations(expected)
    assert events[1][1] == {"status": expected["status"]}


def test_the_runs_stream_pushes_the_history(client, monkeypatch) -> None:
    monkeypatch.setattr(live, "STREAM_LIFETIME_S", 0.2)  # so the stream ends in the test
    with client.stream("GET", "/api/events/runs", params={"limit": 1}) as response:
        events = read_events(response)
    assert [name for name, _ in events] == ["update"]
    expected = client.get("/api/runs", params={"limit": 1}).json()
    assert without_durations(events[0][1]) == without_durations(expected)


def test_streams_refuse_unknown_runs_and_bad_limits(client) -> None:
    unknown = client.get("/api/events/runs/no-such-run")
    assert unknown.status_code == 404
    assert "no-such-run" in unknown.json()["error"]
    assert client.get("/api/events/runs", params={"limit": "x"}).status_code == 400


GATED = """
import time
from pathlib import Path

import pandas as pd

from partita import StaticPartitions, asset

GATE = Path(__file__).parent.parent / "gate"


@asset(partitions=StaticPartitions(["a", "b"]))
def gated(context) -> pd.DataFrame:
    deadline = time.monotonic() + 120
    while not GATE.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return pd.DataFrame({"key": [context.partition_key]})
"""


@pytest.fixture(scope="module")
def gated_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose asset waits until the file `gate` exists in its root."""
    root = tmp_path_factory.mktemp("live") / "proj"
    (root / "assets").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    (root / "assets" / "demo.py").write_text(textwrap.dedent(GATED).lstrip())
    return root


@pytest.fixture(scope="module")
def server(gated_project: Path, tmp_path_factory) -> Iterator[UiServer]:
    log = tmp_path_factory.mktemp("live-log") / "server.log"
    running = start_server(gated_project, "--now", NOW, log=log)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def start_cli_run(gated_project: Path, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    """Starts `partita materialize --force` from outside the server, held at the gate
    until the test opens it; the process is stopped by its PID at the end."""
    gate = gated_project / "gate"
    gate.unlink(missing_ok=True)
    started: list[subprocess.Popen] = []
    output = (tmp_path / "cli.log").open("wb")

    def start() -> subprocess.Popen:
        command = [*PARTITA, "--project", str(gated_project), "materialize", "--force"]
        command += ["--workers", "2"]  # both units wait at the gate, one per worker
        started.append(
            subprocess.Popen(
                [*command, "--now", NOW], stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        )  # fmt: skip
        return started[-1]

    try:
        yield start
    finally:
        gate.touch()
        for process in started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        output.close()


def api_requests(page) -> list[str]:
    """Records the paths of the requests the page makes from now on."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url.split("/", 3)[3]))
    return seen


def test_a_cli_run_appears_and_finishes_live_by_events(
    page, start_cli_run, gated_project, server
) -> None:
    open_page(page, "/runs")
    requests = api_requests(page)
    process = start_cli_run()  # after the page loaded: only a pushed event can show it
    page.wait_for_selector("#runs .status-running", timeout=90_000)
    assert page.locator("body").get_attribute("data-live") == "sse"
    assert [r for r in requests if r.startswith("api/runs")] == []
    page.locator("#runs tbody tr").first.locator("a").click()
    page.wait_for_url("**/runs/*")
    page.wait_for_selector("body[data-ready]")
    requests.clear()
    page.wait_for_selector("#in-progress", timeout=90_000)
    assert page.locator("#run-status").text_content() == "running"
    screenshot(page, "run-live")

    (gated_project / "gate").touch()
    page.wait_for_selector("#run-status.status-succeeded", timeout=120_000)
    assert page.locator("#units tbody tr").count() == 2
    assert page.locator("body").get_attribute("data-live") == "ended"
    # One timeline lane per worker process that ran a unit, as the catalog recorded them.
    lanes = json.loads(page.locator("body").get_attribute("data-timeline-lanes"))
    run_id = page.url.rsplit("/", 1)[1]
    workers = sorted(u["worker"] for u in server.get_json(f"/api/runs/{run_id}")["units"])
    assert sorted(lanes) == workers
    assert len(set(workers)) == 2
    screenshot(page, "run-workers")
    # Pushed, not asked for: no read of the run after the page loaded.
    assert [r for r in requests if r.startswith("api/runs")] == []
    assert process.wait(timeout=60) == 0


def running_run(server: UiServer) -> str:
    """The id of the run in progress, once its process has recorded it."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        runs = server.get_json("/api/runs?limit=1")["runs"]
        if runs and runs[0]["status"] == "running":
            return runs[0]["run_id"]
        time.sleep(0.1)
    raise AssertionError("the CLI run was not recorded within 90 s")


def test_without_events_the_run_page_falls_back_to_polling(
    page, start_cli_run, server, gated_project
) -> None:
    page.route("**/api/events/**", lambda route: route.abort())
    process = start_cli_run()
    open_page(page, f"/runs/{running_run(server)}")
    assert page.locator("#run-status").text_content() == "running"
    (gated_project / "gate").touch()
    page.wait_for_selector("#run-status.status-succeeded", timeout=120_000)
    assert page.locator("body").get_attribute("data-live") == "poll"
    assert process.wait(timeout=60) == 0
