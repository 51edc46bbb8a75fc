"""The OpenLineage listener: every unit emits START, then COMPLETE or FAIL (ABORT when it
ended without an attempt), as OpenLineage run events through the official client.

The job namespace is `partita://<project>` (or `namespace` in `[tool.partita.openlineage]`)
and the job name the asset; the partita run is the parent run (job `run`), which emits its
own START and COMPLETE/FAIL. Each unit's run id is a UUID derived from the partita run id,
asset and partition. Facets: nominal time (a time partition's window), parent run, error
message; on datasets: schema, output statistics (rows, bytes), data-quality assertions (the
checks) and the partition subset. Emitting never fails a run nor slows it: events are
sent in order by a background thread, and the run's end waits at most `FLUSH_SECONDS`
for the ones not sent yet (a transport that fails logs a warning; the client's http
transport retries by its own `retry` settings).

Configured by `[tool.partita.openlineage]` (`transport = { type = "http", url = "..." }`,
`file` or `console`, as the client's config takes them), or, without that table, by the
client's own `OPENLINEAGE_URL` / `OPENLINEAGE_CONFIG` environment variables.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...catalog.records import AttemptStatus, RunStatus
from ...definitions.partitions import TimePartitions
from ...errors import ProjectError
from ...execution.events import RunListener
from ...storage.registry import open_asset_storage
from ..background import BackgroundWorker
from .datasets import (
    assertions,
    dataset_name,
    partition_dimensions,
    published_schema,
    schema_fields,
)
from .settings import OpenLineageSettings

if TYPE_CHECKING:
    from ...catalog.records import MaterializationRecord
    from ...discovery import ProjectConfig
    from ...execution.report import RunReport, UnitResult
    from ...graph.graph import AssetGraph
    from ...planning.plan import Plan, PlannedUnit

log = logging.getLogger("partita")

PARENT_JOB = "run"
FLUSH_SECONDS = 30.0
_ENVIRONMENT = ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG")


def openlineage_listener(
    config: ProjectConfig, graph: AssetGraph, warehouse: Path
) -> OpenLineageListener | None:
    """The listener the project asks for, or None when OpenLineage is not configured."""
    settings = config.openlineage
    if settings is None:
        if not any(os.environ.get(name) for name in _ENVIRONMENT):
            return None
        settings = OpenLineageSettings()
    if settings.disabled:
        return None
    try:
        from openlineage.client import OpenLineageClient
    except ImportError:
        raise ProjectError(
            "OpenLineage is configured but the openlineage-python client is not installed: "
            "pip install 'partita[openlineage]'."
        ) from None
    client_config = None if settings.transport is None else {"transport": dict(settings.transport)}
    namespace = settings.namespace or f"partita://{config.name}"
    return OpenLineageListener(OpenLineageClient(config=client_config), graph, warehouse, namespace)


def unit_run_id(run_id: str, asset: str, partition: str | None) -> str:
    """The OpenLineage run id (a UUID) of one unit of a partita run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"partita:{run_id}:{asset}:{partition or ''}"))


def parent_run_id(run_id: str) -> str:
    """The OpenLineage run id (a UUID) of a partita run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"partita:{run_id}"))


class OpenLineageListener(RunListener):
    """Emits OpenLineage run events for a run and its units (see the module docstring)."""

    def __init__(
        self,
        client: Any,
        graph: AssetGraph,
        warehouse: Path,
        namespace: str,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.client = client
        self.emitter = BackgroundWorker(self._send, "OpenLineage")
        self.flush_seconds = flush_seconds
        self.graph = graph
        self.warehouse = warehouse
        self.namespace = namespace
        self._started: dict[tuple[str, str | None], int | None] = {}
        self._storages: dict[str, Any] = {}

    def run_started(self, run_id: str, plan: Plan) -> None:
        self._emit("START", PARENT_JOB, parent_run_id(run_id), {}, [], [])

    def unit_started(self, run_id: str, unit: PlannedUnit, reason: str) -> None:
        self._started[unit.unit] = unit.index
        facets = self._unit_facets(run_id, unit.asset, unit.index)
        inputs = [self._dataset(d.upstream, None, "input") for d in self._dependencies(unit.asset)]
        output = self._dataset(unit.asset, unit.partition, "output")
        self._emit("START", unit.asset, unit_run_id(run_id, *unit.unit), facets, inputs, [output])

    def unit_finished(
        self, run_id: str, result: UnitResult, record: MaterializationRecord | None
    ) -> None:
        unit = (result.asset, result.partition)
        if unit not in self._started:
            return  # never started (up to date, skipped, locked): nothing to close
        facets = self._unit_facets(run_id, result.asset, self._started.pop(unit))
        if record is None:
            self._emit("ABORT", result.asset, unit_run_id(run_id, *unit), facets, [], [])
            return
        succeeded = record.status == AttemptStatus.MATERIALIZED
        if not succeeded:
            from openlineage.client.generated.error_message_run import ErrorMessageRunFacet

            facets["errorMessage"] = ErrorMessageRunFacet(
                message=record.error or record.status, programmingLanguage="python"
            )
        inputs = self._inputs(record)
        output = self._dataset(result.asset, result.partition, "output", record)
        event = "COMPLETE" if succeeded else "FAIL"
        self._emit(event, result.asset, unit_run_id(run_id, *unit), facets, inputs, [output])

    def run_finished(self, report: RunReport) -> None:
        event = "COMPLETE" if report.status == RunStatus.SUCCEEDED else "FAIL"
        if report.status == RunStatus.INTERRUPTED:
            event = "ABORT"
        self._emit(event, PARENT_JOB, parent_run_id(report.run_id), {}, [], [])
        self._started.clear()
        self.emitter.close(self.flush_seconds)

    # --- building events ---

    def _emit(
        self, state: str, job: str, run_uuid: str, facets: dict, inputs: list, outputs: list
    ) -> None:
        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

        event = RunEvent(
            eventType=RunState[state],
            eventTime=datetime.now(UTC).isoformat(),
            run=Run(runId=run_uuid, facets=facets),
            job=Job(namespace=self.namespace, name=job),
            inputs=inputs,
            outputs=outputs,
        )
        self.emitter.submit(event)

    def _send(self, event: Any) -> None:
        try:
            self.client.emit(event)
        except Exception as error:  # lineage is an observer: a run never fails for it
            log.warning(
                "could not emit the OpenLineage %s event of %s: %s",
                event.eventType.value,
                event.job.name,
                error,
            )

    def _unit_facets(self, run_id: str, asset: str, index: int | None) -> dict[str, Any]:
        from openlineage.client.generated.nominal_time_run import NominalTimeRunFacet
        from openlineage.client.generated.parent_run import Job, ParentRunFacet, Run

        facets: dict[str, Any] = {
            "parent": ParentRunFacet(
                run=Run(runId=parent_run_id(run_id)),
                job=Job(namespace=self.namespace, name=PARENT_JOB),
            )
        }
        partitions = self.graph[asset].partitions
        if index is not None and isinstance(partitions, TimePartitions):
            facets["nominalTime"] = NominalTimeRunFacet(
                nominalStartTime=partitions.partition_start(index).isoformat(),
                nominalEndTime=partitions.partition_end(index).isoformat(),
            )
        return facets

    def _dependencies(self, asset: str) -> list[Any]:
        return list(self.graph.dependencies[asset])

    def _inputs(self, record: MaterializationRecord) -> list[Any]:
        partitions: dict[str, list[str | None]] = {}
        for consumed in record.inputs:
            partitions.setdefault(consumed.asset, []).append(consumed.partition)
        return [
            self._dataset(asset, None, "input", read_partitions=keys)
            for asset, keys in partitions.items()
        ]

    def _dataset(
        self,
        asset: str,
        partition: str | None,
        direction: str,
        record: MaterializationRecord | None = None,
        read_partitions: list[str | None] | None = None,
    ) -> Any:
        from openlineage.client.event_v2 import InputDataset, OutputDataset

        definition = self.graph[asset]
        storage = self._storage(asset)
        namespace, name = dataset_name(definition, storage, self.namespace)
        facets: dict[str, Any] = {}
        dataset_facets: dict[str, Any] = {}
        keys = [partition] if direction == "output" else (read_partitions or [])
        subset = self._subset(definition, [k for k in keys if k is not None], direction)
        if subset is not None:
            facets["subset"] = subset
        if record is not None:
            self._output_facets(record, storage, facets, dataset_facets)
        if direction == "output":
            return OutputDataset(
                namespace=namespace, name=name, facets=dataset_facets, outputFacets=facets
            )
        return InputDataset(
            namespace=namespace, name=name, facets=dataset_facets, inputFacets=facets
        )

    def _output_facets(
        self, record: MaterializationRecord, storage: Any, facets: dict, dataset_facets: dict
    ) -> None:
        from openlineage.client.generated.data_quality_assertions_dataset import (
            Assertion,
            DataQualityAssertionsDatasetFacet,
        )
        from openlineage.client.generated.output_statistics_output_dataset import (
            OutputStatisticsOutputDatasetFacet,
        )
        from openlineage.client.generated.schema_dataset import (
            SchemaDatasetFacet,
            SchemaDatasetFacetFields,
        )

        if record.status == AttemptStatus.MATERIALIZED:
            facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(
                rowCount=record.rows, size=record.bytes
            )
            fields = schema_fields(published_schema(storage, record.asset))
            if fields:
                dataset_facets["schema"] = SchemaDatasetFacet(
                    fields=[SchemaDatasetFacetFields(name=n, type=t) for n, t in fields]
                )
        if record.checks:
            dataset_facets["dataQualityAssertions"] = DataQualityAssertionsDatasetFacet(
                assertions=[Assertion(**a) for a in assertions(record.checks)]
            )

    def _subset(self, definition: Any, keys: list[str], direction: str) -> Any:
        from openlineage.client.generated import base_subset_dataset as subset

        if not keys or definition.partitions is None:
            return None
        condition = subset.PartitionSubsetCondition(
            partitions=[
                subset.Partition(dimensions=partition_dimensions(definition, key), identifier=key)
                for key in keys
            ]
        )
        if direction == "output":
            return subset.OutputSubsetOutputDatasetFacet(outputCondition=condition)
        return subset.InputSubsetInputDatasetFacet(inputCondition=condition)

    def _storage(self, asset: str) -> Any:
        if asset not in self._storages:
            self._storages[asset] = open_asset_storage(self.graph[asset], self.warehouse)
        return self._storages[asset]
