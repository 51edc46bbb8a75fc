"""The `partita ui` server: the page, the JSON API and the actions in one process.

It binds to loopback by default; another host needs an explicit `--token`, since the
token is then the only thing standing between the network and launching runs.
"""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
import threading
import webbrowser
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import UsageError
from . import api, live, pages
from .actions import Launcher, action_routes

if TYPE_CHECKING:
    from ..app.session import Session

LOOPBACK_NAMES = ("localhost",)
SHUTDOWN_GRACE_S = 5  # open event streams get this long to end on Ctrl-C


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback name or address (127.0.0.0/8, ::1, localhost)."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, token: str | None) -> None:
    """UsageError when binding to a non-loopback host without a token given."""
    if not is_loopback(host) and not token:
        raise UsageError(
            f"refusing to serve on {host}: anyone who can reach it could read the project's "
            "data and launch runs. Pass --token SECRET (requests that change anything must "
            "carry it), or keep the default --host 127.0.0.1."
        )


def build_app(
    session: Session,
    *,
    token: str | None = None,
    now: datetime | None = None,
    selection: Sequence[str] = (),
) -> Starlette:
    """The Starlette application over `session`; `now` fixes the time (None: the clock),
    `selection` is what the graph shows first."""
    launcher = Launcher()
    app = Starlette(
        routes=[*live.ROUTES, *api.ROUTES, *action_routes(launcher), *pages.ROUTES],
        exception_handlers={404: _not_found, 405: _not_allowed},
        lifespan=_lifespan,
    )
    app.state.ui = api.UiState(session, token or secrets.token_hex(16), now, tuple(selection))
    app.state.launcher = launcher
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """Where the server runs its lifespan (the test client does): clean up at the end."""
    try:
        yield
    finally:
        app.state.launcher.close()


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": f"nothing is at {request.url.path}"}, status_code=404)


async def _not_allowed(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"error": f"{request.method} is not allowed on {request.url.path}"}, status_code=405
    )


def serve(
    session: Session,
    *,
    host: str,
    port: int,
    token: str | None,
    now: datetime | None,
    open_browser: bool,
    selection: Sequence[str] = (),
) -> None:
    """Serve until Ctrl-C (or SIGTERM); prints the address first."""
    import uvicorn

    check_host(host, token)
    app = build_app(session, token=token, now=now, selection=selection)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    server = uvicorn.Server(config)
    app.state.ui.stopping = lambda: server.should_exit  # live streams end on Ctrl-C
    print(f"partita ui: serving {session.root} at {url} (Ctrl-C stops)", flush=True)
    threading.Thread(target=api.warm_cache, args=(app.state.ui,), daemon=True).start()
    if open_browser:
        webbrowser.open(url)
    # uvicorn shuts down on Ctrl-C or SIGTERM, then re-raises the signal it caught.
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
    finally:
        app.state.launcher.close()
    print("partita ui: stopped (runs started from the page go on)", flush=True)
