"""Finding a project, reading its configuration and importing its asset modules."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from partita.definitions.asset import AssetDefinition
from partita.discovery import ProjectConfig, find_project_root, import_definitions, load_config
from partita.errors import DefinitionErrors, ProjectError


def load_definitions(config: ProjectConfig) -> list[AssetDefinition]:
    """The assets the project's modules define; every module that failed, raised at once."""
    definitions, errors = import_definitions(config)
    if errors:
        raise DefinitionErrors(errors)
    return definitions


# Finding the project


def test_project_root_is_found_from_a_subfolder(project) -> None:
    deep = project.root / "assets" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project_root(deep) == project.root.resolve()
    assert find_project_root(project.root) == project.root.resolve()


def test_the_nearest_pyproject_wins(project) -> None:
    inner = project.root / "nested"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("")
    assert find_project_root(inner / ".") == inner.resolve()


def test_no_project_above_is_an_error(tmp_path: Path) -> None:
    # tmp_path has no pyproject.toml, and neither should any folder above it
    if any((folder / "pyproject.toml").exists() for folder in tmp_path.parents):
        pytest.fail("a pyproject.toml above the temporary folder breaks this test")
    with pytest.raises(ProjectError, match=r"no partita project found.*--project DIR"):
        find_project_root(tmp_path)


# Configuration


def test_default_config(project) -> None:
    config = load_config(project.root)
    assert config.root == project.root
    assert config.assets_dir == (project.root / "assets").resolve()
    assert config.warehouse == (project.root / "warehouse").resolve()


def test_config_keys(project) -> None:
    (project.root / "src" / "pipelines").mkdir(parents=True)
    (project.root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n'
        '[tool.partita]\nassets = "src/pipelines"\nwarehouse = "/tmp/elsewhere/wh"\n'
    )
    config = load_config(project.root)
    assert config.assets_dir == (project.root / "src" / "pipelines").resolve()
    assert config.warehouse == Path("/tmp/elsewhere/wh")


def test_unknown_config_key_is_an_error(project) -> None:
    (project.root / "pyproject.toml").write_text(
        '[tool.partita]\nassets = "assets"\nwarehous = "wh"\nextra = 1\n'
    )
    with pytest.raises(ProjectError) as caught:
        load_config(project.root)
    message = str(caught.value)
    assert "unknown key(s) extra, warehous" in message
    assert "'assets', 'warehouse'" in message and "'retain_versions'" in message
    assert "'timeout'" in message and "'pools'" in message
    assert "'alerts'" in message and "'openlineage'" in message
    assert "'catalog'" in message and "'executor'" in message
    assert caught.value.exit_code == 2


def test_missing_assets_folder_is_an_error(project) -> None:
    (project.root / "pyproject.toml").write_text('[tool.partita]\nassets = "pipelines"\n')
    with pytest.raises(ProjectError, match=r"assets folder .*pipelines does not exist"):
        load_config(project.root)


def test_invalid_toml_is_an_error(project) -> None:
    (project.root / "pyproject.toml").write_text("[tool.partita\n")
    with pytest.raises(ProjectError, match="Fix the TOML syntax"):
        load_config(project.root)


def test_folder_without_pyproject_is_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=r"has no pyproject\.toml"):
        load_config(tmp_path)


# Importing asset modules


def names(project) -> set[str]:
    return {d.name for d in load_definitions(load_config(project.root))}


def test_every_module_including_subfolders_is_imported(project) -> None:
    project.write("assets/top.py", "from partita import asset\n@asset\ndef top():\n    pass\n")
    project.write(
        "assets/raw/sources.py", "from partita import asset\n@asset\ndef raw():\n    pass\n"
    )
    project.write(
        "assets/raw/deeper/more.py", "from partita import asset\n@asset\ndef deep():\n    pass\n"
    )
    project.write(
        "assets/pkg/__init__.py", "from partita import asset\n@asset\ndef in_init():\n    pass\n"
    )
    assert names(project) == {"top", "raw", "deep", "in_init"}


def test_imported_assets_are_registered_once(project) -> None:
    project.write("assets/raw.py", "from partita import asset\n@asset\ndef raw():\n    pass\n")
    project.write(
        "assets/uses.py",
        """
        from partita import asset
        from .raw import raw

        @asset(deps=[raw])
        def uses():
            pass
        """,
    )
    definitions = load_definitions(load_config(project.root))
    assert sorted(d.name for d in definitions) == ["raw", "uses"]


def test_relative_imports_between_asset_modules(project) -> None:
    project.write("assets/common.py", "FACTOR = 3\n")
    project.write("assets/sub/helpers.py", "from ..common import FACTOR\nOFFSET = FACTOR + 1\n")
    project.write(
        "assets/sub/scaled.py",
        """
        from partita import asset
        from ..common import FACTOR
        from .helpers import OFFSET

        @asset
        def scaled():
            return FACTOR * 10 + OFFSET
        """,
    )
    (definition,) = load_definitions(load_config(project.root))
    assert definition.name == "scaled"
    assert definition() == 34


def test_underscore_modules_are_importable_but_not_scanned(project) -> None:
    project.write(
        "assets/_private.py",
        """
        from partita import asset

        VALUE = 7

        @asset
        def hidden():
            pass
        """,
    )
    project.write(
        "assets/_internal/tools.py",
        "from partita import asset\n@asset\ndef hidden_too():\n    pass\nTOOL = 1\n",
    )
    project.write(
        "assets/public.py",
        """
        from partita import asset
        from ._private import VALUE
        from ._internal.tools import TOOL

        @asset
        def public():
            return VALUE + TOOL
        """,
    )
    definitions = load_definitions(load_config(project.root))
    assert [d.name for d in definitions] == ["public"]
    assert definitions[0]() == 8


def test_import_errors_are_reported_with_file_and_line(project) -> None:
    project.write("assets/good.py", "from partita import asset\n@asset\ndef good():\n    pass\n")
    project.write("assets/broken.py", "import os\n\nraise RuntimeError('boom')\n")
    project.write("assets/syntax.py", "x = 1\ndef f(:\n    pass\n")
    project.write("assets/sub/missing.py", "x = 1\n\nimport no_such_module_for_partita\n")
    with pytest.raises(DefinitionErrors) as caught:
        load_definitions(load_config(project.root))
    messages = [str(e) for e in caught.value.errors]
    assert len(messages) == 3
    by_file = {m.split(": ")[0].split()[-1]: m for m in messages}
    assert set(by_file) == {"assets/broken.py:3", "assets/syntax.py:2", "assets/sub/missing.py:3"}
    assert "RuntimeError: boom" in by_file["assets/broken.py:3"]
    assert "SyntaxError" in by_file["assets/syntax.py:2"]
    assert "No module named 'no_such_module_for_partita'" in by_file["assets/sub/missing.py:3"]
    assert all("--debug" in m for m in messages)
    assert caught.value.errors[0].__cause__ is not None


def test_invalid_partition_bounds_name_the_asset_file_and_line(project) -> None:
    project.write(
        "assets/bounds.py",
        """
        from partita import DailyPartitions, asset


        @asset(
            group="raw",
            partitions=DailyPartitions("2013-01-05", end="2013-01-01"),
        )
        def backwards():
            pass
        """,
    )
    with pytest.raises(DefinitionErrors) as caught:
        load_definitions(load_config(project.root))
    (message,) = [str(e) for e in caught.value.errors]
    assert "assets/bounds.py:6" in message
    assert "asset 'backwards'" in message
    assert "invalid partition bounds" in message
    assert "end is exclusive" in message


def test_invalid_bounds_outside_an_asset_name_the_line(project) -> None:
    project.write(
        "assets/shared.py",
        """
        from partita import MonthlyPartitions

        YEAR = MonthlyPartitions("2013-01-15")
        """,
    )
    with pytest.raises(DefinitionErrors) as caught:
        load_definitions(load_config(project.root))
    (message,) = [str(e) for e in caught.value.errors]
    assert message.startswith("assets/shared.py:3: invalid partition bounds")
    assert "start='2013-01'" in message


def test_reloading_sees_edits(project) -> None:
    path = project.write(
        "assets/a.py", "from partita import asset\n@asset\ndef a():\n    return 1\n"
    )
    config = load_config(project.root)
    (first,) = load_definitions(config)
    path.write_text("from partita import asset\n@asset\ndef b():\n    return 2\n")
    (second,) = load_definitions(config)
    assert (first.name, first()) == ("a", 1)
    assert (second.name, second()) == ("b", 2)


def test_reloading_sees_edits_to_relatively_imported_modules(project, monkeypatch) -> None:
    # Bytecode caching is on for most users; an edit that keeps a file's size and mtime
    # second (a quick save, a git checkout) must still be seen.
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    helper = project.write("assets/helper.py", "VALUE = 1\n")
    project.write(
        "assets/a_user.py",
        "from partita import asset\nfrom .helper import VALUE\n@asset\ndef user():\n"
        "    return VALUE\n",
    )
    config = load_config(project.root)
    (first,) = load_definitions(config)
    stat = helper.stat()
    helper.write_text("VALUE = 2\n")
    os.utime(helper, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    (second,) = load_definitions(config)
    assert first() == 1
    assert second() == 2


def test_reloading_sees_new_modules(project) -> None:
    project.write("assets/a.py", "from partita import asset\n@asset\ndef a():\n    pass\n")
    config = load_config(project.root)
    assert {d.name for d in load_definitions(config)} == {"a"}
    project.write("assets/b.py", "from partita import asset\n@asset\ndef b():\n    pass\n")
    assert {d.name for d in load_definitions(config)} == {"a", "b"}
    (project.root / "assets" / "a.py").unlink()
    assert {d.name for d in load_definitions(config)} == {"b"}


def test_asset_module_names_are_private_to_the_project(project) -> None:
    project.write("assets/a.py", "from partita import asset\n@asset\ndef a():\n    pass\n")
    (definition,) = load_definitions(load_config(project.root))
    assert definition.module.startswith("_partita_assets_")
    assert definition.module.endswith(".a")
    assert "a" not in sys.modules or sys.modules["a"].__name__ == "a"


def test_timeout_and_pools_are_read_and_checked(project) -> None:
    (project.root / "pyproject.toml").write_text(
        '[tool.partita]\ntimeout = "10m"\n\n[tool.partita.pools]\nwarehouse_db = 2\n'
    )
    config = load_config(project.root)
    assert (config.timeout.total_seconds(), dict(config.pools)) == (600, {"warehouse_db": 2})
    (project.root / "pyproject.toml").write_text("[tool.partita.pools]\nwarehouse_db = 0\n")
    with pytest.raises(ProjectError, match="sizes of at least 1"):
        load_config(project.root)
    (project.root / "pyproject.toml").write_text('[tool.partita]\ntimeout = "later"\n')
    with pytest.raises(ProjectError, match="timeout: cannot read the duration"):
        load_config(project.root)


def test_catalog_and_executor_come_from_the_file_and_the_environment_wins(
    project, monkeypatch
) -> None:
    (project.root / "pyproject.toml").write_text(
        '[tool.partita]\ncatalog = "sqlite:///srv/c.db"\nexecutor = "dask"\n'
    )
    monkeypatch.delenv("PARTITA_CATALOG", raising=False)
    monkeypatch.delenv("PARTITA_EXECUTOR", raising=False)
    config = load_config(project.root)
    assert (config.catalog, config.executor) == ("sqlite:///srv/c.db", "dask")

    monkeypatch.setenv("PARTITA_CATALOG", "postgresql://me@db:5432/partita")
    monkeypatch.setenv("PARTITA_EXECUTOR", "tcp://127.0.0.1:8786")
    config = load_config(project.root)
    assert config.catalog == "postgresql://me@db:5432/partita"
    assert config.executor == "tcp://127.0.0.1:8786"
