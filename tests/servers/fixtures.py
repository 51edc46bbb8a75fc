"""Session fixtures of the real servers (registered by `tests/conftest.py`).

Each starts on first use, once per test session (once per xdist worker), and is stopped by
its pid when the session ends. A server that cannot start fails the test with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .dask import DaskServers
from .postgres import PostgresServer
from .s3 import S3Server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _dask_servers(postgres_server: PostgresServer, _s3_server: S3Server) -> Iterator[DaskServers]:
    # The workers' own credentials for the catalog (the PG* variables: a job's catalog URL
    # never carries a password) and for the S3 server (the AWS_* variables).
    servers = DaskServers({"PGPASSWORD": postgres_server.password, **_s3_server.env})
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def dask_servers(_dask_servers: DaskServers) -> DaskServers:
    """The session's Dask scheduler, with its two workers alive (a test may kill one)."""
    _dask_servers.ensure_workers()
    return _dask_servers


@pytest.fixture(scope="session")
def _s3_server() -> Iterator[S3Server]:
    server = S3Server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_server(_s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The session's S3 server, with the AWS variables pointing at it for this test."""
    for name, value in _s3_server.env.items():
        monkeypatch.setenv(name, value)
    return _s3_server
