"""Importing partita and starting its CLI must not load the heavy data libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest

from partita import __version__

HEAVY = (
    "pandas",
    "pyarrow",
    "duckdb",
    "polars",
    "openlineage",
    "aiosmtpd",
    "smtplib",
    "dask",
    "distributed",
    "psycopg",
    "boto3",
    "botocore",
)

PROBE = """
import runpy, sys
{action}
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print("HEAVY:" + ",".join(heavy))
"""


def _heavy_modules_after(action: str) -> tuple[list[str], str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(action=action, heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    marker = completed.stdout.strip().splitlines()[-1]
    assert marker.startswith("HEAVY:")
    found = marker.removeprefix("HEAVY:")
    return (found.split(",") if found else []), completed.stdout


@pytest.mark.parametrize("module", ["partita", "partita.cli.main"])
def test_import_does_not_load_data_libraries(module: str) -> None:
    heavy, _ = _heavy_modules_after(f"import {module}")
    assert heavy == []


def test_version_does_not_load_data_libraries() -> None:
    action = (
        "sys.argv = ['partita', '--version']\n"
        "try:\n"
        "    runpy.run_module('partita', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code"
    )
    heavy, stdout = _heavy_modules_after(action)
    assert f"partita {__version__}" in stdout
    assert heavy == []


def test_the_probe_detects_a_heavy_import() -> None:
    heavy, _ = _heavy_modules_after("import partita, duckdb")
    assert "duckdb" in heavy
