"""Partition options and commands: `--where DIMENSION=VALUE[,VALUE...]`."""

from __future__ import annotations

from collections.abc import Iterable

import click

from ..planning.targets import Where


def parse_where(texts: Iterable[str]) -> Where:
    """`("region=eu,us", "product=p1")` as `(("region", ("eu", "us")), ("product", ("p1",)))`;
    repeating a dimension keeps the values both name."""
    found: dict[str, tuple[str, ...]] = {}
    for text in texts:
        name, separator, listed = text.partition("=")
        values = tuple(value.strip() for value in listed.split(","))
        if not separator or not name.strip() or not all(values):
            raise click.BadParameter(
                f"{text!r} is not DIMENSION=VALUE[,VALUE...]; write for example "
                "--where region=eu,us",
                param_hint="--where",
            )
        name = name.strip()
        if name in found:
            values = tuple(value for value in found[name] if value in values)
        found[name] = values
    return tuple(found.items())
