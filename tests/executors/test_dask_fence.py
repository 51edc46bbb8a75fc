"""The publish guard of Dask tasks, on a real scheduler and worker: once the coordinator
fenced a task's key (its timeout), or cancelled it (Ctrl-C; or the coordinator went away),
that task's guard refuses, although its run still holds the unit's lease; other tasks of
the same run publish."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from distributed import Client
from processes import wait_for

from partita.catalog import open_catalog
from partita.execution.publishing import LeaseGuard, LeaseLostError
from partita.executors.dask_timeouts import FENCED_TOPIC, FencedGuard


@pytest.mark.parametrize("stopped", ["fenced", "cancelled", None])
def test_a_fenced_or_cancelled_task_cannot_publish_while_its_run_holds_the_lease(
    tmp_path, dask_servers, stopped
) -> None:
    warehouse = tmp_path / "warehouse"
    with open_catalog(warehouse) as catalog:
        run_id = catalog.start_run("test", datetime.now(UTC))
        assert catalog.acquire_lease("slow", None, run_id, datetime.now(UTC), 30.0) is None
    gate, answer = tmp_path / "gate", tmp_path / "answer"

    def guarded_publish(warehouse: str, run_id: str, gate: str, answer: str) -> None:
        """On a worker: wait until `gate` exists, then ask the guard (as a write would) and
        write its answer to `answer`. Nested, so that Dask sends it by value to workers
        that cannot import tests."""
        from pathlib import Path

        Path(f"{answer}.started").touch()
        while not Path(gate).exists():
            time.sleep(0.05)
        with open_catalog(Path(warehouse)) as catalog:
            guard = FencedGuard(LeaseGuard(catalog), frozenset({"slow"}))
            try:
                guard("slow", None, run_id)
                text = "published"
            except LeaseLostError as error:
                text = str(error)
        Path(f"{answer}.tmp").write_text(text)
        Path(f"{answer}.tmp").replace(answer)  # whole, or not there yet

    with Client(dask_servers.address, timeout=30) as client:
        future = client.submit(
            guarded_publish, str(warehouse), run_id, str(gate), str(answer), pure=False
        )
        wait_for(Path(f"{answer}.started").exists, what="the task to begin")
        if stopped == "fenced":
            client.log_event(FENCED_TOPIC, future.key)
        elif stopped == "cancelled":
            client.cancel([future], force=True)
        gate.touch()
        wait_for(answer.exists, what="the task's answer")
    assert (
        answer.read_text()
        == {
            "fenced": f"asset 'slow': not published: it ran past its timeout and run {run_id}"
            " stopped waiting for it.",
            "cancelled": f"asset 'slow': not published: run {run_id} no longer wants it (its"
            " coordinator stopped or went away).",
            None: "published",
        }[stopped]
    )
