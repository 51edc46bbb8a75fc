"""The immutable asset graph: dependencies resolved, validated, topologically ordered."""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from heapq import heapify, heappop, heappush

from ..definitions.asset import CONTEXT_PARAMETER, AssetDefinition, AssetDep
from ..definitions.mappings import (
    AllPartitions,
    PartitionMapping,
    TimeWindow,
    default_mapping,
)
from ..definitions.resources import ResourceDefinition
from ..definitions.retention import DEFAULT_RETENTION, Retention
from ..definitions.storage import StorageDeclaration
from ..errors import DefinitionError, DefinitionErrors


@dataclass(frozen=True)
class Dependency:
    """A resolved edge: `asset` reads `upstream` through `mapping`, and through `parameter`
    when it takes the data. `offset` is the `AssetDep(offset=...)` shorthand, if used."""

    upstream: str
    offset: tuple[int, int] | None
    parameter: str | None
    mapping: PartitionMapping = field(default_factory=AllPartitions)


@dataclass(frozen=True)
class AssetGraph:
    """Assets by name with their resolved dependencies, in a stable topological order."""

    assets: Mapping[str, AssetDefinition]
    dependencies: Mapping[str, tuple[Dependency, ...]]
    downstream: Mapping[str, tuple[str, ...]]
    order: tuple[str, ...]
    default_retention: Retention = DEFAULT_RETENTION  # the project's `retain` keys
    resources: Mapping[str, ResourceDefinition] = field(default_factory=dict)

    def retention(self, name: str) -> Retention:
        """How long and how many replaced versions of the asset's partitions are kept."""
        definition = self[name]
        return self.default_retention.merged(definition.retain, definition.retain_versions)

    def __contains__(self, name: object) -> bool:
        return name in self.assets

    def __getitem__(self, name: str) -> AssetDefinition:
        return self.assets[name]

    def upstream(self, name: str) -> tuple[str, ...]:
        return tuple(dep.upstream for dep in self.dependencies[name])

    def deps_version(self, name: str) -> str:
        """A hash of what the asset's partitions read: each upstream with its mapping,
        offset and partitioning kind. Changing `deps=`, a mapping or an offset changes it
        (the function's source hash leaves decorators out); moving an upstream's start or
        end does not. A dependency using its default mapping hashes as it always has."""
        reads = []
        downstream = self[name].partitions
        for dep in self.dependencies[name]:
            partitions = self[dep.upstream].partitions
            kind = None if partitions is None else partitions.kind
            zone = getattr(partitions, "timezone", None)
            read = [dep.upstream, dep.offset, kind, zone]
            if dep.mapping != default_mapping(downstream, partitions, dep.offset):
                read.append(repr(dep.mapping))
            reads.append(read)
        return hashlib.sha256(json.dumps(reads).encode()).hexdigest()[:16]

    def upstream_closure(self, names: Iterable[str]) -> set[str]:
        """The given assets and everything they read from, transitively."""
        return _closure(names, self.upstream)

    def downstream_closure(self, names: Iterable[str]) -> set[str]:
        """The given assets and everything that reads from them, transitively."""
        return _closure(names, lambda name: self.downstream[name])

    def sorted(self, names: Iterable[str]) -> list[str]:
        """The given names in topological order."""
        wanted = set(names)
        return [name for name in self.order if name in wanted]

    def edges(self) -> list[tuple[str, str]]:
        return [(dep.upstream, name) for name in self.order for dep in self.dependencies[name]]


def _closure(names: Iterable[str], neighbours) -> set[str]:
    seen: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(neighbours(name))
    return seen


def relative_location(definition: AssetDefinition, root: str | None = None) -> str:
    """`assets/flights.py:12` relative to the project root when possible."""
    file = definition.file
    if root:
        with contextlib.suppress(ValueError):
            file = os.path.relpath(file, root)
    return f"{file}:{definition.line}"


def suggest(name: str, candidates: Iterable[str]) -> str:
    """` Did you mean 'x' or 'y'?` or an empty string."""
    matches = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(match) for match in matches) + "?"


def build_graph(
    definitions: Iterable[AssetDefinition | ResourceDefinition],
    root: str | None = None,
    import_errors: Iterable[DefinitionError] = (),
    default_retention: Retention = DEFAULT_RETENTION,
) -> AssetGraph:
    """Resolve and validate every definition (assets and resources); raise
    `DefinitionErrors` listing all problems.

    `import_errors` (modules that failed to import) are reported with the rest; names
    that may have been defined in those modules are then not reported as unknown.
    """
    errors: list[DefinitionError] = list(import_errors)
    partial = bool(errors)

    def where(definition: AssetDefinition) -> str:
        return f"asset '{definition.name}' ({relative_location(definition, root)})"

    definitions = list(definitions)
    resources = _resources(
        [d for d in definitions if isinstance(d, ResourceDefinition)], root, errors
    )
    assets = _unique_assets(definitions, root, where, errors)
    errors.extend(_shared_tables(assets, where))
    for name in sorted(set(resources) & set(assets)):
        errors.append(
            DefinitionError(
                f"{where(assets[name])}: a resource is named '{name}' too "
                f"({relative_location(resources[name], root)}). Rename one of them."
            )
        )
    dependencies = {
        name: _resolve_dependencies(definition, assets, errors, where, partial, resources)
        for name, definition in assets.items()
    }
    order, cycle = _topological_order(assets, dependencies)
    if cycle:
        errors.append(
            DefinitionError(
                f"{where(assets[cycle[0]])} is part of a dependency cycle: "
                f"{' -> '.join(cycle)}. An asset cannot read, directly or through others, "
                "from itself: remove one of these dependencies."
            )
        )
    if errors:
        raise DefinitionErrors(errors)
    return AssetGraph(
        assets=assets,
        dependencies=dependencies,
        downstream=_downstream(assets, dependencies),
        order=tuple(order),
        default_retention=default_retention,
        resources=resources,
    )


def _unique_assets(
    definitions: list[AssetDefinition | ResourceDefinition],
    root: str | None,
    where: Callable[[AssetDefinition], str],
    errors: list[DefinitionError],
) -> dict[str, AssetDefinition]:
    """The asset definitions by name; their own problems and duplicate names go to
    `errors`."""
    assets: dict[str, AssetDefinition] = {}
    for definition in definitions:
        if isinstance(definition, ResourceDefinition):
            continue
        errors.extend(DefinitionError(f"{where(definition)}: {p}.") for p in definition.problems)
        previous = assets.get(definition.name)
        if previous is not None:
            errors.append(
                DefinitionError(
                    f"asset '{definition.name}' is defined twice: at "
                    f"{relative_location(previous, root)} and "
                    f"{relative_location(definition, root)}."
                    " Rename one of them (with @asset(name=...) or by renaming the function)."
                )
            )
            continue
        assets[definition.name] = definition
    return assets


def _downstream(
    assets: dict[str, AssetDefinition], dependencies: dict[str, tuple[Dependency, ...]]
) -> dict[str, tuple[str, ...]]:
    """For each asset, the assets that read it, sorted."""
    downstream: dict[str, list[str]] = {name: [] for name in assets}
    for name, deps in dependencies.items():
        for dep in deps:
            if dep.upstream in downstream:
                downstream[dep.upstream].append(name)
    return {name: tuple(sorted(names)) for name, names in downstream.items()}


def _resources(
    definitions: list[ResourceDefinition], root: str | None, errors: list[DefinitionError]
) -> dict[str, ResourceDefinition]:
    """Resources by name; problems and two resources of one name go to `errors`."""
    resources: dict[str, ResourceDefinition] = {}
    for definition in definitions:
        location = relative_location(definition, root)
        errors.extend(
            DefinitionError(f"resource '{definition.name}' ({location}): {p}.")
            for p in definition.problems
        )
        previous = resources.get(definition.name)
        if previous is not None and previous is not definition:
            errors.append(
                DefinitionError(
                    f"resource '{definition.name}' is defined twice: at "
                    f"{relative_location(previous, root)} and {location}. "
                    "Rename one of them (with @resource(name=...))."
                )
            )
            continue
        resources[definition.name] = definition
    return resources


def _shared_tables(assets: Mapping[str, AssetDefinition], where) -> list[DefinitionError]:
    """Two assets writing one storage target (a DuckDB table, whose names ignore case)
    would mix their rows."""
    owners: dict[tuple[str, ...], str] = {}
    errors = []
    for name, definition in assets.items():
        if not isinstance(definition.storage, StorageDeclaration):
            continue  # reported with the asset's other definition problems
        target = definition.storage.target(name)
        if target is None:
            continue
        if target.key in owners:
            errors.append(
                DefinitionError(
                    f"{where(definition)} writes {target.description}, which asset "
                    f"'{owners[target.key]}' writes too {target.advice}"
                )
            )
        else:
            owners[target.key] = name
    return errors


def _resolve_dependencies(
    definition: AssetDefinition,
    assets: Mapping[str, AssetDefinition],
    errors: list[DefinitionError],
    where,
    partial: bool = False,
    resources: Mapping[str, ResourceDefinition] | None = None,
) -> tuple[Dependency, ...]:
    """The union of `deps=` and the parameters named after other assets. With `partial`
    (some modules failed to import), unknown names are not reported: they may live there."""
    declared = {dep.name: dep for dep in definition.deps}
    resolved: dict[str, Dependency] = {}
    for dep_name, dep in declared.items():
        if dep_name not in assets:
            if partial:
                continue
            errors.append(
                DefinitionError(
                    f"{where(definition)} depends on '{dep_name}', which is not defined."
                    f"{suggest(dep_name, assets)} Define it, or fix the name in deps=."
                )
            )
            continue
        resolved[dep_name] = _dependency(definition, dep, assets[dep_name], None, errors, where)
    for parameter in definition.parameters:
        if parameter.name == CONTEXT_PARAMETER or parameter.name in (resources or {}):
            continue
        if parameter.name in assets:
            resolved[parameter.name] = _dependency(
                definition,
                declared.get(parameter.name),
                assets[parameter.name],
                parameter.name,
                errors,
                where,
            )
        elif not parameter.has_default and not partial:
            errors.append(
                DefinitionError(
                    f"{where(definition)} takes a parameter '{parameter.name}', which is neither "
                    "'context' nor the name of an asset or a resource."
                    f"{suggest(parameter.name, [*assets, *(resources or {})])} "
                    "Rename it after the asset or resource it reads, or give it a default value."
                )
            )
    return tuple(resolved[name] for name in sorted(resolved))


def _dependency(
    definition: AssetDefinition,
    declared: AssetDep | None,
    upstream: AssetDefinition,
    parameter: str | None,
    errors: list[DefinitionError],
    where,
) -> Dependency:
    """The edge to `upstream` with its mapping, validated (problems go to `errors`)."""
    offset = None if declared is None else declared.offset
    mapping = None if declared is None else declared.mapping
    downstream = definition.partitions
    problem = None
    if mapping is not None and not isinstance(mapping, PartitionMapping):
        problem = (
            f"mapping={mapping!r} is not a partition mapping; pass one of TimeWindow(), "
            "LastPartition(), AllPartitions(), StaticKeys() or Identity()"
        )
        mapping = None
    elif mapping is not None and offset is not None:
        problem = (
            f"both offset={offset!r} and mapping={mapping!r} are given; write the offset in "
            "the mapping: mapping=TimeWindow(offset=...)"
        )
    elif isinstance(mapping, TimeWindow) and mapping.offset != (0, 0):
        offset = mapping.offset  # the same dependency as the offset= shorthand
    if mapping is None:
        mapping = default_mapping(downstream, upstream.partitions, offset)
    if problem is None and upstream.name != definition.name:  # a self-read is a cycle
        problem = mapping.validate(downstream, upstream.partitions)
    if problem is None and upstream.observable and parameter is not None:
        problem = (
            "it is an observable source, which stores no data; declare it in deps=[...] "
            "and read the external data yourself"
        )
    if problem:
        errors.append(
            DefinitionError(
                f"{where(definition)} cannot read '{upstream.name}': {problem}. Change the "
                "partitions of one side, or the AssetDep offset or mapping."
            )
        )
    return Dependency(upstream.name, offset, parameter, mapping)


def _topological_order(
    assets: Mapping[str, AssetDefinition], dependencies: Mapping[str, tuple[Dependency, ...]]
) -> tuple[list[str], list[str] | None]:
    """Kahn's algorithm with names as tie-breaker; returns (order, a cycle path or None)."""
    indegree = {name: 0 for name in assets}
    readers: dict[str, list[str]] = {name: [] for name in assets}
    for name, deps in dependencies.items():
        for dep in deps:
            indegree[name] += 1
            readers[dep.upstream].append(name)
    ready = [name for name, degree in indegree.items() if degree == 0]
    heapify(ready)
    order = []
    while ready:
        name = heappop(ready)
        order.append(name)
        for reader in readers[name]:
            indegree[reader] -= 1
            if indegree[reader] == 0:
                heappush(ready, reader)
    if len(order) == len(assets):
        return order, None
    return order, _find_cycle({n for n, d in indegree.items() if d > 0}, dependencies)


def _find_cycle(
    remaining: set[str], dependencies: Mapping[str, tuple[Dependency, ...]]
) -> list[str]:
    """Walk upstream edges inside the unsorted remainder until a name repeats."""
    start = min(remaining)
    path = [start]
    position = {start: 0}
    while True:
        upstream = sorted(d.upstream for d in dependencies[path[-1]] if d.upstream in remaining)
        following = upstream[0]
        if following in position:
            cycle = [*path[position[following] :], following]
            cycle.reverse()  # upstream walk reversed: print in data-flow order a -> b
            return cycle
        position[following] = len(path)
        path.append(following)
