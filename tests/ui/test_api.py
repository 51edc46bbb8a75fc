"""The JSON API, through Starlette's in-process client, on a project with a history."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from .conftest import HOSTILE_ERROR, HOSTILE_KEY, NOW, TOKEN


def test_assets_lists_each_asset_with_counts_and_the_edges(client) -> None:
    answer = client.get("/api/assets").json()
    by_name = {a["name"]: a for a in answer["assets"]}
    assert list(by_name) == ["events", "daily_totals", "hostile"]
    assert by_name["events"]["counts"] == {"fresh": 5, "stale": 0, "missing": 5, "failed": 0}
    assert by_name["daily_totals"]["counts"]["missing"] == 10
    assert by_name["hostile"]["counts"] == {"fresh": 1, "stale": 0, "missing": 0, "failed": 1}
    assert by_name["events"]["partitions"]["kind"] == "daily"
    assert by_name["events"]["group"] == "raw"
    assert answer["edges"] == [["events", "daily_totals"]]


def test_assets_takes_the_selection_syntax(client) -> None:
    answer = client.get("/api/assets", params={"select": "daily_totals+"}).json()
    assert [a["name"] for a in answer["assets"]] == ["daily_totals"]
    answer = client.get("/api/assets", params=[("select", "+daily_totals")]).json()
    assert [a["name"] for a in answer["assets"]] == ["events", "daily_totals"]
    assert answer["edges"] == [["events", "daily_totals"]]
    bad = client.get("/api/assets", params={"select": "group:nope"})
    assert bad.status_code == 400
    assert "no asset is in group 'nope'" in bad.json()["error"]


def test_an_asset_gives_its_definition_freshness_and_watermark(client) -> None:
    answer = client.get("/api/assets/events").json()
    assert answer["description"] == "Events of the day."
    assert answer["partitions"]["count"] == 10
    assert answer["location"] == "assets/demo.py:8"
    assert answer["freshness_policy"] == "max_lag 6:00:00"
    assert answer["watermark_column"] == "ts"
    watermark = client.get("/api/assets/events/watermark").json()
    assert watermark["complete_through"] == "2013-01-05"
    assert watermark["high_water"].startswith("2013-01-05")
    assert answer["freshness"]["verdict"] == "overdue"
    assert answer["downstream"] == ["daily_totals"]
    deps = client.get("/api/assets/daily_totals").json()["deps"]
    assert [d["asset"] for d in deps] == ["events"]
    assert "Identity" in deps[0]["mapping"]


def test_partitions_give_ranges_and_what_needs_work(client) -> None:
    answer = client.get("/api/assets/events/partitions").json()
    assert answer["ranges"] == [
        {"first": "2013-01-01", "last": "2013-01-05", "count": 5, "state": "fresh"},
        {"first": "2013-01-06", "last": "2013-01-10", "count": 5, "state": "missing"},
    ]
    assert answer["needs_work"][0] == {
        "partition": "2013-01-06",
        "state": "missing",
        "reason": "missing",
    }
    narrowed = client.get(
        "/api/assets/events/partitions", params={"first": "2013-01-04", "last": "2013-01-07"}
    ).json()
    assert [(r["first"], r["count"]) for r in narrowed["ranges"]] == [
        ("2013-01-04", 2),
        ("2013-01-06", 2),
    ]


def test_a_partition_gives_its_attempts(client) -> None:
    answer = client.get("/api/assets/events/partitions/2013-01-02").json()
    assert answer["state"] == "fresh"
    (attempt,) = answer["attempts"]
    assert attempt["status"] == "materialized"
    assert attempt["rows"] == 1
    assert attempt["data_version"]
    assert attempt["watermark"].startswith("2013-01-02")
    failed = client.get(f"/api/assets/hostile/partitions/{quote(HOSTILE_KEY, safe='')}").json()
    assert failed["partition"] == HOSTILE_KEY
    assert failed["state"] == "failed"
    assert HOSTILE_ERROR in failed["attempts"][0]["error"]
    # The traceback of the failure, recorded by the process that ran it.
    traceback = failed["attempts"][0]["traceback"]
    assert traceback.startswith("Traceback (most recent call last):")
    assert f"ValueError: {HOSTILE_ERROR}" in traceback
    assert "demo.py" in traceback
    assert failed["attempts"][0]["worker"].rsplit(":", 1)[1].isdigit()
    assert attempt["traceback"] is None


def test_a_preview_gives_the_first_rows_as_text(client) -> None:
    answer = client.get("/api/assets/hostile/preview/plain").json()
    assert answer == {
        "columns": ["x"],
        "rows": [["<script>alert('value')</script>"]],
        "total_rows": 1,
    }
    assert client.get("/api/assets/events/preview/2013-01-09").json()["rows"] == []


def test_runs_and_a_run_with_its_units(client) -> None:
    runs = client.get("/api/runs", params={"limit": 10}).json()["runs"]
    assert [r["status"] for r in runs] == ["failed", "succeeded"]
    assert runs[1]["counts"]["materialized"] == 5
    assert runs[1]["command"].startswith("partita --project")
    assert len(client.get("/api/runs", params={"limit": 1}).json()["runs"]) == 1
    run = client.get(f"/api/runs/{runs[0]['run_id']}").json()
    assert run["units_total"] == 2
    assert {(u["partition"], u["status"]) for u in run["units"]} == {
        (HOSTILE_KEY, "failed"),
        ("plain", "materialized"),
    }


def test_freshness_lists_assets_with_a_policy(client) -> None:
    answer = client.get("/api/freshness").json()
    assert [(f["asset"], f["verdict"]) for f in answer["assets"]] == [("events", "overdue")]


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/api/assets/evnets", "'evnets'"),
        ("/api/assets/evnets/partitions", "'evnets'"),
        ("/api/assets/events/partitions/2014-05-01", "'2014-05-01'"),
        ("/api/assets/events/partitions/junk", "'junk'"),
        ("/api/runs/no-such-run", "'no-such-run'"),
    ],
)
def test_unknown_things_are_404_naming_them(client, path: str, named: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert named in answer.json()["error"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/runs", {"limit": "many"}),
        ("/api/runs", {"limit": "0"}),
        ("/api/assets/events/partitions", {"first": "not-a-day"}),
    ],
)
def test_bad_parameters_are_400(client, path: str, params: dict) -> None:
    answer = client.get(path, params=params)
    assert answer.status_code == 400
    assert answer.json()["error"]


def test_changing_requests_need_the_token(client) -> None:
    body = {"selection": ["events"], "partition": "2013-01-06"}
    assert client.post("/api/plan", json=body).status_code == 403
    assert (
        client.post("/api/runs", json=body, headers={"X-Partita-Token": "wrong"}).status_code == 403
    )
    assert client.get("/api/runs").json()["runs"][0]["status"] == "failed"  # nothing launched


def test_plan_groups_units_as_the_cli_does(client) -> None:
    headers = {"X-Partita-Token": TOKEN}
    body = {"selection": ["+daily_totals"], "from": "2013-01-04", "to": "2013-01-07"}
    answer = client.post("/api/plan", json=body, headers=headers).json()
    assert answer["to_run"] == 6
    assert [
        (r["asset"], r["first"], r["last"], r["count"], r["reason"]) for r in answer["rows"]
    ] == [
        ("events", "2013-01-06", "2013-01-07", 2, "missing"),
        ("daily_totals", "2013-01-04", "2013-01-07", 4, "missing"),
    ]
    forced = client.post("/api/plan", json={**body, "force": True}, headers=headers).json()
    assert forced["rows"][0]["reason"] == "forced"


def test_retry_failed_plans_only_the_units_whose_last_attempt_failed(client) -> None:
    headers = {"X-Partita-Token": TOKEN}
    every = client.post("/api/plan", json={"selection": ["events", "hostile"]}, headers=headers)
    assert {row["asset"] for row in every.json()["rows"]} == {"events", "hostile"}
    body = {"selection": ["events", "hostile"], "retry_failed": True}
    answer = client.post("/api/plan", json=body, headers=headers).json()
    assert [(r["asset"], r["first"], r["count"]) for r in answer["rows"]] == [
        ("hostile", HOSTILE_KEY, 1)
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"selection": "nope"}, "'nope'"),
        ({"selection": [1]}, "'selection'"),
        ({"partition": "x", "from": "y"}, "either"),
        ({"force": "yes"}, "'force'"),
        ({"selection": ["events"], "partition": "junk"}, "junk"),
    ],
)
def test_bad_plan_requests_are_400(client, body: dict, message: str) -> None:
    answer = client.post("/api/plan", json=body, headers={"X-Partita-Token": TOKEN})
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_static_files_come_from_the_package_only(client) -> None:
    scripts = re.findall(r'<script src="([^"]+)"', client.get("/").text)
    assert scripts[-1] == "/static/app.js"  # last: it renders the page with the others
    for script in scripts:
        answer = client.get(script)
        assert answer.status_code == 200, script
        assert answer.headers["content-type"].startswith("text/javascript")
    for path in ("/static/../api.py", "/static/..%2Fapi.py", "/static/index.html", "/static/x"):
        assert client.get(path).status_code == 404, path


def test_every_page_carries_the_token_and_a_strict_policy(client) -> None:
    for path in (
        "/",
        "/assets/events",
        "/runs",
        "/freshness",
        "/assets/events/partitions/2013-01-01",
    ):
        page = client.get(path)
        assert page.status_code == 200
        assert f'content="{TOKEN}"' in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]


def test_the_starting_selection_is_escaped_into_the_page(ui_project) -> None:
    from starlette.testclient import TestClient

    from partita.app.session import open_session
    from partita.ui.server import build_app

    with open_session(ui_project) as session:
        app = build_app(session, token=TOKEN, selection=['"><script>x</script>'])
        page = TestClient(app).get("/").text
    assert 'content="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in page
    assert "<script>x" not in page


def test_answers_follow_runs_of_other_processes(client, ui_project) -> None:
    """Counts are cached while the catalog is unchanged; a CLI run elsewhere shows at once."""
    from .conftest import NOW, run_cli

    def events_counts():
        assets = client.get("/api/assets").json()["assets"]
        return next(a["counts"] for a in assets if a["name"] == "events")

    before = events_counts()
    assert events_counts() == before
    run_cli(ui_project, "materialize", "events", "--partition", "2013-01-10", "--now", NOW, check=0)
    after = events_counts()
    assert after["fresh"] == before["fresh"] + 1
    assert after["missing"] == before["missing"] - 1
    ranges = client.get("/api/assets/events/partitions").json()["ranges"]
    assert ranges[-1] == {"first": "2013-01-10", "last": "2013-01-10", "count": 1, "state": "fresh"}


def test_a_run_that_cannot_start_says_why(client) -> None:
    body = {"selection": ["events"], "partition": "junk"}
    answer = client.post("/api/runs", json=body, headers={"X-Partita-Token": TOKEN})
    assert answer.status_code == 400
    assert "the run did not start" in answer.json()["error"]
    assert "'junk'" in answer.json()["error"]
    unknown = client.post(
        "/api/runs", json={"selection": ["nope"]}, headers={"X-Partita-Token": TOKEN}
    )
    assert unknown.status_code == 400
    assert "'nope'" in unknown.json()["error"]


def test_the_partition_at_a_position_of_the_bar(client) -> None:
    at = client.get("/api/assets/events/partition-at", params={"index": 7}).json()
    assert at == {
        "asset": "events",
        "partition": "2013-01-08",
        "state": "missing",
        "reason": "missing",
    }
    narrowed = client.get(
        "/api/assets/events/partition-at", params={"index": 1, "first": "2013-01-04"}
    ).json()
    assert (narrowed["partition"], narrowed["state"]) == ("2013-01-05", "fresh")
    beyond = client.get("/api/assets/events/partition-at", params={"index": 10})
    assert beyond.status_code == 404
    assert "position 10" in beyond.json()["error"]
    assert client.get("/api/assets/events/partition-at", params={"index": "-1"}).status_code == 400
    assert client.get("/api/assets/events/partition-at").status_code == 400


def test_counts_are_planned_once_then_reused_by_any_selection(ui_project, monkeypatch) -> None:
    from datetime import datetime

    from partita.app.session import open_session
    from partita.ui import api

    planned: list[list[str]] = []
    real = api.health_counts

    def counting(session, names, *, now):
        planned.append(sorted(names))
        return real(session, names, now=now)

    monkeypatch.setattr(api, "health_counts", counting)
    with open_session(ui_project) as session:
        state = api.UiState(session, TOKEN, datetime.fromisoformat(NOW))
        first = api.asset_counts(state, ["daily_totals"], state.moment())
        assert planned == [["daily_totals"]]
        # events was planned as daily_totals' upstream: counted already.
        both = api.asset_counts(state, ["events", "daily_totals"], state.moment())
        assert planned == [["daily_totals"]]
        assert both["daily_totals"] == first["daily_totals"]
        assert both["events"] == real(session, ["events"], now=state.moment())["events"]
        api.asset_counts(state, ["hostile", "events"], state.moment())
        assert planned == [["daily_totals"], ["hostile"]]
