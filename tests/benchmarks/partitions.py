"""Planning partitions of every shape at scale (issue 13, point 7): a project of about 10
million asset partitions, 90% materialized and consistent, with an asset of 5-minute
partitions over 10 years (1,051,200 partitions) read by eight more and by two hourly
assets, and an asset of 365 days x 1,000 dynamic customers (365,000 partitions) read by a
daily total. Measures, as whole processes (median wall time of 3, peak memory): the first
`status` (builds the state snapshots from every catalog row, paid once), then after one
upstream partition changed `materialize --plan`, `status` and `freshness`; and adding
1,000 dynamic keys with `partita partitions add`.

Targets at 10 million (issue 13): status, --plan and freshness under 2 s and 1 GiB each,
adding 1,000 keys under 1 s. `status after adding keys` renumbers the snapshot of `orders`
(date x customer) instead of rebuilding it from its rows.

`--smoke` runs 2 days and 10 customers; `PARTITA_BENCH_PARTITIONS_DAYS` sets the span
(default 3650) to show how cost grows; `PARTITA_BENCH_PARTITIONS_VARIED=1` gives every
row its own sequence and materialization time (larger snapshots: nothing is constant).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import statistics

from .common import partita_command, report, run_process_usage, temporary_project

READERS = 8  # 5-minute assets reading the first one

PROJECT = """
import datetime as dt

from partita import (
    DailyPartitions, DynamicPartitions, FreshnessPolicy, HourlyPartitions, MinutePartitions,
    MultiPartitions, asset,
)

SLOTS = MinutePartitions(5, start="2015-01-01", end="{end}")
HOURS = HourlyPartitions(start="2015-01-01", end="{end}")
DAYS = DailyPartitions(start="2015-01-01", end="{order_end}")
CUSTOMERS = DynamicPartitions("customers")
ORDERS = MultiPartitions(date=DAYS, customer=CUSTOMERS)


@asset(partitions=SLOTS)
def ticks():
    return None
{readers}

@asset(partitions=ORDERS, freshness=FreshnessPolicy(max_lag="1d"))
def orders():
    return None


@asset(partitions=DAYS)
def order_totals(orders):
    return None
"""


def project_source(end: str, order_end: str) -> str:
    readers = [
        f"\n\n@asset(partitions=SLOTS)\ndef ticks_{i}(ticks):\n    return None\n"
        for i in range(READERS)
    ]
    readers += [
        f"\n\n@asset(partitions=HOURS, freshness=FreshnessPolicy(max_lag='2h'))\n"
        f"def hourly_{i}(ticks):\n    return None\n"
        for i in range(2)
    ]
    return PROJECT.format(end=end, order_end=order_end, readers="".join(readers))


def fill_catalog(root, customers: int, fraction: float, varied: bool = False) -> tuple[int, int]:
    """Add the customers, then write consistent states for the first `fraction` of every
    asset's partitions straight into the catalog. Returns (asset partitions, written).

    `varied` gives every row its own sequence and materialization time (as runs one
    partition at a time would record), instead of one shared by all rows; downstream rows
    come later, so everything stays up to date."""
    from partita import load_project
    from partita.catalog import catalog_path

    load_project(root).add_partitions("customers", [f"c{i:04d}" for i in range(customers)])
    project = load_project(root)
    with project.session() as session:
        graph = session.graph  # dynamic keys bound
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        moment = start.isoformat(timespec="microseconds")
        total = written = 0
        connection = sqlite3.connect(catalog_path(project.warehouse))
        with connection:
            for name in graph.order:
                partitions = graph[name].partitions
                bound = partitions.index_bound()
                count = int(bound * fraction)
                total += bound
                written += count
                code = graph[name].code_version
                if varied:
                    rows = (
                        (name, key, code, at, at, seq, seq, seq)
                        for seq, key in enumerate(partitions.keys(0, count), written - count + 1)
                        for at in [(start + dt.timedelta(seconds=seq)).isoformat()]
                    )
                else:
                    rows = (
                        (name, key, code, moment, moment, 1, 1, 1)
                        for key in partitions.keys(0, count)
                    )
                connection.executemany(
                    "INSERT INTO partition_states (asset, partition, last_status, data_version,"
                    " code_version, inputs, materialized_at, last_attempt_at, rows,"
                    " published_seq, consumed_seq, seq)"
                    " VALUES (?, ?, 'materialized', 'v1', ?, '[]', ?, ?, 1, ?, ?, ?)",
                    rows,
                )
        connection.close()
    return total, written


def change_one_upstream_partition(root) -> None:
    """One 5-minute partition gets new data (at sequence 2), as a run would record."""
    from partita.catalog import catalog_path

    connection = sqlite3.connect(catalog_path(root / "warehouse"))
    with connection:
        connection.execute(
            "UPDATE partition_states SET data_version = 'v2',"
            " published_seq = (SELECT max(seq) + 1 FROM partition_states),"
            " seq = (SELECT max(seq) + 1 FROM partition_states)"
            " WHERE asset = 'ticks' AND partition = '2015-01-01T06:00'"
        )
    connection.close()


def run(smoke: bool) -> None:
    days = 2 if smoke else int(os.environ.get("PARTITA_BENCH_PARTITIONS_DAYS", "3650"))
    customers = 10 if smoke else 1000
    varied = os.environ.get("PARTITA_BENCH_PARTITIONS_VARIED") == "1"
    order_days = min(days, 365)
    start = dt.datetime(2015, 1, 1)
    end = start + dt.timedelta(days=days)
    now = end.isoformat() + "+00:00"
    source = project_source(
        end.strftime("%Y-%m-%d"), (start + dt.timedelta(days=order_days)).strftime("%Y-%m-%d")
    )
    with temporary_project({"shapes.py": source}) as root:
        total, written = fill_catalog(root, customers, 0.9, varied)
        figures = []

        def measure(label: str, *arguments: str, repeat: int = 3) -> None:
            runs = [
                run_process_usage(partita_command("--project", str(root), *arguments))
                for _ in range(repeat)
            ]
            elapsed = statistics.median(seconds for seconds, _, _ in runs)
            cpu = statistics.median(seconds for _, seconds, _ in runs)
            peak = max(mebibytes for _, _, mebibytes in runs)
            figures.append(
                (
                    label,
                    f"{elapsed:.2f} s wall, {cpu:.2f} s CPU (medians of {repeat}), "
                    f"peak {peak:.0f} MiB",
                )
            )

        measure("baseline: partita --version (start-up)", "--version")
        measure("first status (builds snapshots)", "status", "--now", now, repeat=1)
        change_one_upstream_partition(root)
        measure("materialize --plan", "materialize", "--plan", "--now", now)
        measure("status", "status", "--now", now)
        measure(
            "status --json (at most 1,000 partitions listed per asset)",
            "status",
            "--now",
            now,
            "--json",
        )
        measure(
            "status --where customer=c0001", "status", "--now", now, "--where", "customer=c0001"
        )
        measure("freshness", "freshness", "--now", now)
        keys = [f"n{i:04d}" for i in range(customers)]
        measure("partitions add (new keys)", "partitions", "add", "customers", *keys, repeat=1)
        measure("partitions add (known keys)", "partitions", "add", "customers", *keys)
        measure("status after adding keys", "status", "--now", now, repeat=1)
    report(
        f"Partitions of every shape: {days} days of 5-minute partitions, "
        f"{order_days} days x {customers} dynamic customers "
        f"({total:,} asset partitions, {written:,} materialized"
        f"{', each row its own sequence and time' if varied else ''})",
        figures,
    )


if __name__ == "__main__":
    print(json.dumps({"note": "run with python -m tests.benchmarks --only partitions"}))
