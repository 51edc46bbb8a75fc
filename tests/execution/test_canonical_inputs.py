"""What a downstream asset receives does not depend on where its upstream came from: the
in-run cache (upstream built in the same run) or storage (an earlier run). Issue 17,
point 2: Parquet stores `timestamp[s]` as milliseconds, so a cached table that was not
what storage reads back changed downstream outputs and data versions."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partita import DuckDB, Parquet, asset
from partita.execution.unit import UnitJob, Workspace
from partita.graph.graph import build_graph
from partita.planning.staleness import UpstreamRead

TYPES = [
    *[pa.timestamp(unit, tz) for unit in ("s", "ms", "us", "ns") for tz in (None, "Europe/Paris")],
    pa.date32(),
    pa.date64(),
    pa.time32("s"),
    pa.time32("ms"),
    pa.time64("ns"),
    pa.large_string(),
    pa.string(),
    pa.int32(),
]


def column(data_type: pa.DataType, values: list[int | None]) -> pa.Array:
    """Values of `data_type` built from small integers (whole days for dates, whole
    seconds for timestamps)."""
    if pa.types.is_timestamp(data_type):
        scale = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[data_type.unit]
        values = [None if v is None else v * 1000 * scale for v in values]
    if pa.types.is_date64(data_type):
        values = [None if v is None else v * 86_400_000 for v in values]
    if pa.types.is_time64(data_type) and data_type.unit == "ns":
        values = [None if v is None else v * 1000 for v in values]
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return pa.array([None if v is None else f"v{v}" for v in values], data_type)
    return pa.array(values, data_type)


def build(storage, source: dict[str, pa.Table]):
    @asset(storage=storage)
    def events() -> pa.Table:
        return source["table"]

    @asset
    def summary(events: pa.Table) -> pa.Table:
        # As a user would, print the first column (its text shows units and zones).
        return events.append_column("text", pc.cast(events.column(0), pa.string()))

    return build_graph([events, summary])


def run_downstream(workspace: Workspace, version: str, run_id: str) -> tuple[str, pa.Table]:
    job = UnitJob(
        "summary", None, None, (UpstreamRead("events", None, version, "events"),), run_id, None
    )
    outcome = workspace.execute(job)
    assert outcome.succeeded, outcome.error
    return outcome.data_version, workspace.storage("summary").read(None)


@pytest.mark.parametrize("storage", [Parquet(), DuckDB()], ids=["parquet", "duckdb"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data_type=st.sampled_from(TYPES),
    values=st.lists(st.none() | st.integers(0, 80_000), min_size=1, max_size=5),
)
def test_a_downstream_gets_the_same_input_from_the_cache_and_from_storage(
    storage, data_type: pa.DataType, values: list[int | None]
) -> None:
    source = {"table": pa.table({"t": column(data_type, values), "n": range(len(values))})}
    graph = build(storage, source)
    with tempfile.TemporaryDirectory() as folder:
        warehouse = Path(folder)
        same_run = Workspace(graph, warehouse)
        upstream = same_run.execute(UnitJob("events", None, None, (), "run-1", None))
        assert upstream.succeeded, upstream.error
        built_together = run_downstream(same_run, upstream.data_version, "run-1")
        same_run.close()

        later_run = Workspace(graph, warehouse)  # forced alone: the upstream from storage
        built_alone = run_downstream(later_run, upstream.data_version, "run-2")
        later_run.close()

    assert built_alone[0] == built_together[0]
    assert built_alone[1].equals(built_together[1])
    assert [str(f.type) for f in built_alone[1].schema] == [
        str(f.type) for f in built_together[1].schema
    ]


@pytest.mark.parametrize("storage", [Parquet(), DuckDB()], ids=["parquet", "duckdb"])
@pytest.mark.parametrize(
    "first, second",
    [
        (pa.timestamp("us", tz="UTC"), pa.timestamp("us", tz="America/New_York")),
        (pa.string(), pa.large_string()),
        (pa.timestamp("ms"), pa.timestamp("ns")),
    ],
    ids=["zones", "strings", "units"],
)
def test_partitions_the_writer_accepts_read_back_as_one_table(
    tmp_path: Path, storage, first: pa.DataType, second: pa.DataType
) -> None:
    """Issue 17, point 4: these published, then every read of the asset failed."""
    from partita import StaticPartitions

    tables = {"a": column(first, [1_700_000]), "b": column(second, [1_700_000])}

    @asset(partitions=StaticPartitions(["a", "b"]), storage=storage)
    def readings(context) -> pa.Table:
        return pa.table({"t": tables[context.partition_key]})

    workspace = Workspace(build_graph([readings]), tmp_path)
    for index, key in enumerate(["a", "b"]):
        outcome = workspace.execute(UnitJob("readings", key, index, (), "run-1", None))
        assert outcome.succeeded, outcome.error
    workspace.close()
    read = workspace.storage("readings").read(None)
    assert read.num_rows == 2
    assert read.column("t")[0] == read.column("t")[1]


WHERE_BUILT = """
import pyarrow as pa
from partita import DailyPartitions, asset

DAYS = DailyPartitions(start="2024-01-01")


@asset(partitions=DAYS)
def events(context):
    second = 1_704_067_200 + 86_400 * int(context.partition_key[-2:])
    return pa.table({"t": pa.array([second], pa.timestamp("s"))})


@asset(partitions=DAYS)
def as_number(events: pa.Table) -> pa.Table:
    return pa.table({"n": events["t"].cast(pa.int64())})
"""


def downstream_numbers(project) -> list[int]:
    status = project.cli("status", "--json", "--now", "2024-01-05", check=0).json()
    assert all(a["fresh"] == 4 for a in status["assets"]), status
    return project.load().read("as_number", ("2024-01-01", "2024-01-04"))["n"].tolist()


@pytest.mark.parametrize(
    "how",
    [["--workers", "2"], ["--workers", "1"], "upstream first"],
    ids=["another-worker", "same-process", "earlier-run"],
)
def test_a_downstream_stores_the_same_whether_its_upstream_ran_here_elsewhere_or_before(
    project, how
) -> None:
    project.write("assets/where.py", WHERE_BUILT)
    now = ("--now", "2024-01-05")
    if how == "upstream first":
        project.cli("materialize", "events", *now, check=0)
        project.cli("materialize", "as_number", *now, check=0)
    else:
        project.cli("materialize", *now, *how, check=0)
    numbers = downstream_numbers(project)
    # What a later read of `events` gives, cast the same way (microseconds, not seconds).
    stored = project.load().read("events", ("2024-01-01", "2024-01-04"))["t"]
    assert numbers == [int(t.value // 1_000) for t in stored]
