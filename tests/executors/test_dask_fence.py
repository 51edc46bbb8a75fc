"""The fence of timed-out Dask tasks, on a real scheduler and worker: once the coordinator
fenced a task's key, that task's publish guard refuses, although its run still holds the
unit's lease; other tasks of the same run publish."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from distributed import Client

from partita.catalog import open_catalog
from partita.execution.publishing import LeaseGuard, LeaseLostError
from partita.executors.dask_timeouts import FENCED_TOPIC, FencedGuard


@pytest.mark.parametrize("fenced", [True, False])
def test_a_fenced_task_cannot_publish_while_its_run_holds_the_lease(
    tmp_path, dask_servers, fenced
) -> None:
    warehouse = tmp_path / "warehouse"
    with open_catalog(warehouse) as catalog:
        run_id = catalog.start_run("test", datetime.now(UTC))
        assert catalog.acquire_lease("slow", None, run_id, datetime.now(UTC), 30.0) is None
    gate = tmp_path / "gate"

    def guarded_publish(warehouse: str, run_id: str, gate: str) -> str:
        """On a worker: wait until `gate` exists, then ask the guard (as a write would).
        Nested, so that Dask sends it by value to workers that cannot import tests."""
        from pathlib import Path

        while not Path(gate).exists():
            time.sleep(0.05)
        with open_catalog(Path(warehouse)) as catalog:
            guard = FencedGuard(LeaseGuard(catalog), frozenset({"slow"}))
            try:
                guard("slow", None, run_id)
            except LeaseLostError as error:
                return str(error)
        return "published"

    with Client(dask_servers.address, timeout=30) as client:
        future = client.submit(guarded_publish, str(warehouse), run_id, str(gate), pure=False)
        if fenced:
            client.log_event(FENCED_TOPIC, future.key)
        gate.touch()
        answer = future.result(timeout=60)
    if fenced:
        assert answer == (
            "asset 'slow': not published: it ran past its timeout and run"
            f" {run_id} stopped waiting for it."
        )
    else:
        assert answer == "published"
