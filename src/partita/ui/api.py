"""The read routes of the JSON API: assets, partitions, runs, freshness.

Each handler is a plain function (Starlette runs it in a thread) asking the session under
the server's lock; errors become JSON: 404 naming what was not found, 400 for bad
parameters.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..app.inspection import (
    NotFoundError,
    asset_status,
    asset_watermark,
    health_counts,
    known_asset,
    known_partition,
    partition_attempts,
    partition_failed_checks,
    partition_status,
    run_detail,
)
from ..errors import PartitaError, PartitionError, SelectionError, StorageError
from ..planning.targets import PartitionRange
from . import views

if TYPE_CHECKING:
    from ..app.session import Session

log = logging.getLogger("partita.ui")

PREVIEW_ROWS = 100
DEFAULT_RUNS = 50
CACHE_SIZE = 64
RUN_UNITS_LIMIT = 5000  # a run page lists the first units; `units_total` counts them all


@dataclass
class UiState:
    """What every route shares: the session (used under `lock`), the token that requests
    changing anything must carry, `now` (None: the wall clock) and the selection the
    graph starts with."""

    session: Session
    token: str
    now: datetime | None = None
    selection: tuple[str, ...] = ()  # what the graph shows when the page names none
    lock: threading.Lock = field(default_factory=threading.Lock)
    cache: dict[tuple, Any] = field(default_factory=dict)
    # True once the server is shutting down: live event streams end then.
    stopping: Callable[[], bool] = field(default=lambda: False)

    def moment(self) -> datetime:
        """`now`, or the wall clock to the minute (so answers can be cached a minute)."""
        return self.now or datetime.now(UTC).replace(second=0, microsecond=0)

    def cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """`compute()`, remembered while the catalog does not change: same sequence (no
        attempt recorded since) and same dead leases (no run died since)."""
        catalog = self.session.catalog
        full_key = (*key, catalog.sequence(), len(catalog.dead_leases(datetime.now(UTC))))
        if full_key not in self.cache:
            if len(self.cache) >= CACHE_SIZE:
                self.cache.pop(next(iter(self.cache)))  # the oldest
            self.cache[full_key] = compute()
        return self.cache[full_key]


Handler = Callable[[UiState, Request], Any]


class PrunedError(PartitaError):
    """The version of a partition asked for (as of a run or time) is no longer kept."""


def json_route(handler: Handler) -> Callable[[Request], JSONResponse]:
    """A handler's value as JSON; PartitaErrors as 404 (not found) or 400 (bad input)."""

    @functools.wraps(handler)
    def endpoint(request: Request) -> JSONResponse:
        state: UiState = request.app.state.ui
        try:
            with state.lock:
                return JSONResponse(handler(state, request))
        except NotFoundError as error:
            return error_response(404, error)
        except PrunedError as error:
            return error_response(410, error)
        except (SelectionError, PartitionError, ValueError) as error:
            return error_response(400, error)
        except PartitaError as error:
            log.warning("%s: %s", request.url.path, error.format())
            return error_response(500, error)

    return endpoint


def error_response(status: int, error: Exception) -> JSONResponse:
    message = error.format() if isinstance(error, PartitaError) else str(error)
    return JSONResponse({"error": message}, status_code=status)


def list_assets(state: UiState, request: Request) -> dict[str, Any]:
    selection = [s for s in request.query_params.getlist("select") if s.strip()]
    session, now = state.session, state.moment()
    counts = asset_counts(state, session.select(selection or None), now)
    assets = []
    for summary in session.assets(selection or None, now=now):
        summary.pop("description", None)
        summary["counts"] = counts.get(summary["name"], {})
        assets.append(summary)
    names = {a["name"] for a in assets}
    edges = [[u, d] for u, d in session.graph.edges() if u in names and d in names]
    return {"now": now.isoformat(), "assets": assets, "edges": edges}


def asset_counts(state: UiState, names: list[str], now: datetime) -> dict[str, dict[str, int]]:
    """The health counts of `names`. Kept per asset while the catalog does not change, so
    any selection reuses what an earlier one planned (its upstream included): only assets
    never counted are planned."""
    known: dict[str, dict[str, int]] = state.cached(("counts-by-asset", now), dict)
    missing = [name for name in names if name not in known]
    if missing:
        known.update(health_counts(state.session, missing, now=now))
    return {name: known[name] for name in names if name in known}


def warm_cache(state: UiState) -> None:
    """Count the starting selection ahead of the first visit (which also loads the
    planner's modules and the definitions' code versions once)."""
    try:
        with state.lock:
            asset_counts(state, state.session.select(list(state.selection) or None), state.moment())
    except PartitaError as error:  # the page will show the same error when asked
        log.warning("could not compute the graph's counts: %s", error.format())


def get_asset(state: UiState, request: Request) -> dict[str, Any]:
    session, now = state.session, state.moment()
    name = known_asset(session, request.path_params["name"])
    payload = views.definition_json(session.graph, session.graph[name], now, session.root)
    payload["storage_location"] = session.storage(name).location()
    freshness = state.cached(
        ("freshness", name, now),
        lambda: session.freshness(name, now=now, include_all=True),
    )
    payload["freshness"] = views.freshness_json(freshness[0]) if freshness else None
    payload["now"] = now.isoformat()
    return payload


def get_watermark(state: UiState, request: Request) -> dict[str, Any]:
    """Apart from the asset: it reads every state of the asset, which the page's health
    bar does not wait for."""
    name = known_asset(state.session, request.path_params["name"])
    return asset_watermark(state.session, name, now=state.moment()).to_json()


def get_partitions(state: UiState, request: Request) -> dict[str, Any]:
    session, now = state.session, state.moment()
    name = known_asset(session, request.path_params["name"])
    first = request.query_params.get("first") or None
    last = request.query_params.get("last") or None
    status = state.cached(
        ("status", name, first, last, now),
        lambda: asset_status(session, name, now=now, partitions=PartitionRange(first, last)),
    )
    return {"now": now.isoformat(), **views.partitions_json(status)}


def get_partition_at(state: UiState, request: Request) -> dict[str, Any]:
    """`/partition-at?index=N&first=KEY&last=KEY`: the key at position N of the range the
    health bar shows (from `first`, or the first partition), with its state and reason, so
    the bar's hover names each partition without the page holding every key."""
    session, now = state.session, state.moment()
    name = known_asset(session, request.path_params["name"])
    partitions = session.graph[name].partitions
    if partitions is None:
        raise ValueError(f"asset '{name}' is unpartitioned: it has no partition positions")
    first = request.query_params.get("first") or None
    start = 0 if first is None else partitions.index(known_partition(session, name, first, now))
    position = start + _whole_number(request.query_params.get("index"), "index")
    if position >= partitions.count(now):
        raise NotFoundError(f"asset '{name}' has no partition at position {position} yet.")
    key = partitions.key(position)
    status = partition_status(session, name, key, now=now)  # not cached: would evict counts
    return {"asset": name, "partition": key, "state": status.state, "reason": status.reason}


def get_partition(state: UiState, request: Request, key: str | None = None) -> dict[str, Any]:
    session, now = state.session, state.moment()
    name = known_asset(session, request.path_params["name"])
    key = known_partition(session, name, request.path_params["key"] if key is None else key, now)
    status = partition_status(session, name, key, now=now)
    return {
        "asset": name,
        "partition": key,
        "state": status.state,
        "reason": status.reason,
        "attempts": [views.attempt_json(r) for r in partition_attempts(session, name, key)],
        "failed_checks": [views.check_json(c) for c in partition_failed_checks(session, name, key)],
    }


def get_preview(state: UiState, request: Request) -> dict[str, Any]:
    """The first rows of a partition's data: the current version, or with `as_of` (a run
    id or an ISO time) the version it had then."""
    session, now = state.session, state.moment()
    name = known_asset(session, request.path_params["name"])
    key = known_partition(session, name, request.path_params["key"], now)
    as_of = (request.query_params.get("as_of") or "").strip()
    if as_of:
        return _preview_as_of(session, name, key, as_of)
    recorded = session.catalog.state(name, key)
    if recorded is None or recorded.data_version is None:  # nothing published yet
        return {"columns": [], "rows": [], "total_rows": 0}
    return views.preview_json(session.read(name, key), PREVIEW_ROWS)


def get_data(state: UiState, request: Request) -> dict[str, Any]:
    """`/partitions/{key}/data`: the preview under the partition's own path. A key that
    itself ends in `/data` is the partition, not its data."""
    session, now = state.session, state.moment()
    name = known_asset(session, request.path_params["name"])
    key = request.path_params["key"]
    if _is_partition(session, name, f"{key}/data", now) and not _is_partition(
        session, name, key, now
    ):
        return get_partition(state, request, f"{key}/data")
    return get_preview(state, request)


def _is_partition(session: Session, asset: str, key: str, now: datetime) -> bool:
    try:
        known_partition(session, asset, key, now)
    except NotFoundError:
        return False
    return True


def _preview_as_of(session: Session, name: str, key: str | None, as_of: str) -> dict[str, Any]:
    """404 for an unknown run or no data then; PrunedError (410) when the version then is
    no longer kept, naming the partition."""
    from ..app.undo import parse_as_of

    run_id, moment = parse_as_of(as_of)
    if run_id is not None and session.catalog.get_run(run_id) is None:
        raise NotFoundError(f"no run has the id '{run_id}'. Run 'partita runs' to see them.")
    version = session.catalog.versions_as_of(name, run_id=run_id, moment=moment).get(key)
    try:
        table = session.read(name, key, as_of)
    except PartitionError as error:  # the partition had no data then
        raise NotFoundError(error.format()) from None
    except StorageError as error:  # its version then was pruned
        raise PrunedError(error.format()) from None
    payload = views.preview_json(table, PREVIEW_ROWS)
    payload["as_of"] = as_of
    payload["version"] = None if version is None else views.attempt_json(version)
    return payload


def list_runs(state: UiState, request: Request) -> dict[str, Any]:
    return runs_payload(state.session, runs_limit(request))


def runs_limit(request: Request) -> int:
    """The `limit` parameter of the run history (400 when not a positive number)."""
    return _positive_int(request.query_params.get("limit"), DEFAULT_RUNS, "limit")


def runs_payload(session: Session, limit: int) -> dict[str, Any]:
    """The run history, newest first; durations of running runs are about the clock."""
    now = datetime.now(UTC)
    return {"runs": [views.run_json(run, now) for run in session.runs(limit)]}


def get_run(state: UiState, request: Request) -> dict[str, Any]:
    return run_payload(state.session, request.path_params["run_id"])


def run_payload(session: Session, run_id: str) -> dict[str, Any]:
    """One run with its units and, while it runs, the units in progress; NotFoundError
    for an unknown run."""
    detail = run_detail(session, run_id)
    payload = views.run_json(detail.run, datetime.now(UTC))
    payload["units"] = [views.run_unit_json(r) for r in detail.attempts[:RUN_UNITS_LIMIT]]
    payload["units_total"] = len(detail.attempts)
    payload["in_progress"] = [{"asset": a, "partition": p} for a, p in detail.in_progress]
    return payload


def get_freshness(state: UiState, request: Request) -> dict[str, Any]:
    now = state.moment()
    results = state.session.freshness(now=now)
    return {"now": now.isoformat(), "assets": [views.freshness_json(r) for r in results]}


def _whole_number(value: str | None, name: str) -> int:
    if value is None or not value.isdigit():
        raise ValueError(f"'{name}' must be a whole number (0 or more), not {value!r}")
    return int(value)


def _positive_int(value: str | None, default: int, name: str) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"'{name}' must be a positive whole number, not {value!r}")
    return int(value)


ROUTES = [
    Route("/api/assets", json_route(list_assets)),
    Route("/api/assets/{name}", json_route(get_asset)),
    Route("/api/assets/{name}/partitions", json_route(get_partitions)),
    Route("/api/assets/{name}/watermark", json_route(get_watermark)),
    Route("/api/assets/{name}/partition-at", json_route(get_partition_at)),
    Route("/api/assets/{name}/preview/{key:path}", json_route(get_preview)),
    Route("/api/assets/{name}/partitions/{key:path}/data", json_route(get_data)),
    Route("/api/assets/{name}/partitions/{key:path}", json_route(get_partition)),
    Route("/api/runs", json_route(list_runs)),
    Route("/api/runs/{run_id}", json_route(get_run)),
    Route("/api/freshness", json_route(get_freshness)),
]
