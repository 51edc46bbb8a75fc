"""The listeners a session attaches to every run, from the project's configuration:
alerts (`[tool.partita.alerts]`), OpenLineage (`[tool.partita.openlineage]` or the
`OPENLINEAGE_*` variables), the pruning of old unit logs, and the run id in the logs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import SelectionError
from ..execution.events import RunListener
from ..execution.log_context import RunLogContext
from ..execution.unit_logs import UnitLogPruner
from ..graph.selection import select
from .alerts.listener import AlertListener
from .lineage.openlineage import openlineage_listener

if TYPE_CHECKING:
    from ..app.session import Session


def build_observers(session: Session, now: datetime | None = None) -> list[RunListener]:
    """The run listeners the session's configuration asks for. `now` is the time freshness
    is assessed at (for overdue alerts); None means the wall clock at the end of the run."""
    observers: list[RunListener] = [UnitLogPruner(session.warehouse)]
    alerts = build_alert_listener(session, now)
    if alerts is not None:
        observers.append(alerts)
    lineage = openlineage_listener(session.config, session.graph, session.warehouse)
    if lineage is not None:
        observers.append(lineage)
    observers.append(RunLogContext())  # last: the run's end is logged with its id
    return observers


def build_alert_listener(session: Session, now: datetime | None = None) -> AlertListener | None:
    """The alert listener of the session's project; None without alert rules."""
    settings = session.config.alerts
    if settings is None or not settings.rules:
        return None
    selected = {}
    for rule in settings.rules:
        if rule.select is None:
            continue
        try:
            selected[rule.name] = frozenset(select(session.graph, list(rule.select)))
        except SelectionError as error:
            raise SelectionError(
                f"alert rule '{rule.name}' in {session.root / 'pyproject.toml'}: {error} "
                "Fix its select = [...]."
            ) from error
    return AlertListener(
        settings,
        session.catalog,
        project=session.config.name,
        selected=selected,
        freshness=lambda selection: session.freshness(selection, now=now),
    )
