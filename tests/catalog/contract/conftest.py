"""The backends the catalog contract suite runs against: adding one is adding a fixture param.

A backend (built from the test's tmp_path and request, to reach session servers) gives a
fresh location per test and knows how to open a catalog there (as this
process, or as another process identity, for the lease tests) and how to build a catalog
of each older schema version it must upgrade (for the migration tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest

from partita.catalog import Catalog
from partita.processes import ProcessIdentity

from .postgres_backend import PostgresBackend
from .sqlite_backend import SQLiteBackend


class Backend(Protocol):
    """What the contract suite needs of a catalog backend under test."""

    name: str
    old_versions: tuple[int, ...]  # older schemas a catalog may still have

    def open(self, process: ProcessIdentity | None = None) -> Catalog:
        """The catalog of this test (the same one on every call), leasing as `process`."""
        ...

    def create_old(self, version: int) -> None:
        """Make this test's catalog one of schema `version` holding `OLD_CONTENT`: a run
        `run-old` started at `T0`, two attempts of flights 2013-01-01 (materialized with
        data version `dv-old`, then failed), and for schema 2 and later a lease of
        airports by run `run-old` with heartbeat `T0`."""
        ...


BACKENDS = {"postgres": PostgresBackend, "sqlite": SQLiteBackend}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return BACKENDS[request.param](tmp_path, request)


@pytest.fixture
def fresh_catalog(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Callable[[], Catalog]:
    """Opens a new, empty catalog of the backend at each call (for hypothesis examples)."""
    return lambda: BACKENDS[backend.name](tmp_path_factory.mktemp("catalog"), request).open()


@pytest.fixture
def catalog(backend: Backend) -> Iterator[Catalog]:
    with backend.open() as opened:
        yield opened
