"""Warehouse URLs: `s3://` is object storage, `file://` and paths are local folders, and
any other scheme (`gs://` among them) is refused with what to write instead, before
anything is created."""

from __future__ import annotations

import pytest

from partita.errors import ProjectError
from partita.storage.object_location import ObjectWarehouse, is_object_url, parse_object_url


def test_s3_urls_parse_and_local_paths_are_not_urls() -> None:
    assert parse_object_url("s3://bucket/a/b") == ObjectWarehouse("s3", "bucket", "a/b")
    assert not is_object_url("warehouse")
    assert not is_object_url("/data/warehouse")
    assert not is_object_url("file:///data/warehouse")
    assert is_object_url("gs://bucket/prefix") and is_object_url("s3://bucket")


def test_gs_is_refused_with_the_s3_compatible_way_to_reach_cloud_storage() -> None:
    with pytest.raises(ProjectError) as refused:
        parse_object_url("gs://bucket/lake")
    text = str(refused.value)
    assert "write warehouse = 's3://bucket/lake'" in text
    assert "AWS_ENDPOINT_URL=https://storage.googleapis.com" in text
    assert "HMAC key" in text and "gs:// itself is not supported" in text


def test_a_gs_warehouse_fails_the_cli_clearly_and_creates_nothing(project) -> None:
    (project.root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n[tool.partita]\n'
        'warehouse = "gs://bucket/lake"\ncatalog = "sqlite:///catalog.db"\n'
    )
    result = project.cli("list")
    assert result.exit_code != 0
    assert "Google Cloud Storage" in result.stderr
    assert "AWS_ENDPOINT_URL=https://storage.googleapis.com" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in project.root.iterdir()) == ["assets", "pyproject.toml"]


def test_other_schemes_are_refused_naming_what_a_warehouse_can_be(project) -> None:
    (project.root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n[tool.partita]\n'
        'warehouse = "hdfs://cluster/lake"\n'
    )
    result = project.cli("list")
    assert result.exit_code != 0
    assert "uses hdfs://, which partita cannot write to" in result.stderr
    assert "s3://BUCKET/PREFIX" in result.stderr
    assert not (project.root / "hdfs:").exists()
