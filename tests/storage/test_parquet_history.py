"""Parquet's history area: outside what hive readers of the asset see."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from partita.errors import StorageError
from partita.storage.history import HISTORY_FOLDER
from partita.storage.parquet import ParquetStorage


def test_hive_readers_never_see_kept_versions(tmp_path) -> None:
    warehouse = tmp_path / "warehouse"
    storage = ParquetStorage(warehouse, "sales", "date")
    old = storage.write("2024-01-01", pa.table({"id": [1]}))
    storage.write("2024-01-01", pa.table({"id": [2]}))
    storage.write("2024-01-02", pa.table({"id": [3]}))
    assert len(storage.retained_versions()) == 1
    asset = ds.dataset(warehouse / "sales", format="parquet", partitioning="hive")
    assert sorted(asset.to_table().column("id").to_pylist()) == [2, 3]
    everything = ds.dataset(warehouse, format="parquet")  # the whole warehouse, too
    assert sorted(everything.to_table().column("id").to_pylist()) == [2, 3]
    kept = list((warehouse / HISTORY_FOLDER / "sales").rglob("*"))
    assert [path.name for path in kept] == [f"date=2024-01-01~{old.data_version}.parquet"]


def test_a_kept_file_that_was_damaged_is_refused(tmp_path) -> None:
    storage = ParquetStorage(tmp_path, "sales", "date")
    old = storage.write("2024-01-01", pa.table({"id": [1]}))
    storage.write("2024-01-01", pa.table({"id": [2]}))
    path = storage.history.path("2024-01-01", old.data_version)
    path.write_bytes(path.read_bytes()[:-3] + b"xyz")
    with pytest.raises(StorageError, match="damaged"):
        storage.restore("2024-01-01", old.data_version)
    assert storage.read(["2024-01-01"]).column("id").to_pylist() == [2]


def test_a_kept_version_is_a_hard_link_to_the_replaced_file(tmp_path) -> None:
    storage = ParquetStorage(tmp_path, "sales", "date")
    old = storage.write("2024-01-01", pa.table({"id": [1]}))
    inode = (tmp_path / "sales" / "date=2024-01-01" / "part-0.parquet").stat().st_ino
    storage.write("2024-01-01", pa.table({"id": [2]}))
    kept = storage.history.path("2024-01-01", old.data_version)
    assert kept.stat().st_ino == inode  # no bytes copied
    assert storage.read_version("2024-01-01", old.data_version).column("id").to_pylist() == [1]


def test_without_hard_links_the_replaced_file_is_copied_whole(tmp_path, monkeypatch) -> None:
    import os

    def no_links(source, target, **kwargs):
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(os, "link", no_links)
    storage = ParquetStorage(tmp_path, "sales", "date")
    old = storage.write("2024-01-01", pa.table({"id": [1]}))
    storage.write("2024-01-01", pa.table({"id": [2]}))
    kept = storage.history.path("2024-01-01", old.data_version)
    assert kept.stat().st_nlink == 1  # a copy of its own
    assert storage.read_version("2024-01-01", old.data_version).column("id").to_pylist() == [1]
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no temporary left
    storage.restore("2024-01-01", old.data_version)
    assert storage.read(["2024-01-01"]).column("id").to_pylist() == [1]


def test_versions_kept_in_the_earlier_folder_layout_are_found_restored_and_pruned(
    tmp_path,
) -> None:
    storage = ParquetStorage(tmp_path, "sales", "date")
    folder = tmp_path / HISTORY_FOLDER / "sales" / "date=2024-01-01"  # as kept before

    def into_folder(version: str) -> None:
        folder.mkdir(exist_ok=True)
        storage.history.path("2024-01-01", version).rename(folder / f"{version}.parquet")

    one = storage.write("2024-01-01", pa.table({"id": [1]}))
    two = storage.write("2024-01-01", pa.table({"id": [2]}))
    into_folder(one.data_version)
    assert [v.data_version for v in storage.retained_versions()] == [one.data_version]
    assert storage.read_version("2024-01-01", one.data_version).column("id").to_pylist() == [1]
    storage.restore("2024-01-01", one.data_version)  # out of the folder, which goes
    assert storage.read(["2024-01-01"]).column("id").to_pylist() == [1]
    assert not folder.exists()

    into_folder(two.data_version)  # version 2, kept by the restore, moves to a folder
    storage.write("2024-01-01", pa.table({"id": [3]}))  # keeps version 1, flat
    kept = {v.data_version for v in storage.retained_versions()}
    assert kept == {one.data_version, two.data_version}
    for version in kept:
        assert storage.discard_version("2024-01-01", version) > 0
    assert storage.retained_versions() == [] and not folder.exists()


def test_a_partition_key_with_the_separator_in_it_is_kept_apart(tmp_path) -> None:
    storage = ParquetStorage(tmp_path, "sales", "key")
    for key in ("a~b", "a"):
        storage.write(key, pa.table({"id": [1]}))
        storage.write(key, pa.table({"id": [2]}))
    kept = sorted((v.partition, v.data_version) for v in storage.retained_versions())
    assert [partition for partition, _ in kept] == ["a", "a~b"]
    for partition, version in kept:
        assert storage.read_version(partition, version).column("id").to_pylist() == [1]


def test_unpartitioned_versions_are_kept_flat_too(tmp_path) -> None:
    storage = ParquetStorage(tmp_path, "totals", None)
    old = storage.write(None, pa.table({"id": [1]}))
    storage.write(None, pa.table({"id": [2]}))
    assert [(v.partition, v.data_version) for v in storage.retained_versions()] == [
        (None, old.data_version)
    ]
    assert storage.history.path(None, old.data_version).name == f"{old.data_version}.parquet"


def test_a_key_too_long_for_a_flat_name_is_kept_in_its_own_folder(tmp_path) -> None:
    storage = ParquetStorage(tmp_path, "sales", "key")
    key = "k" * 240  # its hive folder fits in a file name; with the version it would not
    old = storage.write(key, pa.table({"id": [1]}))
    storage.write(key, pa.table({"id": [2]}))
    assert [v.data_version for v in storage.retained_versions()] == [old.data_version]
    kept = storage.history.path(key, old.data_version)
    assert kept.parent.name == f"key={key}" and kept.is_file()
    assert storage.read_version(key, old.data_version).column("id").to_pylist() == [1]
    storage.restore(key, old.data_version)
    assert storage.read([key]).column("id").to_pylist() == [1]


def test_kept_files_of_another_partitioning_are_not_listed(tmp_path) -> None:
    partitioned = ParquetStorage(tmp_path, "sales", "date")
    partitioned.write("2024-01-01", pa.table({"id": [1]}))
    partitioned.write("2024-01-01", pa.table({"id": [2]}))
    history = tmp_path / HISTORY_FOLDER / "sales"
    (history / "date=%41~0123456789abcdef.parquet").write_bytes(b"")  # not partita's encoding
    assert ParquetStorage(tmp_path, "sales", None).retained_versions() == []
    assert ParquetStorage(tmp_path, "sales", "region").retained_versions() == []
    assert len(partitioned.retained_versions()) == 1
