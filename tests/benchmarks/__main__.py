"""Run the benchmarks: `python -m tests.benchmarks [--smoke] [--only NAME ...]`."""

from __future__ import annotations

import argparse
import importlib
import time

BENCHMARKS = (
    "startup",
    "backfill",
    "duckdb_merge",
    "duckdb_overhead",
    "planning",
    "partitions",
    "retention",
    "ui",
    "observability",
    "cluster",
    "daemon",
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="Tiny sizes: check they still run.")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="Run only these.")
    arguments = parser.parse_args()
    started = time.perf_counter()
    for name in arguments.only or BENCHMARKS:
        importlib.import_module(f"tests.benchmarks.{name}").run(arguments.smoke)
    print(f"\nbenchmarks done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
