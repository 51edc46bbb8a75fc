"""`[tool.partita.env.NAME]` merged over `[tool.partita]`, chosen by name or $PARTITA_ENV."""

from __future__ import annotations

import pytest

from partita.discovery import load_config
from partita.errors import ProjectError

PYPROJECT = """
[tool.partita]
warehouse = "wh"

[tool.partita.resources.db]
url = "base"
pool = 2

[tool.partita.env.prod]
warehouse = "/data/prod"

[tool.partita.env.prod.resources.db]
url = "prod"
"""


@pytest.fixture
def root(project):
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    return project.root


def test_an_environment_overrides_keys_and_merges_tables(root, monkeypatch) -> None:
    monkeypatch.delenv("PARTITA_ENV", raising=False)
    base = load_config(root)
    assert (base.env, base.warehouse) == (None, root / "wh")
    assert base.resources == {"db": {"url": "base", "pool": 2}}
    prod = load_config(root, "prod")
    assert (prod.env, str(prod.warehouse)) == ("prod", "/data/prod")
    assert prod.resources == {"db": {"url": "prod", "pool": 2}}


def test_partita_env_chooses_the_environment_and_default_names_the_base(root, monkeypatch):
    monkeypatch.setenv("PARTITA_ENV", "prod")
    assert load_config(root).env == "prod"
    assert load_config(root, "default").env is None


def test_an_unknown_environment_is_an_error_listing_the_declared_ones(root) -> None:
    with pytest.raises(ProjectError, match=r"environment 'qa' .* is not declared .*: prod\)"):
        load_config(root, "qa")
