"""Unit logs: what a unit logs (through `context.log` or partita's logger) and prints
(stdout, stderr) while it runs, captured per attempt and kept in the warehouse.

One JSON-lines file per unit and run, `.partita/logs/<run_id>/<asset>/<partition>.jsonl`,
written atomically by the process that ran the unit (the runner's or a worker's) when the
unit ends. Each line is one entry: time, attempt, stream (`log`, `stdout`, `stderr`),
level, logger, message. Bounds: at most `MAX_UNIT_BYTES` of messages per unit (then one
"truncated" entry); after each run the logs of all but the newest `KEEP_RUNS` runs are
deleted, and older runs too while all logs together exceed `MAX_TOTAL_BYTES`.

Capture is best effort: output still reaches the terminal (the streams are teed), only
the thread running the unit is captured, and failing to save logs never fails a unit.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ..secrets import mask
from ..storage.paths import check_path_segment, encode_partition_value
from .events import RunListener
from .log_context import UnitContext, reset_current_unit, set_current_unit

log = logging.getLogger("partita")

MAX_UNIT_BYTES = 1_000_000
KEEP_RUNS = 50
MAX_TOTAL_BYTES = 500_000_000
UNPARTITIONED_FILE = "unpartitioned.jsonl"


def logs_folder(warehouse: Path) -> Path:
    return warehouse / ".partita" / "logs"


def unit_log_file(warehouse: Path, run_id: str, asset: str, partition: str | None) -> Path:
    """Where the logs of one unit of one run are kept (names encoded: never outside)."""
    check_path_segment(run_id, "run id")
    name = (
        UNPARTITIONED_FILE if partition is None else f"p={encode_partition_value(partition)}.jsonl"
    )
    return logs_folder(warehouse) / run_id / encode_partition_value(asset) / name


@dataclass
class UnitLogCapture:
    """Captures one unit's logs and output while in its `with` block (see the module)."""

    run_id: str
    asset: str
    partition: str | None
    limit: int = MAX_UNIT_BYTES
    entries: list[dict[str, Any]] = field(default_factory=list)
    _attempt: int = 1
    _size: int = 0
    _truncated: bool = False
    _thread: int = 0
    _restore: list[Any] = field(default_factory=list)

    def attempt(self, number: int) -> None:
        """Attempt `number` of the unit starts now."""
        self._attempt = number
        set_current_unit(UnitContext(self.run_id, self.asset, self.partition, number))

    def add(self, stream: str, message: str, level: str | None = None, logger: str | None = None):
        """One entry, unless the unit's bound is reached (then one truncation entry); a
        secret in it is masked."""
        if self._truncated:
            return
        message = mask(message)
        size = len(message.encode("utf-8", "replace"))
        if self._size + size > self.limit:
            self._truncated = True
            message = f"... truncated: the unit logged more than {self.limit} bytes"
            stream, level, logger = "log", "WARNING", "partita"
        self._size += size
        self.entries.append(
            {
                "time": datetime.now(UTC).isoformat(),
                "asset": self.asset,
                "partition": self.partition,
                "attempt": self._attempt,
                "stream": stream,
                "level": level,
                "logger": logger,
                "message": message,
            }
        )

    def __enter__(self) -> UnitLogCapture:
        self._thread = threading.get_ident()
        token = set_current_unit(UnitContext(self.run_id, self.asset, self.partition, 1))
        handler = _CaptureHandler(self)
        partita_logger = logging.getLogger("partita")
        asset_logger = logging.getLogger(f"partita.assets.{self.asset}")
        partita_logger.addHandler(handler)
        level = asset_logger.level
        if asset_logger.getEffectiveLevel() > logging.INFO:
            asset_logger.setLevel(logging.INFO)  # context.log.info is kept even when not shown
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout = _Tee(stdout, self, "stdout")
        sys.stderr = _Tee(stderr, self, "stderr")
        self._restore = [token, handler, level, stdout, stderr]
        return self

    def __exit__(self, *exc_info: object) -> None:
        token, handler, level, stdout, stderr = self._restore
        for tee in (sys.stdout, sys.stderr):
            if isinstance(tee, _Tee):
                tee.flush_partial()
        sys.stdout, sys.stderr = stdout, stderr
        logging.getLogger("partita").removeHandler(handler)
        logging.getLogger(f"partita.assets.{self.asset}").setLevel(level)
        reset_current_unit(token)

    def captures_this_thread(self) -> bool:
        return threading.get_ident() == self._thread

    def save(self, warehouse: Any) -> None:
        """Write the entries (if any) atomically; a failure is logged, never raised. A
        warehouse on object storage keeps no unit logs."""
        if not self.entries or not isinstance(warehouse, Path):
            return
        try:
            path = unit_log_file(warehouse, self.run_id, self.asset, self.partition)
            path.parent.mkdir(parents=True, exist_ok=True)
            text = "".join(json.dumps(entry, default=str) + "\n" for entry in self.entries)
            # One writer per unit and run: a name unique to this process is enough.
            temporary = path.with_name(f".tmp-{os.getpid()}-{path.name}")
            temporary.write_text(text)
            os.replace(temporary, path)
        except Exception as error:
            log.warning("could not save the logs of %s: %s", self.asset, error)


class _CaptureHandler(logging.Handler):
    def __init__(self, capture: UnitLogCapture) -> None:
        super().__init__(logging.DEBUG)
        self.capture = capture

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.capture._thread:
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
        except Exception:
            message = str(record.msg)
        self.capture.add("log", message, record.levelname, record.name)


class _Tee(io.TextIOBase):
    """Writes through to the original stream, and keeps the unit thread's lines."""

    def __init__(self, original: TextIO, capture: UnitLogCapture, stream: str) -> None:
        self.original = original
        self.capture = capture
        self.stream = stream
        self._partial = ""

    def write(self, text: str) -> int:
        written = self.original.write(mask(text))
        if self.capture.captures_this_thread():
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
            for line in lines:
                self.capture.add(self.stream, line)
        return written if written is not None else len(text)

    def flush(self) -> None:
        self.original.flush()

    def flush_partial(self) -> None:
        if self._partial:
            self.capture.add(self.stream, self._partial)
            self._partial = ""

    def isatty(self) -> bool:
        return self.original.isatty()

    def fileno(self) -> int:
        return self.original.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", "utf-8")


def read_unit_logs(
    warehouse: Any, run_id: str, asset: str | None = None, partition: str | None = None
) -> list[dict[str, Any]]:
    """The log entries of a run (optionally of one asset, and one partition), in the order
    of the units' files (asset, then partition) and, within a unit, as they were logged.
    A warehouse on object storage keeps none."""
    if not isinstance(warehouse, Path):
        return []
    folder = logs_folder(warehouse) / check_path_segment(run_id, "run id")
    if asset is not None:
        folder = folder / encode_partition_value(asset)
        files = [unit_log_file(warehouse, run_id, asset, partition)] if partition else None
    else:
        files = None
    if files is None:
        files = sorted(folder.rglob("*.jsonl")) if folder.is_dir() else []
    entries = []
    for path in files:
        if path.is_file() and not path.name.startswith(".tmp-"):
            entries.extend(json.loads(line) for line in path.read_text().splitlines() if line)
    return entries


def prune_unit_logs(
    warehouse: Path, keep_runs: int = KEEP_RUNS, max_total_bytes: int = MAX_TOTAL_BYTES
) -> list[str]:
    """Delete the logs of all but the newest `keep_runs` runs, then of the oldest runs
    while the logs take more than `max_total_bytes`; return the run ids deleted. Run ids
    sort by start time."""
    folder = logs_folder(warehouse)
    if not folder.is_dir():
        return []
    runs = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.name)
    doomed = runs[: max(0, len(runs) - keep_runs)]
    kept = runs[len(doomed) :]
    sizes = {run: sum(f.stat().st_size for f in run.rglob("*") if f.is_file()) for run in kept}
    total = sum(sizes.values())
    for run in kept[:-1]:  # the newest run's logs are always kept
        if total <= max_total_bytes:
            break
        doomed.append(run)
        total -= sizes[run]
    for run in doomed:
        shutil.rmtree(run, ignore_errors=True)
    return [run.name for run in doomed]


class UnitLogPruner(RunListener):
    """Prunes the warehouse's unit logs (see `prune_unit_logs`) when a run ends."""

    def __init__(self, warehouse: Any) -> None:
        self.warehouse = warehouse

    def run_finished(self, report: Any) -> None:
        if isinstance(self.warehouse, Path):  # object storage keeps no unit logs
            prune_unit_logs(self.warehouse)
