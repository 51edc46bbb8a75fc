"""The `partita_project` fixture as a user gets it: pytest run in their project, the
plugin found through its `pytest11` entry point, no conftest."""

from __future__ import annotations

import subprocess
import sys

USER_TEST = """
from datetime import datetime

from partita.testing import build_context


def test_numbers_in_a_warehouse_of_their_own(partita_project):
    report = partita_project.materialize("numbers", now=datetime(2024, 1, 3))
    assert not report.failed
    assert partita_project.read("numbers")["n"].tolist() == [1, 2]
    assert partita_project.warehouse == partita_project.root / "wh"
    numbers = partita_project.load().graph["numbers"]
    assert numbers.fn(build_context(numbers)).shape == (2, 1)
"""


def test_a_user_s_pytest_finds_the_fixture_and_copies_the_project(project) -> None:
    (project.root / "pyproject.toml").write_text(
        '[project]\nname = "user"\nversion = "0"\n\n[tool.partita]\nwarehouse = "wh"\n'
    )
    project.write(
        "assets/numbers.py",
        """
        import pandas as pd
        from partita import asset

        @asset
        def numbers(context) -> pd.DataFrame:
            return pd.DataFrame({"n": [1, 2]})
        """,
    )
    project.write("tests/test_numbers.py", USER_TEST)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "1 passed" in completed.stdout
    assert not (project.root / "wh").exists()  # the copy had its own warehouse
