"""`partita.load_project`: the Python entry point to a project's validated asset graph."""

from __future__ import annotations

import os
import sqlite3
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import lease_as_a_dead_process

from partita import load_project
from partita.errors import DefinitionErrors, ProjectError, SelectionError

PIPELINE = """
from partita import DailyPartitions, asset

DAYS = DailyPartitions("2013-01-01", "2013-02-01")


@asset(partitions=DAYS, group="raw", tags={"source": "test"})
def raw(context):
    return None


@asset(partitions=DAYS, group="metrics")
def cleaned(raw):
    return None


@asset(deps=["cleaned"])
def report():
    return None
"""


def make_project(root: Path, modules: dict[str, str], settings: str = "") -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(f'[project]\nname = "p"\n{settings}')
    for relative, source in modules.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip())
    return root


def test_load_project(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    loaded = load_project(project.root)
    assert loaded.root == project.root.resolve()
    assert loaded.warehouse == (project.root / "warehouse").resolve()
    assert loaded.graph.order == ("raw", "cleaned", "report")
    assert loaded.graph.upstream("report") == ("cleaned",)
    assert loaded.select() == ["raw", "cleaned", "report"]
    assert loaded.select("report") == ["report"]
    assert loaded.select(["+report"]) == ["raw", "cleaned", "report"]
    assert loaded.select(["group:raw", "tag:source=test"]) == ["raw"]
    with pytest.raises(SelectionError, match="Did you mean 'report'"):
        loaded.select("reprot")


def test_load_project_accepts_a_string_path(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    assert load_project(str(project.root)).graph.order == ("raw", "cleaned", "report")


def test_load_project_finds_the_project_from_the_current_folder(project, monkeypatch) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    monkeypatch.chdir(project.root / "assets")
    loaded = load_project()
    assert loaded.root == project.root.resolve()
    assert set(loaded.graph.assets) == {"raw", "cleaned", "report"}


def test_load_project_with_configured_folders(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "custom",
        {"pipelines/one.py": "from partita import asset\n@asset\ndef one():\n    pass\n"},
        '\n[tool.partita]\nassets = "pipelines"\nwarehouse = "data/wh"\n',
    )
    loaded = load_project(root)
    assert loaded.graph.order == ("one",)
    assert loaded.warehouse == (root / "data" / "wh").resolve()


def test_load_project_reports_configuration_problems(tmp_path: Path) -> None:
    root = make_project(tmp_path / "bad", {}, '\n[tool.partita]\nasset = "assets"\n')
    with pytest.raises(ProjectError, match="unknown key"):
        load_project(root)


def test_definition_errors_use_locations_relative_to_the_project(project) -> None:
    project.write(
        "assets/broken.py",
        """
        from partita import asset

        @asset
        def report(flihgts):
            pass

        @asset
        def flights():
            pass
        """,
    )
    with pytest.raises(DefinitionErrors) as caught:
        load_project(project.root)
    (error,) = caught.value.errors
    message = str(error)
    assert message.startswith("asset 'report' (assets/broken.py:3)")
    assert "Did you mean 'flights'?" in message
    assert str(project.root) not in message


def test_two_projects_load_side_by_side(tmp_path: Path) -> None:
    helpers = {"assets/common.py": "LABEL = '{label}'\n"}
    module = """
    from partita import asset
    from .common import LABEL

    @asset
    def {name}():
        return LABEL
    """
    first_root = make_project(
        tmp_path / "first",
        {
            "assets/common.py": helpers["assets/common.py"].format(label="first"),
            "assets/main.py": module.format(name="shared_name"),
        },
    )
    second_root = make_project(
        tmp_path / "second",
        {
            "assets/common.py": helpers["assets/common.py"].format(label="second"),
            "assets/main.py": module.format(name="shared_name"),
            "assets/extra.py": "from partita import asset\n@asset\ndef extra():\n    pass\n",
        },
    )
    first = load_project(first_root)
    second = load_project(second_root)
    assert first.graph.order == ("shared_name",)
    assert second.graph.order == ("extra", "shared_name")
    assert first.graph["shared_name"]() == "first"
    assert second.graph["shared_name"]() == "second"
    assert first.graph["shared_name"].module != second.graph["shared_name"].module
    # loading the first again does not disturb the second
    again = load_project(first_root)
    assert again.graph["shared_name"]() == "first"
    assert second.graph["shared_name"]() == "second"


def test_reloading_a_project_sees_the_edit(project) -> None:
    path = project.write("assets/pipeline.py", PIPELINE)
    before = load_project(project.root)
    path.write_text(
        textwrap.dedent(PIPELINE).replace('@asset(deps=["cleaned"])', '@asset(deps=["raw"])')
        + "\n\n@asset\ndef added(report):\n    return 'new'\n"
    )
    after = load_project(project.root)
    assert before.graph.upstream("report") == ("cleaned",)
    assert after.graph.upstream("report") == ("raw",)
    assert "added" not in before.graph
    assert after.graph["added"](None) == "new"
    assert after.graph.upstream("added") == ("report",)


def test_code_version_follows_an_edit_on_reload(project) -> None:
    path = project.write(
        "assets/a.py", "from partita import asset\n@asset\ndef a():\n    return 1\n"
    )
    before = load_project(project.root).graph["a"].code_version
    same = load_project(project.root).graph["a"].code_version
    path.write_text("from partita import asset\n@asset\ndef a():\n    return 2 + 0\n")
    after = load_project(project.root).graph["a"].code_version
    assert before == same
    assert before != after


def test_code_version_follows_an_edit_that_keeps_size_and_mtime(project) -> None:
    path = project.write(
        "assets/a.py", "from partita import asset\n@asset\ndef a():\n    return 1\n"
    )
    before = load_project(project.root).graph["a"].code_version
    stat = path.stat()
    path.write_text("from partita import asset\n@asset\ndef a():\n    return 2\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    reloaded = load_project(project.root).graph["a"]
    assert reloaded() == 2
    assert reloaded.code_version != before


EVENTS = """
import pandas as pd
from partita import DailyPartitions, asset


@asset(partitions=DailyPartitions(start="2024-01-01"))
def events(context):
    return pd.DataFrame({"day": [context.partition_key], "n": [1]})
"""


def test_the_read_methods_never_write_to_the_catalog(project) -> None:
    now = datetime(2024, 1, 4, tzinfo=UTC)
    project.write("assets/events.py", EVENTS)
    loaded = load_project(project.root)
    loaded.materialize(now=now)
    lease_as_a_dead_process(loaded.warehouse, "events", "2024-01-02")  # a run died mid-unit

    def everything() -> list:
        with sqlite3.connect(loaded.warehouse / ".partita" / "catalog.db") as connection:
            tables = ("materializations", "leases", "runs", "partition_states")
            return [connection.execute(f"SELECT * FROM {t}").fetchall() for t in tables]

    before = everything()
    assert [u.partition for u in loaded.plan(now=now).to_run] == ["2024-01-02"]
    assert loaded.states()["events"]["2024-01-02"].last_status == "interrupted"
    loaded.status(now=now)
    loaded.freshness(now=now, include_all=True)
    loaded.watermarks(now=now)
    loaded.runs()
    assert len(loaded.read("events")) == 3
    assert everything() == before
