"""Where unit jobs run: inline in the runner's process, or in a pool of worker processes.

Each executor implements `executors.base.Executor` and passes the contract suite in
`tests/executors/contract/`.
"""

from __future__ import annotations

from ..execution.unit import Workspace
from .base import Executor
from .inline import InlineExecutor
from .pool import DEFAULT_START_METHOD, START_METHODS, ProcessExecutor

PROCESS = "process"

__all__ = [
    "DEFAULT_START_METHOD",
    "PROCESS",
    "START_METHODS",
    "Executor",
    "InlineExecutor",
    "ProcessExecutor",
    "make_executor",
]


def make_executor(
    workspace: Workspace,
    workers: int,
    kind: str | None = None,
    catalog: str | None = None,
    timed: bool = False,
    cautious: bool = False,
) -> Executor:
    """`kind` `process` (or None): inline for one worker, a process pool (started with
    `spawn`) for more, or when a unit has a timeout (`timed`: only a worker process can be
    stopped mid-unit); `dask`: a local Dask cluster of `workers` processes; `tcp://...`:
    the Dask scheduler at that address (see `executors.dask`; `catalog` is the catalog URL
    its workers check leases in; `cautious`: keep as few units in flight as local processes
    do, for --max-failures)."""
    if kind is not None and kind != PROCESS:
        from .dask import DaskExecutor, check_executor

        return DaskExecutor(workspace, workers, check_executor(kind), catalog, cautious)
    if workers <= 1 and not (timed and workspace.root is not None):
        return InlineExecutor(workspace)
    return ProcessExecutor(workspace, workers)
