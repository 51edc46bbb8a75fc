"""Storages open through the registry, keyed by the declaration's kind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from partita import DuckDB, Parquet, asset
from partita.definitions.storage import StorageDeclaration, StorageTarget
from partita.errors import DefinitionErrors, StorageError
from partita.graph.graph import build_graph
from partita.storage.registry import BACKENDS, open_storage


@dataclass(frozen=True)
class Elsewhere:
    """A declaration of a kind no backend implements."""

    kind: str = "object-store"

    def describe(self) -> str:
        return "object-store"

    def target(self, asset: str) -> StorageTarget | None:
        return StorageTarget(("object-store", "bucket"), "the bucket", "(shared).")


def test_each_kind_opens_its_backend(tmp_path: Path) -> None:
    for declaration in (Parquet(), DuckDB()):
        assert declaration.kind in BACKENDS
        storage = open_storage(declaration, tmp_path, "sales", "date")
        assert type(storage).__module__ == BACKENDS[declaration.kind]


def test_an_unknown_kind_is_a_clear_error(tmp_path: Path) -> None:
    assert isinstance(Elsewhere(), StorageDeclaration)
    with pytest.raises(StorageError, match="kind 'object-store', which partita does not know"):
        open_storage(Elsewhere(), tmp_path, "sales", None)


def test_assets_sharing_a_storage_target_are_refused_whatever_the_backend() -> None:
    @asset(storage=Elsewhere())
    def first():
        return None

    @asset(storage=Elsewhere())
    def second():
        return None

    with pytest.raises(DefinitionErrors, match="writes the bucket, which asset 'first' writes"):
        build_graph([first, second])


def test_a_declaration_without_kind_is_refused() -> None:
    @asset(storage="duckdb")
    def sales():
        return None

    with pytest.raises(DefinitionErrors, match="storage= must be Parquet"):
        build_graph([sales])
