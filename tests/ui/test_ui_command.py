"""`partita ui` as a command: where it binds, what it refuses, how it stops, what it loads."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from partita.cli import ui_command
from partita.cli.main import cli
from partita.ui.server import check_host, is_loopback

from .harness import start_server


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_network_host_needs_a_token(project) -> None:
    result = project.cli("ui", "--host", "0.0.0.0", "--port", "1", check=2)
    assert "refusing to serve on 0.0.0.0" in result.stderr
    assert "--token" in result.stderr
    check_host("0.0.0.0", "a-secret")  # with a token it is allowed


def test_without_the_extra_it_says_which_to_install(monkeypatch, project) -> None:
    monkeypatch.setattr(ui_command, "UI_EXTRA_MODULES", ("starlette", "no_such_module_here"))
    result = CliRunner().invoke(cli, ["--project", str(project.root), "ui"])
    assert result.exit_code == 2
    assert "needs no_such_module_here" in result.output
    assert "pip install 'partita[ui]'" in result.output


def test_a_bad_selection_fails_before_serving(project) -> None:
    project.write("assets/a.py", "from partita import asset\n\n@asset\ndef a():\n    pass\n")
    result = project.cli("ui", "nope", "--port", "1", check=2)
    assert "'nope'" in result.stderr


def test_ctrl_c_stops_the_server_cleanly(ui_project: Path, tmp_path: Path) -> None:
    server = start_server(ui_project, log=tmp_path / "server.log")
    try:
        assert server.get_json("/api/runs?limit=1")["runs"]
        assert "serving" in server.output()
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=20) == 0, server.output()
        assert "Traceback" not in server.output()
    finally:
        server.stop()


PROBE = """
import runpy, sys
sys.argv = ["partita", *sys.argv[1:]]
try:
    runpy.run_module("partita", run_name="__main__")
except SystemExit:
    pass
print("LOADED:" + ",".join(sorted(m for m in sys.modules if m.split(".")[0] in
      ("starlette", "uvicorn", "playwright"))))
"""


@pytest.mark.parametrize("arguments", [["--version"], ["list"]])
def test_version_and_list_do_not_load_the_server(arguments: list[str], ui_project: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, "--project", str(ui_project), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
    )
    marker = completed.stdout.strip().splitlines()[-1]
    assert marker == "LOADED:", completed.stdout + completed.stderr


def test_the_run_output_folder_is_cleaned(ui_project: Path, tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    log = tmp_path / "server.log"
    server = start_server(ui_project, "--token", "secret-token", log=log, env={"TMPDIR": str(temp)})
    try:
        (folder,) = temp.glob(f"partita-ui-{server.process.pid}-*")
        request = urllib.request.Request(
            server.url + "/api/runs",
            data=json.dumps({"selection": ["events"], "partition": "2013-01-09"}).encode(),
            headers={"X-Partita-Token": "secret-token", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=120) as answer:
            run_id = json.loads(answer.read())["run_id"]
        deadline = time.monotonic() + 120
        while server.get_json(f"/api/runs/{run_id}")["status"] == "running" or any(
            folder.iterdir()
        ):
            assert time.monotonic() < deadline, "the run's output was not cleaned"
            time.sleep(0.1)
        assert server.get_json(f"/api/runs/{run_id}")["status"] == "succeeded"
        assert folder.is_dir()  # until the server stops
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=20) == 0, server.output()
        assert not folder.exists()
    finally:
        server.stop()


def test_ctrl_c_stops_the_server_with_an_event_stream_open(
    ui_project: Path, tmp_path: Path
) -> None:
    server = start_server(ui_project, log=tmp_path / "server.log")
    try:
        with urllib.request.urlopen(server.url + "/api/events/runs", timeout=60) as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            assert stream.readline() == b"event: update\n"
            server.process.send_signal(signal.SIGINT)
            assert server.process.wait(timeout=20) == 0, server.output()
        assert "stopped" in server.output()
    finally:
        server.stop()
