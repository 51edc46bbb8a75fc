"""A DuckDB file held open for a run: released when idle or closed, waited for (bounded,
with progress naming the run holding it) by other processes."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest

from partita.errors import StorageError
from partita.storage import duckdb_files
from partita.storage.duckdb import DuckDBStorage
from partita.storage.duckdb_files import database_file, holder_path

HOLD_FILE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pyarrow as pa
    from partita.storage.duckdb import DuckDBStorage

    storage = DuckDBStorage(Path(sys.argv[1]), "held", "date", None, None, "w.duckdb")
    storage.idle_seconds = 3600
    storage.open("20240101T000000-holder")
    storage.write("2024-01-01", pa.table({"x": [1]}))
    print("holding", flush=True)
    sys.stdin.readline()  # hold until the test closes stdin
    storage.close()
    """
)


def make_storage(warehouse: Path, asset: str = "sales") -> DuckDBStorage:
    return DuckDBStorage(warehouse, asset, "date", None, None, "w.duckdb")


@pytest.fixture
def holder(tmp_path: Path):
    """Another process holding `tmp_path/w.duckdb` open for writing, as a run does."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_FILE, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "holding"
        yield process
    finally:
        process.stdin.close()
        process.wait(60)


def test_a_locked_file_is_waited_for_with_progress_and_a_bounded_timeout(
    tmp_path: Path, holder, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("PARTITA_DUCKDB_LOCK_TIMEOUT", "0.6")
    monkeypatch.setattr(duckdb_files, "PROGRESS_SECONDS", 0.1)
    storage = make_storage(tmp_path)
    record = json.loads(holder_path(tmp_path / "w.duckdb").read_text())
    assert record == {"run_id": "20240101T000000-holder", "pid": holder.pid}
    with (
        caplog.at_level(logging.WARNING, logger="partita"),
        pytest.raises(StorageError) as raised,
    ):
        storage.write("2024-01-01", pa.table({"x": [2]}))
    message = str(raised.value)
    assert f"run 20240101T000000-holder (pid {holder.pid})" in message
    assert "PARTITA_DUCKDB_LOCK_TIMEOUT" in message and "0.6 s" in message
    assert "asset 'sales' partition '2024-01-01'" in message
    progress = [r.getMessage() for r in caplog.records if r.name == "partita"]
    assert progress and all(
        text == f"waiting for w.duckdb, held by run 20240101T000000-holder (pid {holder.pid})"
        for text in progress
    )


def test_the_wait_ends_when_the_holder_closes(tmp_path: Path, holder, monkeypatch) -> None:
    monkeypatch.setenv("PARTITA_DUCKDB_LOCK_TIMEOUT", "120")
    storage = make_storage(tmp_path)
    release = threading.Timer(0.3, holder.stdin.close)
    release.start()
    storage.write("2024-01-01", pa.table({"x": [2]}))  # waits for the holder to close
    release.join()
    assert storage.read(None).to_pydict() == {"x": [2]}
    assert not holder_path(tmp_path / "w.duckdb").exists()


def test_an_unusable_lock_timeout_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PARTITA_DUCKDB_LOCK_TIMEOUT", "soon")
    with pytest.raises(StorageError, match="PARTITA_DUCKDB_LOCK_TIMEOUT='soon' is not a number"):
        make_storage(tmp_path).write("2024-01-01", pa.table({"x": [1]}))


def test_a_run_holds_one_connection_and_releases_it_on_close(tmp_path: Path) -> None:
    sales, costs = make_storage(tmp_path, "sales"), make_storage(tmp_path, "costs")
    file = database_file(tmp_path / "w.duckdb")
    for storage in (sales, costs):
        storage.open("run-1")
    sales.write("2024-01-01", pa.table({"x": [1]}))
    costs.write("2024-01-01", pa.table({"y": [1]}))
    assert file.holding
    assert json.loads(holder_path(tmp_path / "w.duckdb").read_text())["run_id"] == "run-1"
    sales.close()
    assert file.holding  # costs still uses the file
    costs.close()
    assert not file.holding
    assert not holder_path(tmp_path / "w.duckdb").exists()
    _read_in_another_process(tmp_path)


def test_an_idle_run_releases_the_file(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.idle_seconds = 0.0
    storage.open("run-1")
    storage.write("2024-01-01", pa.table({"x": [1]}))
    file = database_file(tmp_path / "w.duckdb")
    released = threading.Event()

    def wait_for_release() -> None:
        while file.holding:
            time.sleep(0.01)
        released.set()

    threading.Thread(target=wait_for_release, daemon=True).start()
    assert released.wait(30)
    _read_in_another_process(tmp_path)  # readers get in during a pause of the run
    storage.write("2024-01-02", pa.table({"x": [2]}))  # the run goes on: opened again
    storage.close()
    assert storage.read(None).to_pydict() == {"x": [1, 2]}


def test_shared_runs_hold_nothing_between_writes(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.open("run-1", shared=True)
    storage.write("2024-01-01", pa.table({"x": [1]}))
    assert not database_file(tmp_path / "w.duckdb").holding
    _read_in_another_process(tmp_path)
    storage.close()


def _read_in_another_process(folder: Path) -> None:
    code = (
        "import duckdb, sys; "
        "c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(c.execute('SELECT count(*) FROM sales').fetchall()[0][0])"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, str(folder / "w.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
