"""Shared fixtures: temporary projects written from source text, and the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# Deterministic by default: the same examples on every run and in CI. Explore new ones with
# `pytest --hypothesis-profile=explore`.
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=500)
settings.load_profile("default")

PARTITA = [sys.executable, "-m", "partita"]

# Real servers (PostgreSQL, S3, Dask), started once per session by the tests that need them.
pytest_plugins = ["servers.fixtures"]


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@dataclass
class TempProject:
    """A project folder in tmp_path: `pyproject.toml`, `assets/`, `warehouse/`."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    def write(self, relative: str, source: str) -> Path:
        """Write an asset module (dedented) under the project."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip())
        return path

    def cli(self, *args: str, check: int | None = None, env: dict | None = None) -> CliResult:
        """Run the real `partita` command in the project folder."""
        completed = subprocess.run(
            [*PARTITA, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
            timeout=300,
        )
        result = CliResult(completed.returncode, completed.stdout, completed.stderr)
        if check is not None:
            assert result.exit_code == check, (result.stdout, result.stderr)
        return result

    def load(self):
        from partita import load_project

        return load_project(self.root)


@pytest.fixture
def project(tmp_path: Path) -> TempProject:
    """An empty project; write asset modules into it with `project.write(...)`."""
    root = tmp_path / "proj"
    (root / "assets").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    return TempProject(root)


def lease_as_a_dead_process(warehouse: Path, asset: str, partition: str | None) -> None:
    """Leave a lease of `asset` `partition` held by run `dead-run`, whose process (of this
    host) has exited an hour after its last heartbeat: a run that died mid-unit."""
    from datetime import UTC, datetime, timedelta

    from partita.catalog.sqlite import SQLiteCatalog
    from partita.processes import ProcessIdentity, this_host

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = ProcessIdentity(this_host(), child.pid)
    stopped = datetime.now(UTC) - timedelta(hours=1)
    with SQLiteCatalog(warehouse / ".partita" / "catalog.db", process=dead) as catalog:
        assert catalog.acquire_lease(asset, partition, "dead-run", stopped, 30.0) is None
