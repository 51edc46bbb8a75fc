"""The alert listener on run events: each rule kind opens one incident per problem and
resolves it once, against a real catalog, with a delivery that records what it sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from partita.catalog import SQLiteCatalog
from partita.catalog.records import CheckResult, MaterializationRecord, RunStatus
from partita.execution.report import RunReport, UnitResult, UnitStatus
from partita.observability.alerts.channels import Delivery
from partita.observability.alerts.findings import volume_problem
from partita.observability.alerts.listener import AlertListener
from partita.observability.alerts.rules import parse_alert_settings
from partita.planning.freshness import FreshnessResult, Verdict

T0 = datetime(2024, 1, 1, tzinfo=UTC)


class RecordingDelivery(Delivery):
    """Records what it sends; `sent` first waits for the listener's background delivery."""

    def __init__(self, settings) -> None:
        super().__init__(settings.smtp, attempts=1, backoff_seconds=0)
        self.listener: AlertListener | None = None
        self._sent: list[dict] = []

    def _send_once(self, channel, alert) -> None:
        self._sent.append(dict(alert))

    @property
    def sent(self) -> list[dict]:
        assert self.listener is not None
        self.listener.flush()
        return self._sent


def _listener(tmp_path: Path, rules: list[dict], **options):
    settings = parse_alert_settings({"rules": rules}, "pyproject.toml")
    catalog = SQLiteCatalog(tmp_path / "catalog.db")
    delivery = RecordingDelivery(settings)
    listener = AlertListener(
        settings,
        catalog,
        project="demo",
        selected=options.pop("selected", {}),
        delivery=delivery,
        **options,
    )
    delivery.listener = listener
    return listener, catalog, delivery


def _unit(listener, catalog, run: int, partition: str, status="materialized", seconds=1.0, **kw):
    record = MaterializationRecord(
        asset=kw.pop("asset", "orders"),
        partition=partition,
        run_id=f"run-{run}",
        status=status,
        started=T0 + timedelta(hours=run),
        finished=T0 + timedelta(hours=run, seconds=seconds),
        attempts=kw.pop("attempts", 1),
        rows=kw.pop("rows", 10 if status == "materialized" else None),
        error=None if status == "materialized" else "boom",
        **kw,
    )
    catalog.record(record)
    result = UnitResult(record.asset, partition, UnitStatus(status), "missing", duration_s=seconds)
    listener.unit_finished(record.run_id, result, record)


def _events(delivery) -> list[tuple[str, str | None, str | None]]:
    return [(a["event"], a["asset"], a["partition"]) for a in delivery.sent]


COMMAND = {"command": "true"}


def test_check_failed_opens_once_and_resolves_when_checks_pass(tmp_path: Path) -> None:
    listener, catalog, delivery = _listener(
        tmp_path, [{"when": "check_failed", "channel": COMMAND}]
    )
    listener.run_started("run-1", None)
    failing = (CheckResult("not_null(id)", "warn", False, "2 nulls"),)
    _unit(listener, catalog, 1, "a", checks=failing)
    _unit(listener, catalog, 2, "a", checks=failing)
    _unit(listener, catalog, 3, "a")  # no checks ran: says nothing
    assert _events(delivery) == [("opened", "orders", "a")]
    assert "not_null(id) (warn): 2 nulls" in delivery.sent[0]["message"]
    _unit(listener, catalog, 4, "a", checks=(CheckResult("not_null(id)", "warn", True),))
    assert _events(delivery)[1:] == [("resolved", "orders", "a")]
    (incident,) = catalog.incidents()
    assert incident.resolved is not None and len(incident.notifications) == 2
    assert [n.event for n in incident.notifications] == ["opened", "resolved"]


def test_slow_units_and_selection(tmp_path: Path) -> None:
    listener, catalog, delivery = _listener(
        tmp_path,
        [
            {
                "name": "slow",
                "when": "slow",
                "max_seconds": 5,
                "select": ["orders"],
                "channel": COMMAND,
            }
        ],
        selected={"slow": frozenset({"orders"})},
    )
    listener.run_started("run-1", None)
    _unit(listener, catalog, 1, "a", seconds=9)
    _unit(listener, catalog, 1, "b", seconds=9, asset="customers")  # not selected
    _unit(listener, catalog, 2, "a", seconds=2)
    assert _events(delivery) == [("opened", "orders", "a"), ("resolved", "orders", "a")]
    assert "took 9.0 s, more than 5 s" in delivery.sent[0]["message"]


def test_volume_against_bounds_and_history(tmp_path: Path) -> None:
    listener, catalog, delivery = _listener(
        tmp_path, [{"when": "volume", "max_deviation": 0.5, "history": 3, "channel": COMMAND}]
    )
    listener.run_started("run-1", None)
    for run, rows in enumerate([100, 110, 90], start=1):
        _unit(listener, catalog, run, f"p{run}", rows=rows)
    assert delivery.sent == []
    _unit(listener, catalog, 4, "p4", rows=20)  # 80% below the median 100
    assert _events(delivery) == [("opened", "orders", "p4")]
    assert "20 rows, 80% away from the median 100 of the last 3" in delivery.sent[0]["message"]
    _unit(listener, catalog, 5, "p4", rows=95)
    assert _events(delivery)[1:] == [("resolved", "orders", "p4")]


@pytest.mark.parametrize(
    ("rows", "history", "problem"),
    [
        (0, [], "0 rows, fewer than min_rows = 1"),
        (10**7, [], "more than max_rows = 1000000"),
        (5, [100, 100], None),  # too little history to judge a deviation
        (0, [0, 0, 0], None),
        (3, [0, 0, 0], "3 rows where the last 3 had a median of 0"),
    ],
)
def test_volume_problems(rows: int, history: list[int], problem: str | None) -> None:
    settings = parse_alert_settings(
        {
            "rules": [
                {
                    "when": "volume",
                    "min_rows": 1 if rows == 0 and not history else 0,
                    "max_rows": 1e6,
                    "max_deviation": 0.5,
                    "channel": COMMAND,
                }
            ]
        },
        "pyproject.toml",
    )
    found = volume_problem(settings.rules[0], rows, history)
    assert found == problem if problem is None else problem in found


def test_run_failed_and_overdue_at_the_end_of_runs(tmp_path: Path) -> None:
    verdicts = {"orders": Verdict.OVERDUE}

    def freshness(selection):
        assert selection is None
        return [
            FreshnessResult(asset, verdict, reason="late") for asset, verdict in verdicts.items()
        ]

    listener, _, delivery = _listener(
        tmp_path,
        [
            {"name": "runs", "when": "run_failed", "channel": COMMAND},
            {"name": "late", "when": "overdue", "channel": COMMAND},
        ],
        freshness=freshness,
    )
    failed = UnitResult("orders", "a", UnitStatus.FAILED, "missing", error="boom")
    listener.run_started("run-1", None)
    listener.run_finished(RunReport("run-1", (failed,), RunStatus.FAILED))
    assert [(a["rule"], a["event"]) for a in delivery.sent] == [
        ("runs", "opened"),
        ("late", "opened"),
    ]
    assert delivery.sent[1]["message"] == "asset 'orders' is overdue: late"
    listener.run_started("run-2", None)
    listener.run_finished(RunReport("run-2", (), RunStatus.INTERRUPTED))  # says nothing of runs
    assert len(delivery.sent) == 2
    verdicts["orders"] = Verdict.FRESH
    listener.run_started("run-3", None)
    listener.run_finished(RunReport("run-3", (), RunStatus.SUCCEEDED))
    assert [(a["rule"], a["event"]) for a in delivery.sent[2:]] == [
        ("runs", "resolved"),
        ("late", "resolved"),
    ]


def test_a_second_listener_does_not_alert_an_incident_already_open(tmp_path: Path) -> None:
    rules = [{"when": "unit_failed", "channel": COMMAND}]
    first, catalog, sent_first = _listener(tmp_path, rules)
    second, _, sent_second = _listener(tmp_path, rules)
    first.run_started("run-1", None)
    second.run_started("run-2", None)
    _unit(first, catalog, 1, "a", status="failed")
    _unit(second, catalog, 2, "a", status="failed")
    assert (len(sent_first.sent), len(sent_second.sent)) == (1, 0)
    assert "failed after 1 attempt(s): boom" in sent_first.sent[0]["message"]


def test_delivery_retries_with_doubling_backoff(tmp_path: Path) -> None:
    settings = parse_alert_settings({"rules": []}, "pyproject.toml")
    waits: list[float] = []
    calls = []

    class Flaky(Delivery):
        def _send_once(self, channel, alert):
            from partita.observability.alerts.channels import DeliveryError

            calls.append(1)
            if len(calls) < 3:
                raise DeliveryError("refused")

    from partita.observability.alerts.rules import Channel, ChannelKind

    delivery = Flaky(settings.smtp, attempts=4, backoff_seconds=0.5, sleep=waits.append)
    notification = delivery.send(Channel(ChannelKind.COMMAND, "x"), {"event": "opened"})
    assert (notification.delivered, notification.attempts, waits) == (True, 3, [0.5, 1.0])

    class Down(Delivery):
        def _send_once(self, channel, alert):
            from partita.observability.alerts.channels import DeliveryError

            raise DeliveryError("refused")

    down = Down(settings.smtp, attempts=2, backoff_seconds=1, sleep=waits.append)
    notification = down.send(Channel(ChannelKind.COMMAND, "x"), {"event": "resolved"})
    assert (notification.delivered, notification.attempts, notification.error) == (
        False,
        2,
        "refused",
    )
    assert waits == [0.5, 1.0, 1]


def test_environment_variables_in_targets(tmp_path: Path) -> None:
    settings = parse_alert_settings({"rules": []}, "pyproject.toml")
    seen = []

    class Capture(Delivery):
        def _send_once(self, channel, alert):
            seen.append(self._expand(channel.target))

    from partita.observability.alerts.rules import Channel, ChannelKind

    delivery = Capture(settings.smtp, attempts=1, environment={"TOKEN": "s3cret"})
    delivery.send(Channel(ChannelKind.WEBHOOK, "https://h.example/${TOKEN}"), {"event": "opened"})
    assert seen == ["https://h.example/s3cret"]
    missing = Delivery(settings.smtp, attempts=1, environment={})
    notification = missing.send(Channel(ChannelKind.WEBHOOK, "https://h/${NOPE}"), {"event": "x"})
    assert notification.error == "the environment variable NOPE is not set"


def test_delivery_happens_in_the_background(tmp_path: Path) -> None:
    import threading

    started, release = threading.Event(), threading.Event()

    class Blocking(Delivery):
        def _send_once(self, channel, alert) -> None:
            started.set()
            assert release.wait(60)

    settings = parse_alert_settings(
        {"rules": [{"when": "unit_failed", "channel": COMMAND}]}, "pyproject.toml"
    )
    catalog = SQLiteCatalog(tmp_path / "catalog.db")
    listener = AlertListener(
        settings, catalog, project="demo", selected={}, delivery=Blocking(settings.smtp)
    )
    listener.run_started("run-1", None)
    _unit(listener, catalog, 1, "a", status="failed")  # returns while the delivery blocks
    assert started.wait(60)
    (incident,) = catalog.incidents()
    assert incident.notifications == ()
    release.set()
    listener.flush()
    (incident,) = catalog.incidents()
    assert [(n.event, n.delivered) for n in incident.notifications] == [("opened", True)]
