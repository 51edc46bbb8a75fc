"""Crash safety: `partita materialize` SIGKILLs itself at each fault point
(`PARTITA_FAULT=POINT@N`), and afterwards nothing published is lost, nothing partial is
visible, the catalog claims only data that is on disk, and the next run cleans up and
rebuilds exactly what was interrupted."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from partita.storage.encoding import data_version, encode_parquet, table_version

from . import leased_units, parquet_files, published_states, temporary_files

ASSETS = """
import pathlib

import pyarrow as pa
from partita import DailyPartitions, DuckDB, Parquet, asset

HERE = pathlib.Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"), storage={storage}, code_version="1")
def data(context):
    generation = int((HERE / "generation.txt").read_text())
    day = int(context.partition_key[-2:])
    return pa.table({{"day": [day] * 3, "v": [generation * 100 + day * 10 + i for i in range(3)]}})
"""

STORAGES = {"parquet": "Parquet()", "duckdb": "DuckDB()"}
PUBLISHED = ["2024-01-01", "2024-01-02", "2024-01-03"]  # complete at 2024-01-04
ALL_DAYS = [*PUBLISHED, "2024-01-04", "2024-01-05"]  # complete at 2024-01-06


def expected(generation: int, partition: str) -> pa.Table:
    """What the asset returns for a partition in a generation (as in ASSETS)."""
    day = int(partition[-2:])
    return pa.table({"day": [day] * 3, "v": [generation * 100 + day * 10 + i for i in range(3)]})


def version(generation: int, partition: str, storage: str) -> str:
    """The content hash each storage records: of the Parquet bytes, or of the Arrow data."""
    table = expected(generation, partition)
    return data_version(encode_parquet(table)) if storage == "parquet" else table_version(table)


def stored(project, storage: str) -> dict[str, object]:
    """partition -> what the warehouse holds: file bytes (Parquet) or rows (DuckDB)."""
    if storage == "parquet":
        files = parquet_files(project.warehouse, "data")
        return {name.split("/")[0].removeprefix("date="): body for name, body in files.items()}
    path = project.warehouse / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute(
            'SELECT "_partition", day, v FROM data ORDER BY "_partition", v'
        ).fetchall()
        recorded = {
            p for (p,) in connection.execute("SELECT partition FROM _partita_partitions").fetchall()
        }
    found: dict[str, object] = {}
    for partition, day, v in rows:
        found.setdefault(partition, []).append((day, v))
    assert set(found) == recorded, "bookkeeping and rows disagree"
    return found


def as_table(storage: str, value: object) -> pa.Table:
    if storage == "parquet":
        return pq.read_table(pa.BufferReader(value))
    days, values = zip(*value, strict=True)
    return pa.table({"day": list(days), "v": list(values)})


def generation_of(storage: str, partition: str, value: object) -> int:
    """Which generation the stored data of a partition is, checking it is whole."""
    table = as_table(storage, value)
    for generation in (1, 2):
        if table.to_pylist() == expected(generation, partition).to_pylist():
            return generation
    raise AssertionError(f"{partition} holds data of no generation: {table.to_pylist()}")


def assert_catalog_truthful(project, storage: str) -> None:
    """Every partition the catalog says is published is on disk, whole; where no (dead)
    run holds its lease, its data version is exactly the data on disk."""
    data = stored(project, storage)
    leased = {partition for asset, partition in leased_units(project.root) if asset == "data"}
    for partition, (claimed, rows) in published_states(project.root, "data").items():
        assert partition in data, f"the catalog claims {partition}, which is not on disk"
        generation = generation_of(storage, partition, data[partition])
        assert rows == 3
        if partition not in leased:
            assert claimed == version(generation, partition, storage), partition
            if storage == "parquet":
                assert data_version(data[partition]) == claimed


def assert_dataset_readable(project) -> None:
    """Readers of the hive dataset see only whole files."""
    root = project.warehouse / "data"
    assert pq.read_table(root).num_rows == 3 * len(list(root.glob("*/*.parquet")))
    for path in root.glob("*/*.parquet"):
        assert path.name == "part-0.parquet"
        pq.read_table(path)
    with duckdb.connect() as connection:
        count = connection.execute(
            "SELECT count(*) FROM read_parquet(?, hive_partitioning = true)",
            [str(root / "*" / "*.parquet")],
        ).fetchone()[0]
    assert count == 3 * len(list(root.glob("*/*.parquet")))


@pytest.mark.parametrize(
    ("point", "storage"),
    [
        ("asset", "parquet"),
        ("asset", "duckdb"),
        ("parquet-write", "parquet"),
        ("duckdb-transaction", "duckdb"),
        ("before-catalog-commit", "parquet"),
        ("before-catalog-commit", "duckdb"),
    ],
)
def test_a_run_killed_at_a_fault_point_loses_nothing(project, point: str, storage: str) -> None:
    project.write("assets/data.py", ASSETS.format(storage=STORAGES[storage]))
    generation = project.root / "assets" / "generation.txt"
    generation.write_text("1")
    project.cli("materialize", "--now", "2024-01-04", check=0)
    before = stored(project, storage)
    assert sorted(before) == PUBLISHED

    # Rebuild everything with new data; die the second time the point is reached (2024-01-02).
    generation.write_text("2")
    killed = project.cli(
        "materialize", "--force", "--now", "2024-01-06", env={"PARTITA_FAULT": f"{point}@2"}
    )
    assert killed.exit_code == -9, (killed.stdout, killed.stderr)

    after = stored(project, storage)
    assert sorted(after) == PUBLISHED  # nothing of the never-reached 2024-01-04/05
    assert generation_of(storage, "2024-01-01", after["2024-01-01"]) == 2  # done before the kill
    if point == "before-catalog-commit":
        # The new data was durable before the kill; the catalog was not told yet.
        assert generation_of(storage, "2024-01-02", after["2024-01-02"]) == 2
    else:
        assert after["2024-01-02"] == before["2024-01-02"]
    assert after["2024-01-03"] == before["2024-01-03"]
    assert leased_units(project.root) == {("data", "2024-01-02")}  # the dead run's intent
    assert_catalog_truthful(project, storage)
    if storage == "parquet":
        assert_dataset_readable(project)
        leftovers = temporary_files(project.warehouse)
        if point == "parquet-write":
            assert [p.parent.name for p in leftovers] == ["date=2024-01-02"]
            assert f".{killed_pid(leftovers[0])}." in leftovers[0].name
        else:
            assert leftovers == []

    rerun = project.cli("materialize", "--now", "2024-01-06", "--json", check=0).json()
    materialized = {r["partition"] for r in rerun["results"] if r["status"] == "materialized"}
    # The unit in flight when the run died, and the ones it never reached.
    assert materialized == {"2024-01-02", "2024-01-04", "2024-01-05"}
    assert {r["partition"] for r in rerun["results"]} == set(ALL_DAYS)
    final = stored(project, storage)
    assert sorted(final) == ALL_DAYS
    assert final["2024-01-03"] == before["2024-01-03"]  # up to date, never touched
    assert generation_of(storage, "2024-01-02", final["2024-01-02"]) == 2
    assert temporary_files(project.warehouse) == []
    assert leased_units(project.root) == set()
    assert set(published_states(project.root, "data")) == set(ALL_DAYS)
    assert_catalog_truthful(project, storage)
    if storage == "parquet":
        assert_dataset_readable(project)


def killed_pid(temporary) -> int:
    """The writer pid in a temporary file name `.part-0.parquet.PID.HEX.tmp`."""
    return int(temporary.name.split(".")[-3])
