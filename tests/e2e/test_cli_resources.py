"""Environments and resources end to end: `--env`, `@resource` injected by parameter
name, `${VAR}` secrets never shown or recorded, one resource per worker process."""

from __future__ import annotations

import json
import sqlite3

SECRET = "hunter2-s3cr3t"

PYPROJECT = """
[project]
name = "demo"
version = "0"

[tool.partita]
warehouse = "warehouse"

[tool.partita.resources.db]
url = "postgresql://app:${DB_PASSWORD}@db.example.com/sales"
events = "events.txt"

[tool.partita.env.dev]
warehouse = "warehouse-dev"

[tool.partita.env.dev.resources.db]
url = "postgresql://dev:${DB_PASSWORD}@localhost/sales"
"""

ASSETS = """
import os

import pandas as pd
from partita import StaticPartitions, asset, resource


class Connection:
    def __init__(self, url, events):
        self.url = url
        self.events = events
        self._note("open")

    def _note(self, what):
        with open(self.events, "a") as handle:
            handle.write(f"{what} {os.getpid()}\\n")

    def close(self):
        self._note("close")


@resource
def db(url: str, events: str):
    return Connection(url, events)


@asset(partitions=StaticPartitions(["a", "b", "c", "d"]))
def orders(context, db) -> pd.DataFrame:
    return pd.DataFrame({"key": [context.partition_key], "host": [db.url.split("@")[1]]})


@asset
def leaky(db) -> pd.DataFrame:
    raise ValueError(f"cannot connect to {db.url}")
"""


def _write(project) -> None:
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    project.write("assets/sales.py", ASSETS)


def _events(project) -> list[tuple[str, str]]:
    lines = (project.root / "events.txt").read_text().split()
    return list(zip(lines[::2], lines[1::2], strict=True))


def test_a_resource_is_injected_by_name_and_a_secret_never_shows(project) -> None:
    _write(project)
    env = {"DB_PASSWORD": SECRET}
    result = project.cli("materialize", "--json", env=env, check=1)
    report = result.json()
    by_asset = {(r["asset"], r["partition"]): r for r in report["results"]}
    assert by_asset[("orders", "a")]["status"] == "materialized"
    leaky = by_asset[("leaky", None)]
    assert leaky["status"] == "failed"
    assert "cannot connect to postgresql://app:***@db.example.com/sales" in leaky["error"]
    assert SECRET not in result.stdout + result.stderr
    debug = project.cli("--debug", "materialize", "leaky", env=env, check=1)
    assert "***" in debug.stdout + debug.stderr
    assert SECRET not in debug.stdout + debug.stderr
    catalog = project.warehouse / ".partita" / "catalog.db"
    with sqlite3.connect(catalog) as connection:
        dumped = "\n".join(connection.iterdump())
    assert "***" in dumped
    assert SECRET not in dumped
    status = project.cli("status", "--json", env=env, check=0)
    assert SECRET not in status.stdout
    shown = project.cli("show", "orders", env=env, check=0)
    assert "db.example.com" in shown.stdout
    # One resource for the whole inline run, closed at its end.
    assert [what for what, _ in _events(project)] == ["open", "close", "open", "close"]


def test_each_worker_process_builds_the_resource_once_and_closes_it(project) -> None:
    _write(project)
    project.cli("materialize", "orders", "--workers", "2", env={"DB_PASSWORD": SECRET}, check=0)
    events = _events(project)
    opened = [pid for what, pid in events if what == "open"]
    closed = [pid for what, pid in events if what == "close"]
    assert len(opened) == len(set(opened)) <= 2  # at most once per worker process
    assert sorted(opened) == sorted(closed)


def test_an_unset_variable_fails_the_units_naming_the_key(project) -> None:
    _write(project)
    result = project.cli("materialize", "orders", "--partition", "a", "--json", check=1)
    error = result.json()["results"][0]["error"]
    assert "[tool.partita.resources.db] key 'url' reads the environment variable" in error
    assert "DB_PASSWORD, which is not set" in error


def test_env_selects_its_warehouse_and_overrides_resource_keys(project) -> None:
    _write(project)
    env = {"DB_PASSWORD": SECRET}
    project.cli("--env", "dev", "materialize", "orders", env=env, check=0)
    assert (project.root / "warehouse-dev" / ".partita" / "catalog.db").is_file()
    assert not project.warehouse.exists()
    shown = project.cli("show", "orders", "--limit", "1", env={**env, "PARTITA_ENV": "dev"})
    assert "localhost" in shown.stdout
    unknown = project.cli("--env", "stage", "status", check=2)
    assert "environment 'stage' (from --env or $PARTITA_ENV) is not declared" in unknown.stderr
    assert "declared environments: dev" in unknown.stderr


def test_an_asset_parameter_named_after_no_asset_or_resource_is_a_definition_error(
    project,
) -> None:
    project.write(
        "assets/a.py",
        """
        from partita import asset, resource

        @resource
        def warehouse_db():
            return object()

        @asset
        def report(warehouse_dbb):
            return None
        """,
    )
    result = project.cli("list", check=2)
    assert "neither 'context' nor the name of an asset or a resource" in result.stderr
    assert "Did you mean 'warehouse_db'?" in result.stderr


def test_plan_json_of_a_resource_project_names_no_secret(project) -> None:
    _write(project)
    plan = project.cli("materialize", "--plan", "--json", env={"DB_PASSWORD": SECRET}, check=0)
    assert {unit["asset"] for unit in json.loads(plan.stdout)["units"]} == {"orders", "leaky"}


CHATTY = """
import pandas as pd
from partita import asset


@asset
def chatty(context, db) -> pd.DataFrame:
    print(f"connecting to {db.url}")
    context.log.warning("using %s", db.url)
    return pd.DataFrame({"host": [db.url.split("@")[1]]})
"""


def test_a_secret_an_asset_prints_or_logs_is_masked_in_output_and_unit_logs(project) -> None:
    _write(project)
    project.write("assets/chatty.py", CHATTY)
    result = project.cli("materialize", "chatty", env={"DB_PASSWORD": SECRET}, check=0)
    run_id = project.cli("runs", "--json", check=0).json()["runs"][0]["run_id"]
    logs = project.cli("logs", run_id, "chatty", check=0).stdout

    assert "connecting to postgresql://app:***@db.example.com/sales" in logs
    assert "using postgresql://app:***@db.example.com/sales" in logs
    assert SECRET not in logs + result.stdout + result.stderr
