"""A Dask worker that loads the project installed as a package (`PARTITA_PROJECT_MODULE`)
instead of the coordinator's folder: it runs the jobs with the installed copy's code, and
refuses jobs planned with other code, naming both versions."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from servers.dask import DaskServers

from partita.errors import ProjectError
from partita.packaged import MODULE_VARIABLE, installed_project_root, worker_project_root

PACKAGE = "demo_pipelines"
NOW = "2024-01-03"

ASSET = """
import pandas as pd
from partita import DailyPartitions, asset

DAYS = DailyPartitions(start="2024-01-01", end="2024-01-03")


@asset(partitions=DAYS)
def located(context) -> pd.DataFrame:
    return pd.DataFrame({"day": [context.partition_key], "where": [__file__]})
"""


def write_project(folder: Path, warehouse: Path) -> Path:
    """The project folder, which is also the importable package `demo_pipelines`."""
    (folder / "assets").mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\nversion = "1"\n\n[tool.partita]\nwarehouse = "{warehouse}"\n'
    )
    (folder / "assets" / "located.py").write_text(ASSET.lstrip())
    return folder


def build_wheel(project: Path, into: Path) -> Path:
    """A wheel of the package `demo_pipelines` holding the whole project folder (its
    pyproject.toml and assets as package data), as a packaged project ships."""
    info = "demo_pipelines-1.0.dist-info"
    files = {
        f"{PACKAGE}/{path.relative_to(project).as_posix()}": path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file()
    }
    files[f"{info}/METADATA"] = b"Metadata-Version: 2.1\nName: demo-pipelines\nVersion: 1.0\n"
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    records = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        records.append(f"{name},sha256={digest},{len(data)}")
    records.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(records) + "\n").encode()
    wheel = into / "demo_pipelines-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "partita", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_workers_run_jobs_with_the_installed_project(tmp_path) -> None:
    warehouse = tmp_path / "shared-warehouse"  # a folder every worker sees (or s3://)
    checkout = write_project(tmp_path / "checkout" / PACKAGE, warehouse)
    target = tmp_path / "site"
    wheel = build_wheel(checkout, tmp_path)
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    servers = DaskServers({"PYTHONPATH": str(target), MODULE_VARIABLE: PACKAGE})
    try:
        done = cli(checkout, "materialize", "--now", NOW, "--executor", servers.address, "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        assert {r["status"] for r in json.loads(done.stdout)["results"]} == {"materialized"}
        shown = cli(checkout, "show", "located", "--json")
        assert shown.returncode == 0, shown.stderr
        rows = json.loads(shown.stdout)
        assert sorted(row["day"] for row in rows) == ["2024-01-01", "2024-01-02"]
        # Computed by the installed copy, not by the coordinator's folder.
        expected = str(target / PACKAGE / "assets" / "located.py")
        assert {row["where"] for row in rows} == {expected}

        # The checkout's code changes; the workers still have the old install: refused.
        source = checkout / "assets" / "located.py"
        source.write_text(source.read_text().replace('"where"', '"place"'))
        refused = cli(
            checkout,
            "materialize",
            "--now",
            NOW,
            "--executor",
            servers.address,
            "--force",
            "--json",
        )
        assert refused.returncode != 0
        errors = [r["error"] for r in json.loads(refused.stdout)["results"]]
        assert len(errors) == 2
        for error in errors:
            assert "not run: it was planned with code version" in error, error
            assert f"the project loaded from {target / PACKAGE} has code version" in error
    finally:
        servers.stop()


def test_a_worker_names_a_missing_or_unusable_installed_project(tmp_path, monkeypatch) -> None:

    with pytest.raises(ProjectError, match="no package of that name can be imported"):
        installed_project_root("no_such_partita_project")
    plain = tmp_path / "plain_package"
    plain.mkdir()
    (plain / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ProjectError, match=r"ships no pyproject\.toml"):
        installed_project_root("plain_package")
    (plain / "pyproject.toml").write_text(textwrap.dedent("[tool.partita]\n"))
    assert installed_project_root("plain_package") == plain
    monkeypatch.setenv(MODULE_VARIABLE, "plain_package")
    assert worker_project_root("/elsewhere") == str(plain)
    monkeypatch.delenv(MODULE_VARIABLE)
    assert worker_project_root("/elsewhere") == os.environ.get("PARTITA_PROJECT_ROOT", "/elsewhere")
