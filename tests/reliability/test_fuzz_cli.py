"""Fuzzing static partition keys, table names and values through the CLI (in process, for
speed): every run either materializes the key or fails cleanly, and nothing outside the
targeted partition changes, inside or outside the warehouse."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partita import load_project
from partita.cli.main import cli

from . import tree

BASE = "base"
ASSETS = """
import pandas as pd
from partita import DuckDB, StaticPartitions, asset

KEYS = StaticPartitions([{base!r}, {key!r}])


@asset(partitions=KEYS)
def parquet_side(context):
    return pd.DataFrame({{"key": [context.partition_key], "text": [{text!r}]}})


@asset(partitions=KEYS, storage=DuckDB(table={table!r}))
def duckdb_side(parquet_side):
    return parquet_side
"""

keys = st.text(min_size=1, max_size=16).filter(lambda key: key != BASE)
# Names the DuckDB declaration itself refuses (NUL, the reserved prefix) are left out.
tables = st.text(min_size=1, max_size=16).filter(
    lambda name: "\x00" not in name and not name.casefold().startswith("_partita_")
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=keys, table=tables, text=st.text(max_size=12))
def test_fuzzed_keys_and_names_through_the_cli_touch_only_their_partition(
    key: str, table: str, text: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "project"
        (root / "assets").mkdir(parents=True)
        (root / "pyproject.toml").write_text('[project]\nname = "fuzz"\nversion = "0"\n')
        (root.parent / "neighbour.txt").write_text("outside")
        source = ASSETS.format(base=BASE, key=key, text=text, table=table)
        (root / "assets" / "fuzzed.py").write_text(textwrap.dedent(source))
        runner = CliRunner()
        first = runner.invoke(cli, ["--project", str(root), "materialize", "--partition", BASE])
        assert first.exit_code == 0, first.output
        outside = tree(root.parent, skip=("project/warehouse",))
        base_files = tree(root / "warehouse" / "parquet_side")

        result = runner.invoke(cli, ["--project", str(root), "materialize", "--partition", key])

        # A crash would surface here as an exception (CliRunner swallows tracebacks).
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.exit_code in (0, 1, 2), result.output
        assert tree(root.parent, skip=("project/warehouse",)) == outside
        after = tree(root / "warehouse" / "parquet_side")
        assert {p: h for p, h in after.items() if p in base_files} == base_files
        if result.exit_code == 0:
            project = load_project(root)
            assert project.read("parquet_side", key)["text"].tolist() == [text]
            assert project.read("duckdb_side", key)["key"].tolist() == [key]
            assert sorted(project.read("duckdb_side")["key"]) == sorted([BASE, key])
