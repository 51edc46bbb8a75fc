"""`partita catalog migrate|copy` and the PostgreSQL catalog through the real CLI, against
the session's real server: a team moves its catalog without rebuilding, and the password
never shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from servers.workload import NOW, data_versions, write_project

from partita.catalog import open_catalog

PARTITA = [sys.executable, "-m", "partita"]
DAYS = ["+summary", "--from", "2024-01-01", "--to", "2024-01-04", "--now", NOW]


def cli(root, *args: str, catalog: str | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "PARTITA_CATALOG"}
    if catalog is not None:
        env["PARTITA_CATALOG"] = catalog
    return subprocess.run(
        [*PARTITA, *args], cwd=root, capture_output=True, text=True, env=env, timeout=300
    )


def test_copy_moves_a_sqlite_catalog_to_postgres_without_rebuilding(
    tmp_path, postgres_server
) -> None:
    project = write_project(tmp_path / "project")
    assert cli(project, "backfill", *DAYS).returncode == 0
    url = postgres_server.new_schema()

    copied = cli(project, "catalog", "copy", "--to", url)

    assert copied.returncode == 0, copied.stderr
    assert "copied 1 runs, 12 materializations" in copied.stdout
    assert postgres_server.password not in copied.stdout + copied.stderr
    assert data_versions(project, url) == data_versions(project)
    with open_catalog(project / "warehouse") as sqlite, open_catalog(project, url) as postgres:
        assert postgres.all_states() == sqlite.all_states()
        assert postgres.history() == sqlite.history()
        assert postgres.sequence() == sqlite.sequence() == 12
    # On PostgreSQL now: nothing to rebuild; a new day continues the sequence and history
    # (built in a worker process, which checks its lease in the same catalog).
    again = cli(project, "backfill", *DAYS, "--json", catalog=url)
    assert again.returncode == 0, again.stderr
    assert {r["status"] for r in json.loads(again.stdout)["results"]} == {"up_to_date"}
    one_day = ["raw", "--from", "2024-01-05", "--to", "2024-01-05", "--now", NOW]
    more = cli(project, "backfill", *one_day, "--workers", "2", catalog=url)
    assert more.returncode == 0, more.stderr
    with open_catalog(project, url) as postgres:
        assert postgres.state("raw", "2024-01-05").seq == 13  # type: ignore[union-attr]
        assert len(postgres.history()) == 13
        assert all(postgres_server.password not in run.command for run in postgres.runs())

    # Copying again into the same (no longer empty) catalog is refused, touching nothing.
    refused = cli(project, "catalog", "copy", "--to", url)
    assert refused.returncode == 2
    assert "it is not empty" in refused.stderr
    assert postgres_server.password not in refused.stderr


def test_migrate_creates_the_schema_and_a_wrong_password_is_never_shown(
    tmp_path, postgres_server
) -> None:
    project = write_project(tmp_path / "project")
    url = postgres_server.new_schema()

    migrated = cli(project, "catalog", "migrate", catalog=url)

    assert migrated.returncode == 0, migrated.stderr
    assert "is at schema version" in migrated.stdout and ":***@" in migrated.stdout
    assert postgres_server.password not in migrated.stdout
    wrong = url.replace(postgres_server.password, "not-the-password-4711")
    failed = cli(project, "catalog", "migrate", catalog=wrong)
    assert failed.returncode == 2
    assert "password authentication failed" in failed.stderr
    assert "not-the-password-4711" not in failed.stderr + failed.stdout
    assert "Traceback" not in failed.stderr
