"""A real Dask cluster of processes: `dask scheduler` and two `dask worker`s on 127.0.0.1.

The scheduler runs with allowed-failures 0, as partita requires (a unit whose worker died
must not run again behind partita's back). Workers run without a nanny, so the pid we hold
is the worker's own and a test can kill it mid-unit; `ensure_workers` starts replacements.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import free_port, stop, wait_for_port

WORKERS = 2


class DaskServers:
    """A scheduler and its workers, each a process of ours; `address` is tcp://..."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="partita-dask-"))
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.workers: list[subprocess.Popen] = []
        self._count = 0
        log = self.folder / "scheduler.log"
        with open(log, "wb") as sink:
            self.scheduler = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--no-dashboard",
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.folder,
            )
        try:
            wait_for_port(self.port, self.scheduler, "the Dask scheduler", log)
            self.ensure_workers()
        except BaseException:
            self.stop()
            raise

    def ensure_workers(self) -> None:
        """Start workers until `WORKERS` are alive, and wait until the scheduler has them."""
        self.workers = [w for w in self.workers if w.poll() is None]
        while len(self.workers) < WORKERS:
            self._count += 1
            with open(self.folder / f"worker-{self._count}.log", "wb") as sink:
                self.workers.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "distributed.cli.dask_worker",
                            self.address,
                            "--host",
                            "127.0.0.1",
                            "--nthreads",
                            "1",
                            "--no-nanny",
                            "--no-dashboard",
                            "--name",
                            f"worker-{self._count}",
                        ],
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                        env=self.env,
                        cwd=self.folder,
                    )
                )
        self._wait_for_workers()

    def _wait_for_workers(self, timeout: float = 60.0) -> None:
        from distributed import Client

        deadline = time.monotonic() + timeout
        with Client(self.address, timeout=30) as client:
            while len(client.scheduler_info()["workers"]) != WORKERS:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the Dask scheduler at {self.address} does not have {WORKERS} workers"
                        f" after {timeout:g} s; see the logs in {self.folder}"
                    )
                for worker in self.workers:
                    if worker.poll() is not None:
                        raise RuntimeError(f"a Dask worker exited; see the logs in {self.folder}")
                time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        return [w.pid for w in self.workers if w.poll() is None]

    def stop(self) -> None:
        for worker in self.workers:
            stop(worker, signal.SIGTERM)
        stop(self.scheduler, signal.SIGTERM)
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)
