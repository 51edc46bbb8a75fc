"""Find a project and import its asset modules."""

from __future__ import annotations

import ast
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import linecache
import os
import sys
import tomllib
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

from .definitions.asset import AssetDefinition
from .errors import DefinitionError, DefinitionErrors, ProjectError

PACKAGE_PREFIX = "_partita_assets_"
CONFIG_KEYS = ("assets", "warehouse", "catalog", "executor")


@dataclass(frozen=True)
class ProjectConfig:
    """Where a project keeps its assets and its warehouse."""

    root: Path
    assets_dir: Path
    warehouse: Path  # or an `ObjectWarehouse` (s3://bucket/prefix)
    catalog: str | None = None  # a catalog URL; None: the SQLite catalog in the warehouse
    executor: str | None = None  # `process`, `dask` or `tcp://HOST:PORT`; None: process


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding a `pyproject.toml`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    raise ProjectError(
        f"no partita project found in {start} or any folder above it: a project is a folder "
        "with a pyproject.toml. Run partita inside one, or pass --project DIR."
    )


def load_config(root: Path, catalog: str | None = None) -> ProjectConfig:
    """Read `[tool.partita]` (keys `CONFIG_KEYS`) from the project's pyproject.toml; the
    environment variables PARTITA_CATALOG and PARTITA_EXECUTOR override `catalog` and
    `executor`, and a `catalog` given here overrides both (a worker gets its coordinator's)."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        raise ProjectError(f"{root} is not a partita project: it has no pyproject.toml.")
    try:
        settings = tomllib.loads(pyproject.read_text()).get("tool", {}).get("partita", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProjectError(f"cannot read {pyproject}: {error}. Fix the TOML syntax.") from error
    unknown = sorted(set(settings) - set(CONFIG_KEYS))
    if unknown:
        raise ProjectError(
            f"{pyproject}: [tool.partita] has unknown key(s) {', '.join(unknown)}; "
            f"the keys are {', '.join(repr(key) for key in CONFIG_KEYS)}."
        )
    assets_dir = (root / settings.get("assets", "assets")).resolve()
    if not assets_dir.is_dir():
        raise ProjectError(
            f"the assets folder {assets_dir} does not exist. Create it, or set "
            f"[tool.partita] assets = '...' in {pyproject}."
        )
    catalog = catalog or os.environ.get("PARTITA_CATALOG") or settings.get("catalog")
    return ProjectConfig(
        root,
        assets_dir,
        _warehouse(root, settings.get("warehouse", "warehouse"), catalog, pyproject),
        # The environment wins over the file (and the command line over both, in the CLI).
        catalog=catalog,
        executor=os.environ.get("PARTITA_EXECUTOR") or settings.get("executor"),
    )


def _warehouse(root: Path, setting: str, catalog: str | None, pyproject: Path) -> Path:
    """A local folder (a path, or a file:// URL), or a warehouse on object storage
    (`s3://bucket/prefix`), which needs a catalog kept elsewhere."""
    from urllib.parse import unquote, urlsplit

    from .storage.object_location import is_object_url, parse_object_url

    if not is_object_url(setting):
        if setting.startswith("file://"):
            setting = unquote(urlsplit(setting).path)
        return (root / setting).resolve()
    if catalog is None:
        raise ProjectError(
            f"{pyproject}: the warehouse {setting} is on object storage, which cannot hold"
            " the SQLite catalog: name a local file for it, catalog ="
            " 'sqlite:///path/catalog.db', or a PostgreSQL catalog, catalog ="
            " 'postgresql://USER@HOST:PORT/DB' (under [tool.partita], or PARTITA_CATALOG)."
        )
    return parse_object_url(setting)  # type: ignore[return-value]


def import_definitions(
    config: ProjectConfig,
) -> tuple[list[AssetDefinition], list[DefinitionError]]:
    """Import every module under the assets folder; return the assets they define and
    the errors of the modules that failed to import.

    Modules are imported under a package name unique to the project, so that several
    projects load side by side and relative imports between asset modules work. Each
    load re-executes the sources, so edits are always seen.
    """
    package = PACKAGE_PREFIX + hashlib.sha1(str(config.assets_dir).encode()).hexdigest()[:10]
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
    _install_finder()
    importlib.invalidate_caches()  # see files created since the last load
    # inspect.getsource (the code_version hash) reads through linecache, which trusts an
    # entry while the file keeps its size and mtime: forget the previous load's sources.
    inside = str(config.assets_dir) + os.sep
    for filename in [f for f in linecache.cache if f.startswith(inside)]:
        del linecache.cache[filename]
    _register_package(package, config.assets_dir)
    definitions: list[AssetDefinition] = []
    errors: list[DefinitionError] = []
    for path in sorted(config.assets_dir.rglob("*.py")):
        relative = path.relative_to(config.assets_dir).with_suffix("")
        if any(part.startswith((".", "_")) and part != "__init__" for part in relative.parts):
            continue
        parts = [p for p in relative.parts if p != "__init__"]
        name = ".".join([package, *parts])
        try:
            module = _import_module(name, path, config.assets_dir)
        except DefinitionErrors as error:
            errors.extend(error.errors)
            continue
        except Exception as error:
            errors.append(_import_error(path, config.root, error))
            continue
        for value in vars(module).values():
            defined_here = isinstance(value, AssetDefinition) and value.module == name
            if defined_here and all(value is not seen for seen in definitions):
                definitions.append(value)
    return definitions, errors


class _SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """Compiles from source every time: a cached .pyc is trusted when the source keeps its
    size and mtime second, so an edit saved quickly after a load would go unseen."""

    def get_code(self, fullname: str):
        return compile(self.get_data(self.path), self.path, "exec", dont_inherit=True)


class _AssetModuleFinder(importlib.abc.MetaPathFinder):
    """Finds modules of asset packages (imported from one another) with `_SourceOnlyLoader`."""

    def find_spec(self, fullname, path, target=None):
        if not fullname.startswith(PACKAGE_PREFIX) or path is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _SourceOnlyLoader(fullname, spec.origin)
        return spec


def _install_finder() -> None:
    if not any(isinstance(finder, _AssetModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AssetModuleFinder())


def _register_package(name: str, folder: Path) -> None:
    for directory, dotted in _packages(name, folder):
        if dotted in sys.modules:
            continue
        module = types.ModuleType(dotted)
        module.__path__ = [str(directory)]
        module.__package__ = dotted
        sys.modules[dotted] = module


def _packages(name: str, folder: Path):
    yield folder, name
    for directory in sorted(p for p in folder.rglob("*") if p.is_dir()):
        relative = directory.relative_to(folder)
        if not any(part.startswith((".", "_")) for part in relative.parts):
            yield directory, ".".join([name, *relative.parts])


def _import_module(name: str, path: Path, root: Path) -> types.ModuleType:
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    is_package = path.name == "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[str(path.parent)] if is_package else None
    )
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        exec(code, module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _import_error(path: Path, root: Path, error: Exception) -> DefinitionError:
    """One paragraph naming the module and the line where importing it failed."""
    line = getattr(error, "lineno", None) if isinstance(error, SyntaxError) else None
    if line is None:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)]
        line = frames[-1].lineno if frames else None
    location = f"{path.relative_to(root) if path.is_relative_to(root) else path}"
    if line:
        location += f":{line}"
    asset_name = _asset_defined_at(path, line) if line else None
    if asset_name:
        location = f"asset '{asset_name}' ({location})"
    if isinstance(error, DefinitionError):
        wrapped = DefinitionError(f"{location}: {error}")
    elif asset_name:  # e.g. FreshnessPolicy("6x") in the decorator
        wrapped = DefinitionError(f"{location}: {error}. Fix the declaration.")
    else:
        wrapped = DefinitionError(
            f"could not import the asset module {location}: {type(error).__name__}: {error}. "
            "Fix the module (pass --debug to see the full traceback)."
        )
    wrapped.__cause__ = error
    return wrapped


def _asset_defined_at(path: Path, line: int) -> str | None:
    """The name of the decorated function whose decorators span `line`, if any: a
    definition error raised there (such as invalid partition bounds) belongs to it."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.decorator_list:
            continue
        if not node.decorator_list[0].lineno <= line < node.lineno:
            continue
        for decorator in node.decorator_list:
            for keyword in getattr(decorator, "keywords", []):
                value = keyword.value
                if keyword.arg == "name" and isinstance(value, ast.Constant):
                    return str(value.value)
        return node.name
    return None
