"""The real CLI with `--executor dask`: a local Dask cluster started for the run gives the
same data as local processes, and leaves no process behind."""

from __future__ import annotations

import json
import subprocess
import sys

from servers.workload import NOW, data_versions, write_project

PARTITA = [sys.executable, "-m", "partita"]


def cli(root, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [*PARTITA, *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_a_local_dask_cluster_materializes_what_local_processes_do(tmp_path) -> None:
    local = write_project(tmp_path / "local")
    dask = write_project(tmp_path / "dask", 'executor = "dask"')
    days = ["+summary", "--from", "2024-01-01", "--to", "2024-01-06"]

    done = cli(local, "backfill", *days, "--now", NOW, "--workers", "2")
    assert done.returncode == 0, done.stderr
    done = cli(dask, "backfill", *days, "--now", NOW, "--workers", "2", "--json")
    assert done.returncode == 0, done.stderr

    expected = data_versions(local)
    assert len(expected) == 3 * 6
    assert data_versions(dask) == expected
    # The same again plans nothing, on the cluster too.
    again = cli(dask, "backfill", *days, "--now", NOW, "--executor", "dask", "--json")
    assert again.returncode == 0, again.stderr
    assert {r["status"] for r in json.loads(again.stdout)["results"]} == {"up_to_date"}
