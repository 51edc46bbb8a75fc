"""Live progress by server-sent events: the run history and one run, pushed as they change.

The server looks at the catalog twice a second (in a worker thread, under the session's
lock), so runs started by another process (the CLI, the daemon) show up like runs
started from the page; the browser only listens. Each stream sends `update` events
carrying the same JSON as the matching read route, whenever it changes (and every few
seconds while a run goes, so durations tick), a comment line now and then so a dead
connection is noticed, and `end` once the run it follows has finished. A stream also
ends when the server stops, and after `STREAM_LIFETIME_S` (the browser reconnects).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..app.inspection import NotFoundError
from ..catalog.records import RunStatus
from ..errors import PartitaError
from .api import UiState, error_response, run_payload, runs_limit, runs_payload

LOOK_EVERY_S = 0.5  # how often the catalog is read for changes
TICK_EVERY_S = 5.0  # while something runs, an update at least this often (durations move)
KEEPALIVE_S = 15.0
STREAM_LIFETIME_S = 600.0
MEDIA_TYPE = "text/event-stream"

Snapshot = Callable[[], dict[str, Any]]


def event(name: str, payload: Any) -> str:
    """One server-sent event; the JSON is on one line, so one `data:` field holds it."""
    return f"event: {name}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n"


def _without_durations(payload: Any) -> Any:
    """The payload less what changes with the clock alone, to compare two looks."""
    if isinstance(payload, dict):
        return {k: _without_durations(v) for k, v in payload.items() if k != "duration_s"}
    if isinstance(payload, list):
        return [_without_durations(v) for v in payload]
    return payload


def _running(payload: dict[str, Any]) -> bool:
    if "runs" in payload:
        return any(run["status"] == RunStatus.RUNNING for run in payload["runs"])
    return payload["status"] == RunStatus.RUNNING


async def changes(
    state: UiState, snapshot: Snapshot, *, follows_one_run: bool
) -> AsyncIterator[str]:
    """The events of one stream: `snapshot()` (read under the lock) whenever it changes."""
    started = last_sent = time.monotonic()
    last: Any = None
    while not state.stopping() and time.monotonic() - started < STREAM_LIFETIME_S:
        try:
            payload = await run_in_threadpool(_locked, state, snapshot)
        except PartitaError as error:  # the catalog could not be read this time
            yield event("problem", {"error": error.format()})
            payload = None
        now = time.monotonic()
        if payload is not None:
            compared = _without_durations(payload)
            ticking = _running(payload) and now - last_sent >= TICK_EVERY_S
            if compared != last or ticking:
                yield event("update", payload)
                last, last_sent = compared, now
            if follows_one_run and not _running(payload):
                yield event("end", {"status": payload["status"]})
                return
        if now - last_sent >= KEEPALIVE_S:
            yield ": keepalive\n\n"
            last_sent = now
        await asyncio.sleep(LOOK_EVERY_S)


def _stream(iterator: AsyncIterator[str]) -> StreamingResponse:
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(iterator, media_type=MEDIA_TYPE, headers=headers)


async def runs_events(request: Request) -> Response:
    """`GET /api/events/runs?limit=N`: the run history, pushed whenever it changes."""
    state: UiState = request.app.state.ui
    try:
        limit = runs_limit(request)
    except ValueError as error:
        return error_response(400, error)
    return _stream(
        changes(state, lambda: runs_payload(state.session, limit), follows_one_run=False)
    )


async def run_events(request: Request) -> Response:
    """`GET /api/events/runs/{run_id}`: one run, pushed whenever it changes, then `end`."""
    state: UiState = request.app.state.ui
    run_id = request.path_params["run_id"]

    def snapshot() -> dict[str, Any]:
        return run_payload(state.session, run_id)

    try:
        await run_in_threadpool(_locked, state, snapshot)  # 404 before any stream starts
    except NotFoundError as error:
        return error_response(404, error)
    except PartitaError as error:
        return JSONResponse({"error": error.format()}, status_code=500)
    return _stream(changes(state, snapshot, follows_one_run=True))


def _locked(state: UiState, snapshot: Snapshot) -> dict[str, Any]:
    with state.lock:
        return snapshot()


ROUTES = [
    Route("/api/events/runs", runs_events),
    Route("/api/events/runs/{run_id}", run_events),
]
