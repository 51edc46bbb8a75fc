"""Contract: a catalog of every older schema opens, upgrades and keeps what it held."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from partita.catalog import LeaseHolder

from .conftest import BACKENDS, Backend
from .helpers import T0, at, attempt

OLD_VERSIONS = [
    pytest.param(name, version, id=f"{name}-schema-{version}")
    for name, backend in sorted(BACKENDS.items())
    for version in backend.old_versions
]


@pytest.mark.parametrize(("name", "version"), OLD_VERSIONS)
def test_an_old_catalog_opens_and_keeps_its_content(
    name: str, version: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    backend: Backend = BACKENDS[name](tmp_path, request)
    backend.create_old(version)

    with backend.open() as catalog:
        if version == 0:
            assert (catalog.sequence(), catalog.runs(), catalog.all_states()) == (0, [], {})
            return
        assert [(run.run_id, run.started) for run in catalog.runs()] == [("run-old", T0)]
        assert [r.status for r in catalog.history()] == ["failed", "materialized"]
        state = catalog.state("flights", "2013-01-01")
        assert state is not None
        assert (state.last_status, state.data_version) == ("failed", "dv-old")
        # Sequences continue after the old history: the next attempt comes after it.
        assert catalog.sequence() == 2
        catalog.record(attempt(partition="2013-01-02"))
        assert catalog.state("flights", "2013-01-02").seq == 3  # type: ignore[union-attr]
        if version >= 2:
            # An old lease (its holder unknown on any host) holds while its heartbeat is fresh.
            assert catalog.lease_holder("airports", None) == LeaseHolder("run-old", 1)
            assert catalog.acquire_lease("airports", None, "run-new", T0, 30.0) is not None
            assert catalog.acquire_lease("airports", None, "run-new", at(1), 30.0) is None
            assert catalog.lease_holder("airports", None) == LeaseHolder("run-new", os.getpid())


def test_an_upgraded_catalog_opens_again(backend: Backend) -> None:
    version = max(backend.old_versions)
    backend.create_old(version)
    backend.open().close()
    with backend.open() as catalog:
        assert catalog.sequence() == (0 if version == 0 else 2)
