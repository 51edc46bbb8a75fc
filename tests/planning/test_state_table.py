"""State tables: catalog rows as columns, and the snapshots the catalog keeps of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partita import DailyPartitions, HourlyPartitions, StaticPartitions
from partita.catalog import MaterializationRecord, SQLiteCatalog, StateRow
from partita.errors import CatalogError
from partita.planning.decide import own_kinds
from partita.planning.state_table import (
    FAILED_CODE,
    MATERIALIZED_CODE,
    NONE,
    SAVE_AFTER_CHANGES,
    StateTable,
    load_state_table,
    state_row,
)

DAYS = DailyPartitions(start="2024-01-01")
T0 = datetime(2024, 6, 1, tzinfo=UTC)


def record(key: str | None, status: str = "materialized", **fields) -> MaterializationRecord:
    values: dict = {"attempts": 1, "error": None if status == "materialized" else "boom"}
    if status == "materialized":
        values.update(data_version=f"v-{key}", code_version="c1")
    values.update(fields)
    return MaterializationRecord("a", key, "run", status, T0, T0 + timedelta(seconds=1), **values)


@pytest.fixture
def catalog(tmp_path: Path):
    with SQLiteCatalog(tmp_path / "catalog.db") as opened:
        yield opened


class CountingSource:
    """The catalog, counting the snapshots saved and the rows handed out."""

    def __init__(self, catalog: SQLiteCatalog) -> None:
        self.catalog = catalog
        self.saved = 0
        self.rows_read = 0

    def snapshot_and_changes(self, asset, layout):
        payload, through, rows = self.catalog.snapshot_and_changes(asset, layout)
        self.rows_read += len(rows)
        return payload, through, rows

    def save_snapshot(self, asset, layout, through_seq, payload):
        self.saved += 1
        self.catalog.save_snapshot(asset, layout, through_seq, payload)

    def snapshot_layout(self, asset):
        return self.catalog.snapshot_layout(asset)


def test_rows_land_at_their_partition_index(catalog) -> None:
    catalog.record(record("2024-01-03", consumed_seq=7))
    catalog.record(record("2024-01-05", "failed"))
    catalog.record(record("1999-01-01"))  # before the start: no index, left out
    table = load_state_table(catalog, "a", DAYS)
    assert table.column("status", 6).tolist() == [
        NONE, NONE, MATERIALIZED_CODE, NONE, FAILED_CODE, NONE,
    ]  # fmt: skip
    assert table.column("published", 6).tolist() == [False, False, True, False, False, False]
    assert table.column("consumed_seq", 6)[2] == 7
    assert table.column("published_seq", 6)[2] == catalog.state("a", "2024-01-03").published_seq
    assert table.codes[table.columns["code"][2]] == "c1"
    assert table.column("code", 6)[5] == -1  # past the recorded rows
    assert table.latest_published() == 2
    assert table.materialized_at(2) == T0 + timedelta(seconds=1)
    assert table.materialized_at(4) is None


def test_an_unpartitioned_asset_is_index_zero(catalog) -> None:
    catalog.record(record(None))
    table = load_state_table(catalog, "a", None)
    assert table.column("status", 1).tolist() == [MATERIALIZED_CODE]


def test_static_partitions_map_by_position(catalog) -> None:
    catalog.record(record("us"))
    catalog.record(record("gone"))  # a key the partitions no longer declare
    table = load_state_table(catalog, "a", StaticPartitions(["eu", "us"]))
    assert table.column("published", 2).tolist() == [False, True]


def test_encoding_round_trips() -> None:
    table = StateTable.empty(3)
    table.apply(
        DAYS, [StateRow("2024-01-02", "interrupted", True, "c9", 4, 5, T0.isoformat(), 6, "d1")]
    )
    decoded = StateTable.decode(table.encode())
    assert decoded.codes == ["c9", "d1"]
    assert decoded.records().tobytes() == table.records().tobytes()
    for damaged in (table.encode()[:-5], table.encode()[:-30], b"", b"\x02\x00\x00\x00{}"):
        with pytest.raises(ValueError, match="damaged state snapshot"):
            StateTable.decode(damaged)


def test_a_snapshot_is_saved_after_many_changes_and_then_only_changes_are_read(catalog) -> None:
    hours = HourlyPartitions(start="2024-01-01T00")
    keys = hours.keys(0, SAVE_AFTER_CHANGES + 10)
    catalog.record_many([record(key) for key in keys])
    source = CountingSource(catalog)
    first = load_state_table(source, "a", hours)
    assert (source.saved, source.rows_read) == (1, len(keys))

    catalog.record(record(keys[3], "failed"))
    again = load_state_table(source, "a", hours)
    assert (source.saved, source.rows_read) == (1, len(keys) + 1)  # one changed row
    assert again.columns["status"][3] == FAILED_CODE
    assert np.array_equal(np.delete(again.records(), 3), np.delete(first.records(), 3))


def test_a_snapshot_of_another_layout_or_damaged_is_rebuilt_from_every_row(catalog) -> None:
    keys = DAYS.keys(0, SAVE_AFTER_CHANGES)
    catalog.record_many([record(key) for key in keys])
    expected = load_state_table(catalog, "a", DAYS)  # saves a snapshot
    moved = DailyPartitions(start="2024-01-02")
    shifted = load_state_table(catalog, "a", moved)  # another layout: rebuilt by key
    assert shifted.columns["published"][: len(keys) - 1].all()
    assert len(shifted) == len(keys) - 1

    catalog.save_snapshot("a", DAYS.layout(), 10**9, b"\x05\x00\x00\x00{}")
    rebuilt = load_state_table(catalog, "a", DAYS)
    assert rebuilt.records().tobytes() == expected.records().tobytes()


def test_state_row_is_what_the_catalog_returns(catalog) -> None:
    catalog.record(record("2024-01-02", consumed_seq=3))
    state = catalog.state("a", "2024-01-02")
    _, _, rows = catalog.snapshot_and_changes("a", "none")
    assert state_row(state)[:6] == rows[0][:6]
    assert state_row(state)[7] == rows[0][7]


def test_a_catalog_that_cannot_save_still_gives_the_states(catalog) -> None:
    """Status and plans only read: a busy or read-only catalog must not stop them."""
    catalog.record_many([record(key) for key in DAYS.keys(0, SAVE_AFTER_CHANGES)])

    class ReadOnly(CountingSource):
        def save_snapshot(self, asset, layout, through_seq, payload):
            raise CatalogError("attempt to write a readonly database")

    table = load_state_table(ReadOnly(catalog), "a", DAYS)
    assert table.columns["published"].sum() == SAVE_AFTER_CHANGES


def _orders(products: list[str], generation: int = 0):
    from partita import DynamicPartitions, MultiPartitions

    dynamic = DynamicPartitions("products")
    dynamic.bind(products, generation)
    regions = StaticPartitions(["eu", "us"])
    return MultiPartitions(
        date=DailyPartitions(start="2024-01-01"), product=dynamic, region=regions
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.integers(min_value=1, max_value=4),
    added=st.integers(min_value=0, max_value=4),
    picked=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30),
)
def test_a_snapshot_is_carried_over_when_keys_are_appended(tmp_path_factory, before, added, picked):
    """Appending dynamic keys renumbers a multi-dimensional asset's partitions: the stored
    snapshot is renumbered, not rebuilt from the rows, and equals a rebuilt table."""
    with SQLiteCatalog(tmp_path_factory.mktemp("carry") / "catalog.db") as catalog:
        products = [f"p{i}" for i in range(before)]
        old = _orders(products)
        keys = sorted({old.key(i % (5 * old.combinations)) for i in picked})
        catalog.record_many([record(key) for key in keys])
        catalog.save_snapshot(
            "a", old.layout(), catalog.sequence(), load_state_table(catalog, "a", old).encode()
        )
        grown = _orders(products + [f"n{i}" for i in range(added)])
        source = CountingSource(catalog)
        carried = load_state_table(source, "a", grown)
        assert source.rows_read == 0  # nothing read row by row
        assert source.saved == (1 if added else 0)
        rebuilt = StateTable.empty()
        rebuilt.apply(grown, catalog.snapshot_and_changes("a", "none")[2])
        width = max(len(carried), len(rebuilt))
        assert (
            carried.column("published", width).tolist()
            == rebuilt.column("published", width).tolist()
        )
        assert carried.column("code", width).tolist() == rebuilt.column("code", width).tolist()
        assert {grown.key(int(i)) for i in np.flatnonzero(carried.columns["published"])} == set(
            keys
        )


def test_a_snapshot_is_rebuilt_when_keys_are_placed_before_others(catalog) -> None:
    old = _orders(["p0", "p1"])
    catalog.record_many([record(key) for key in old.keys(0, 8)])
    catalog.save_snapshot(
        "a", old.layout(), catalog.sequence(), load_state_table(catalog, "a", old).encode()
    )
    moved = _orders(["n0", "p0", "p1"], generation=1)  # a key placed first: a new generation
    source = CountingSource(catalog)
    table = load_state_table(source, "a", moved)
    assert source.rows_read == 8  # rebuilt from every row
    assert {moved.key(int(i)) for i in np.flatnonzero(table.columns["published"])} == set(
        old.keys(0, 8)
    )


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(min_value=0, max_value=20),
    start=st.integers(min_value=0, max_value=30),
    width=st.integers(min_value=0, max_value=30),
)
def test_a_window_is_the_padded_column_sliced(length, start, width) -> None:
    table = StateTable.empty(length)
    table.columns["published_seq"][:] = np.arange(1, length + 1)
    table.columns["code"][:] = 0
    for name in ("published_seq", "code", "status"):
        padded = table.column(name, start + width)[start:]
        assert table.window(name, start, start + width).tolist() == padded.tolist()


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(min_value=0, max_value=12),
    start=st.integers(min_value=0, max_value=15),
    width=st.integers(min_value=0, max_value=15),
    statuses=st.lists(st.sampled_from([NONE, MATERIALIZED_CODE, FAILED_CODE]), min_size=12),
)
def test_own_kinds_past_the_recorded_rows_are_missing(length, start, width, statuses) -> None:
    """Own kinds equal those of a table padded with rows the catalog doesn't have."""
    table = StateTable.empty(length)
    table.codes = ["c1"]
    table.columns["status"][:] = statuses[:length]
    table.columns["published"][:] = [status == MATERIALIZED_CODE for status in statuses[:length]]
    table.columns["code"][:] = 0
    padded = StateTable.empty(max(length, start + width))
    for name in table.columns:
        padded.columns[name][:length] = table.columns[name]
    padded.codes = ["c1"]
    assert (
        own_kinds(table, start, start + width, "c1", "d").tolist()
        == own_kinds(padded, start, start + width, "c1", "d").tolist()
    )
