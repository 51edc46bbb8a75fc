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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .automation_config import AUTOMATION_KEYS, apply_project_settings, automation_settings
from .definitions.asset import AssetDefinition
from .definitions.resources import ResourceDefinition
from .definitions.retention import DEFAULT_RETENTION, Retention, retention_problems
from .errors import DefinitionError, DefinitionErrors, ProjectError
from .observability.alerts.rules import AlertSettings, parse_alert_settings
from .observability.lineage.settings import OpenLineageSettings, parse_openlineage_settings

if TYPE_CHECKING:
    from .graph.graph import AssetGraph

PACKAGE_PREFIX = "_partita_assets_"
ENV_VARIABLE = "PARTITA_ENV"  # names the environment when --env is not given
DEFAULT_ENV = "default"  # the name of `[tool.partita]` without any env table
CONFIG_KEYS = (
    "assets",
    "warehouse",
    "catalog",
    "executor",
    "env",
    "resources",
    "retain",
    "retain_versions",
    "alerts",
    "openlineage",
    *AUTOMATION_KEYS,
)


@dataclass(frozen=True)
class ProjectConfig:
    """Where a project keeps its assets and its warehouse."""

    root: Path
    assets_dir: Path
    warehouse: Path  # or an `ObjectWarehouse` (s3://bucket/prefix)
    retention: Retention = DEFAULT_RETENTION  # project default: `retain`, `retain_versions`
    env: str | None = None  # the `[tool.partita.env.NAME]` applied, None for the default
    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # raw, `${VAR}` kept
    timeout: timedelta | None = None  # the default timeout of a unit (`timeout = "1h"`)
    pools: Mapping[str, int] = field(default_factory=dict)  # [tool.partita.pools] name = size
    name: str = ""  # [project] name, else the folder's name
    alerts: AlertSettings | None = None  # [tool.partita.alerts]
    openlineage: OpenLineageSettings | None = None  # [tool.partita.openlineage]
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


def load_config(root: Path, env: str | None = None, catalog: str | None = None) -> ProjectConfig:
    """Read `[tool.partita]` from the project's pyproject.toml, with the table
    `[tool.partita.env.NAME]` of environment `env` (default: `$PARTITA_ENV`) merged over it.
    The environment variables PARTITA_CATALOG and PARTITA_EXECUTOR override `catalog` and
    `executor`, and a `catalog` given here overrides both (a worker gets its coordinator's)."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        raise ProjectError(f"{root} is not a partita project: it has no pyproject.toml.")
    try:
        document = tomllib.loads(pyproject.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProjectError(f"cannot read {pyproject}: {error}. Fix the TOML syntax.") from error
    settings = document.get("tool", {}).get("partita", {})
    env = env or os.environ.get(ENV_VARIABLE) or None
    env = None if env == DEFAULT_ENV else env
    settings = apply_environment(settings, env, pyproject)
    unknown = sorted(set(settings) - set(CONFIG_KEYS))
    if unknown:
        raise ProjectError(
            f"{pyproject}: [tool.partita] has unknown key(s) {', '.join(unknown)}; "
            f"the keys are {', '.join(repr(k) for k in CONFIG_KEYS)}."
        )
    assets_dir = (root / settings.get("assets", "assets")).resolve()
    if not assets_dir.is_dir():
        raise ProjectError(
            f"the assets folder {assets_dir} does not exist. Create it, or set "
            f"[tool.partita] assets = '...' in {pyproject}."
        )
    resources = settings.get("resources", {})
    if not isinstance(resources, dict) or not all(isinstance(v, dict) for v in resources.values()):
        raise ProjectError(
            f"{pyproject}: [tool.partita.resources] must hold one table per resource, "
            "e.g. [tool.partita.resources.db] with the resource's keyword arguments."
        )
    catalog = catalog or os.environ.get("PARTITA_CATALOG") or settings.get("catalog")
    warehouse = _warehouse(root, settings.get("warehouse", "warehouse"), catalog, pyproject)
    timeout, pools = automation_settings(settings, pyproject)
    return ProjectConfig(
        root,
        assets_dir,
        warehouse,
        retention=_retention(settings, pyproject),
        env=env,
        resources=resources,
        timeout=timeout,
        pools=pools,
        name=document.get("project", {}).get("name") or root.name,
        **_observability(settings, pyproject),
        # The environment wins over the file (and the command line over both, in the CLI).
        catalog=catalog,
        executor=os.environ.get("PARTITA_EXECUTOR") or settings.get("executor"),
    )


def apply_environment(settings: Mapping[str, Any], env: str | None, pyproject: Path) -> dict:
    """`settings` without its `env` tables, with the table of `env` merged over it (tables
    merge key by key, other values replace); an unknown environment is an error."""
    environments = settings.get("env", {})
    base = {key: value for key, value in settings.items() if key != "env"}
    if env is None:
        return base
    if env not in environments or not isinstance(environments[env], dict):
        known = ", ".join(sorted(environments)) or "none"
        raise ProjectError(
            f"environment '{env}' (from --env or ${ENV_VARIABLE}) is not declared in "
            f"{pyproject}: add a table [tool.partita.env.{env}] with the keys it overrides "
            f"(declared environments: {known})."
        )
    return _merged(base, environments[env])


def _merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _retention(settings: dict, pyproject: Path) -> Retention:
    """The project's default retention of replaced partition versions."""
    retain, versions = settings.get("retain"), settings.get("retain_versions")
    problems = retention_problems(retain, versions)
    if problems:
        raise ProjectError(f"{pyproject}: [tool.partita] {'; '.join(problems)}.")
    return DEFAULT_RETENTION.merged(retain, versions)


def _observability(settings: dict[str, Any], pyproject: Path) -> dict[str, Any]:
    """The `alerts` and `openlineage` tables of `[tool.partita]`, validated, if present."""
    observed: dict[str, Any] = {}
    if "alerts" in settings:
        observed["alerts"] = parse_alert_settings(settings["alerts"], str(pyproject))
    if "openlineage" in settings:
        observed["openlineage"] = parse_openlineage_settings(
            settings["openlineage"], str(pyproject)
        )
    return observed


def _warehouse(root: Path, setting: str, catalog: str | None, pyproject: Path) -> Path:
    """A local folder (a path, or a file:// URL), or a warehouse on object storage
    (`s3://bucket/prefix`), which needs a catalog kept elsewhere."""
    from urllib.parse import unquote, urlsplit

    from .storage.object_location import is_object_url, parse_object_url

    if not is_object_url(setting):
        if setting.startswith("file://"):
            setting = unquote(urlsplit(setting).path)
        return (root / setting).resolve()
    warehouse = parse_object_url(setting)  # refuses schemes it cannot write to, first
    if catalog is None:
        raise ProjectError(
            f"{pyproject}: the warehouse {setting} is on object storage, which cannot hold"
            " the SQLite catalog: name a local file for it, catalog ="
            " 'sqlite:///path/catalog.db', or a PostgreSQL catalog, catalog ="
            " 'postgresql://USER@HOST:PORT/DB' (under [tool.partita], or PARTITA_CATALOG)."
        )
    return warehouse  # type: ignore[return-value]


def import_definitions(
    config: ProjectConfig,
) -> tuple[list[AssetDefinition | ResourceDefinition], list[DefinitionError]]:
    """Import every module under the assets folder; return the assets they define, the
    resources they define or import, and the errors of the modules that failed to import.

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
    definitions: list[AssetDefinition | ResourceDefinition] = []
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
            # A resource counts wherever it is seen: it may live in a `_helpers` module.
            wanted = defined_here or isinstance(value, ResourceDefinition)
            if wanted and all(value is not seen for seen in definitions):
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


def load_graph(config: ProjectConfig) -> AssetGraph:
    """Import the project's definitions and build its validated graph (with the project's
    default timeout and retention); all definition problems are raised together."""
    from .graph.graph import build_graph

    definitions, import_errors = import_definitions(config)
    return build_graph(
        apply_project_settings(definitions, config),
        root=str(config.root),
        import_errors=import_errors,
        default_retention=config.retention,
    )
