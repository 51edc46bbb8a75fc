"""Session fixtures of the real servers (registered by `tests/conftest.py`).

Each starts on first use, once per test session (once per xdist worker), and is stopped by
its pid when the session ends. A server that cannot start fails the test with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()
