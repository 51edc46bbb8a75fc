"""Alerts end to end: the real CLI, a local webhook server and a local SMTP server; one
alert per incident until it resolves, then one resolved message; delivery retried."""

from __future__ import annotations

import json

from servers.local import http_server, smtp_server

NOW = "2024-01-03T00:00:00+00:00"

ASSETS = """
import pathlib

import pandas as pd
from partita import DailyPartitions, asset

HERE = pathlib.Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"))
def orders(context):
    if (HERE / "broken.txt").exists():
        raise RuntimeError("the orders API is down")
    return pd.DataFrame({"id": [1, 2, 3]})


@asset
def customers():
    return pd.DataFrame({"id": [1]})
"""


def _configure(project, rules: str, extra: str = "") -> None:
    (project.root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n'
        "[tool.partita.alerts]\nattempts = 3\nbackoff_seconds = 0\n"
        f"{extra}\n{rules}"
    )
    project.write("assets/shop.py", ASSETS)


def test_a_failing_unit_alerts_once_then_resolves_once(project) -> None:
    with http_server() as (url, hook):
        rule = (
            '[[tool.partita.alerts.rules]]\nname = "failures"\nwhen = "unit_failed"\n'
            f'select = ["orders"]\nchannel = {{ webhook = "{url}/hook" }}\n'
        )
        _configure(project, rule)
        broken = project.root / "assets" / "broken.txt"
        broken.write_text("yes")
        project.cli("materialize", "--now", NOW, check=1)
        opened = hook.bodies()
        assert [b["event"] for b in opened] == ["opened", "opened"]  # two partitions
        assert {b["partition"] for b in opened} == {"2024-01-01", "2024-01-02"}
        assert all("the orders API is down" in b["text"] for b in opened)
        assert all(b["project"] == "demo" and b["rule"] == "failures" for b in opened)

        project.cli("materialize", "--now", NOW, check=1)  # still failing: no new alert
        assert len(hook.bodies()) == 2

        broken.unlink()
        project.cli("materialize", "--now", NOW, check=0)
        resolved = hook.bodies()[2:]
        assert sorted((b["event"], b["partition"]) for b in resolved) == [
            ("resolved", "2024-01-01"),
            ("resolved", "2024-01-02"),
        ]
        project.cli("materialize", "--now", NOW, check=0)
        assert len(hook.bodies()) == 4

    listed = project.cli("alerts", "--json", check=0).json()["incidents"]
    assert len(listed) == 2
    for incident in listed:
        assert incident["state"] == "resolved" and incident["asset"] == "orders"
        assert [(n["event"], n["delivered"]) for n in incident["notifications"]] == [
            ("opened", True),
            ("resolved", True),
        ]
        assert all(n["channel"] == "webhook 127.0.0.1" for n in incident["notifications"])
    table = project.cli("alerts", check=0).stdout
    assert "failures" in table and "resolved" in table


def test_a_failing_channel_is_retried_and_never_fails_the_run(project) -> None:
    with http_server(failures=2) as (url, hook):
        rule = (
            '[[tool.partita.alerts.rules]]\nwhen = "run_failed"\n'
            f'channel = {{ webhook = "{url}" }}\n'
            '[[tool.partita.alerts.rules]]\nname = "down"\nwhen = "run_failed"\n'
            'channel = { webhook = "http://127.0.0.1:9/nothing-listens-here" }\n'
        )
        _configure(project, rule)
        (project.root / "assets" / "broken.txt").write_text("yes")
        result = project.cli("materialize", "--now", NOW, "--json", check=1)
        assert result.json()["status"] == "failed"  # the run's own outcome, alerts aside
        (body,) = hook.bodies()
        assert body["event"] == "opened" and body["when"] == "run_failed"
        assert "2 unit(s) failed" in body["message"]
    incidents = {i["rule"]: i for i in project.cli("alerts", "--json", check=0).json()["incidents"]}
    (delivered,) = incidents["run_failed-1"]["notifications"]
    assert (delivered["delivered"], delivered["attempts"]) == (True, 3)
    (failed,) = incidents["down"]["notifications"]
    assert (failed["delivered"], failed["attempts"]) == (False, 3)
    assert "could not be reached" in failed["error"]
    assert "nothing-listens-here" not in json.dumps(incidents)  # a URL may hold a token


def test_email_and_command_channels(project) -> None:
    with smtp_server() as (port, messages):
        rules = (
            '[[tool.partita.alerts.rules]]\nwhen = "unit_failed"\n'
            'channel = { email = "ops@example.com" }\n'
            '[[tool.partita.alerts.rules]]\nwhen = "unit_failed"\nselect = ["orders"]\n'
            'channel = { command = "cat >> alerts.jsonl; echo >> alerts.jsonl" }\n'
        )
        smtp = f'[tool.partita.alerts.smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "p@x.org"\n'
        _configure(project, rules, smtp)
        (project.root / "assets" / "broken.txt").write_text("yes")
        project.cli("materialize", "orders", "--partition", "2024-01-01", "--now", NOW, check=1)
        (recipients, message) = messages[0]
        assert len(messages) == 1 and recipients == ["ops@example.com"]
        assert message["From"] == "p@x.org"
        subject = " ".join(message["Subject"].split())
        assert subject.startswith("[demo] unit_failed: asset 'orders' partition 2024-01-01 failed")
        assert "the orders API is down" in message.get_payload()
    lines = (project.root / "alerts.jsonl").read_text().splitlines()
    (alert,) = [json.loads(line) for line in lines if line]
    assert (alert["event"], alert["asset"], alert["partition"]) == (
        "opened",
        "orders",
        "2024-01-01",
    )


def test_an_invalid_rule_is_a_clear_error(project) -> None:
    _configure(project, '[[tool.partita.alerts.rules]]\nwhen = "unit_fail"\nchannel = {}\n')
    result = project.cli("materialize", "--now", NOW, check=2)
    assert "when = 'unit_fail' is not one of unit_failed, run_failed" in result.stderr


FRESHNESS = """
import pandas as pd
from partita import DailyPartitions, FreshnessPolicy, asset


@asset(partitions=DailyPartitions(start="2024-01-01"), freshness=FreshnessPolicy(max_lag="1d"))
def orders(context):
    return pd.DataFrame({"id": [1]})
"""


def test_overdue_alerts_from_a_check_and_resolved_by_a_run(project) -> None:
    with http_server() as (url, hook):
        _configure(
            project,
            f'[[tool.partita.alerts.rules]]\nname = "late"\nwhen = "overdue"\n'
            f'channel = {{ webhook = "{url}" }}\n',
        )
        project.write("assets/shop.py", FRESHNESS)
        project.cli("materialize", "--now", NOW, check=0)
        assert hook.bodies() == []
        late = "2024-01-05T12:00:00+00:00"
        checked = project.cli("alerts", "--check", "--now", late, "--json", check=1).json()
        (incident,) = checked["incidents"]
        assert (incident["rule"], incident["state"], incident["asset"]) == (
            "late",
            "open",
            "orders",
        )
        project.cli("alerts", "--check", "--now", late, check=1)  # still overdue: no new alert
        assert [b["event"] for b in hook.bodies()] == ["opened"]
        assert "asset 'orders' is overdue" in hook.bodies()[0]["text"]
        project.cli("materialize", "--now", late, check=0)
        assert [b["event"] for b in hook.bodies()] == ["opened", "resolved"]
    assert project.cli("alerts", "--open", "--json", check=0).json() == {"incidents": []}


def test_check_without_rules_is_a_usage_error(project) -> None:
    project.write("assets/shop.py", ASSETS)
    result = project.cli("alerts", "--check", check=2)
    assert "--check needs alert rules" in result.stderr


def test_a_rule_selecting_an_unknown_asset_is_a_clear_error(project) -> None:
    rule = '[[tool.partita.alerts.rules]]\nname = "r"\nwhen = "unit_failed"\nselect = ["ordrs"]\n'
    _configure(project, rule + 'channel = { command = "true" }\n')
    result = project.cli("materialize", "--now", NOW, check=2)
    assert "alert rule 'r' in" in result.stderr and "ordrs" in result.stderr
    assert "Fix its select = [...]" in result.stderr
