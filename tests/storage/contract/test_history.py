"""The history contract: every storage that replaces partitions keeps the replaced
version, reads it back, restores it atomically and discards it on request."""

from __future__ import annotations

import pyarrow as pa
import pytest

from partita.errors import StorageError

from .conftest import KEEPING

DAY = "2024-01-01"


def sales(ids: list[int], generation: int = 1) -> pa.Table:
    return pa.table({"id": ids, "amount": [float(i * generation) for i in ids]})


@pytest.fixture(params=KEEPING)
def replacing(request) -> str:
    return request.param


@pytest.mark.parametrize("partitioned", [True, False])
def test_a_replaced_version_is_kept_and_reads_back(replacing, make_storage, partitioned) -> None:
    storage = make_storage(replacing, partitioned=partitioned)
    partition = DAY if partitioned else None
    first = storage.write(partition, sales([1, 2]))
    second = storage.write(partition, sales([1, 2], generation=2))
    kept = storage.retained_versions()
    assert [(v.partition, v.data_version) for v in kept] == [(partition, first.data_version)]
    assert kept[0].bytes > 0
    old = storage.read_version(partition, first.data_version)
    assert old.to_pydict() == {"id": [1, 2], "amount": [1.0, 2.0]}
    current = storage.read_version(partition, second.data_version)
    assert current.to_pydict() == {"id": [1, 2], "amount": [2.0, 4.0]}


@pytest.mark.parametrize("partitioned", [True, False])
def test_restore_brings_back_the_kept_version_and_keeps_the_replaced_one(
    replacing, make_storage, partitioned
) -> None:
    storage = make_storage(replacing, partitioned=partitioned)
    partition = DAY if partitioned else None
    good = storage.write(partition, sales([1, 2]))
    bad = storage.write(partition, sales([9]))
    result = storage.restore(partition, good.data_version)
    assert result.data_version == good.data_version and result.rows == 2
    read = storage.read(None if partition is None else [partition])
    assert read.to_pydict() == {"id": [1, 2], "amount": [1.0, 2.0]}
    kept = {v.data_version for v in storage.retained_versions()}
    assert bad.data_version in kept
    assert storage.read_version(partition, bad.data_version).to_pydict()["id"] == [9]
    # and back again: history stays linear
    storage.restore(partition, bad.data_version)
    assert storage.read(None if partition is None else [partition]).to_pydict()["id"] == [9]


def test_other_partitions_are_untouched_by_a_restore(replacing, make_storage) -> None:
    storage = make_storage(replacing)
    storage.write("2024-01-02", sales([5]))
    good = storage.write(DAY, sales([1]))
    storage.write(DAY, sales([2]))
    storage.restore(DAY, good.data_version)
    assert storage.read(["2024-01-02"]).to_pydict()["id"] == [5]
    assert storage.read([DAY]).to_pydict()["id"] == [1]
    assert storage.read(None).to_pydict()["id"] == [1, 5]


def test_a_restore_that_fails_before_publishing_changes_nothing(replacing, make_storage) -> None:
    storage = make_storage(replacing)
    good = storage.write(DAY, sales([1]))
    storage.write(DAY, sales([2]))

    def refuse() -> None:
        raise RuntimeError("lease lost")

    with pytest.raises(RuntimeError, match="lease lost"):
        storage.restore(DAY, good.data_version, before_publish=refuse)
    assert storage.read([DAY]).to_pydict()["id"] == [2]
    assert good.data_version in {v.data_version for v in storage.retained_versions()}
    assert storage.read_version(DAY, good.data_version).to_pydict()["id"] == [1]


def test_a_discarded_version_is_gone_and_named_in_the_error(replacing, make_storage) -> None:
    storage = make_storage(replacing)
    old = storage.write(DAY, sales([1]))
    storage.write(DAY, sales([2]))
    assert storage.discard_version(DAY, old.data_version) > 0
    assert storage.retained_versions() == []
    assert storage.discard_version(DAY, old.data_version) == 0
    with pytest.raises(StorageError, match=f"{old.data_version}.*'2024-01-01'.*not kept"):
        storage.read_version(DAY, old.data_version)
    with pytest.raises(StorageError, match="not kept"):
        storage.restore(DAY, old.data_version)
    assert storage.read([DAY]).to_pydict()["id"] == [2]


def test_an_identical_rebuild_keeps_nothing(replacing, make_storage) -> None:
    storage = make_storage(replacing)
    storage.write(DAY, sales([1]))
    storage.write(DAY, sales([1]))
    assert storage.retained_versions() == []


def test_with_history_off_nothing_is_kept(replacing, make_storage) -> None:
    storage = make_storage(replacing)
    storage.keep_history = False
    old = storage.write(DAY, sales([1]))
    storage.write(DAY, sales([2]))
    assert storage.retained_versions() == []
    with pytest.raises(StorageError, match="not kept"):
        storage.read_version(DAY, old.data_version)


def test_several_versions_are_kept(replacing, make_storage) -> None:
    storage = make_storage(replacing)
    versions = [storage.write(DAY, sales([1], generation=g)).data_version for g in (1, 2, 3, 4)]
    kept = sorted(v.data_version for v in storage.retained_versions())
    assert kept == sorted(versions[:3])
    for generation, version in enumerate(versions[:3], start=1):
        assert storage.read_version(DAY, version).to_pydict()["amount"] == [float(generation)]


def test_a_merging_storage_keeps_no_history(make_storage) -> None:
    storage = make_storage("duckdb-merge")
    old = storage.write(DAY, sales([1]))
    storage.write(DAY, sales([1], generation=2))
    assert storage.retained_versions() == []
    with pytest.raises(StorageError, match="merge_on"):
        storage.restore(DAY, old.data_version)


def test_history_switched_off_and_on_never_mislabels_a_version(replacing, make_storage) -> None:
    storage = make_storage(replacing)
    written = {}
    storage.keep_history = False
    for generation in (1, 2):
        written[storage.write(DAY, sales([1], generation)).data_version] = generation
    storage.keep_history = True
    for generation in (3, 4):
        written[storage.write(DAY, sales([1], generation)).data_version] = generation
    kept = storage.retained_versions()
    assert kept  # at least the version generation 4 replaced
    for version in kept:
        amounts = storage.read_version(DAY, version.data_version).column("amount").to_pylist()
        assert amounts == [float(written[version.data_version])]


@pytest.mark.parametrize("held", [False, True])
def test_a_version_with_a_column_added_later_is_kept_whole(replacing, make_storage, held) -> None:
    """A column the table gained (evolve) after versions were kept is kept with the
    versions that have it, whether the run holds the storage open between writes or not."""
    storage = make_storage(replacing)
    if held:
        storage.open("run-1")
    first = storage.write(DAY, sales([1, 2]))
    storage.write(DAY, sales([5]))  # the first is kept before the column exists
    noted = storage.write(DAY, sales([3]).append_column("note", pa.array(["new"])), evolve=True)
    storage.write(DAY, sales([4]).append_column("note", pa.array(["newer"])), evolve=True)
    oldest = storage.read_version(DAY, first.data_version).to_pydict()
    assert oldest.pop("note", [None, None]) == [None, None]  # a table's column, or none
    assert oldest == {"id": [1, 2], "amount": [1.0, 2.0]}
    kept = storage.read_version(DAY, noted.data_version)
    assert kept.column("id").to_pylist() == [3]
    assert kept.column("note").to_pylist() == ["new"]
