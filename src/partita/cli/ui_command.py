"""`partita ui`: serve the local web page and JSON API (needs the `ui` extra)."""

from __future__ import annotations

import importlib.util

import click

from ..errors import UsageError
from .context import CliState, now_option, parse_now, selection_argument

UI_EXTRA_MODULES = ("starlette", "uvicorn")


@click.command("ui")
@selection_argument
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=3000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to serve on.",
)
@click.option(
    "--token",
    metavar="SECRET",
    envvar="PARTITA_UI_TOKEN",
    help="The token requests that change anything must carry (default: a random one per "
    "server, embedded in the page). Required with a --host other than loopback.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@now_option
@click.pass_obj
def ui_command(state: CliState, selection, host, port, token, open_browser, now) -> None:
    """Serve a local web page: the asset graph, partition health, runs as they happen,
    freshness, and materializing or backfilling from the page. Ctrl-C stops it.

    SELECTION is what the graph shows first (the filter box changes it). Binds to
    127.0.0.1 unless --host is given (then --token is required).
    """
    missing = [m for m in UI_EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"partita ui needs {' and '.join(missing)}, which are not installed. "
            "Install the ui extra: pip install 'partita[ui]'"
        )
    from ..ui.server import check_host, serve

    check_host(host, token)  # before loading the project: a refusal is immediate
    session = state.session
    if selection:
        session.select(list(selection))  # a bad selection fails now, not in the page
    serve(
        session,
        host=host,
        port=port,
        token=token,
        now=parse_now(now) if now else None,
        open_browser=open_browser,
        selection=selection,
    )
