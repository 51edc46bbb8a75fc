"""Fuzzing static partition keys and values through both storages: data round-trips, and
nothing outside the targeted partition changes, inside or outside the warehouse."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partita.storage.duckdb import DuckDBStorage
from partita.storage.parquet import ParquetStorage

from . import tree

BASE = "base"

keys = st.text(min_size=1, max_size=24).filter(lambda key: key != BASE)
values = st.lists(st.text(max_size=12) | st.none(), max_size=5)


def table_of(texts: list[str | None]) -> pa.Table:
    return pa.table(
        {"s": pa.array(texts, pa.string()), "n": pa.array(range(len(texts)), pa.int64())}
    )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=keys, texts=values, again=values)
def test_any_key_and_values_round_trip_without_touching_anything_else(
    key: str, texts: list[str | None], again: list[str | None]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        warehouse = root / "warehouse"
        warehouse.mkdir()
        (root / "neighbour.txt").write_text("outside")
        parquet = ParquetStorage(warehouse, "fuzzed", "partition")
        database = DuckDBStorage(warehouse, "fuzzed", "partition", None, None, "w.duckdb")
        base = table_of(["kept", None])
        for storage in (parquet, database):
            storage.write(BASE, base)
        base_files = tree(warehouse / "fuzzed")
        outside = tree(root, skip=("warehouse",))

        for data in (texts, again):  # a first write, then a replacement
            for storage in (parquet, database):
                storage.write(key, table_of(data))
                assert storage.read([key]).to_pylist() == table_of(data).to_pylist()
        for storage in (parquet, database):
            assert storage.read([BASE]).to_pylist() == base.to_pylist()
        # The base partition's file is untouched; only the key's own directory is new.
        files = tree(warehouse / "fuzzed")
        assert {name: files[name] for name in base_files} == base_files
        new = {name.split("/")[0] for name in set(files) - set(base_files)}
        assert len(new) == 1 and new.pop().startswith("partition=")
        assert sorted(parquet.read(None)["n"].to_pylist()) == sorted([*range(len(again)), 0, 1])
        assert tree(root, skip=("warehouse",)) == outside
        # The replaced version of the key is kept under `.history/fuzzed/` (none when the
        # replacement held the same data).
        kept = {p.relative_to(warehouse).parent for p in (warehouse / ".history").rglob("*")}
        assert kept <= {Path(".history"), Path(".history/fuzzed")}  # flat, no folders
        assert {p.name for p in warehouse.iterdir()} - {".history"} == {"fuzzed", "w.duckdb"} | {
            p.name for p in warehouse.iterdir() if p.name.startswith("w.duckdb.")
        }
        assert parquet.cleanup() == []
