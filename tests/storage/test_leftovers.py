"""Parquet cleanup removes only partita's own temporary files of dead writers (a reused
pid included); a key too long for the file system fails with a clear error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from partita.errors import StorageError
from partita.processes import process_start_time
from partita.storage.parquet import ParquetStorage, temporary_name

HEX = "0123abcd" * 4


def make_storage(tmp_path: Path, hive_key: str = "date") -> ParquetStorage:
    storage = ParquetStorage(tmp_path / "warehouse", "sales", hive_key)
    storage.write("2024-01-01", pa.table({"x": [1]}))
    return storage


def test_cleanup_leaves_files_partita_did_not_create(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    folder = tmp_path / "warehouse" / "sales" / "date=2024-01-01"
    mine = [folder / ".notes.tmp", folder / ".part-0.parquet.tmp", folder / "draft.tmp"]
    for path in mine:
        path.write_text("the user's")
    assert storage.cleanup() == []
    assert all(path.read_text() == "the user's" for path in mine)


def test_cleanup_removes_a_leftover_whose_pid_was_reused(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    folder = tmp_path / "warehouse" / "sales" / "date=2024-01-01"
    # A live process (this test's parent) whose pid a dead writer once had.
    pid = os.getppid()
    started = process_start_time(pid)
    assert started is not None
    reused = folder / f".part-0.parquet.t{started + 1}.{pid}.{HEX}.tmp"
    live = folder / f".part-0.parquet.t{started}.{pid}.{HEX}.tmp"
    dead = folder / f".part-0.parquet.{2**22 + 17}.{HEX}.tmp"  # older name, no start time
    for path in (reused, live, dead):
        path.write_bytes(b"half a file")
    assert storage.cleanup() == sorted([reused, dead])
    assert live.exists()  # its writer may still be running


def test_temporary_names_carry_pid_and_start_time() -> None:
    name = temporary_name()
    assert name.startswith(f".part-0.parquet.t{process_start_time(os.getpid())}.{os.getpid()}.")


def test_a_leftover_of_a_killed_writer_is_cleaned(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    code = (
        "import os, sys; from pathlib import Path; import pyarrow as pa; "
        "from partita.storage.parquet import ParquetStorage; "
        "s = ParquetStorage(Path(sys.argv[1]), 'sales', 'date'); "
        "s.write('2024-01-01', pa.table({'x': [2]}), before_publish=lambda: os._exit(9))"
    )
    completed = subprocess.run([sys.executable, "-c", code, str(tmp_path / "warehouse")])
    assert completed.returncode == 9
    folder = tmp_path / "warehouse" / "sales" / "date=2024-01-01"
    [leftover] = [path for path in folder.iterdir() if path.name.endswith(".tmp")]
    assert storage.cleanup() == [leftover]
    assert storage.read(None).to_pydict() == {"x": [1]}


def test_a_key_too_long_for_the_file_system_says_so(tmp_path: Path) -> None:
    storage = make_storage(tmp_path, hive_key="partition")
    key = "k" * 300
    with pytest.raises(StorageError, match="too long for the file system") as raised:
        storage.write(key, pa.table({"x": [1]}))
    assert "DuckDB storage" in str(raised.value)
    assert storage.cleanup() == []
    assert not storage.exists("k" * 200)


def test_before_publish_sees_the_new_file_durable_but_unpublished(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    folder = tmp_path / "warehouse" / "sales" / "date=2024-01-01"
    seen = []

    def check() -> None:
        [temporary] = [path for path in folder.iterdir() if path.name.endswith(".tmp")]
        seen.append(temporary.stat().st_size)
        assert storage.read(["2024-01-01"]).to_pydict() == {"x": [1]}  # not yet published

    result = storage.write("2024-01-01", pa.table({"x": [2]}), before_publish=check)
    assert seen == [result.bytes]
    assert storage.read(["2024-01-01"]).to_pydict() == {"x": [2]}
