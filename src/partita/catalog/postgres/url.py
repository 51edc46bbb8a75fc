"""PostgreSQL catalog URLs: recognising them, and showing them without their password."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")


def is_postgres_url(text: str) -> bool:
    """Whether `text` names a PostgreSQL catalog (`postgresql://...`)."""
    return urlsplit(text).scheme in SCHEMES


def redact(url: str) -> str:
    """The URL with its password (if any) replaced by `***`: what output and logs show."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def scrub(text: str, url: str) -> str:
    """`text` with the URL's password removed, wherever a driver message repeated it."""
    password = urlsplit(url).password
    if not password:
        return text
    return text.replace(url, redact(url)).replace(password, "***")
