"""The `@asset` decorator: it validates and annotates a function; the graph is built later.

A decorated function becomes an `AssetDefinition`, which stays callable like the function.
Problems found here are recorded on the definition, not raised, so that loading a project
reports every problem at once.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import keyword
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from ..checks import Check, Quarantine, as_check
from .automation import AutomationCondition
from .mappings import PartitionMapping
from .partitions import Partitions
from .policies import FreshnessPolicy, Retry, parse_duration
from .retention import retention_problems
from .storage import Parquet, StorageDeclaration

CONTEXT_PARAMETER = "context"

ASSET_OPTIONS = (
    "name",
    "deps",
    "partitions",
    "storage",
    "freshness",
    "retry",
    "watermark",
    "code_version",
    "checks",
    "description",
    "group",
    "tags",
    "schema",
    "retain",
    "retain_versions",
    "automation",
    "timeout",
    "pool",
)

SCHEMA_MODES = ("strict", "evolve")
QUARANTINE_FOLDER = "_quarantine"  # warehouse/_quarantine/<asset>/...: rows checks set aside


@dataclass(frozen=True)
class AssetDep:
    """An explicit dependency on another asset, optionally through a partition mapping.

    `mapping=` says which upstream partitions each partition reads (`TimeWindow`,
    `LastPartition`, `AllPartitions`, `StaticKeys`, `Identity`); without it the natural
    mapping for the two partitionings is used. `offset=(-6, 0)` is shorthand for
    `mapping=TimeWindow(offset=(-6, 0))`: partition i reads upstream partitions i-6 .. i
    (both inclusive), a 7-day rolling window for daily partitions.
    """

    asset: str | Callable[..., Any]
    offset: tuple[int, int] | None = None
    mapping: PartitionMapping | None = None

    @property
    def name(self) -> str:
        target = self.asset
        if isinstance(target, AssetDefinition):
            return target.name
        if isinstance(target, str):
            return target
        return getattr(target, "__name__", repr(target))


@dataclass(frozen=True)
class Parameter:
    """A parameter of an asset function."""

    name: str
    annotation: Any
    has_default: bool


@dataclass(frozen=True, eq=False)
class AssetDefinition:
    """A declared asset: its function, dependencies, partitions, storage and policies."""

    name: str
    fn: Callable[..., Any]
    deps: tuple[AssetDep, ...]
    parameters: tuple[Parameter, ...]
    partitions: Partitions | None
    storage: StorageDeclaration
    freshness: FreshnessPolicy | None
    retry: Retry | None
    watermark: str | None
    explicit_code_version: str | None
    checks: tuple[Any, ...]
    description: str
    group: str
    tags: Mapping[str, str]
    schema: str
    module: str
    file: str
    line: int
    problems: tuple[str, ...] = field(default=())
    retain: str | None = None  # how long replaced versions are kept; None: project default
    retain_versions: int | None = None  # how many replaced versions; None: project default
    automation: AutomationCondition | None = None  # when the daemon materializes it
    timeout: timedelta | None = None  # a unit running longer is stopped and fails
    pool: str | None = None  # a concurrency pool of `[tool.partita.pools]`
    observe_every: timedelta | None = None  # set: an observable source, observed this often

    @property
    def observable(self) -> bool:
        """An observable source: its function returns a data version, no data is stored."""
        return self.observe_every is not None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    @property
    def location(self) -> str:
        """`file:line` of the definition."""
        return f"{self.file}:{self.line}"

    @property
    def wants_context(self) -> bool:
        return any(p.name == CONTEXT_PARAMETER for p in self.parameters)

    @cached_property
    def code_version(self) -> str:
        """`code_version=` if given, else a hash of the function's normalized source."""
        return self.explicit_code_version or source_hash(self.fn)


def asset(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Declare a data asset. Works bare (`@asset`) and with keywords (`@asset(deps=[...])`).

    Keywords: name, deps, partitions, storage (default `Parquet()`), freshness, retry,
    watermark, code_version, checks, description (default: the docstring), group, tags,
    schema (`"strict"`, the default: a partition whose columns or types differ from the
    published ones fails; `"evolve"`: new columns are added), retain and retain_versions
    (how long and how many replaced versions of each partition are kept; see
    `partita.definitions.retention`), automation (a condition:
    `on_cron`, `eager`, `on_missing`), timeout (`"10m"`), pool (a name of
    `[tool.partita.pools]`).
    """
    if fn is not None:
        return _define(fn, options)

    def decorate(function: Callable[..., Any]) -> AssetDefinition:
        return _define(function, options)

    return decorate


def _define(fn: Callable[..., Any], options: dict[str, Any]) -> AssetDefinition:
    problems: list[str] = []
    unknown = sorted(set(options) - set(ASSET_OPTIONS))
    if unknown:
        problems.append(
            f"@asset got unknown keyword(s) {', '.join(unknown)}; "
            f"the keywords are {', '.join(ASSET_OPTIONS)}"
        )
    if not callable(fn):
        raise TypeError(f"@asset decorates a function, not {type(fn).__name__}")
    name = _name(options.get("name") or fn.__name__, problems)
    code = getattr(fn, "__code__", None)
    storage = options.get("storage") or Parquet()
    if not isinstance(storage, StorageDeclaration):
        problems.append(f"storage= must be Parquet() or DuckDB(...), not {storage!r}")
    partitions = _partitions(options.get("partitions"), problems)
    problems.extend(retention_problems(options.get("retain"), options.get("retain_versions")))
    return AssetDefinition(
        name=name,
        fn=fn,
        deps=_normalize_deps(options.get("deps"), problems),
        parameters=_parameters(fn),
        partitions=partitions,
        storage=storage,
        freshness=_typed(options, "freshness", FreshnessPolicy, problems),
        retry=_typed(options, "retry", Retry, problems),
        watermark=options.get("watermark"),
        explicit_code_version=options.get("code_version"),
        checks=_checks(options.get("checks"), problems),
        description=options.get("description") or inspect.cleandoc(fn.__doc__ or ""),
        group=options.get("group") or "default",
        tags=dict(options.get("tags") or {}),
        schema=_schema_mode(options.get("schema"), problems),
        module=getattr(fn, "__module__", "") or "",
        file=code.co_filename if code else "<unknown>",
        line=code.co_firstlineno if code else 0,
        retain=options.get("retain"),
        retain_versions=options.get("retain_versions"),
        automation=_typed(options, "automation", AutomationCondition, problems),
        timeout=_duration(options, "timeout", problems),
        pool=_pool(options.get("pool"), problems),
        problems=tuple(problems),  # last: every check above adds to it
    )


def _name(name: Any, problems: list[str]) -> str:
    if name == QUARANTINE_FOLDER:
        problems.append(f"the name {name!r} is reserved for the warehouse's quarantine folder")
    elif not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        problems.append(
            f"the name {name!r} is not a valid Python identifier; use letters, digits and "
            "underscores, not starting with a digit (e.g. 'daily_flights')"
        )
    return str(name)


def _partitions(partitions: Any, problems: list[str]) -> Partitions | None:
    if partitions is not None and not isinstance(partitions, Partitions):
        problems.append(
            f"partitions= must be DailyPartitions(...), HourlyPartitions(...) or another "
            f"partitions object, not {partitions!r}"
        )
        return None
    return partitions


def _duration(options: dict[str, Any], key: str, problems: list[str]) -> timedelta | None:
    value = options.get(key)
    if value is None:
        return None
    try:
        duration = parse_duration(value)
    except ValueError as error:
        problems.append(f"{key}=: {error}")
        return None
    if duration <= timedelta(0):
        problems.append(f"{key}= must be positive, not {value!r}")
        return None
    return duration


def _pool(pool: Any, problems: list[str]) -> str | None:
    if pool is not None and (not isinstance(pool, str) or not pool.isidentifier()):
        problems.append(
            f"pool= must be the name of a pool of [tool.partita.pools] (letters, digits "
            f"and underscores), not {pool!r}"
        )
        return None
    return pool


def _typed(options: dict[str, Any], key: str, kind: type, problems: list[str]) -> Any:
    value = options.get(key)
    if value is not None and not isinstance(value, kind):
        problems.append(f"{key}= must be a {kind.__name__}(...), not {value!r}")
        return None
    return value


def _checks(checks: Any, problems: list[str]) -> tuple[Check | Quarantine, ...]:
    normalized = []
    for check in checks or ():
        try:
            normalized.append(as_check(check))
        except (TypeError, ValueError) as error:
            problems.append(str(error))
    return tuple(normalized)


def _schema_mode(mode: Any, problems: list[str]) -> str:
    if mode is None:
        return "strict"
    if mode not in SCHEMA_MODES:
        problems.append(f"schema= must be 'strict' or 'evolve', not {mode!r}")
        return "strict"
    return mode


def _normalize_deps(deps: Sequence[Any] | None, problems: list[str]) -> tuple[AssetDep, ...]:
    if deps is None:
        return ()
    if isinstance(deps, str | AssetDep) or callable(deps):
        deps = [deps]
    normalized = []
    for dep in deps:
        if isinstance(dep, AssetDep):
            normalized.append(dep)
        elif isinstance(dep, str) or callable(dep):
            normalized.append(AssetDep(dep))
        else:
            problems.append(
                f"deps= takes asset names, decorated functions or AssetDep(...), not {dep!r}"
            )
    return tuple(normalized)


def _parameters(fn: Callable[..., Any]) -> tuple[Parameter, ...]:
    signature = inspect.signature(fn)
    return tuple(
        Parameter(
            name=parameter.name,
            annotation=parameter.annotation,
            has_default=parameter.default is not inspect.Parameter.empty,
        )
        for parameter in signature.parameters.values()
        if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    )


def source_hash(fn: Callable[..., Any]) -> str:
    """Hash a function's source with comments, docstrings, decorators and layout removed."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        code = getattr(fn, "__code__", None)
        payload = code.co_code + repr(code.co_consts).encode() if code else repr(fn).encode()
        return hashlib.sha256(payload).hexdigest()[:16]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.decorator_list = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            body = node.body
            first = body[0] if body else None
            is_constant = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            if is_constant and isinstance(first.value.value, str):  # a docstring
                node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.unparse(tree).encode()).hexdigest()[:16]
