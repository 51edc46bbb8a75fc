"""Deterministic Parquet encoding and the content hash that versions data."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.parquet as pq

# Fixed writer options: the same table always encodes to the same bytes (for a given
# pyarrow version). Parquet metadata holds no timestamps, only the writer version.
_WRITER_OPTIONS = {
    "version": "2.6",
    # Snappy, as pandas' to_parquet: zstd files are smaller but take twice as long to write.
    "compression": "snappy",
    "use_dictionary": True,
    "write_statistics": True,
    "row_group_size": 1024 * 1024,
    "data_page_version": "1.0",
    "store_schema": True,
    "write_page_index": False,
}


def encode_parquet(table: pa.Table) -> bytes:
    """Encode `table` as a Parquet file; identical tables give byte-identical output."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **_WRITER_OPTIONS)
    return sink.getvalue().to_pybytes()  # one copy; hashing and writing reuse it


def data_version(encoded: bytes) -> str:
    """Content hash of encoded data: identical data gives an identical version."""
    return hashlib.sha256(encoded).hexdigest()[:16]


def table_version(table: pa.Table) -> str:
    """Content hash of a table's values (for storages that do not write Parquet): the hash
    of its Parquet encoding, which holds values only. Arrow's own buffers also hold
    whatever lies under null slots and in unused bits, which differ between equal tables
    (DuckDB fills them differently than pyarrow). Types Parquet cannot hold are hashed
    through their Arrow IPC stream."""
    try:
        return data_version(encode_parquet(table))
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return hashlib.sha256(sink.getvalue()).hexdigest()[:16]
