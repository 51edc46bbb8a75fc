"""Bad input never corrupts anything: usage errors exit 2 with a clear message and touch
nothing; broken data fails the unit that reads it, naming the file; odd partition values
and table names are stored safely; storage paths cannot leave the warehouse."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from . import CATALOG, catalog_rows, tree

NOW = "2024-01-04T00:00:00+00:00"  # 2024-01-01 .. 2024-01-03 are complete

ASSETS = """
import pyarrow as pa
from partita import DailyPartitions, asset

DAILY = DailyPartitions(start="2024-01-01")


@asset(partitions=DAILY)
def raw(context):
    return pa.table({"day": [context.partition_key] * 2, "v": [1, 2]})


@asset(partitions=DAILY)
def clean(raw):
    return raw
"""

ODD_KEYS = [
    "it's",
    'say "hi"',
    "a/b",
    "..",
    ".",
    "../../outside",
    "/etc/passwd",
    "nul\x00byte",
    "with  space ",
    "x'); DROP TABLE odd; --",
    "%2F",
    "back\\slash",
    "=eq",
    "*?[]",
    "ünï",
]

ODD = """
import pyarrow as pa
from partita import DuckDB, StaticPartitions, asset

KEYS = StaticPartitions([{keys}])


@asset(partitions=KEYS)
def odd_pq(context):
    return pa.table({{"key": [context.partition_key]}})


@asset(partitions=KEYS, storage=DuckDB(table='odd"; DROP TABLE odd_pq; --'))
def odd_db(context):
    return pa.table({{"key": [context.partition_key]}})


@asset(storage=DuckDB(table="it's \\"quoted\\""))
def quoted_table():
    return pa.table({{"x": [1]}})
"""


def outside_warehouse(project) -> dict[str, str]:
    """Every file of the test's folder except the warehouse."""
    return tree(project.root.parent, skip=("proj/warehouse",))


def everything_but_catalog(project) -> dict[str, str]:
    return tree(project.root.parent, skip=("proj/warehouse/.partita",))


def assert_clear_error(result, exit_code: int, *fragments: str) -> None:
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


@pytest.fixture
def published(project):
    project.write("assets/pipeline.py", ASSETS)
    (project.root.parent / "neighbour.txt").write_text("not partita's")
    project.cli("materialize", "--now", NOW, check=0)
    return project


def test_bad_arguments_exit_2_and_change_nothing(published) -> None:
    before = everything_but_catalog(published)
    runs = catalog_rows(published.root, "SELECT count(*) FROM runs")
    cases = [
        (["--partition", "2024-13-45"], "not a valid daily key"),
        (["--partition", "2023-12-31"], "lies outside its partitions"),
        (["--partition", "2024-03-01"], "is not complete"),
        (["--from", "2024-01-03", "--to", "2024-01-01"], "is after --to"),
        (["nope"], "'nope', which is not defined"),
        (["raw", "group:nope"], "no asset is in group 'nope'"),
    ]
    for arguments, message in cases:
        result = published.cli("materialize", *arguments, "--now", NOW, "--force")
        assert_clear_error(result, 2, "error: ", message)
    malformed = published.cli("materialize", "--now", "yesterday", "--force")
    assert_clear_error(malformed, 2, "'yesterday' is not an ISO date or time")
    assert everything_but_catalog(published) == before
    assert catalog_rows(published.root, "SELECT count(*) FROM runs") == runs


def test_a_catalog_of_a_newer_partita_is_refused(published) -> None:
    connection = sqlite3.connect(published.root / CATALOG)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    before = tree(published.root.parent)
    for command in (["materialize", "--now", NOW, "--force"], ["status", "--now", NOW]):
        result = published.cli(*command)
        assert_clear_error(result, 2, "written by a newer partita", "upgrade partita")
    assert tree(published.root.parent) == before


def test_a_corrupted_parquet_file_fails_the_reader_naming_it(published) -> None:
    broken = published.warehouse / "raw" / "date=2024-01-02" / "part-0.parquet"
    broken.write_bytes(b"this is not parquet" * 10)
    before = tree(published.root.parent, skip=("proj/warehouse/.partita",))
    result = published.cli(
        "materialize", "clean", "--partition", "2024-01-02", "--force", "--now", NOW, "--json"
    )
    assert result.exit_code == 1, result.stderr
    (unit,) = result.json()["results"]
    assert (unit["asset"], unit["partition"], unit["status"]) == ("clean", "2024-01-02", "failed")
    assert str(broken) in unit["error"]
    assert "corrupt or unreadable" in unit["error"]
    assert tree(published.root.parent, skip=("proj/warehouse/.partita",)) == before


def test_an_asset_returning_the_wrong_type_fails_its_unit(project) -> None:
    project.write(
        "assets/wrong.py",
        """
        from partita import asset


        @asset
        def wrong():
            return [{"a": 1}]
        """,
    )
    before = outside_warehouse(project)
    result = project.cli("materialize", "--json")
    assert result.exit_code == 1
    (unit,) = result.json()["results"]
    assert unit["status"] == "failed"
    assert "returned builtins.list" in unit["error"]
    assert "must return a pandas DataFrame, a pyarrow Table" in unit["error"]
    assert not (project.warehouse / "wrong").exists()
    assert outside_warehouse(project) == before


def test_odd_partition_values_and_table_names_are_stored_safely(project) -> None:
    keys = ", ".join(repr(key) for key in ODD_KEYS)
    project.write("assets/odd.py", ODD.format(keys=keys))
    (project.root.parent / "outside").mkdir()
    (project.root.parent / "outside" / "canary.txt").write_text("canary")
    before = outside_warehouse(project)
    report = project.cli("materialize", "--json", check=0).json()
    assert report["counts"]["materialized"] == 2 * len(ODD_KEYS) + 1

    loaded = project.load()
    assert loaded.graph["odd_pq"].partitions.partition_keys == tuple(ODD_KEYS)
    for key in ODD_KEYS:
        for asset in ("odd_pq", "odd_db"):
            assert loaded.read(asset, key)["key"].tolist() == [key], (asset, key)
    assert sorted(loaded.read("odd_pq")["key"]) == sorted(ODD_KEYS)
    # One directory per key, all inside the asset's folder.
    directories = list((project.warehouse / "odd_pq").iterdir())
    assert len(directories) == len(ODD_KEYS)
    assert all((d / "part-0.parquet").is_file() for d in directories)
    with duckdb.connect(str(project.warehouse / "warehouse.duckdb"), read_only=True) as db:
        tables = {
            name for (name,) in db.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        assert {'odd"; DROP TABLE odd_pq; --', 'it\'s "quoted"'} <= tables
        assert db.execute('SELECT x FROM "it\'s ""quoted"""').fetchall() == [(1,)]
    assert outside_warehouse(project) == before

    # Running again finds all of it up to date.
    again = project.cli("materialize", "--json", check=0).json()
    assert {r["status"] for r in again["results"]} == {"up_to_date"}


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        ('DuckDB(database="../outside.duckdb")', "must be a file name inside the warehouse"),
        (
            'DuckDB(database="/tmp/partita-absolute.duckdb")',
            "must be a file name inside the warehouse",
        ),
        ('DuckDB(database="sub/../../x.duckdb")', "no absolute path, no '..'"),
        ('Parquet(partition_column="../up")', "is not a plain column name"),
    ],
)
def test_storage_paths_that_would_leave_the_warehouse_are_rejected(
    project, storage: str, message: str
) -> None:
    project.write(
        "assets/escape.py",
        f"""
        import pyarrow as pa
        from partita import DuckDB, Parquet, StaticPartitions, asset


        @asset(partitions=StaticPartitions(["a"]), storage={storage})
        def escape():
            return pa.table({{"x": [1]}})
        """,
    )
    before = outside_warehouse(project)
    result = project.cli("materialize")
    assert_clear_error(result, 2, "error: ", message)
    assert outside_warehouse(project) == before
    assert not list(project.root.parent.rglob("*.duckdb"))


def test_a_symbolic_link_out_of_the_warehouse_is_not_followed(published) -> None:
    target = published.root.parent / "elsewhere"
    target.mkdir()
    clean = published.warehouse / "clean"
    for path in sorted(clean.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    clean.rmdir()
    clean.symlink_to(target, target_is_directory=True)
    before = outside_warehouse(published)
    result = published.cli("materialize", "clean", "--force", "--now", NOW, "--json")
    assert result.exit_code in (1, 2)
    assert "outside the warehouse" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert outside_warehouse(published) == before
    assert list(target.iterdir()) == []
