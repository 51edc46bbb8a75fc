"""URLs with credentials: what output, logs and run records may show of them."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

# scheme://user:password@  (the password is everything up to the last @ of the authority)
_CREDENTIALS = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^\s/]*)@", re.I)


def redact(url: str) -> str:
    """The URL with its password (if any) replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{_host(parts)}"))


def redact_urls(text: str) -> str:
    """`text` with the password of every URL in it replaced by `***`."""
    return _CREDENTIALS.sub(lambda m: f"{m.group('head')}***@", text)


def scrub(text: str, url: str) -> str:
    """`text` with the URL's password removed, wherever a driver message repeated it."""
    password = urlsplit(url).password
    if not password:
        return redact_urls(text)
    return redact_urls(text.replace(url, redact(url))).replace(password, "***")


def without_password(url: str) -> str:
    """The URL with no password at all: what may travel to other machines (a worker then
    takes the password from its own settings, the PG* variables or ~/.pgpass)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}{_host(parts)}"))


def _host(parts: SplitResult) -> str:
    """HOST or HOST:PORT of a split URL."""
    host = parts.hostname or ""
    return host if parts.port is None else f"{host}:{parts.port}"
