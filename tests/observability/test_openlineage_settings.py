"""[tool.partita.openlineage] validation, and the run ids of units and runs."""

from __future__ import annotations

import uuid

import pytest

from partita.errors import ProjectError
from partita.observability.lineage.openlineage import parent_run_id, unit_run_id
from partita.observability.lineage.settings import OpenLineageSettings, parse_openlineage_settings


def test_settings() -> None:
    assert parse_openlineage_settings({}, "p") == OpenLineageSettings()
    parsed = parse_openlineage_settings(
        {"namespace": "ns", "transport": {"type": "console"}, "disabled": True}, "p"
    )
    assert parsed == OpenLineageSettings("ns", {"type": "console"}, True)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([], "must be a table"),
        ({"url": "x"}, "unknown key(s) url; the keys are namespace, transport, disabled"),
        ({"namespace": ""}, "namespace must be a non-empty text"),
        ({"transport": {"url": "x"}}, "transport must be a table with a type"),
        ({"disabled": "yes"}, "disabled must be true or false"),
    ],
)
def test_invalid_settings(table, message: str) -> None:
    with pytest.raises(ProjectError, match=None) as caught:
        parse_openlineage_settings(table, "pyproject.toml")
    assert message in str(caught.value)


def test_run_ids_are_stable_uuids_per_unit() -> None:
    first = unit_run_id("run-1", "orders", "2024-01-01")
    assert uuid.UUID(first).version == 5
    assert first == unit_run_id("run-1", "orders", "2024-01-01")
    assert (
        len(
            {
                first,
                unit_run_id("run-1", "orders", None),
                unit_run_id("run-2", "orders", "2024-01-01"),
            }
        )
        == 3
    )
    assert parent_run_id("run-1") != unit_run_id("run-1", "orders", None)
