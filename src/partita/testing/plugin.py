"""partita's pytest plugin (entry point `pytest11`): the `partita_project` fixture.

`partita_project` copies the project under test (its `pyproject.toml` and assets folder;
the project is the one holding the pytest rootdir, or the folder set by the ini option
`partita_project`) into a temporary folder, so each test materializes into its own
empty warehouse. Without the installed entry point, add to `conftest.py`:
`pytest_plugins = ["partita.testing.plugin"]`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class ProjectCopy:
    """A copy of a project in a temporary folder, with its own warehouse."""

    root: Path
    env: str | None = None

    @property
    def warehouse(self) -> Path:
        return self.config().warehouse

    def config(self) -> Any:
        from ..discovery import load_config

        return load_config(self.root, self.env)

    def load(self) -> Any:
        """The copy as a `Project` (with `materialize`, `status`, `read`...)."""
        from ..project import load_project

        return load_project(self.root, self.env)

    def materialize(self, *args: Any, **kwargs: Any) -> Any:
        """`Project.materialize` on the copy; returns the run report."""
        return self.load().materialize(*args, **kwargs)

    def read(self, asset: str, partition: Any = None) -> Any:
        """`Project.read` on the copy: a DataFrame."""
        return self.load().read(asset, partition)


def copy_project(source: Path, destination: Path, env: str | None = None) -> ProjectCopy:
    """Copy the project at `source` (pyproject.toml and assets folder, no warehouse) to
    `destination`; the copy's warehouse must lie inside it."""
    from ..discovery import find_project_root, load_config
    from ..errors import ProjectError

    root = find_project_root(source)
    config = load_config(root, env)
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "pyproject.toml", destination / "pyproject.toml")
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    relative = config.assets_dir.relative_to(root)
    shutil.copytree(config.assets_dir, destination / relative, ignore=ignored)
    copy = ProjectCopy(destination, env)
    if not copy.warehouse.is_relative_to(destination):
        raise ProjectError(
            f"the warehouse of {root} ({config.warehouse}) is outside the project, so a "
            "copy would share it: give the environment under test a relative warehouse."
        )
    return copy


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "partita_project",
        "The folder of the partita project that the partita_project fixture copies "
        "(default: the project holding the pytest rootdir).",
        default="",
    )


@pytest.fixture
def partita_project(request: pytest.FixtureRequest, tmp_path: Path) -> ProjectCopy:
    """A copy of the project under test in a temporary folder, with an empty warehouse."""
    configured = request.config.getini("partita_project")
    source = request.config.rootpath / configured if configured else request.config.rootpath
    return copy_project(source, tmp_path / "project")
