"""Retention keys: durations, the default, asset keys over project keys, and errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from partita import asset
from partita.definitions.retention import (
    DEFAULT_RETENTION,
    NO_RETENTION,
    Retention,
    parse_duration,
    retention_problems,
)
from partita.discovery import load_config
from partita.errors import ProjectError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("2w", timedelta(weeks=2)),
        ("30m", timedelta(minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("0d", timedelta(0)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "d", "7 days", "-1d", "7x", "1d garbage"])
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a duration; write a number and a unit"):
        parse_duration(text)


def test_the_default_keeps_three_versions_for_seven_days() -> None:
    assert Retention(timedelta(days=7), 3) == DEFAULT_RETENTION
    assert DEFAULT_RETENTION.keeps
    assert not NO_RETENTION.keeps
    assert not DEFAULT_RETENTION.merged(None, 0).keeps
    assert not DEFAULT_RETENTION.merged("0d", None).keeps
    assert DEFAULT_RETENTION.merged("1d", None) == Retention(timedelta(days=1), 3)
    assert DEFAULT_RETENTION.merged(None, 10) == Retention(timedelta(days=7), 10)


def test_retention_problems() -> None:
    assert retention_problems("7d", 3) == []
    assert retention_problems(None, None) == []
    assert "retain_versions=-1 must be a whole number" in retention_problems(None, -1)[0]
    assert "retain_versions=True" in retention_problems(None, True)[0]
    assert "retain='soon' is not a duration" in retention_problems("soon", None)[0]


def test_asset_keys_are_checked_with_the_others() -> None:
    @asset(retain="a week", retain_versions=2.5)
    def sales():
        return None

    assert len(sales.problems) == 2
    assert sales.retain == "a week"


def test_project_keys_and_their_errors(project) -> None:
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text('[tool.partita]\nretain = "2d"\nretain_versions = 5\n')
    assert load_config(project.root).retention == Retention(timedelta(days=2), 5)
    pyproject.write_text("[tool.partita]\nretain_versions = 0\n")
    assert not load_config(project.root).retention.keeps
    pyproject.write_text('[tool.partita]\nretain = "forever"\n')
    with pytest.raises(ProjectError, match=r"pyproject.toml: \[tool.partita\] retain='forever'"):
        load_config(project.root)


def test_the_graph_merges_asset_keys_over_the_project_default(project) -> None:
    project.write(
        "assets/a.py",
        """
        from partita import asset

        @asset(retain_versions=1)
        def few():
            return None

        @asset
        def default():
            return None
        """,
    )
    (project.root / "pyproject.toml").write_text('[tool.partita]\nretain = "1d"\n')
    graph = project.load().graph
    assert graph.retention("few") == Retention(timedelta(days=1), 1)
    assert graph.retention("default") == Retention(timedelta(days=1), 3)
