"""Crash safety of restores: `partita rollback` SIGKILLs itself at each fault point of a
restore, and afterwards no version is lost (each partition's old and new data are on disk,
current or kept), readers see only whole files, the catalog claims only what is on disk,
and running the rollback again finishes it."""

from __future__ import annotations

import pytest

from partita.storage.history import HISTORY_FOLDER

from . import leased_units, published_states, temporary_files
from .test_crash import (
    ASSETS,
    PUBLISHED,
    STORAGES,
    assert_catalog_truthful,
    assert_dataset_readable,
    generation_of,
    stored,
    version,
)

NOW = "2024-01-04"


def kept_generations(project, storage: str) -> dict[str, set[int]]:
    """partition -> the generations whose data is on disk, current or kept."""
    from partita import load_project

    found = {p: {generation_of(storage, p, v)} for p, v in stored(project, storage).items()}
    target = load_project(project.root).storage("data")
    for kept in target.retained_versions():
        table = target.read_version(kept.partition, kept.data_version)
        generation = next(
            g for g in (1, 2) if kept.data_version == version(g, kept.partition, storage)
        )
        assert table.to_pylist() == [
            {"day": d, "v": v}
            for d, v in zip(
                table.column("day").to_pylist(), table.column("v").to_pylist(), strict=True
            )
        ]
        found[kept.partition].add(generation)
    return found


@pytest.mark.parametrize(
    ("point", "storage"),
    [
        ("parquet-restore", "parquet"),
        ("parquet-restored", "parquet"),
        ("restore-before-catalog-commit", "parquet"),
        ("duckdb-restore", "duckdb"),
        ("duckdb-kept", "duckdb"),
        ("restore-before-catalog-commit", "duckdb"),
    ],
)
def test_a_rollback_killed_at_a_fault_point_loses_nothing(project, point, storage) -> None:
    project.write("assets/data.py", ASSETS.format(storage=STORAGES[storage]))
    generation = project.root / "assets" / "generation.txt"
    generation.write_text("1")
    project.cli("materialize", "--now", NOW, check=0)
    generation.write_text("2")
    project.cli("materialize", "--force", "--now", NOW, check=0)
    bad_run = project.cli("runs", "--json", check=0).json()["runs"][0]["run_id"]
    assert kept_generations(project, storage) == {p: {1, 2} for p in PUBLISHED}

    killed = project.cli("rollback", bad_run, env={"PARTITA_FAULT": f"{point}@2"})
    assert killed.exit_code == -9, (killed.stdout, killed.stderr)

    assert kept_generations(project, storage) == {p: {1, 2} for p in PUBLISHED}
    current = {p: generation_of(storage, p, v) for p, v in stored(project, storage).items()}
    assert current["2024-01-01"] == 1 and current["2024-01-03"] == 2
    unpublished = ("parquet-restore", "duckdb-restore", "duckdb-kept")  # before the commit
    expected_second = 2 if point in unpublished else 1
    assert current["2024-01-02"] == expected_second
    assert leased_units(project.root) == {("data", "2024-01-02")}
    assert_catalog_truthful(project, storage)
    if storage == "parquet":
        assert_dataset_readable(project)

    again = project.cli("rollback", bad_run, "--json", check=0).json()
    assert {(r["partition"], r["status"]) for r in again["results"]} == {
        ("2024-01-02", "restored"),
        ("2024-01-03", "restored"),
    }
    final = {p: generation_of(storage, p, v) for p, v in stored(project, storage).items()}
    assert final == {p: 1 for p in PUBLISHED}
    assert {p: v for p, (v, _) in published_states(project.root, "data").items()} == {
        p: version(1, p, storage) for p in PUBLISHED
    }
    assert kept_generations(project, storage) == {p: {1, 2} for p in PUBLISHED}
    assert leased_units(project.root) == set()
    assert temporary_files(project.warehouse) == []
    assert_catalog_truthful(project, storage)
    if storage == "parquet":
        assert_dataset_readable(project)
        assert not list((project.warehouse / "data").rglob(f"*{HISTORY_FOLDER}*"))
    plan = project.cli("materialize", "--plan", "--json", "--now", NOW, check=0).json()
    assert plan["units"] == []


@pytest.mark.parametrize(
    ("point", "storage"),
    [
        ("parquet-kept", "parquet"),
        ("duckdb-kept", "duckdb"),
        ("before-catalog-commit", "parquet"),
        ("before-catalog-commit", "duckdb"),
    ],
)
def test_a_run_killed_after_keeping_the_old_version_loses_nothing(project, point, storage) -> None:
    project.write("assets/data.py", ASSETS.format(storage=STORAGES[storage]))
    generation = project.root / "assets" / "generation.txt"
    generation.write_text("1")
    project.cli("materialize", "--now", NOW, check=0)
    generation.write_text("2")
    killed = project.cli(
        "materialize", "--force", "--now", NOW, env={"PARTITA_FAULT": f"{point}@2"}
    )
    assert killed.exit_code == -9, (killed.stdout, killed.stderr)

    current = {p: generation_of(storage, p, v) for p, v in stored(project, storage).items()}
    second = 2 if point == "before-catalog-commit" else 1  # 2024-01-02 published, or not
    assert current == {"2024-01-01": 2, "2024-01-02": second, "2024-01-03": 1}
    assert kept_generations(project, storage) == {
        "2024-01-01": {1, 2},
        "2024-01-02": {1, second},
        "2024-01-03": {1},
    }
    assert_catalog_truthful(project, storage)
    if storage == "parquet":
        assert_dataset_readable(project)

    project.cli("materialize", "--now", NOW, check=0)  # rebuilds the interrupted unit
    project.cli("materialize", "--force", "--now", NOW, check=0)
    assert kept_generations(project, storage) == {p: {1, 2} for p in PUBLISHED}
    assert temporary_files(project.warehouse) == []
    assert_catalog_truthful(project, storage)
