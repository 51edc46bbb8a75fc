"""The bytes of a state snapshot: a state table's columns, small and quick to read back.

Format 3 (written now) stores each column on its own: a column holding one value in every
row is just that value in the header, any other column is its values in the narrowest
integer type that holds them, 8-byte aligned, read back without a copy. A snapshot of 10
years of 5-minute partitions is a few bytes per partition instead of a 35-byte row, so the
catalog reads and the planner maps far less memory. Format 2 (one packed row per partition,
written before) is still read, so a catalog keeps its snapshots across the upgrade; the
next save rewrites it in format 3.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping

import numpy as np

ROW = np.dtype(
    [
        ("status", "i1"),  # NONE when the catalog has no row for the partition
        ("published", "?"),  # some attempt published data (data_version is set)
        ("code", "i4"),  # index into StateTable.codes, -1 when none
        ("deps", "i4"),  # the deps_version, also an index into StateTable.codes
        ("published_seq", "i8"),
        ("consumed_seq", "i8"),
        ("materialized_at", "i8"),  # microseconds since the epoch, 0 when never
        ("restored", "?"),  # the current data was brought back by a restore
    ]
)
CODE_COLUMNS = ("code", "deps")  # -1 where no row is recorded; every other column 0

FORMAT = 3
_PACKED_ROWS = 2  # the format before: the header, then `ROW` records
_HEADER = struct.Struct("<I")  # the length of the JSON header that precedes the columns
_ALIGN = 8
_CONSTANT = "constant"
_NARROW = [np.dtype(t) for t in ("i1", "i2", "i4", "i8")]
_STORED = {dtype.str for dtype in _NARROW} | {np.dtype("?").str}

Columns = dict[str, np.ndarray]


def filler(name: str) -> int:
    """The value of column `name` where the catalog has no row."""
    return -1 if name in CODE_COLUMNS else 0


def encode(columns: Mapping[str, np.ndarray], codes: list[str]) -> bytes:
    """The payload of columns (each as long as the table) and their code versions."""
    length = len(columns[ROW.names[0]])
    specs: list[list[object]] = []
    bodies: list[bytes] = []
    offset = 0
    for name in ROW.names:
        values = np.asarray(columns[name])
        if not length or bool((values == values[0]).all()):
            value = values[0].item() if length else filler(name)
            specs.append([name, _CONSTANT, value])
            continue
        stored = _narrowest(values, ROW[name])
        data = values.astype(stored, copy=False).tobytes()
        specs.append([name, stored.str, offset])
        padding = -len(data) % _ALIGN
        bodies.append(data + bytes(padding))
        offset += len(data) + padding
    header = json.dumps(
        {"format": FORMAT, "codes": codes, "length": length, "columns": specs}
    ).encode()
    header += b" " * (-(_HEADER.size + len(header)) % _ALIGN)  # columns start aligned
    return _HEADER.pack(len(header)) + header + b"".join(bodies)


def decode(payload: bytes) -> tuple[Columns, list[str]]:
    """The columns and code versions `encode` (or format 2) wrote, as read-only arrays over
    the payload; ValueError when the payload is damaged or of an unknown format."""
    try:
        (size,) = _HEADER.unpack_from(payload)
        header = json.loads(payload[_HEADER.size : _HEADER.size + size])
        start = _HEADER.size + size
        length = int(header["length"])
        if header["format"] == _PACKED_ROWS:
            rows = np.frombuffer(payload, dtype=ROW, offset=start)
            if len(rows) != length:
                raise ValueError("not as many rows as the header says")
            columns = {name: rows[name] for name in ROW.names}
        elif header["format"] == FORMAT:
            columns = _columns(payload, start, length, header["columns"])
        else:
            raise ValueError(f"unknown format {header['format']!r}")
        return columns, [str(code) for code in header["codes"]]
    except (struct.error, KeyError, TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"damaged state snapshot: {error}") from error


def written_format(payload: bytes) -> int | None:
    """The format a snapshot was written in; None when it can't be read."""
    try:
        (size,) = _HEADER.unpack_from(payload)
        found = json.loads(payload[_HEADER.size : _HEADER.size + size])["format"]
    except (struct.error, KeyError, TypeError, ValueError):
        return None
    return found if isinstance(found, int) else None


def _columns(payload: bytes, start: int, length: int, specs: list) -> Columns:
    if [spec[0] for spec in specs] != list(ROW.names) or length < 0:
        raise ValueError("not the columns of a state table")
    columns: Columns = {}
    end = start
    for name, kind, value in specs:
        if kind == _CONSTANT:
            if not isinstance(value, int):  # bool is an int too
                raise ValueError(f"column {name} holds {value!r}")
            # Narrow too: a table shorter than the partitions is padded in this type.
            kept = _narrowest(np.array([value, filler(name)]), ROW[name])
            columns[name] = np.broadcast_to(np.array(value, dtype=kept), (length,))
            continue
        if kind not in _STORED or not isinstance(value, int) or value < 0:
            raise ValueError(f"column {name} is stored as {kind!r} at {value!r}")
        columns[name] = np.frombuffer(payload, dtype=kind, count=length, offset=start + value)
        size = length * np.dtype(kind).itemsize
        end = max(end, start + value + size + (-size % _ALIGN))
    if len(payload) != end:
        raise ValueError(f"{len(payload)} bytes where its columns hold {end}")
    return columns


def _narrowest(values: np.ndarray, canonical: np.dtype) -> np.dtype:
    """The smallest integer type holding every value (booleans stay booleans)."""
    if canonical.kind == "b":
        return canonical
    low, high = int(values.min()), int(values.max())
    for dtype in _NARROW:
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return dtype
    return canonical
