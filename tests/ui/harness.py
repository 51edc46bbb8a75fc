"""Start the real `partita ui` in a subprocess and the system's Chromium under Playwright.

Shared by the browser tests and the UI benchmark. Never downloads a browser: it uses
Debian's `/usr/bin/chromium` (`.ci/run` installs it) and fails, naming what is missing,
when it is not there.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class UiServer:
    process: subprocess.Popen
    url: str
    log: Path

    def get_json(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=60) as answer:
            return json.loads(answer.read())

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """Ctrl-C, as a person would; SIGKILL if it does not stop within 20 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    root: Path, *extra: str, log: Path, timeout: float = 90.0, env: dict[str, str] | None = None
) -> UiServer:
    """`partita ui --port <free>` on the project (`env` added to the environment);
    returns once it answers."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "partita",
                "--project",
                str(root),
                "ui",
                "--port",
                str(port),
                *extra,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
    server = UiServer(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"partita ui exited with {process.returncode}:\n{server.output()}")
        try:
            server.get_json("/api/runs?limit=1")
            return server
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                server.stop()
                raise AssertionError(f"partita ui did not answer:\n{server.output()}") from None
            time.sleep(0.1)


def launch_chromium(playwright):
    """Headless Chromium from the system; an AssertionError saying how to install it."""
    if not CHROMIUM.exists():
        raise AssertionError(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(apt-get install -y chromium; .ci/run installs it). No browser is downloaded."
        )
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


def open_page(page, path: str) -> None:
    """Go to `path` of the page's server and wait until the script rendered it."""
    page.goto(page.base + path)
    page.wait_for_selector("body[data-ready]")


def screenshot(page, name: str) -> None:
    """The full page into the README's screenshot folder."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
