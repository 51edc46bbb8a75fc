"""The JSON shapes of the API: records of the session and the catalog as plain values.

Only plain values leave here; the page inserts them as text (never as HTML), so a name,
key, reason or error holding markup shows as that markup.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..catalog.records import FailedCheck, MaterializationRecord, RunRecord
    from ..definitions.asset import AssetDefinition
    from ..graph.graph import AssetGraph
    from ..planning.freshness import FreshnessResult
    from ..planning.plan import Plan
    from ..planning.status import AssetStatus

# The health bar draws at most this many ranges; more are merged into coarser ones.
MAX_RANGES = 4000
PLAN_ROWS_LIMIT = 1000
# A cell of a data preview longer than this is cut, so a page stays small.
PREVIEW_CELL_CHARS = 200


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def run_json(run: RunRecord, now: datetime) -> dict[str, Any]:
    """One run of the history: status, start, duration (so far, while running), counts."""
    end = run.finished or now
    return {
        "run_id": run.run_id,
        "status": run.status,
        "started": _iso(run.started),
        "finished": _iso(run.finished),
        "duration_s": round(max((end - run.started).total_seconds(), 0.0), 3),
        "counts": dict(run.counts),
        "command": run.command,
        "pid": run.pid,
    }


def attempt_json(record: MaterializationRecord) -> dict[str, Any]:
    """One attempt, as the partition page and the run page show it."""
    return {
        "asset": record.asset,
        "partition": record.partition,
        "run_id": record.run_id,
        "status": record.status,
        "started": _iso(record.started),
        "finished": _iso(record.finished),
        "duration_s": round((record.finished - record.started).total_seconds(), 3),
        "attempts": record.attempts,
        "rows": record.rows,
        "bytes": record.bytes,
        "data_version": record.data_version,
        "code_version": record.code_version,
        "watermark": record.watermark,
        "inputs": [
            {"asset": i.asset, "partition": i.partition, "data_version": i.data_version}
            for i in record.inputs
        ],
        "error": record.error,
        "traceback": record.traceback,
        "worker": record.worker,
        "checks": [
            {"check": c.name, "severity": c.severity, "passed": c.passed, "message": c.message}
            for c in record.checks
        ],
    }


def run_unit_json(record: MaterializationRecord) -> dict[str, Any]:
    """One unit of a run page."""
    return {
        "asset": record.asset,
        "partition": record.partition,
        "status": record.status,
        "attempts": record.attempts,
        "started": _iso(record.started),
        "finished": _iso(record.finished),
        "duration_s": round((record.finished - record.started).total_seconds(), 3),
        "error": record.error,
        "worker": record.worker,
    }


def check_json(failed: FailedCheck) -> dict[str, Any]:
    check = failed.check
    return {
        "partition": failed.partition,
        "check": check.name,
        "severity": check.severity,
        "passed": check.passed,
        "message": check.message,
    }


def definition_json(
    graph: AssetGraph, definition: AssetDefinition, now: datetime, root: Path
) -> dict[str, Any]:
    """Everything the asset page shows of a definition."""
    from ..graph.graph import relative_location
    from ..graph.lineage import partitions_summary

    policy = definition.freshness
    return {
        "name": definition.name,
        "description": definition.description,
        "group": definition.group,
        "tags": dict(definition.tags),
        "partitions": partitions_summary(definition.partitions, now),
        "partitions_description": (
            definition.partitions.describe() if definition.partitions else None
        ),
        "storage": definition.storage.describe(),
        "location": relative_location(definition, str(root)),
        "deps": [
            {"asset": dep.upstream, "mapping": repr(dep.mapping), "offset": dep.offset}
            for dep in graph.dependencies[definition.name]
        ],
        "downstream": list(graph.downstream[definition.name]),
        "code_version": definition.code_version,
        "checks": [_check_name(check) for check in definition.checks],
        "freshness_policy": None if policy is None else f"max_lag {policy.max_lag}",
        "watermark_column": definition.watermark,
        "retry": None if definition.retry is None else repr(definition.retry),
        "schema": definition.schema,
    }


def _check_name(check: Any) -> str:
    return str(getattr(check, "name", None) or getattr(check, "__name__", None) or repr(check))


def partitions_json(status: AssetStatus) -> dict[str, Any]:
    """An asset's partitions over a range: state ranges (merged past MAX_RANGES) and the
    first partitions that need work, with reasons."""
    ranges = [
        {"first": r.first, "last": r.last, "count": r.count, "state": r.state}
        for r in status.ranges
    ]
    coarse = len(ranges) > MAX_RANGES
    return {
        "asset": status.asset,
        "counts": dict(status.counts),
        "ranges": coarsen(ranges, MAX_RANGES) if coarse else ranges,
        "ranges_merged": coarse,
        "needs_work": [
            {"partition": p.partition, "state": p.state, "reason": p.reason}
            for p in status.partitions
        ],
        "needs_work_total": sum(v for k, v in status.counts.items() if k != "fresh"),
        "failed_checks": [
            {"partition": partition, "check": c.name, "severity": c.severity, "message": c.message}
            for partition, c in status.failed_checks
        ],
    }


# The worse state wins when ranges are merged for the bar.
_SEVERITY = {"fresh": 0, "stale": 1, "missing": 2, "failed": 3}


def coarsen(ranges: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """At most about `limit` ranges covering the same partitions in order, each merged
    range taking the worst state among those it covers (a bar pixel cannot show more)."""
    total = sum(r["count"] for r in ranges)
    step = max(1, -(-total // limit))
    merged: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for r in ranges:
        if current is None:
            current = dict(r)
        else:
            current["last"] = r["last"]
            current["count"] += r["count"]
            if _SEVERITY[r["state"]] > _SEVERITY[current["state"]]:
                current["state"] = r["state"]
        if current["count"] >= step:
            merged.append(current)
            current = None
    if current is not None:
        merged.append(current)
    return merged


def plan_json(plan: Plan) -> dict[str, Any]:
    """A plan as `--plan` groups it: consecutive partitions of an asset with one reason
    share a row."""
    rows = []
    for asset_plan in plan.assets:
        for first, last, count in asset_plan.runs_to_run():
            rows.append(
                {
                    "asset": asset_plan.asset,
                    "first": asset_plan.key(first),
                    "last": asset_plan.key(last),
                    "count": count,
                    "reason": str(asset_plan.reason(first)),
                }
            )
    return {
        "now": plan.now.isoformat(),
        "to_run": plan.to_run_count,
        "units": plan.unit_count,
        "rows": rows[:PLAN_ROWS_LIMIT],
        "rows_total": len(rows),
    }


def freshness_json(result: FreshnessResult) -> dict[str, Any]:
    return {**result.to_json(), "verdict": str(result.verdict)}


def preview_json(table: Any, limit: int) -> dict[str, Any]:
    """The first `limit` rows of a pyarrow table, each value as text."""
    head = table.slice(0, limit)
    columns = list(head.column_names)
    rows = [[_cell(value) for value in row.values()] for row in head.to_pylist()]
    return {"columns": columns, "rows": rows, "total_rows": table.num_rows}


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return text[:PREVIEW_CELL_CHARS]
