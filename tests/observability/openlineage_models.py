"""Validating emitted OpenLineage events against the official client's models: each event
is rebuilt from its JSON with the client's classes (which reject unknown or missing fields
and check run ids, times and schema URLs), then serialized again by the client: the two
must be equal, so every field is one the client's model defines."""

from __future__ import annotations

from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated import base_subset_dataset as subset
from openlineage.client.generated import data_quality_assertions_dataset as quality
from openlineage.client.generated import parent_run, schema_dataset, tags_run
from openlineage.client.generated.error_message_run import ErrorMessageRunFacet
from openlineage.client.generated.nominal_time_run import NominalTimeRunFacet
from openlineage.client.generated.output_statistics_output_dataset import (
    OutputStatisticsOutputDatasetFacet,
)
from openlineage.client.serde import Serde

_META = ("_producer", "_schemaURL")


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in _META}


def _condition(data: dict[str, Any]) -> Any:
    assert data["type"] == "partition", data
    partitions = [subset.Partition(**p) for p in data["partitions"]]
    return subset.PartitionSubsetCondition(partitions=partitions)


def _run_facet(name: str, data: dict[str, Any]) -> Any:
    if name == "parent":
        return parent_run.ParentRunFacet(
            run=parent_run.Run(**data["run"]), job=parent_run.Job(**data["job"])
        )
    if name == "tags":  # the client's own (its version)
        return tags_run.TagsRunFacet(tags=[tags_run.TagsRunFacetFields(**t) for t in data["tags"]])
    classes = {"nominalTime": NominalTimeRunFacet, "errorMessage": ErrorMessageRunFacet}
    return classes[name](**_fields(data))


def _dataset_facet(name: str, data: dict[str, Any]) -> Any:
    if name == "schema":
        fields = [schema_dataset.SchemaDatasetFacetFields(**f) for f in data["fields"]]
        return schema_dataset.SchemaDatasetFacet(fields=fields)
    if name == "dataQualityAssertions":
        assertions = [quality.Assertion(**a) for a in data["assertions"]]
        return quality.DataQualityAssertionsDatasetFacet(assertions=assertions)
    raise AssertionError(f"unexpected dataset facet {name}")


def _io_facet(name: str, data: dict[str, Any], direction: str) -> Any:
    if name == "outputStatistics":
        return OutputStatisticsOutputDatasetFacet(**_fields(data))
    if name == "subset" and direction == "output":
        return subset.OutputSubsetOutputDatasetFacet(
            outputCondition=_condition(data["outputCondition"])
        )
    if name == "subset":
        return subset.InputSubsetInputDatasetFacet(
            inputCondition=_condition(data["inputCondition"])
        )
    raise AssertionError(f"unexpected {direction} facet {name}")


def _dataset(data: dict[str, Any], direction: str) -> Any:
    facets = {k: _dataset_facet(k, v) for k, v in data.get("facets", {}).items()}
    key = f"{direction}Facets"
    specific = {k: _io_facet(k, v, direction) for k, v in data.get(key, {}).items()}
    cls = OutputDataset if direction == "output" else InputDataset
    return cls(namespace=data["namespace"], name=data["name"], facets=facets, **{key: specific})


def validate_event(data: dict[str, Any]) -> RunEvent:
    """The event rebuilt with the client's models; fails the test if it does not fit."""
    event = RunEvent(
        eventType=RunState[data["eventType"]],
        eventTime=data["eventTime"],
        run=Run(
            runId=data["run"]["runId"],
            facets={k: _run_facet(k, v) for k, v in data["run"].get("facets", {}).items()},
        ),
        job=Job(namespace=data["job"]["namespace"], name=data["job"]["name"]),
        inputs=[_dataset(d, "input") for d in data.get("inputs", [])],
        outputs=[_dataset(d, "output") for d in data.get("outputs", [])],
        producer=data["producer"],
    )
    assert Serde.to_dict(event) == data
    return event
