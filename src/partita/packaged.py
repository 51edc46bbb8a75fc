"""Projects installed as Python packages: a worker that cannot see the project's folder
loads the copy installed with pip, named by its import name (as Dagster code locations
are loaded with `-m module`).

The installed package is the project folder itself: its directory holds the project's
`pyproject.toml` (with `[tool.partita]`) and its assets folder, shipped as package data.
Its assets are imported from there by path, as from any project folder, so their code
versions are those of the installed copy: a worker with an older install refuses the
jobs of newer code, naming both versions.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

from .errors import ProjectError

MODULE_VARIABLE = "PARTITA_PROJECT_MODULE"  # on a worker: the installed project's import name


@functools.cache  # a worker asks for every job; an upgrade in place keeps the folder
def installed_project_root(module: str) -> Path:
    """The folder of the installed package `module`, checked to be a partita project."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as error:
        spec = None
        why = f" ({error})"
    else:
        why = ""
    if spec is None or not spec.submodule_search_locations:
        raise ProjectError(
            f"{MODULE_VARIABLE} names {module!r}, but no package of that name can be imported"
            f" here{why}. Install the project on this machine (pip install ...), or set"
            " PARTITA_PROJECT_ROOT to a folder holding the project."
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / "pyproject.toml").is_file():
        raise ProjectError(
            f"the installed package {module!r} ({folder}) is not a partita project: it ships"
            " no pyproject.toml. Ship the project's pyproject.toml and assets folder as"
            " package data of that package (see 'Running on a cluster' in the README)."
        )
    return folder


def worker_project_root(job_root: str | None) -> str | None:
    """Where a worker loads a job's project from: the installed package named by
    `PARTITA_PROJECT_MODULE`, else the folder `PARTITA_PROJECT_ROOT`, else the job's root
    (a folder the worker sees at the coordinator's path)."""
    module = os.environ.get(MODULE_VARIABLE)
    if module:
        return str(installed_project_root(module))
    return os.environ.get("PARTITA_PROJECT_ROOT") or job_root
