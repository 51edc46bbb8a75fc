from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partita.errors import StorageError
from partita.storage.paths import (
    check_path_segment,
    check_relative_file,
    decode_partition_value,
    encode_partition_value,
    ensure_inside,
)

TRICKY_VALUES = ["a/b", "..", ".", ".hidden", "x=y", "50%", "a\\b", "nul\x00byte", 'it\'s "q"', " "]


def assert_safe_segment(encoded: str) -> None:
    assert encoded not in (".", "..")
    assert not encoded.startswith(".")
    for forbidden in ("/", "\\", "=", "\x00"):
        assert forbidden not in encoded


@pytest.mark.parametrize("value", TRICKY_VALUES)
def test_tricky_partition_values_encode_to_safe_reversible_segments(value: str) -> None:
    encoded = encode_partition_value(value)
    assert_safe_segment(encoded)
    assert decode_partition_value(encoded) == value


def test_plain_values_are_left_readable() -> None:
    assert encode_partition_value("2024-01-31") == "2024-01-31"
    assert encode_partition_value("a b") == "a b"


@given(st.text())
def test_any_text_encodes_to_a_safe_reversible_segment(value: str) -> None:
    encoded = encode_partition_value(value)
    assert_safe_segment(encoded)
    assert decode_partition_value(encoded) == value


@pytest.mark.parametrize("name", ["", ".", "..", "../evil", "a/b", "a\\b", ".hidden", "a\x00b"])
def test_unsafe_segments_are_rejected(name: str) -> None:
    with pytest.raises(StorageError, match="asset name"):
        check_path_segment(name, "asset name")


def test_safe_segment_is_returned() -> None:
    assert check_path_segment("daily_sales.v2", "asset name") == "daily_sales.v2"


@pytest.mark.parametrize("name", ["", "/tmp/x.duckdb", "../x.duckdb", "a/../../x.duckdb", "a\\b"])
def test_unsafe_relative_files_are_rejected(name: str) -> None:
    with pytest.raises(StorageError, match="relative file name"):
        check_relative_file(name, "DuckDB database")


def test_relative_file_inside_a_folder_is_accepted() -> None:
    assert str(check_relative_file("sub/warehouse.duckdb", "DuckDB database")) == (
        "sub/warehouse.duckdb"
    )


def test_ensure_inside_rejects_escapes(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    assert ensure_inside(warehouse / "a" / "b", warehouse) == warehouse / "a" / "b"
    with pytest.raises(StorageError, match="outside the warehouse"):
        ensure_inside(warehouse / ".." / "elsewhere", warehouse)
    (warehouse / "link").symlink_to(tmp_path)
    with pytest.raises(StorageError, match="outside the warehouse"):
        ensure_inside(warehouse / "link" / "file", warehouse)
