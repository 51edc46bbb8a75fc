"""OpenLineage end to end: a run's events through the official client's file and http
transports (and the OPENLINEAGE_URL variable), validated against the client's models."""

from __future__ import annotations

import json
import socket
import uuid

from observability.openlineage_models import validate_event
from servers.local import http_server

NOW = "2024-01-03T00:00:00+00:00"

ASSETS = """
import pathlib

import pandas as pd
from partita import AllPartitions, AssetDep, DailyPartitions, DuckDB, asset
from partita.checks import not_null, row_count

HERE = pathlib.Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"), checks=[not_null("id"), row_count(min=1)])
def orders(context):
    return pd.DataFrame({"id": [1, 2, 3], "amount": [1.5, 2.5, 3.5]})


@asset(deps=[AssetDep("orders", mapping=AllPartitions())], storage=DuckDB(table="totals"))
def totals(orders):
    return pd.DataFrame({"total": [float(orders["amount"].sum())]})


@asset
def broken():
    raise RuntimeError("no data today")
"""


def _project(project, openlineage: str) -> None:
    (project.root / "pyproject.toml").write_text(
        f'[project]\nname = "shop"\nversion = "0"\n\n{openlineage}'
    )
    project.write("assets/shop.py", ASSETS)


def _by_job(events: list[dict]) -> dict[str, list[dict]]:
    jobs: dict[str, list[dict]] = {}
    for event in events:
        jobs.setdefault(event["job"]["name"], []).append(event)
    return jobs


def test_file_transport_events_validate_and_carry_the_facets(project) -> None:
    _project(
        project,
        '[tool.partita.openlineage]\ntransport = { type = "file", '
        'log_file_path = "lineage.jsonl", append = true }\n',
    )
    run = project.cli("materialize", "--now", NOW, "--json", check=1).json()
    lines = (project.root / "lineage.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    for event in events:
        validate_event(event)
    jobs = _by_job(events)
    assert {event["job"]["namespace"] for event in events} == {"partita://shop"}
    parent = jobs["run"]
    assert [e["eventType"] for e in parent] == ["START", "FAIL"]
    parent_id = parent[0]["run"]["runId"]
    assert parent_id == str(uuid.uuid5(uuid.NAMESPACE_URL, f"partita:{run['run_id']}"))

    orders = [e for e in jobs["orders"] if e["eventType"] == "COMPLETE"]
    assert len(orders) == 2 and len(jobs["orders"]) == 4  # a START and a COMPLETE each
    first = next(
        e for e in orders if "2024-01-01" in e["run"]["facets"]["nominalTime"]["nominalStartTime"]
    )
    facets = first["run"]["facets"]
    assert facets["parent"]["run"]["runId"] == parent_id
    parent_job = facets["parent"]["job"]
    assert (parent_job["namespace"], parent_job["name"]) == ("partita://shop", "run")
    assert facets["nominalTime"]["nominalEndTime"].startswith("2024-01-02T00:00:00")
    (output,) = first["outputs"]
    assert output["namespace"] == f"file://{socket.gethostname()}"
    assert output["name"] == str(project.warehouse / "orders")
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 3
    assert output["outputFacets"]["outputStatistics"]["size"] > 0
    partitions = output["outputFacets"]["subset"]["outputCondition"]["partitions"]
    assert partitions == [{"dimensions": {"date": "2024-01-01"}, "identifier": "2024-01-01"}]
    assert [(f["name"], f["type"]) for f in output["facets"]["schema"]["fields"]] == [
        ("id", "int64"),
        ("amount", "double"),
    ]
    assertions = output["facets"]["dataQualityAssertions"]["assertions"]
    assert [(a["assertion"], a["success"]) for a in assertions] == [
        ("not_null(id)", True),
        ("row_count(min=1, max=None)", True),
    ]

    (totals,) = [e for e in jobs["totals"] if e["eventType"] == "COMPLETE"]
    (read,) = totals["inputs"]
    assert (read["name"], read["namespace"]) == (
        str(project.warehouse / "orders"),
        f"file://{socket.gethostname()}",
    )
    read_partitions = read["inputFacets"]["subset"]["inputCondition"]["partitions"]
    assert [p["identifier"] for p in read_partitions] == ["2024-01-01", "2024-01-02"]
    (written,) = totals["outputs"]
    assert written["namespace"] == f"duckdb://{project.warehouse / 'warehouse.duckdb'}"
    assert written["name"] == "warehouse.main.totals"

    (failed,) = [e for e in jobs["broken"] if e["eventType"] == "FAIL"]
    assert "no data today" in failed["run"]["facets"]["errorMessage"]["message"]


def test_http_transport_and_the_environment_variable(project) -> None:
    with http_server() as (url, lineage):
        _project(
            project,
            f'[tool.partita.openlineage]\nnamespace = "analytics"\n'
            f'transport = {{ type = "http", url = "{url}" }}\n',
        )
        project.cli("materialize", "orders", "--partition", "2024-01-01", "--now", NOW, check=0)
        events = lineage.bodies()
        assert [(e["job"]["name"], e["eventType"]) for e in events] == [
            ("run", "START"),
            ("orders", "START"),
            ("orders", "COMPLETE"),
            ("run", "COMPLETE"),
        ]
        assert {e["job"]["namespace"] for e in events} == {"analytics"}
        for event in events:
            validate_event(event)
        assert {r["path"] for r in lineage.requests} == {"/api/v1/lineage"}

    with http_server() as (url, lineage):
        _project(project, "")
        project.cli(
            "materialize",
            "orders",
            "--partition",
            "2024-01-02",
            "--now",
            NOW,
            check=0,
            env={"OPENLINEAGE_URL": url},
        )
        events = lineage.bodies()
        assert [e["eventType"] for e in events] == ["START", "START", "COMPLETE", "COMPLETE"]
        assert {e["job"]["namespace"] for e in events} == {"partita://shop"}


def test_an_unreachable_lineage_server_never_fails_the_run(project) -> None:
    _project(
        project,
        "[tool.partita.openlineage]\n"
        'transport = { type = "http", url = "http://127.0.0.1:9", timeout = 1,'
        " retry = { total = 1, connect = 1, backoff_factor = 0 } }\n",
    )
    result = project.cli("materialize", "orders", "--now", NOW, "--json", check=0)
    assert result.json()["status"] == "succeeded"
    assert "could not emit the OpenLineage START event of run" in result.stderr


def test_unknown_openlineage_key_is_a_clear_error(project) -> None:
    _project(project, '[tool.partita.openlineage]\nurl = "http://x"\n')
    result = project.cli("materialize", "--now", NOW, check=2)
    assert "[tool.partita.openlineage] has unknown key(s) url; the keys are" in result.stderr
