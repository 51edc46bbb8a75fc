"""State snapshots as bytes: columns round-trip, stay small, and old snapshots still read."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partita import DailyPartitions
from partita.catalog import MaterializationRecord, SQLiteCatalog
from partita.planning import state_codec
from partita.planning.state_codec import ROW, decode
from partita.planning.state_table import StateTable, load_state_table

DAYS = DailyPartitions(start="2024-01-01")
T0 = datetime(2024, 6, 1, tzinfo=UTC)


def _column(name: str, length: int):
    dtype = ROW[name]
    if dtype.kind == "b":
        values = st.lists(st.booleans(), min_size=length, max_size=length)
    else:
        info = np.iinfo(dtype)
        small = st.integers(min_value=max(-3, int(info.min)), max_value=min(300, int(info.max)))
        values = st.lists(
            st.one_of(small, st.integers(min_value=int(info.min), max_value=int(info.max))),
            min_size=length,
            max_size=length,
        )
    constant = st.builds(lambda v: [v] * length, values.map(lambda v: v[0] if v else 0))
    return st.one_of(values, constant) if length else st.just([])


@st.composite
def tables(draw) -> StateTable:
    length = draw(st.integers(min_value=0, max_value=40))
    columns = {name: np.array(draw(_column(name, length)), dtype=ROW[name]) for name in ROW.names}
    codes = draw(st.lists(st.text(max_size=8), max_size=4))
    return StateTable(columns, codes)


@settings(max_examples=200, deadline=None)
@given(table=tables())
def test_every_table_round_trips(table: StateTable) -> None:
    decoded = StateTable.decode(table.encode())
    assert len(decoded) == len(table)
    assert decoded.codes == table.codes
    assert decoded.records().tobytes() == table.records().tobytes()
    for name in ROW.names:  # read as they were written, whatever type each is kept in
        assert (
            decoded.column(name, len(table) + 2).tolist()
            == table.column(name, len(table) + 2).tolist()
        )


@settings(max_examples=50, deadline=None)
@given(table=tables(), cut=st.integers(min_value=1, max_value=10**6))
def test_a_truncated_snapshot_is_damaged(table: StateTable, cut: int) -> None:
    payload = table.encode()
    with pytest.raises(ValueError, match="damaged state snapshot"):
        decode(payload[: len(payload) - 1 - cut % len(payload)])


def test_columns_take_the_narrowest_type_and_constants_no_bytes() -> None:
    length = 100_000
    table = StateTable.empty(length)
    table.columns["status"][:] = 1  # one value everywhere: kept in the header
    table.columns["published_seq"][:] = np.arange(length) % 100  # fits one byte
    table.columns["materialized_at"][:] = 1_700_000_000_000_000 + np.arange(length)
    payload = table.encode()
    assert length * 9 <= len(payload) < length * 9 + 1_000  # one byte + eight bytes a row
    decoded = decode(payload)[0]
    assert decoded["published_seq"].dtype == np.int8
    assert decoded["status"].strides == (0,)  # the constant takes no memory


def _header(payload: bytes) -> tuple[dict, bytes]:
    (size,) = struct.unpack_from("<I", payload)
    return json.loads(payload[4 : 4 + size]), payload[4 + size :]


def _with_header(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<I", len(text)) + text + body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h: h["columns"][1].__setitem__(1, "|O"), "stored as '|O'"),
        (lambda h: h["columns"].pop(), "not the columns"),
        (lambda h: h["columns"][0].__setitem__(2, "x"), "holds 'x'"),
        (lambda h: h.__setitem__("format", 9), "unknown format 9"),
        (lambda h: h["columns"][1].__setitem__(2, -8), "at -8"),
    ],
)
def test_a_tampered_header_is_damaged(change, message) -> None:
    table = StateTable.empty(4)
    table.columns["published"][1] = True
    table.columns["status"][:] = 1
    header, body = _header(table.encode())
    assert header["columns"][0][1] == "constant" and header["columns"][1][1] == "|b1"
    change(header)
    with pytest.raises(ValueError, match=f"damaged state snapshot: .*{message}"):
        decode(_with_header(header, body))


def _packed_rows(table: StateTable) -> bytes:
    """The payload of format 2 (partita 0.1's snapshots): one `ROW` record per partition."""
    header = {"format": 2, "codes": table.codes, "length": len(table)}
    return _with_header(header, table.records().tobytes())


def test_a_snapshot_of_the_format_before_still_reads(tmp_path: Path) -> None:
    with SQLiteCatalog(tmp_path / "catalog.db") as catalog:
        keys = DAYS.keys(0, 20)
        catalog.record_many(
            [
                MaterializationRecord(
                    "a", key, "run", "materialized", T0, T0, 1, data_version="v", code_version="c1"
                )
                for key in keys
            ]
        )
        expected = load_state_table(catalog, "a", DAYS)
        catalog.save_snapshot("a", DAYS.layout(), catalog.sequence(), _packed_rows(expected))
        read: list[int] = []

        class Counting:
            def snapshot_and_changes(self, asset, layout):
                payload, through, rows = catalog.snapshot_and_changes(asset, layout)
                read.append(len(rows))
                return payload, through, rows

            def save_snapshot(self, *arguments):
                catalog.save_snapshot(*arguments)

            def snapshot_layout(self, asset):
                return catalog.snapshot_layout(asset)

        table = load_state_table(Counting(), "a", DAYS)
        assert read == [0]  # the old snapshot was used, no row read again
        assert table.records().tobytes() == expected.records().tobytes()
        assert table.codes == expected.codes
        stored = catalog.snapshot_and_changes("a", DAYS.layout())[0]
        assert state_codec.written_format(stored) == state_codec.FORMAT  # upgraded once read
        assert load_state_table(Counting(), "a", DAYS).records().tobytes() == (
            expected.records().tobytes()
        )


def test_the_format_is_the_one_written() -> None:
    header, _ = _header(StateTable.empty(2).encode())
    assert header["format"] == state_codec.FORMAT == 3
    assert state_codec.written_format(StateTable.empty(2).encode()) == 3
    assert state_codec.written_format(b"\x05\x00\x00\x00{}") is None
