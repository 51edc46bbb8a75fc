"""`partita alerts`: the incidents alert rules opened, with the notifications sent."""

from __future__ import annotations

from typing import Any

import click

from ..catalog.records import IncidentRecord
from ..errors import EXIT_FAILED, UsageError
from .context import CliState, json_option, now_option, parse_now
from .output import print_json, print_table


@click.command("alerts")
@click.option("--open", "only_open", is_flag=True, help="Only incidents not resolved yet.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most N."
)
@click.option(
    "--check",
    is_flag=True,
    help="First assess freshness at --now and alert on overdue assets (run it from cron); "
    "exit 1 when an asset is overdue.",
)
@now_option
@json_option
@click.pass_obj
def alerts_command(
    state: CliState, only_open: bool, limit: int, check: bool, now: str | None, as_json: bool
) -> None:
    """The incidents of the alert rules in [tool.partita.alerts], newest first: what each
    is about, whether it is resolved, and how its notifications were delivered."""
    overdue = 0
    if check:
        from ..observability.observers import build_alert_listener

        listener = build_alert_listener(state.session, parse_now(now))
        if listener is None:
            raise UsageError(
                "--check needs alert rules: add [[tool.partita.alerts.rules]] tables to "
                "pyproject.toml."
            )
        overdue = listener.check_freshness()
        listener.flush()
    incidents = state.session.incidents(limit, only_open)
    if as_json:
        print_json({"incidents": [incident_json(i) for i in incidents]})
    else:
        print_table(
            None,
            ["opened", "state", "rule", "when", "asset", "partition", "notified", "message"],
            [_row(incident) for incident in incidents],
        )
    if overdue:
        click.get_current_context().exit(EXIT_FAILED)


def incident_json(incident: IncidentRecord) -> dict[str, Any]:
    return {
        "id": incident.incident_id,
        "key": incident.key,
        "rule": incident.rule,
        "when": incident.kind,
        "asset": incident.asset,
        "partition": incident.partition,
        "run_id": incident.run_id,
        "state": "open" if incident.resolved is None else "resolved",
        "opened": incident.opened.isoformat(),
        "resolved": None if incident.resolved is None else incident.resolved.isoformat(),
        "message": incident.message,
        "notifications": [
            {
                "event": n.event,
                "channel": n.channel,
                "sent": n.sent.isoformat(),
                "delivered": n.delivered,
                "attempts": n.attempts,
                "error": n.error,
            }
            for n in incident.notifications
        ],
    }


def _row(incident: IncidentRecord) -> tuple:
    notified = ", ".join(
        f"{n.event} {'ok' if n.delivered else 'FAILED'} ({n.channel})"
        for n in incident.notifications
    )
    return (
        incident.opened.strftime("%Y-%m-%d %H:%M:%S"),
        "open" if incident.resolved is None else "resolved",
        incident.rule,
        incident.kind,
        incident.asset or "",
        incident.partition or "",
        notified,
        incident.message,
    )
