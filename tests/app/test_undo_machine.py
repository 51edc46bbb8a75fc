"""Random sequences of materialize, force, rollback and prune: every kept version reads
back exactly what was written, the version each partition last replaced stays kept until
a prune past its retention, and the current data always is the catalog's version."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from partita.app.requests import RunRequest, partition_range
from partita.app.session import open_session
from partita.app.undo import prune, rollback_targets, run_restores
from partita.storage.encoding import data_version, encode_parquet

NOW = datetime(2024, 1, 4, tzinfo=UTC)
DAYS = ["2024-01-01", "2024-01-02"]
ASSETS = """
import pathlib

import pyarrow as pa
from partita import DailyPartitions, DuckDB, Parquet, asset

ROOT = pathlib.Path(__file__).parent.parent


@asset(
    partitions=DailyPartitions(start="2024-01-01"),
    storage={storage},
    code_version="1",
    retain_versions=2,
)
def data(context):
    generation = int((ROOT / "generation.txt").read_text())
    return pa.table({{"day": [context.partition_key], "v": [generation]}})
"""


class UndoMachine(RuleBasedStateMachine):
    storage_kind = "Parquet()"

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="undo-machine-"))
        (self.root / "assets").mkdir()
        (self.root / "pyproject.toml").write_text('[project]\nname = "m"\nversion = "0"\n')
        (self.root / "assets" / "data.py").write_text(
            textwrap.dedent(ASSETS).format(storage=self.storage_kind)
        )
        self.session = open_session(self.root)
        self.generation = 0
        self.written: dict[tuple[str, str], int] = {}  # (partition, data version) -> generation
        self.runs: list[str] = []
        self.moment = NOW
        # partition -> the version its last replacing run or restore replaced, which must
        # be kept (retain_versions=2, 7 days) until a prune 8 days ahead
        self.last_replaced: dict[str, str] = {}

    def teardown(self) -> None:
        self.session.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def _materialize(self, partition: str, generation: int, force: bool) -> None:
        (self.root / "generation.txt").write_text(str(generation))
        before = self.session.catalog.state("data", partition)
        report = self.session.run(_request(partition, force))
        assert report.status == "succeeded"
        state = self.session.catalog.state("data", partition)
        if before is not None and before.data_version != state.data_version:
            self.runs.append(report.run_id)  # a run that replaced data: worth rolling back
            self.last_replaced[partition] = before.data_version
        self.written[(partition, state.data_version)] = generation

    @initialize()
    def three_versions_of_each_partition(self) -> None:
        for _ in range(3):
            for partition in DAYS:
                self.generation += 1
                self._materialize(partition, self.generation, force=True)

    @rule(partition=st.sampled_from(DAYS))
    def materialize_new_data(self, partition: str) -> None:
        self.generation += 1
        self._materialize(partition, self.generation, force=True)

    @rule(partition=st.sampled_from(DAYS))
    def force_the_same_data(self, partition: str) -> None:
        state = self.session.catalog.state("data", partition)
        if state is None:
            return
        self._materialize(partition, self.written[(partition, state.data_version)], force=True)

    @rule(which=st.integers(min_value=0, max_value=50))
    def roll_back_a_run(self, which: int) -> None:
        if not self.runs:
            return
        run_id = self.runs[which % len(self.runs)]
        targets = rollback_targets(self.session, run_id)
        before = self.session.catalog.states("data")
        report = run_restores(self.session, targets, f"rollback {run_id}")
        if any(result.status == "restored" for result in report.results):
            self.runs.append(report.run_id)
        for result in report.results:
            assert result.status in ("restored", "failed")
            if result.status == "failed":
                assert "not kept" in (result.error or "")
            replaced = before[result.partition].data_version
            if result.status == "restored" and replaced != result.data_version:
                self.last_replaced[result.partition] = replaced

    @rule(days=st.sampled_from([0, 3, 8]))
    def prune(self, days: int) -> None:
        prune(self.session, now=datetime.now(UTC) + timedelta(days=days))
        if days > 7:  # past the 7 days every replaced version is kept for
            self.last_replaced.clear()

    @invariant()
    def current_data_is_the_catalogs(self) -> None:
        storage = self.session.storage("data")
        for partition, state in self.session.catalog.states("data").items():
            generation = self.written[(partition, state.data_version)]
            table = storage.read([partition])
            assert table.column("v").to_pylist() == [generation]
            if self.storage_kind == "Parquet()":
                assert data_version(encode_parquet(table)) == state.data_version

    @invariant()
    def kept_versions_read_back_exactly(self) -> None:
        storage = self.session.storage("data")
        kept = storage.retained_versions()
        per_partition: dict[str | None, int] = {}
        for version in kept:
            generation = self.written[(version.partition, version.data_version)]
            table = storage.read_version(version.partition, version.data_version)
            assert table.to_pylist() == [{"day": version.partition, "v": generation}]
            per_partition[version.partition] = per_partition.get(version.partition, 0) + 1
        assert all(count <= 3 for count in per_partition.values())  # pruned after each run

    @invariant()
    def the_last_replaced_version_is_kept(self) -> None:
        kept = {
            (v.partition, v.data_version) for v in self.session.storage("data").retained_versions()
        }
        states = self.session.catalog.states("data")
        for partition, version in self.last_replaced.items():
            if states[partition].data_version != version:  # not current again
                assert (partition, version) in kept, (partition, version)


def _request(partition: str, force: bool) -> RunRequest:
    return RunRequest(
        selection=("data",),
        partitions=partition_range(partition),
        now=NOW,
        force=force,
        command="machine",
    )


class DuckDBUndoMachine(UndoMachine):
    storage_kind = "DuckDB()"


_SETTINGS = settings(
    max_examples=15,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize("machine", [UndoMachine, DuckDBUndoMachine])
def test_undo_state_machine(machine) -> None:
    run = machine.TestCase
    run.settings = _SETTINGS
    run().runTest()
