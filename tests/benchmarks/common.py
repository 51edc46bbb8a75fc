"""Helpers shared by the benchmarks: timing, temporary projects, child-process memory."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_time(action: Callable[[], object], repeat: int) -> float:
    return statistics.median(timed(action) for _ in range(repeat))


@contextmanager
def temporary_project(modules: dict[str, str]):
    """A project folder with the given asset modules; removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="partita-bench-"))
    try:
        (root / "assets").mkdir()
        (root / "pyproject.toml").write_text('[project]\nname = "bench"\nversion = "0"\n')
        for name, source in modules.items():
            (root / "assets" / name).write_text(textwrap.dedent(source))
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"code": code, "elapsed": elapsed, "cpu": cpu, "peak_kib": usage.ru_maxrss}))
"""


def run_process(arguments: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MiB) of one child process, measured by a
    small wrapper process so that each measurement sees only its own child."""
    elapsed, _, peak = run_process_usage(arguments, cwd)
    return elapsed, peak


def run_process_usage(arguments: list[str], cwd: Path | None = None) -> tuple[float, float, float]:
    """Wall time (s), CPU time (user + system, s) and peak resident memory (MiB) of one
    child process: CPU time is the figure that holds on a loaded machine."""
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE, *arguments], cwd=cwd, capture_output=True, text=True
    )
    result = json.loads(completed.stdout)
    if result["code"] not in (0, 1):
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{completed.stderr}")
    return result["elapsed"], result["cpu"], result["peak_kib"] / 1024


def partita_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "partita", *arguments]


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n## {title}")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")
