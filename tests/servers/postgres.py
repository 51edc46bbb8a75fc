"""A PostgreSQL server from this machine's binaries, in a temporary folder.

`initdb` and `postgres` refuse to run as root: as root they run as the user `nobody`
(through `setpriv`, which execs, so the pid we hold is the postmaster's). The server
listens on a free port of 127.0.0.1 only and asks for a password (scram-sha-256), so the
tests also show that the password never reaches output, logs or the run record.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from .common import free_port, stop, wait_for_port

USER = "partita"


def find_bindir() -> Path:
    """The folder of `initdb` and `postgres`: `pg_config --bindir`, else the newest
    /usr/lib/postgresql/*/bin."""
    candidates = []
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(Path(found.stdout.strip()))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, postgres) not found via pg_config or in"
        " /usr/lib/postgresql/*/bin: install the Debian package postgresql."
    )


class PostgresServer:
    """A running server; `url(schema)` gives a catalog URL (with the password)."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.folder = Path(tempfile.mkdtemp(prefix="partita-pg-"))
        self.password = secrets.token_hex(12)
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.folder, nobody.pw_uid, nobody.pw_gid)
            self._as_user = [
                "setpriv",
                f"--reuid={nobody.pw_uid}",
                f"--regid={nobody.pw_gid}",
                "--clear-groups",
                "--",
            ]
        self.process: subprocess.Popen | None = None
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _run_as(self, command: Sequence[str], **options) -> subprocess.Popen:
        return subprocess.Popen([*self._as_user, *command], cwd=self.folder, **options)

    def _start(self) -> None:
        data = self.folder / "data"
        pwfile = self.folder / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as_user:
            os.chown(pwfile, pwd.getpwnam("nobody").pw_uid, -1)
        init = self._run_as(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output, _ = init.communicate(timeout=120)
        pwfile.unlink()
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed (exit {init.returncode}):\n{output}")
        log = self.folder / "server.log"
        with open(log, "wb") as sink:
            self.process = self._run_as(
                [
                    str(self.bindir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    str(self.folder),
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=200",
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, self.process, "the PostgreSQL server", log)
        self._wait_until_accepting()

    def _wait_until_accepting(self) -> None:
        import time

        import psycopg

        for _ in range(100):
            try:
                psycopg.connect(self.url(), connect_timeout=5).close()
                return
            except psycopg.OperationalError as error:
                last = error
                time.sleep(0.1)
        raise RuntimeError(f"the PostgreSQL server does not accept connections: {last}")

    def url(self, schema: str | None = None) -> str:
        """A URL of the database `postgres` (in `schema`, when given)."""
        base = f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/postgres"
        return base if schema is None else f"{base}?options=-csearch_path%3D{schema}"

    def new_schema(self) -> str:
        """A URL of a new, empty schema: a fresh catalog."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, signal.SIGINT)  # fast shutdown: its backends end with it
        shutil.rmtree(self.folder, ignore_errors=True)
