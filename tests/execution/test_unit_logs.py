"""Unit logs: bounded capture per attempt, files named safely, pruning of old runs."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from partita.execution.unit_logs import (
    UnitLogCapture,
    UnitLogPruner,
    logs_folder,
    prune_unit_logs,
    read_unit_logs,
    unit_log_file,
)
from partita.storage.object_location import parse_object_url


def test_capture_keeps_logs_and_output_per_attempt(tmp_path: Path) -> None:
    with UnitLogCapture("run-1", "orders", "2024-01-01") as capture:
        logging.getLogger("partita.assets.orders").info("one %d", 1)
        print("partial", end="")
        capture.attempt(2)
        print(" line")
        print("to stderr", file=sys.stderr)
    capture.save(tmp_path)
    entries = read_unit_logs(tmp_path, "run-1", "orders", "2024-01-01")
    assert [(e["attempt"], e["stream"], e["level"], e["message"]) for e in entries] == [
        (1, "log", "INFO", "one 1"),
        (2, "stdout", None, "partial line"),
        (2, "stderr", None, "to stderr"),
    ]
    assert logging.getLogger("partita.assets.orders").level == logging.NOTSET  # restored


def test_other_threads_are_not_captured(tmp_path: Path) -> None:
    with UnitLogCapture("run-1", "orders", None) as capture:
        thread = threading.Thread(target=lambda: print("from another thread"))
        thread.start()
        thread.join()
        print("from the unit")
    assert [e["message"] for e in capture.entries] == ["from the unit"]


def test_capture_is_bounded(tmp_path: Path) -> None:
    with UnitLogCapture("run-1", "orders", None, limit=100) as capture:
        for _ in range(50):
            print("x" * 10)
    messages = [e["message"] for e in capture.entries]
    assert len(messages) == 11
    assert messages[-1] == "... truncated: the unit logged more than 100 bytes"


@given(st.text(min_size=1, max_size=20))
def test_any_partition_key_stays_inside_the_logs_folder(key: str) -> None:
    warehouse = Path("/warehouse")
    path = unit_log_file(warehouse, "run-1", "orders", key)
    assert path.parent == logs_folder(warehouse) / "run-1" / "orders"
    assert path.name != unit_log_file(warehouse, "run-1", "orders", None).name


def _write_run(warehouse: Path, run_id: str, size: int) -> None:
    path = unit_log_file(warehouse, run_id, "orders", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x" * size)


def test_pruning_keeps_the_newest_runs_within_the_size_bound(tmp_path: Path) -> None:
    runs = [f"2024010{day}T000000-aaaaaa" for day in range(1, 8)]
    for run_id in runs:
        _write_run(tmp_path, run_id, 100)
    assert prune_unit_logs(tmp_path, keep_runs=5) == runs[:2]
    assert prune_unit_logs(tmp_path, keep_runs=5, max_total_bytes=250) == runs[2:5]
    assert sorted(p.name for p in logs_folder(tmp_path).iterdir()) == runs[5:]
    # The newest run is kept whatever its size.
    assert prune_unit_logs(tmp_path, keep_runs=5, max_total_bytes=10) == runs[5:6]
    assert [p.name for p in logs_folder(tmp_path).iterdir()] == runs[6:]


def test_a_warehouse_on_object_storage_keeps_no_unit_logs(tmp_path: Path, monkeypatch) -> None:
    """Saving, reading and pruning neither fail nor write anything locally (they used to
    join the S3 warehouse with a path and fail at the end of every run)."""
    monkeypatch.chdir(tmp_path)
    warehouse = parse_object_url("s3://bucket/prefix")
    with UnitLogCapture("run-1", "orders", "2024-01-01") as capture:
        print("kept nowhere")
    capture.save(warehouse)
    UnitLogPruner(warehouse).run_finished(None)
    assert read_unit_logs(warehouse, "run-1") == []
    assert list(tmp_path.iterdir()) == []
