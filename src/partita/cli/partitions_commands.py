"""Partition options and commands: `--where DIMENSION=VALUE[,VALUE...]` and
`partita partitions list|add|remove NAME KEY...` for dynamic partitions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

from ..app.dynamic_partitions import add_partitions, remove_partitions
from .context import CliState, json_option
from .output import print_json

if TYPE_CHECKING:
    from ..planning.targets import Where  # loads numpy: not for the partitions commands


def where_option(function):
    """`--where DIMENSION=VALUE[,VALUE...]` (repeatable), parsed by `parse_where`."""
    return click.option(
        "--where",
        "where",
        multiple=True,
        metavar="DIMENSION=VALUE[,VALUE...]",
        help="Only partitions with these values of a dimension (repeatable).",
    )(function)


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


@click.group("partitions")
def partitions_group() -> None:
    """List, add and remove the keys of dynamic partitions (`DynamicPartitions(NAME)`)."""


@partitions_group.command("list")
@click.argument("name")
@json_option
@click.pass_obj
def list_keys_command(state: CliState, name: str, as_json: bool) -> None:
    """The keys of the dynamic partitions NAME, in order."""
    found = state.session.catalog.dynamic_keys(name)
    if as_json:
        print_json({"name": name, "keys": list(found.keys), "generation": found.generation})
        return
    for key in found.keys:
        click.echo(key)


@partitions_group.command("add")
@click.argument("name")
@click.argument("keys", nargs=-1, required=True)
@click.option("--after", metavar="KEY", help="Place the new keys right after this key.")
@click.option("--before", metavar="KEY", help="Place the new keys right before this key.")
@json_option
@click.pass_obj
def add_keys_command(state: CliState, name, keys, after, before, as_json: bool) -> None:
    """Add KEYS to the dynamic partitions NAME (at the end by default; known keys are
    skipped)."""
    if after is not None and before is not None:
        raise click.UsageError("give either --after or --before, not both")
    added = add_partitions(state.session, name, keys, after=after, before=before)
    _report(name, added.keys, as_json)


@partitions_group.command("remove")
@click.argument("name")
@click.argument("keys", nargs=-1, required=True)
@click.option(
    "--delete-data",
    is_flag=True,
    help="Also delete the data of their partitions (otherwise keys with data are refused).",
)
@json_option
@click.pass_obj
def remove_keys_command(state: CliState, name, keys, delete_data: bool, as_json: bool) -> None:
    """Remove KEYS from the dynamic partitions NAME."""
    removed = remove_partitions(state.session, name, keys, delete_data=delete_data)
    _report(name, removed.keys, as_json)


def _report(name: str, keys: tuple[str, ...], as_json: bool) -> None:
    if as_json:
        print_json({"name": name, "keys": list(keys)})
    else:
        click.echo(f"dynamic partitions {name!r}: {len(keys)} keys")
