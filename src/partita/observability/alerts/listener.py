"""The alert listener: turns run events into incidents and sends one message when an
incident opens and one when it resolves.

It runs in the run's coordinator. Open incidents are read once when the run starts, so a
unit that is fine costs nothing; a problem opens an incident through the catalog, which
keeps at most one open per key (so two runs never alert twice). Messages are delivered in
order by a background thread, retried with backoff, and never fail or slow the run; the
run's end waits at most `FLUSH_SECONDS` for them. Every notification, delivered or not,
is recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...catalog.records import AttemptStatus, IncidentEvent, IncidentRecord
from ...execution.events import RunListener
from ..background import BackgroundWorker
from .channels import Delivery
from .findings import UNIT_KINDS, Finding, overdue_findings, run_finding, unit_finding
from .rules import AlertKind, AlertRule, AlertSettings, Channel

if TYPE_CHECKING:
    from ...catalog.base import Catalog
    from ...catalog.records import MaterializationRecord
    from ...execution.report import RunReport, UnitResult
    from ...planning.freshness import FreshnessResult
    from ...planning.plan import Plan

log = logging.getLogger("partita")

FLUSH_SECONDS = 60.0

Freshness = Callable[[Sequence[str] | None], list["FreshnessResult"]]


class AlertListener(RunListener):
    """Evaluates the rules of `settings` on a run's events (see the module docstring).

    `selected` gives each rule with a `select` the asset names it covers; `freshness`
    assesses the freshness of a selection (for overdue rules) at the end of a run.
    """

    def __init__(
        self,
        settings: AlertSettings,
        catalog: Catalog,
        *,
        project: str,
        selected: Mapping[str, Collection[str]],
        freshness: Freshness | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.project = project
        self.selected = selected
        self.freshness = freshness
        self.delivery = delivery or Delivery(
            settings.smtp, settings.attempts, settings.backoff_seconds
        )
        self._open: set[str] | None = None
        self._run_id: str | None = None
        self._outbox: BackgroundWorker[tuple[Channel, dict[str, Any], int]] = BackgroundWorker(
            self._deliver, "alerts"
        )

    def run_started(self, run_id: str, plan: Plan) -> None:
        self._run_id = run_id
        self._open = {incident.key for incident in self.catalog.open_incidents()}

    def unit_finished(
        self, run_id: str, result: UnitResult, record: MaterializationRecord | None
    ) -> None:
        if record is None:
            return
        for rule in self.settings.rules:
            if rule.when in UNIT_KINDS and self._covers(rule, record.asset):
                self._guarded(rule, lambda rule=rule: self._unit(rule, result, record))

    def run_finished(self, report: RunReport) -> None:
        self._run_id = report.run_id
        for rule in self.settings.rules:
            if rule.when == AlertKind.RUN_FAILED:
                selected = self.selected.get(rule.name)
                finding = run_finding(rule, report, selected)
                if finding is not None:
                    self._guarded(rule, lambda finding=finding: self.apply(finding))
        self.check_freshness()
        self.flush()

    def flush(self, timeout: float = FLUSH_SECONDS) -> None:
        """Wait up to `timeout` seconds for the alerts not delivered yet."""
        self._outbox.close(timeout)

    def check_freshness(self) -> int:
        """Evaluate the overdue rules now; return how many assets are overdue."""
        overdue = 0
        for rule in self.settings.rules:
            if rule.when != AlertKind.OVERDUE or self.freshness is None:
                continue
            selection = sorted(self.selected[rule.name]) if rule.name in self.selected else None
            for finding in overdue_findings(rule, self.freshness(selection)):
                overdue += finding.problem is not None
                self._guarded(rule, lambda finding=finding: self.apply(finding))
        return overdue

    def apply(self, finding: Finding) -> None:
        """Open the finding's incident (a problem) or resolve it (none), and tell the
        rule's channel when either happens."""
        now = datetime.now(UTC)
        if finding.problem is None:
            if self._open is not None and finding.key not in self._open:
                return  # nothing open for it when the run started: nothing to resolve
            incident = self.catalog.resolve_incident(finding.key, now)
            event = IncidentEvent.RESOLVED
        else:
            incident = self.catalog.open_incident(
                finding.key,
                rule=finding.rule.name,
                kind=finding.rule.when,
                asset=finding.asset,
                partition=finding.partition,
                run_id=self._run_id,
                opened=now,
                message=finding.problem,
            )
            event = IncidentEvent.OPENED
        if incident is None:
            return
        if self._open is not None:
            (self._open.add if event == IncidentEvent.OPENED else self._open.discard)(finding.key)
        payload = alert_payload(self.project, incident, event)
        self._outbox.submit((finding.rule.channel, payload, incident.incident_id))

    def _deliver(self, message: tuple[Channel, dict[str, Any], int]) -> None:
        channel, payload, incident_id = message
        notification = self.delivery.send(channel, payload)
        self.catalog.record_notification(incident_id, notification)

    def _unit(self, rule: AlertRule, result: UnitResult, record: MaterializationRecord) -> None:
        history: list[int] = []
        if rule.when == AlertKind.VOLUME:
            history = self._rows_history(rule, record)
        finding = unit_finding(rule, result, record, history)
        if finding is not None:
            self.apply(finding)

    def _rows_history(self, rule: AlertRule, record: MaterializationRecord) -> list[int]:
        """Rows of the asset's earlier materializations (not this one), newest first."""
        earlier = self.catalog.history(record.asset, limit=rule.history * 3 + 1)
        return [
            r.rows
            for r in earlier
            if r.status == AttemptStatus.MATERIALIZED
            and r.rows is not None
            and (r.run_id, r.partition, r.started)
            != (record.run_id, record.partition, record.started)
        ][: rule.history]

    def _covers(self, rule: AlertRule, asset: str) -> bool:
        return rule.name not in self.selected or asset in self.selected[rule.name]

    def _guarded(self, rule: AlertRule, action: Callable[[], None]) -> None:
        # One rule failing (a catalog error, say) must not stop the others or the run.
        try:
            action()
        except Exception:
            log.exception("alert rule %s could not be evaluated", rule.name)


def alert_payload(project: str, incident: IncidentRecord, event: IncidentEvent) -> dict[str, Any]:
    """The JSON an alert carries; `text` is what Slack-compatible webhooks show."""
    if event == IncidentEvent.OPENED:
        title = f"[{project}] {incident.kind}: {incident.message}"
    else:
        title = f"[{project}] resolved {incident.kind}: {incident.message}"
    return {
        "text": f"{title} (partita alert rule '{incident.rule}')",
        "title": title,
        "event": str(event),
        "project": project,
        "rule": incident.rule,
        "when": incident.kind,
        "asset": incident.asset,
        "partition": incident.partition,
        "run_id": incident.run_id,
        "message": incident.message,
        "opened": incident.opened.isoformat(),
        "resolved": None if incident.resolved is None else incident.resolved.isoformat(),
    }
