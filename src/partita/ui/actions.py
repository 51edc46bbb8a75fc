"""The routes that change something: plan a request, launch a run.

Both need the server's token in the `X-Partita-Token` header (403 otherwise): the page
carries it, a page of another site cannot read it, so no cross-site request launches a
run. A run executes in its own process, `partita materialize ...`, in a new session of
the operating system: closing the browser, or stopping the server, does not stop it, and
it writes only through the runner, as any CLI run does.
"""

from __future__ import annotations

import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..app.requests import PlanRequest, partition_range
from ..errors import PartitaError, PartitionError, SelectionError, UsageError
from . import views
from .api import UiState, error_response

TOKEN_HEADER = "X-Partita-Token"
OUTPUT_TAIL_CHARS = 2000  # of a run's console output, kept to say why it did not start
RUN_START_TIMEOUT_S = 60.0  # the run's process loads the project before recording the run


@dataclass(frozen=True)
class ActionRequest:
    """What the page asks for: a selection and a partition or range, forced or not, or
    only the units that failed last time."""

    selection: tuple[str, ...]
    first: str | None = None
    last: str | None = None
    force: bool = False
    retry_failed: bool = False

    @classmethod
    def parse(cls, body: Any) -> ActionRequest:
        """From the JSON body; ValueError naming the bad field."""
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        selection = body.get("selection") or []
        if isinstance(selection, str):
            selection = [selection]
        if not isinstance(selection, list) or not all(isinstance(s, str) for s in selection):
            raise ValueError("'selection' must be a list of selection strings")
        first, last = body.get("from"), body.get("to")
        if body.get("partition") is not None:
            if first is not None or last is not None:
                raise ValueError("give either 'partition' or 'from'/'to', not both")
            first = last = body["partition"]
        for name, value in (("from", first), ("to", last)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"'{name}' must be a partition key")
        for flag in ("force", "retry_failed"):
            if not isinstance(body.get(flag, False), bool):
                raise ValueError(f"'{flag}' must be true or false")
        return cls(
            tuple(s for s in selection if s.strip()),
            first,
            last,
            body.get("force", False),
            body.get("retry_failed", False),
        )

    def plan_request(self, state: UiState) -> PlanRequest:
        bounds = (self.first, self.last) if self.first or self.last else None
        return PlanRequest(
            selection=self.selection,
            partitions=partition_range(bounds),  # type: ignore[arg-type]
            force=self.force,
            now=state.moment(),
            retry_failed=self.retry_failed,
        )

    def command(self, state: UiState) -> list[str]:
        """The CLI command that runs it (options first, then `--` and the selection, so
        no selection is read as an option)."""
        arguments = [sys.executable, "-m", "partita", "--project", str(state.session.root)]
        arguments += ["materialize", "--json"]
        if self.first:
            arguments += ["--from", self.first]
        if self.last:
            arguments += ["--to", self.last]
        if self.force:
            arguments.append("--force")
        if self.retry_failed:
            arguments.append("--retry-failed")
        if state.now is not None:
            arguments += ["--now", state.now.isoformat()]
        return [*arguments, "--", *self.selection]


def action_route(handler):
    """Checks the token, parses the body; errors as JSON (403, 400, 404, 500)."""

    async def endpoint(request: Request) -> JSONResponse:
        state: UiState = request.app.state.ui
        given = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), state.token.encode()):
            return JSONResponse(
                {"error": f"this request needs the server's token in the {TOKEN_HEADER} header"},
                status_code=403,
            )
        try:
            action = ActionRequest.parse(json.loads(await request.body() or b"{}"))
        except (ValueError, UnicodeDecodeError) as error:
            return error_response(400, error)
        try:
            return JSONResponse(await run_in_threadpool(handler, state, action))
        except (SelectionError, PartitionError, UsageError) as error:
            return error_response(400, error)
        except PartitaError as error:
            return error_response(500, error)

    return endpoint


def plan_action(state: UiState, action: ActionRequest) -> dict[str, Any]:
    with state.lock:
        return views.plan_json(state.session.plan(action.plan_request(state)))


class Launcher:
    """Starts runs in their own processes. A run's console output goes to a file in a
    temporary folder of this server (never the warehouse); when the run ends, a watcher
    thread keeps its last lines (`output_of`, for a run that could not start) and deletes
    the file; `close` (on server stop) deletes the folder."""

    def __init__(self) -> None:
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self.logs = Path(tempfile.mkdtemp(prefix=f"partita-ui-{os.getpid()}-"))
        self._ended: dict[int, threading.Event] = {}
        self._tails: dict[int, str] = {}
        self._lock = threading.Lock()

    def start(self, command: list[str]) -> subprocess.Popen[bytes]:
        log = self.logs / f"run-{time.time_ns()}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        with self._lock:
            self.processes[process.pid] = process
            self._ended[process.pid] = threading.Event()
        watcher = threading.Thread(target=self._clean_after, args=(process, log), daemon=True)
        watcher.start()
        return process

    def _clean_after(self, process: subprocess.Popen[bytes], log: Path) -> None:
        process.wait()
        try:
            tail = log.read_text(errors="replace").strip()[-OUTPUT_TAIL_CHARS:]
        except OSError:  # the folder went with the server
            tail = ""
        log.unlink(missing_ok=True)
        with self._lock:
            self._tails[process.pid] = tail
            self.processes.pop(process.pid, None)
            ended = self._ended.pop(process.pid)
        ended.set()

    def output_of(self, pid: int, timeout: float = 10.0) -> str:
        """The last lines a run printed, once it ended (empty if unknown)."""
        with self._lock:
            ended = self._ended.get(pid)
        if ended is not None:
            ended.wait(timeout)
        with self._lock:
            return self._tails.pop(pid, "")

    def close(self) -> None:
        """Delete the folder (runs still going keep writing to their open, unlinked files)."""
        shutil.rmtree(self.logs, ignore_errors=True)


def launch_action(state: UiState, action: ActionRequest, launcher: Launcher) -> dict[str, Any]:
    """Start the run in its own process; answer with its run id once it is recorded."""
    with state.lock:
        state.session.select(action.selection)  # unknown names: 400 before anything starts
    process = launcher.start(action.command(state))
    deadline = time.monotonic() + RUN_START_TIMEOUT_S
    while time.monotonic() < deadline:
        exited = process.poll() is not None  # before looking: a run recorded then is seen
        with state.lock:
            run = next((r for r in state.session.runs(20) if r.pid == process.pid), None)
        if run is not None:
            return {"run_id": run.run_id, "pid": process.pid, "command": run.command}
        if exited:
            raise UsageError(f"the run did not start: {launcher.output_of(process.pid)}")
        time.sleep(0.1)
    return {"run_id": None, "pid": process.pid, "command": " ".join(action.command(state))}


def action_routes(launcher: Launcher) -> list[Route]:
    def launch(state: UiState, action: ActionRequest) -> dict[str, Any]:
        return launch_action(state, action, launcher)

    return [
        Route("/api/plan", action_route(plan_action), methods=["POST"]),
        Route("/api/runs", action_route(launch), methods=["POST"]),
    ]
