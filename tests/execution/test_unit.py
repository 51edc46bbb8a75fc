"""A unit's execution split between a worker and its coordinator: data in a storage only one
process may open (a DuckDB file) is read and written by the coordinator, so workers never
open the file the coordinator holds for the run."""

from __future__ import annotations

import pyarrow as pa
import pytest

from partita.execution.publishing import LeaseLostError
from partita.execution.unit import UnitJob, Workspace
from partita.planning.staleness import UpstreamRead

PROJECT = """
import pyarrow as pa
from partita import DailyPartitions, DuckDB, asset

DAILY = DailyPartitions(start="2024-01-01")


@asset(partitions=DAILY, storage=DuckDB(table="totals"))
def totals(context):
    return pa.table({"day": [int(context.partition_key[-2:])]})


@asset(partitions=DAILY)
def doubled(totals: pa.Table) -> pa.Table:
    return pa.table({"twice": [2 * day for day in totals["day"].to_pylist()]})
"""

DAY = "2024-01-03"


@pytest.fixture
def loaded(project):
    project.write("assets/numbers.py", PROJECT)
    return project.load()


def workspaces(loaded) -> tuple[Workspace, Workspace]:
    """The coordinator's workspace and a worker's (which runs jobs for it)."""
    coordinator = Workspace(loaded.graph, loaded.warehouse, root=loaded.root)
    worker = Workspace(loaded.graph, loaded.warehouse, root=loaded.root, remote=True)
    return coordinator, worker


def job(loaded, asset: str, reads: tuple[UpstreamRead, ...] = ()) -> UnitJob:
    index = loaded.graph[asset].partitions.index(DAY)
    return UnitJob(asset, DAY, index, reads, run_id="run-1", previous_watermark=None)


def test_a_worker_leaves_a_duckdb_write_to_the_coordinator(loaded) -> None:
    coordinator, worker = workspaces(loaded)
    database = loaded.warehouse / "warehouse.duckdb"

    computed = worker.execute(job(loaded, "totals"))

    assert computed.succeeded and computed.pending is not None
    assert computed.data_version is None
    assert not database.exists()  # the worker never opened the file

    published = coordinator.finish(job(loaded, "totals"), computed)
    coordinator.close()

    assert published.pending is None and published.rows == 1
    assert coordinator.storage("totals").read([DAY]).column("day").to_pylist() == [3]
    inline, _ = workspaces(loaded)
    again = inline.execute(job(loaded, "totals"))
    inline.close()  # a held DuckDB file is closed before the test ends
    assert again.data_version == published.data_version


def test_a_worker_reads_a_duckdb_upstream_from_what_the_coordinator_sent(loaded) -> None:
    coordinator, worker = workspaces(loaded)
    written = coordinator.execute(job(loaded, "totals"))
    coordinator.close()
    reads = (UpstreamRead("totals", DAY, written.data_version, "totals"),)

    sent = coordinator.with_inputs(job(loaded, "doubled", reads))
    coordinator.close()
    (loaded.warehouse / "warehouse.duckdb").rename(loaded.warehouse / "moved.duckdb")
    outcome = worker.execute(sent)

    assert [asset for asset, _ in sent.inputs] == ["totals"]
    assert outcome.succeeded, outcome.error
    assert outcome.pending is None  # Parquet: the worker writes it itself
    assert worker.storage("doubled").read([DAY]).column("twice").to_pylist() == [6]


def test_a_parquet_upstream_is_not_sent(loaded) -> None:
    coordinator, _ = workspaces(loaded)
    reads = (UpstreamRead("doubled", DAY, "v", "doubled"),)

    assert coordinator.with_inputs(job(loaded, "totals", reads)).inputs == ()


def test_a_publication_the_coordinator_refuses_fails_the_unit(loaded) -> None:
    coordinator, worker = workspaces(loaded)
    computed = worker.execute(job(loaded, "totals"))

    def refuse(asset, partition, run_id):
        raise LeaseLostError("lease taken over")

    coordinator.guard = refuse
    published = coordinator.finish(job(loaded, "totals"), computed)
    coordinator.close()

    assert not published.succeeded and published.lease_lost and published.pending is None
    assert "lease taken over" in published.error
    assert not coordinator.storage("totals").exists(DAY)


def test_a_table_survives_the_trip_between_processes(loaded) -> None:
    import pickle

    _, worker = workspaces(loaded)
    computed = worker.execute(job(loaded, "totals"))

    assert pickle.loads(pickle.dumps(computed)).pending.table.equals(computed.pending.table)
    assert isinstance(computed.pending.table, pa.Table)
