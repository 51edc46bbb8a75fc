"""The storage contract for `delete`: partitions (with their kept versions) go, others
stay, and a `before_commit` that fails deletes nothing."""

from __future__ import annotations

import pyarrow as pa
import pytest

from partita.errors import StorageError

from .conftest import KEEPING


def rows(ids: list[int], generation: int = 1) -> pa.Table:
    return pa.table({"id": ids, "amount": [float(i * generation) for i in ids]})


def test_delete_removes_the_partitions_and_keeps_the_others(kind, make_storage) -> None:
    storage = make_storage(kind)
    for number, key in enumerate(["2024-01-01", "2024-01-02", "2024-01-03"]):
        storage.write(key, rows([number]))
    calls = []
    storage.delete(
        ["2024-01-01", "2024-01-03", "2024-01-09"], before_commit=lambda: calls.append(1)
    )
    assert calls == [1]
    assert not storage.exists("2024-01-01") and not storage.exists("2024-01-03")
    assert storage.exists("2024-01-02")
    assert storage.read(None).to_pydict() == {"id": [1], "amount": [1.0]}
    storage.write("2024-01-01", rows([5]))  # a deleted partition can be written again
    assert storage.read(["2024-01-01"]).to_pydict() == {"id": [5], "amount": [5.0]}


def test_a_failing_before_commit_deletes_nothing(kind, make_storage) -> None:
    storage = make_storage(kind)
    storage.write("2024-01-01", rows([1]))

    def refuse() -> None:
        raise RuntimeError("the catalog refused")

    with pytest.raises(RuntimeError, match="the catalog refused"):
        storage.delete(["2024-01-01"], before_commit=refuse)
    assert storage.read(["2024-01-01"]).to_pydict() == {"id": [1], "amount": [1.0]}


def test_an_unpartitioned_asset_is_deleted_whole(kind, make_storage) -> None:
    storage = make_storage(kind, partitioned=False)
    storage.write(None, rows([1, 2]))
    storage.delete([None])
    assert not storage.exists(None)
    storage.delete([None])  # nothing left: a no-op


@pytest.mark.parametrize("kept_kind", KEEPING)
def test_delete_removes_the_kept_versions_of_the_partitions(kept_kind, make_storage) -> None:
    storage = make_storage(kept_kind)
    first = storage.write("2024-01-01", rows([1]))
    storage.write("2024-01-01", rows([1], generation=2))
    other = storage.write("2024-01-02", rows([2]))
    storage.write("2024-01-02", rows([2], generation=3))
    assert {v.partition for v in storage.retained_versions()} == {"2024-01-01", "2024-01-02"}
    storage.delete(["2024-01-01"])
    assert [v.partition for v in storage.retained_versions()] == ["2024-01-02"]
    with pytest.raises(StorageError):
        storage.read_version("2024-01-01", first.data_version)
    assert storage.read_version("2024-01-02", other.data_version).to_pydict() == {
        "id": [2],
        "amount": [2.0],
    }


@pytest.mark.parametrize("local_kind", ["parquet", "duckdb", "duckdb-merge"])
def test_delete_of_multi_dimensional_partitions_keeps_the_other_combinations(
    local_kind, make_storage
) -> None:
    storage = make_storage(local_kind, hive_key="date|region")
    storage.write("2024-01-01|eu", rows([1]))
    storage.write("2024-01-01|us", rows([2]))
    storage.delete(["2024-01-01|eu"])
    assert not storage.exists("2024-01-01|eu")
    assert storage.read(None).to_pydict() == {"id": [2], "amount": [2.0]}
