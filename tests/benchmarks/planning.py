"""Planning at scale: a generated project of 50 assets in 5 layers with hourly partitions
over 5 years (about 2.2 million asset partitions), its catalog pre-filled so that 90% of
them are materialized and consistent. Measures, as whole processes (time and peak
memory): the first `status`, which builds the per-asset state snapshots from 2 million
catalog rows (what the first command after an upgrade pays once); then, after one upstream
partition changed, `materialize --plan`, `status` and `freshness`.

`PARTITA_BENCH_PLANNING_YEARS` scales the span (default 5), to show how cost grows.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3

from .common import partita_command, report, run_process, temporary_project

LAYERS, WIDTH = 5, 10

PROJECT = """
from partita import FreshnessPolicy, HourlyPartitions, asset

HOURS = HourlyPartitions(start="2020-01-01T00", end="{end}")
{definitions}
"""


def project_source(end: str) -> str:
    definitions = []
    for layer in range(LAYERS):
        for column in range(WIDTH):
            name = f"l{layer}_{column}"
            upstream = (
                [f"l{layer - 1}_{column}", f"l{layer - 1}_{(column + 1) % WIDTH}"] if layer else []
            )
            freshness = ', freshness=FreshnessPolicy(max_lag="2h")' if layer == LAYERS - 1 else ""
            definitions.append(
                f"\n@asset(partitions=HOURS{freshness})\n"
                f"def {name}({', '.join(upstream)}):\n    return None\n"
            )
    return PROJECT.format(end=end, definitions="".join(definitions))


def fill_catalog(root, fraction: float) -> int:
    """Write consistent partition states for the first `fraction` of every asset's
    partitions straight into the catalog (the fastest honest way to get 2 million rows)."""
    from partita import load_project
    from partita.catalog import catalog_path, open_catalog

    project = load_project(root)
    with open_catalog(project.warehouse):
        pass  # creates the schema
    moment = "2026-01-01T00:00:00.000000+00:00"
    rows = 0
    connection = sqlite3.connect(catalog_path(project.warehouse))
    with connection:
        for name in project.graph.order:
            definition = project.graph[name]
            partitions = definition.partitions
            count = int(partitions.index_bound() * fraction)
            upstream = project.graph.upstream(name)

            def states(
                name=name,
                count=count,
                upstream=upstream,
                code=definition.code_version,
                partitions=partitions,
            ):
                for key in partitions.keys(0, count):
                    inputs = json.dumps([[u, key, "v1"] for u in upstream])
                    published_seq = consumed_seq = seq = 1  # published, then read, at 1
                    yield (
                        *(name, key, "materialized", "v1", code, inputs, moment, moment, 100),
                        *(published_seq, consumed_seq, seq),
                    )

            connection.executemany(
                "INSERT INTO partition_states (asset, partition, last_status, data_version, "
                "code_version, inputs, materialized_at, last_attempt_at, rows, published_seq, "
                "consumed_seq, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                states(),
            )
            rows += count
    connection.close()
    return rows


def change_one_upstream_partition(root) -> None:
    """One upstream partition gets new data (at catalog sequence 2), as a run would record."""
    from partita.catalog import catalog_path

    connection = sqlite3.connect(catalog_path(root / "warehouse"))
    with connection:
        connection.execute(
            "UPDATE partition_states SET data_version = 'v2', published_seq = 2, seq = 2 "
            "WHERE asset = 'l0_0' AND partition = '2020-06-01T00'"
        )
    connection.close()


def run(smoke: bool) -> None:
    years = 0.02 if smoke else float(os.environ.get("PARTITA_BENCH_PLANNING_YEARS", "5"))
    end = dt.datetime(2020, 1, 1) + dt.timedelta(hours=round(years * 8766))
    now = end.isoformat() + "+00:00"
    with temporary_project({"layers.py": project_source(end.strftime("%Y-%m-%dT%H"))}) as root:
        filled = fill_catalog(root, 0.9)
        total = round(filled / 0.9)
        figures = []

        def measure(label: str, *arguments: str) -> None:
            elapsed, peak = run_process(partita_command("--project", str(root), *arguments))
            figures.append((label, f"{elapsed:.2f} s, peak {peak:.0f} MiB"))

        measure("first status (builds snapshots)", "status", "--now", now)
        change_one_upstream_partition(root)
        measure("materialize --plan", "materialize", "--plan", "--now", now)
        measure("materialize --plan --json", "materialize", "--plan", "--now", now, "--json")
        measure("status", "status", "--now", now)
        measure("status --json", "status", "--now", now, "--json")
        measure("freshness", "freshness", "--now", now)
    report(
        f"Planning at scale: {LAYERS * WIDTH} assets, hourly over {years:g} years "
        f"({total:,} asset partitions, {filled:,} materialized)",
        figures,
    )
