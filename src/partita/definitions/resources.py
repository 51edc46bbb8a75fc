"""The `@resource` decorator: an object assets receive by parameter name.

A resource is a function whose keyword arguments come from
`[tool.partita.resources.<name>]` (values may reference environment variables as
`${VAR}`). It returns the object, or yields it once and cleans up after the `yield`; an
object it returns with a `close()` method is closed at the end. An asset takes it by
naming a parameter after it: `def orders(context, db)`.
"""

from __future__ import annotations

import inspect
import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, eq=False)
class ResourceDefinition:
    """A declared resource: its name, the function building it, and where it is defined."""

    name: str
    fn: Callable[..., Any]
    description: str
    file: str
    line: int
    problems: tuple[str, ...] = ()

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def keywords(self) -> dict[str, bool]:
        """The function's keyword arguments, each with whether it has a default."""
        signature = inspect.signature(self.fn)
        return {
            name: parameter.default is not inspect.Parameter.empty
            for name, parameter in signature.parameters.items()
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        }

    @property
    def takes_any_keyword(self) -> bool:
        return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(self.fn).parameters.values())


def resource(fn: Callable[..., Any] | None = None, /, *, name: str | None = None) -> Any:
    """Declare a resource (`@resource` or `@resource(name="db")`)."""

    def define(function: Callable[..., Any]) -> ResourceDefinition:
        if not callable(function):
            raise TypeError(f"@resource decorates a function, not {type(function).__name__}")
        label = name or function.__name__
        problems = ()
        if not isinstance(label, str) or not label.isidentifier() or keyword.iskeyword(label):
            problems = (f"the resource name {label!r} is not a valid Python identifier",)
        code = getattr(function, "__code__", None)
        return ResourceDefinition(
            name=str(label),
            fn=function,
            description=inspect.cleandoc(function.__doc__ or ""),
            file=code.co_filename if code else "<unknown>",
            line=code.co_firstlineno if code else 0,
            problems=problems,
        )

    return define(fn) if fn is not None else define
