"""Crash safety on object storage: `partita materialize --force` and `partita rollback`
SIGKILL themselves at each fault point of the S3 storage (after keeping the replaced
object, after putting the new one) and before the catalog commit, against the session's
real S3 server. Afterwards no version is lost (each partition's old and new data are on
the server, current or kept), the catalog claims only what is published, and running the
command again finishes it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from partita.storage.encoding import data_version
from partita.storage.object_location import ObjectWarehouse, parse_object_url

from .test_crash import ASSETS, PUBLISHED, generation_of, version

NOW = "2024-01-04"


class S3Project:
    """A project whose warehouse is a fresh prefix on the S3 server and whose SQLite
    catalog is in a local folder."""

    def __init__(self, project, s3_server, folder: Path) -> None:
        self.project = project
        self.client = s3_server.client()
        self.warehouse: ObjectWarehouse = parse_object_url(s3_server.new_prefix())
        self.catalog = folder / "catalog.db"
        project.write("assets/data.py", ASSETS.format(storage="Parquet()"))
        settings = f'warehouse = "{self.warehouse.url}"\ncatalog = "sqlite:///{self.catalog}"'
        with open(project.root / "pyproject.toml", "a") as pyproject:
            pyproject.write(f"\n[tool.partita]\n{settings}\n")
        self.generation_file = project.root / "assets" / "generation.txt"

    def objects(self, *parts: str) -> dict[str, bytes]:
        """key (relative to `parts`) -> bytes of every object under the prefix `parts`."""
        prefix = self.warehouse.key(*parts) + "/"
        listed = self.client.list_objects_v2(Bucket=self.warehouse.bucket, Prefix=prefix)
        return {
            found["Key"].removeprefix(prefix): self.client.get_object(
                Bucket=self.warehouse.bucket, Key=found["Key"]
            )["Body"].read()
            for found in listed.get("Contents", [])
        }

    def current(self) -> dict[str, int]:
        """partition -> the generation of its published object (checked whole)."""
        found = {}
        for key, body in self.objects("data").items():
            folder, name = key.split("/")
            assert name == "part-0.parquet", key
            partition = folder.removeprefix("date=")
            found[partition] = generation_of("parquet", partition, body)
        return found

    def kept(self) -> dict[str, set[int]]:
        """partition -> the generations on the server, published or kept in history."""
        found = {partition: {generation} for partition, generation in self.current().items()}
        for key, body in self.objects(".history", "data").items():
            folder, name = key.split("/")
            assert name == f"{data_version(body)}.parquet", "a kept object matches its name"
            partition = folder.removeprefix("date=")
            found[partition].add(generation_of("parquet", partition, body))
        return found

    def catalog_rows(self, sql: str) -> list[tuple]:
        with sqlite3.connect(f"file:{self.catalog}?mode=ro", uri=True) as connection:
            return connection.execute(sql).fetchall()

    def assert_catalog_truthful(self) -> None:
        """Every partition the catalog claims is published; where no (dead) run holds its
        lease, its data version is exactly the published object's."""
        objects = {
            k.split("/")[0].removeprefix("date="): v for k, v in self.objects("data").items()
        }
        leased = {p for (p,) in self.catalog_rows("SELECT partition FROM leases")}
        states = self.catalog_rows(
            "SELECT partition, data_version FROM partition_states "
            "WHERE asset = 'data' AND data_version IS NOT NULL"
        )
        for partition, claimed in states:
            assert partition in objects, f"the catalog claims {partition}, not on the server"
            if partition not in leased:
                assert claimed == data_version(objects[partition]), partition

    def materialize_twice(self) -> str:
        """Generation 1, then generation 2 forced over it; the id of the second run."""
        self.generation_file.write_text("1")
        self.project.cli("materialize", "--now", NOW, check=0)
        self.generation_file.write_text("2")
        self.project.cli("materialize", "--force", "--now", NOW, check=0)
        return self.project.cli("runs", "--json", check=0).json()["runs"][0]["run_id"]


@pytest.fixture
def s3_project(project, s3_server, tmp_path) -> S3Project:
    return S3Project(project, s3_server, tmp_path)


@pytest.mark.parametrize("point", ["s3-kept", "s3-published", "before-catalog-commit"])
def test_a_run_on_s3_killed_at_a_fault_point_loses_nothing(s3_project, point) -> None:
    s3_project.generation_file.write_text("1")
    s3_project.project.cli("materialize", "--now", NOW, check=0)
    s3_project.generation_file.write_text("2")
    killed = s3_project.project.cli(
        "materialize", "--force", "--now", NOW, env={"PARTITA_FAULT": f"{point}@2"}
    )
    assert killed.exit_code == -9, (killed.stdout, killed.stderr)

    second = 1 if point == "s3-kept" else 2  # the put of 2024-01-02 happened, or not
    assert s3_project.current() == {"2024-01-01": 2, "2024-01-02": second, "2024-01-03": 1}
    assert s3_project.kept()["2024-01-01"] == {1, 2}
    assert s3_project.kept()["2024-01-02"] == {1, second}
    s3_project.assert_catalog_truthful()

    s3_project.project.cli("materialize", "--now", NOW, check=0)  # the interrupted unit
    s3_project.project.cli("materialize", "--force", "--now", NOW, check=0)
    assert s3_project.current() == {p: 2 for p in PUBLISHED}
    assert s3_project.kept() == {p: {1, 2} for p in PUBLISHED}
    assert s3_project.catalog_rows("SELECT * FROM leases") == []
    s3_project.assert_catalog_truthful()


@pytest.mark.parametrize("point", ["s3-kept", "s3-published", "restore-before-catalog-commit"])
def test_a_rollback_on_s3_killed_at_a_fault_point_loses_nothing(s3_project, point) -> None:
    bad_run = s3_project.materialize_twice()
    assert s3_project.kept() == {p: {1, 2} for p in PUBLISHED}

    killed = s3_project.project.cli("rollback", bad_run, env={"PARTITA_FAULT": f"{point}@2"})
    assert killed.exit_code == -9, (killed.stdout, killed.stderr)

    second = 2 if point == "s3-kept" else 1  # the restore's put of 2024-01-02 happened, or not
    assert s3_project.current() == {"2024-01-01": 1, "2024-01-02": second, "2024-01-03": 2}
    assert s3_project.kept() == {p: {1, 2} for p in PUBLISHED}
    assert {p for (p,) in s3_project.catalog_rows("SELECT partition FROM leases")} == {"2024-01-02"}
    s3_project.assert_catalog_truthful()

    again = s3_project.project.cli("rollback", bad_run, "--json", check=0).json()
    assert {(r["partition"], r["status"]) for r in again["results"]} == {
        ("2024-01-02", "restored"),
        ("2024-01-03", "restored"),
    }
    assert s3_project.current() == {p: 1 for p in PUBLISHED}
    assert s3_project.kept() == {p: {1, 2} for p in PUBLISHED}
    claimed = s3_project.catalog_rows(
        "SELECT partition, data_version FROM partition_states WHERE asset = 'data'"
    )
    assert dict(claimed) == {p: version(1, p, "parquet") for p in PUBLISHED}
    assert s3_project.catalog_rows("SELECT * FROM leases") == []
    s3_project.assert_catalog_truthful()


def test_a_kept_object_reads_back_as_its_generation(s3_project) -> None:
    """The helpers above see what they claim: a kept object is the replaced generation."""
    s3_project.materialize_twice()
    kept = s3_project.objects(".history", "data")
    assert len(kept) == len(PUBLISHED)
    tables = [pq.read_table(pa.BufferReader(body)) for body in kept.values()]
    assert sorted(t.column("v").to_pylist()[0] for t in tables) == [110, 120, 130]
