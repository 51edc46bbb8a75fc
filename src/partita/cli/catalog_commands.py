"""`partita catalog migrate` and `partita catalog copy --to URL`: create or upgrade the
project's catalog schema; copy the project's catalog into a new one (SQLite to PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import click

from ..urls import redact, without_password
from .context import CliState


@click.group("catalog")
def catalog_group() -> None:
    """Manage the project's catalog (`catalog` under [tool.partita] or PARTITA_CATALOG;
    by default the SQLite file in the warehouse)."""


def _config(state: CliState):
    from ..discovery import find_project_root, load_config

    root = (
        state.project_dir.resolve()
        if state.project_dir is not None
        else find_project_root(Path.cwd())
    )
    return load_config(root)


@catalog_group.command("migrate")
@click.pass_obj
def migrate_command(state: CliState) -> None:
    """Create the catalog's schema, or upgrade it to this partita's."""
    from ..catalog import open_catalog
    from ..catalog.sqlite.schema import SCHEMA_VERSION

    config = _config(state)
    with open_catalog(config.warehouse, config.catalog) as catalog:
        where = str(catalog.path)  # type: ignore[attr-defined]
    click.echo(f"catalog {redact(where)} is at schema version {SCHEMA_VERSION}")


@catalog_group.command("copy")
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="The new, empty catalog: postgresql://USER@HOST:PORT/DB or sqlite:///path.",
)
@click.pass_obj
def copy_command(state: CliState, target_url: str) -> None:
    """Copy the project's catalog (runs, history, partition states, watermarks) into a new
    one, so a team moves to it without rebuilding. Then point `catalog` at it."""
    from ..catalog import open_catalog
    from ..catalog.copying import copy_catalog
    from ..catalog.locations import open_catalog_url

    config = _config(state)
    with (
        open_catalog(config.warehouse, config.catalog) as source,
        open_catalog_url(target_url) as target,
    ):
        result = copy_catalog(source, target)
    counts = ", ".join(f"{count} {table}" for table, count in result.rows.items())
    click.echo(
        f"copied {counts} (sequence {result.sequence}) into {redact(target_url)}; to use it,"
        f' set catalog = "{without_password(target_url)}" under [tool.partita] (the'
        " password in PGPASSWORD or ~/.pgpass), or PARTITA_CATALOG"
    )
