"""Schema drift: a partition whose columns or types differ from the published ones fails,
naming them (Parquet and DuckDB); with `schema="evolve"` new nullable columns are added,
to a DuckDB table in the write's own transaction."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq

from . import parquet_files

NOW = "2024-01-04T00:00:00+00:00"

ASSETS = """
import pathlib

import pyarrow as pa
from partita import DuckDB, StaticPartitions, asset

HERE = pathlib.Path(__file__).parent
KEYS = StaticPartitions(["a", "b"])


def shaped(context):
    shape = (HERE / "shape.txt").read_text()
    columns = {"id": pa.array([1, 2], pa.int64()), "name": pa.array(["x", "y"])}
    if shape == "retyped":
        columns["id"] = pa.array(["1", "2"])
    elif shape == "dropped":
        del columns["name"]
    elif shape == "extra":
        columns["score"] = pa.array([0.5, 1.5])
    return pa.table(columns)


@asset(partitions=KEYS)
def strict_pq(context):
    return shaped(context)


@asset(partitions=KEYS, storage=DuckDB())
def strict_db(context):
    return shaped(context)


@asset(partitions=KEYS, schema="evolve")
def evolve_pq(context):
    return shaped(context)


@asset(partitions=KEYS, storage=DuckDB(), schema="evolve")
def evolve_db(context):
    return shaped(context)
"""

STRICT = ["strict_pq", "strict_db"]


def columns_of(project, table: str) -> list[tuple[str, str]]:
    with duckdb.connect(str(project.warehouse / "warehouse.duckdb"), read_only=True) as db:
        return [(row[0], row[1]) for row in db.execute(f"DESCRIBE {table}").fetchall()]


def test_a_partition_with_other_columns_or_types_fails_naming_them(project) -> None:
    project.write("assets/shapes.py", ASSETS)
    shape = project.root / "assets" / "shape.txt"
    shape.write_text("base")
    loaded = project.load()
    assert not loaded.materialize(STRICT, "a").failed
    files = parquet_files(project.warehouse, "strict_pq")
    table_columns = columns_of(project, "strict_db")

    drifts = {
        "retyped": "changed type(s) id: int64 -> string",
        "dropped": "missing column(s) name",
        "extra": "new column(s) score",
    }
    for kind, described in drifts.items():
        shape.write_text(kind)
        report = loaded.materialize(STRICT, "b")
        assert [(r.asset, r.partition, r.status) for r in report.results] == [
            ("strict_db", "b", "failed"),
            ("strict_pq", "b", "failed"),
        ], kind
        for result in report.results:
            assert "has a schema that differs from its published partitions" in result.error
            assert described in result.error, (kind, result.error)
            assert "schema='evolve'" in result.error
        assert parquet_files(project.warehouse, "strict_pq") == files
        assert columns_of(project, "strict_db") == table_columns

    # The CLI says so too, and exits 1.
    cli = project.cli("materialize", *STRICT, "--partition", "b", "--now", NOW)
    assert cli.exit_code == 1
    assert "new column(s) score" in cli.stdout + cli.stderr
    assert "Traceback" not in cli.stderr


def test_evolve_adds_new_nullable_columns(project) -> None:
    project.write("assets/shapes.py", ASSETS)
    shape = project.root / "assets" / "shape.txt"
    shape.write_text("base")
    project.cli("materialize", "evolve_pq", "evolve_db", "--partition", "a", "--now", NOW, check=0)
    columns = columns_of(project, "evolve_db")
    assert [name for name, _ in columns] == ["id", "name", "_partition"]

    shape.write_text("extra")
    # Killed inside the DuckDB transaction (after the ALTER): the table is as it was.
    killed = project.cli(
        "materialize",
        "evolve_db",
        "--partition",
        "b",
        "--now",
        NOW,
        env={"PARTITA_FAULT": "duckdb-transaction"},
    )
    assert killed.exit_code == -9
    assert columns_of(project, "evolve_db") == columns

    project.cli("materialize", "evolve_pq", "evolve_db", "--partition", "b", "--now", NOW, check=0)
    assert [name for name, _ in columns_of(project, "evolve_db")] == [
        "id",
        "name",
        "_partition",
        "score",
    ]
    with duckdb.connect(str(project.warehouse / "warehouse.duckdb"), read_only=True) as db:
        rows = db.execute("SELECT _partition, id, score FROM evolve_db ORDER BY 1, 2").fetchall()
    assert rows == [("a", 1, None), ("a", 2, None), ("b", 1, 0.5), ("b", 2, 1.5)]
    old = pq.read_table(project.warehouse / "evolve_pq" / "partition=a" / "part-0.parquet")
    assert old.column_names == ["id", "name"]  # the published partition was not rewritten
    loaded = project.load()
    for asset in ("evolve_pq", "evolve_db"):
        frame = loaded.read(asset)
        assert frame["score"].isna().tolist() == [True, True, False, False], asset
        assert frame["id"].tolist() == [1, 2, 1, 2], asset
    # Dropping or retyping a column is not an addition: it still fails.
    shape.write_text("dropped")
    failed = project.cli("materialize", "evolve_pq", "evolve_db", "--force", "--now", NOW)
    assert failed.exit_code == 1
    assert "missing column(s)" in failed.stdout
