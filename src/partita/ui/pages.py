"""The page and its static files, served from this package only.

Every page path answers with the same HTML shell (the script renders the page from the
JSON API); the shell carries the server's token. Static files are a fixed list of names
read from the package: a request for anything else, `../` included, is a 404.
"""

from __future__ import annotations

import html
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

# The only files served under /static/, with their media types.
STATIC_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "graph.js": "text/javascript; charset=utf-8",
    "asset.js": "text/javascript; charset=utf-8",
    "runs.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
# The page paths the script knows how to render.
PAGE_PATHS = (
    "/",
    "/assets/{name}",
    "/assets/{name}/partitions/{key:path}",
    "/runs",
    "/runs/{run_id}",
    "/freshness",
)
SECURITY_HEADERS = {
    # Only this server's own script and style; no inline script, no framing.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _package_text(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def page(request: Request) -> HTMLResponse:
    """The HTML shell with the token and the starting selection, escaped."""
    state = request.app.state.ui
    body = (
        _package_text("index.html")
        .replace("{{token}}", html.escape(state.token, quote=True))
        .replace("{{selection}}", html.escape(" ".join(state.selection), quote=True))
    )
    return HTMLResponse(body, headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})


def static(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        return PlainTextResponse("not found", status_code=404)
    return Response(_package_text(name), media_type=media_type, headers=SECURITY_HEADERS)


ROUTES = [
    *(Route(path, page) for path in PAGE_PATHS),
    Route("/static/{name:path}", static),
]
