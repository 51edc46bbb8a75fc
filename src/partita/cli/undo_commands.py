"""Undo commands: `rollback`, `restore`, `history` and `prune` (see `app.undo`)."""

from __future__ import annotations

import click

from ..errors import EXIT_FAILED, unit_label
from .context import CliState, json_option, now_option, parse_now, selection_argument
from .output import print_json, print_table


@click.command("rollback")
@click.argument("run_id")
@selection_argument
@click.option("--from", "first", metavar="KEY", help="Only partitions from this key (inclusive).")
@click.option("--to", "last", metavar="KEY", help="Only partitions up to this key (inclusive).")
@click.option(
    "--plan", "plan_only", is_flag=True, help="Show what would be restored; change nothing."
)
@json_option
@click.pass_obj
def rollback_command(
    state: CliState, run_id: str, selection, first, last, plan_only: bool, as_json: bool
) -> None:
    """Restore, for every partition run RUN_ID replaced, the version it replaced.

    Readers of the taken-back data become stale (`upstream restored`); readers that never
    read it stay up to date. Run `partita materialize` afterwards to rebuild them.
    """
    from ..app.undo import rollback_targets
    from ..app.undo_effects import rollback_effects

    session = state.session
    targets = rollback_targets(session, run_id, selection, first, last)
    if plan_only:
        _print_plan(targets, rollback_effects(session, targets), as_json)
        return
    _restore(state, targets, f"rollback {run_id}", as_json)


@click.command("restore")
@click.argument("asset")
@click.option("--partition", metavar="KEY", help="The partition (none for an unpartitioned asset).")
@click.option(
    "--version",
    "data_version",
    metavar="DATA_VERSION",
    required=True,
    help="The data version to bring back (see partita history).",
)
@click.option(
    "--plan", "plan_only", is_flag=True, help="Show what would be restored; change nothing."
)
@json_option
@click.pass_obj
def restore_command(
    state: CliState, asset: str, partition, data_version: str, plan_only: bool, as_json: bool
) -> None:
    """Bring one partition back to an earlier data version, as a recorded run."""
    from ..app.undo import restore_target
    from ..app.undo_effects import rollback_effects

    session = state.session
    targets = [restore_target(session, asset, partition, data_version)]
    if plan_only:
        _print_plan(targets, rollback_effects(session, targets), as_json)
        return
    _restore(state, targets, f"restore {asset}", as_json)


def _print_plan(targets, effects, as_json: bool) -> None:
    restore = [
        {
            "asset": t.asset,
            "partition": t.partition,
            "data_version": t.data_version,
            "run_id": t.source.run_id,
        }
        for t in targets
    ]
    readers = [
        {
            "asset": e.asset,
            "partition": e.partition,
            "stale": e.reason is not None,
            "reason": None if e.reason is None else str(e.reason),
        }
        for e in effects
    ]
    if as_json:
        print_json({"restore": restore, "readers": readers})
        return
    if not targets:
        click.echo("Nothing to restore.")
        return
    print_table(
        f"{len(targets)} partition(s) to restore",
        ["asset", "partition", "data version", "from run"],
        [(r["asset"], r["partition"] or "-", r["data_version"], r["run_id"]) for r in restore],
    )
    stale = [r for r in readers if r["stale"]]
    fresh = [r for r in readers if not r["stale"]]
    if stale:
        print_table(
            f"{len(stale)} downstream partition(s) would go stale (readers of the data taken"
            " back, and transitively their readers; a rebuild that gives the same data as"
            " before stops there)",
            ["asset", "partition", "reason"],
            [(r["asset"], r["partition"] or "-", r["reason"]) for r in stale],
        )
    if fresh:
        click.echo(
            f"{len(fresh)} reader partition(s) read the restored data, never the data taken"
            " back, so they and their readers stay fresh."
        )


def _restore(state: CliState, targets, command: str, as_json: bool) -> None:
    from ..app.undo import run_restores

    if not targets:
        if as_json:
            print_json({"run_id": None, "status": "succeeded", "results": []})
        else:
            click.echo("Nothing to restore.")
        return
    report = run_restores(state.session, targets, command)
    results = [
        {
            "asset": r.asset,
            "partition": r.partition,
            "data_version": r.data_version,
            "status": r.status,
            "error": r.error,
            "revalidated": [list(unit) for unit in r.revalidated],
        }
        for r in report.results
    ]
    if as_json:
        print_json({"run_id": report.run_id, "status": report.status, "results": results})
    else:
        print_table(
            f"run {report.run_id}: {report.status}",
            ["asset", "partition", "data version", "status"],
            [(r["asset"], r["partition"] or "-", r["data_version"], r["status"]) for r in results],
        )
        for result in report.results:
            if result.error:
                label = unit_label(result.asset, result.partition)
                click.echo(f"{label}: {result.error}", err=True)
    if report.status != "succeeded":
        click.get_current_context().exit(EXIT_FAILED)


@click.command("history")
@click.argument("asset")
@click.option("--partition", metavar="KEY", help="The partition (none for an unpartitioned asset).")
@json_option
@click.pass_obj
def history_command(state: CliState, asset: str, partition, as_json: bool) -> None:
    """Every version of one partition, newest first: run, time, rows, bytes, data and code
    version, whether it is current and whether its bytes are still kept."""
    from ..app.undo import partition_history

    entries = partition_history(state.session, asset, partition)
    payload = [
        {
            "run_id": e.record.run_id,
            "finished": e.record.finished.isoformat(),
            "rows": e.record.rows,
            "bytes": e.record.bytes,
            "data_version": e.record.data_version,
            "code_version": e.record.code_version,
            "restored": e.record.restored,
            "current": e.current,
            "retained": e.retained,
        }
        for e in entries
    ]
    if as_json:
        print_json({"asset": asset, "partition": partition, "versions": payload})
        return
    print_table(
        None,
        ["run", "finished", "rows", "bytes", "data version", "code version", "", "kept"],
        [
            (
                p["run_id"],
                p["finished"][:19],
                p["rows"],
                p["bytes"],
                p["data_version"],
                p["code_version"],
                "current" if p["current"] else ("restore" if p["restored"] else ""),
                "yes" if p["retained"] else "pruned",
            )
            for p in payload
        ],
    )


@click.command("prune")
@selection_argument
@now_option
@json_option
@click.pass_obj
def prune_command(state: CliState, selection, now, as_json: bool) -> None:
    """Delete the kept versions each asset's retention (retain, retain_versions) no longer
    keeps at --now; the current data is never touched."""
    from ..app.undo import prune

    pruned = prune(state.session, selection, now=parse_now(now))
    payload = [
        {
            "asset": p.asset,
            "partition": p.version.partition,
            "data_version": p.version.data_version,
            "bytes": p.version.bytes,
        }
        for p in pruned
    ]
    if as_json:
        print_json({"pruned": payload, "bytes": sum(p["bytes"] for p in payload)})
        return
    click.echo(f"Pruned {len(payload)} kept version(s), {sum(p['bytes'] for p in payload)} bytes.")


def print_history_usage(state: CliState, selection, as_json: bool) -> None:
    """`partita status --history`: the kept versions of each asset and their bytes."""
    from ..app.undo import history_usage

    usage = history_usage(state.session, selection)
    payload = [{"asset": u.asset, "versions": u.versions, "bytes": u.bytes} for u in usage]
    if as_json:
        print_json({"history": payload, "bytes": sum(u.bytes for u in usage)})
        return
    print_table(
        "kept versions (history)",
        ["asset", "versions", "bytes"],
        [(u.asset, u.versions, u.bytes) for u in usage],
    )
