"""Resources at run time: built on first use in a process from their configuration
(`${VAR}` resolved, secrets registered), given to assets by parameter name, and closed
when the process's work ends (in reverse order of creation)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..definitions.resources import ResourceDefinition
from ..errors import PermanentError
from ..secrets import MissingVariableError, interpolate, mask

log = logging.getLogger("partita")


class ResourceError(PermanentError):
    """A resource could not be configured or built; every unit needing it fails."""


@dataclass
class ResourceSet:
    """The resources of one process: definitions, their raw configuration, and the live
    objects built so far."""

    definitions: Mapping[str, ResourceDefinition]
    config: Mapping[str, Mapping[str, Any]]
    _live: dict[str, Any] = field(default_factory=dict)
    _cleanups: list[tuple[str, Any]] = field(default_factory=list)
    _failed: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        """The live resource `name`, built on first use; a failure is remembered, so each
        unit needing it fails the same way without trying again."""
        if name in self._failed:
            raise ResourceError(self._failed[name])
        if name not in self._live:
            try:
                self._live[name] = self._build(self.definitions[name])
            except ResourceError as error:
                self._failed[name] = str(error)
                raise
        return self._live[name]

    def close(self) -> None:
        """Close every live resource, newest first; a failing close is logged."""
        cleanups, self._cleanups = self._cleanups, []
        self._live.clear()
        for name, cleanup in reversed(cleanups):
            try:
                cleanup()
            except Exception as error:
                log.warning(
                    "resource '%s' failed to close: %s: %s",
                    name,
                    type(error).__name__,
                    mask(str(error)),
                )

    def _build(self, definition: ResourceDefinition) -> Any:
        arguments = self._arguments(definition)
        where = f"resource '{definition.name}' ({definition.location})"
        try:
            value = definition.fn(**arguments)
            if inspect.isgenerator(value):
                generator = value
                value = next(generator)
                self._cleanups.append((definition.name, lambda: _finish(generator)))
            elif callable(getattr(value, "close", None)):
                self._cleanups.append((definition.name, value.close))
        except ResourceError:
            raise
        except Exception as error:
            raise ResourceError(
                f"{where} could not be built: {type(error).__name__}: {mask(str(error))}. "
                "Check its configuration in [tool.partita.resources."
                f"{definition.name}] and the services it connects to."
            ) from None  # the cause may hold a secret
        return value

    def _arguments(self, definition: ResourceDefinition) -> dict[str, Any]:
        """The configured keyword arguments, `${VAR}` resolved; unknown or missing keys
        and unset variables are errors naming the resource and the key."""
        table = f"[tool.partita.resources.{definition.name}]"
        raw = dict(self.config.get(definition.name, {}))
        keywords = definition.keywords
        unknown = sorted(set(raw) - set(keywords))
        if unknown and not definition.takes_any_keyword:
            raise ResourceError(
                f"{table} sets {', '.join(unknown)}, which resource '{definition.name}' "
                f"({definition.location}) does not take; its arguments are "
                f"{', '.join(keywords) or 'none'}."
            )
        missing = sorted(
            k for k, has_default in keywords.items() if not has_default and k not in raw
        )
        if missing:
            raise ResourceError(
                f"resource '{definition.name}' ({definition.location}) needs "
                f"{', '.join(missing)}: set {'them' if len(missing) > 1 else 'it'} in {table}."
            )
        arguments = {}
        for key, value in raw.items():
            try:
                arguments[key] = interpolate(value)
            except MissingVariableError as error:
                raise ResourceError(
                    f"{table} key '{key}' reads the environment variable "
                    f"{error.variable}, which is not set. Set it (export {error.variable}=...) "
                    "before running partita."
                ) from None
        return arguments


def _finish(generator: Any) -> None:
    """Run a generator resource's code after its `yield`."""
    try:
        next(generator)
    except StopIteration:
        return
    generator.close()
    raise RuntimeError("a resource function may yield only once")
