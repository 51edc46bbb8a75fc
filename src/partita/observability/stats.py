"""Run statistics from the catalog's history: per asset, units run, success rate, retries,
duration and rows percentiles with their trend over the last runs; per run, its duration
and units. Pure functions over records; rendered as JSON or Prometheus text.

Percentiles interpolate linearly between the closest ranks (numpy's default method).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..catalog.records import AttemptStatus, MaterializationRecord, RunRecord

TREND_RUNS = 10  # how many of an asset's latest runs its trend shows
QUANTILES = (0.5, 0.95, 0.99)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` quantile of `values` (linear interpolation); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _seconds(record: MaterializationRecord) -> float:
    return max(0.0, (record.finished - record.started).total_seconds())


@dataclass(frozen=True)
class TrendPoint:
    """One run of an asset: its units' median duration and rows."""

    run_id: str
    units: int
    duration_s_p50: float | None
    rows_p50: float | None


@dataclass(frozen=True)
class AssetStatistics:
    """What the recorded attempts of one asset say about it."""

    asset: str
    units: int  # recorded attempts (one per unit and run, after its retries)
    succeeded: int
    retries: int  # extra attempts beyond the first, summed
    duration_s: dict[str, float | None]  # p50, p95, p99 of units' durations
    duration_sum_s: float
    rows_p50: float | None
    trend: tuple[TrendPoint, ...]  # oldest first

    @property
    def success_rate(self) -> float | None:
        return None if not self.units else self.succeeded / self.units

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "units": self.units,
            "success_rate": _round(self.success_rate),
            "retries": self.retries,
            "duration_s": {key: _round(value) for key, value in self.duration_s.items()},
            "rows": {"p50": _round(self.rows_p50)},
            "trend": [
                {
                    "run_id": point.run_id,
                    "units": point.units,
                    "duration_s_p50": _round(point.duration_s_p50),
                    "rows_p50": _round(point.rows_p50),
                }
                for point in self.trend
            ],
        }


@dataclass(frozen=True)
class RunStatistics:
    """One run: how long it took and how many units it attempted, by outcome."""

    run: RunRecord
    units: int
    failed: int

    @property
    def duration_s(self) -> float | None:
        if self.run.finished is None:
            return None
        return max(0.0, (self.run.finished - self.run.started).total_seconds())

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run.run_id,
            "command": self.run.command,
            "status": self.run.status,
            "started": self.run.started.isoformat(),
            "duration_s": _round(self.duration_s),
            "units": self.units,
            "failed": self.failed,
            "counts": self.run.counts,
        }


@dataclass(frozen=True)
class Statistics:
    assets: tuple[AssetStatistics, ...]
    runs: tuple[RunStatistics, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "assets": [a.to_json() for a in self.assets],
            "runs": [r.to_json() for r in self.runs],
        }


def build_statistics(
    history: Iterable[MaterializationRecord],
    runs: Iterable[RunRecord],
    assets: Collection[str],
    since: datetime | None = None,
    trend_runs: int = TREND_RUNS,
) -> Statistics:
    """Statistics of `assets` (in that order) and of the runs, from attempts and runs that
    started at or after `since`. Interrupted attempts count as units that did not succeed."""
    records = [r for r in history if since is None or r.started >= since]
    by_asset: dict[str, list[MaterializationRecord]] = {asset: [] for asset in assets}
    by_run: dict[str, list[MaterializationRecord]] = {}
    for record in records:
        if record.asset in by_asset:
            by_asset[record.asset].append(record)
        by_run.setdefault(record.run_id, []).append(record)
    asset_stats = tuple(_asset(asset, by_asset[asset], trend_runs) for asset in assets)
    run_stats = tuple(
        RunStatistics(
            run,
            len(by_run.get(run.run_id, ())),
            sum(r.status != AttemptStatus.MATERIALIZED for r in by_run.get(run.run_id, ())),
        )
        for run in runs
        if since is None or run.started >= since
    )
    return Statistics(asset_stats, run_stats)


def _asset(asset: str, records: list[MaterializationRecord], trend_runs: int) -> AssetStatistics:
    durations = [_seconds(r) for r in records]
    rows = [float(r.rows) for r in records if r.rows is not None]
    runs: dict[str, list[MaterializationRecord]] = {}
    for record in sorted(records, key=lambda r: (r.started, r.run_id)):
        runs.setdefault(record.run_id, []).append(record)
    trend = tuple(
        TrendPoint(
            run_id,
            len(units),
            percentile([_seconds(r) for r in units], 0.5),
            percentile([float(r.rows) for r in units if r.rows is not None], 0.5),
        )
        for run_id, units in list(runs.items())[-trend_runs:]
    )
    return AssetStatistics(
        asset=asset,
        units=len(records),
        succeeded=sum(r.status == AttemptStatus.MATERIALIZED for r in records),
        retries=sum(max(0, r.attempts - 1) for r in records),
        duration_s={f"p{round(q * 100)}": percentile(durations, q) for q in QUANTILES},
        duration_sum_s=sum(durations),
        rows_p50=percentile(rows, 0.5),
        trend=trend,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


_Sample = tuple[str, dict[str, str], Any]  # (name suffix, labels, value)


def to_prometheus(statistics: Statistics) -> str:
    """The statistics in the Prometheus text exposition format (version 0.0.4)."""
    lines: list[str] = []
    for name, kind, help_text, samples in _metrics(statistics):
        kept = [sample for sample in samples if sample[2] is not None]
        if kept:
            lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"])
            lines.extend(
                f"{name}{suffix}{_labels(labels)} {_number(value)}"
                for suffix, labels, value in kept
            )
    return "\n".join(lines) + "\n"


_Metric = tuple[str, str, str, list[_Sample]]


def _metrics(statistics: Statistics) -> list[_Metric]:
    """(name, type, help, samples) of each metric."""
    return _asset_metrics(statistics.assets) + _run_metrics(statistics)


def _asset_metrics(assets: tuple[AssetStatistics, ...]) -> list[_Metric]:
    def per_asset(value: Callable[[AssetStatistics], Any]) -> list[_Sample]:
        return [("", {"asset": a.asset}, value(a)) for a in assets]

    return [
        (
            "partita_asset_units_total",
            "counter",
            "Units of the asset attempted (after retries).",
            per_asset(lambda a: a.units),
        ),
        (
            "partita_asset_success_ratio",
            "gauge",
            "Share of the asset's units that succeeded.",
            per_asset(lambda a: a.success_rate),
        ),
        (
            "partita_asset_retries_total",
            "counter",
            "Retries of the asset's units.",
            per_asset(lambda a: a.retries),
        ),
        (
            "partita_asset_duration_seconds",
            "summary",
            "Duration of the asset's units.",
            [sample for a in assets if a.units for sample in _duration_samples(a)],
        ),
        (
            "partita_asset_rows_p50",
            "gauge",
            "Median rows of the asset's units.",
            per_asset(lambda a: a.rows_p50),
        ),
    ]


def _run_metrics(statistics: Statistics) -> list[_Metric]:
    by_status: dict[str, int] = {}
    for run in statistics.runs:
        by_status[run.run.status] = by_status.get(run.run.status, 0) + 1
    finished = [r for r in statistics.runs if r.duration_s is not None]
    last = max(finished, key=lambda r: r.run.started) if finished else None
    return [
        (
            "partita_runs_total",
            "counter",
            "Runs by status.",
            [("", {"status": status}, count) for status, count in sorted(by_status.items())],
        ),
        (
            "partita_last_run_duration_seconds",
            "gauge",
            "Duration of the latest finished run.",
            [("", {}, last.duration_s if last else None)],
        ),
        (
            "partita_last_run_start_timestamp_seconds",
            "gauge",
            "When the latest finished run started (Unix time).",
            [("", {}, last.run.started.timestamp() if last else None)],
        ),
    ]


def _duration_samples(asset: AssetStatistics) -> list[_Sample]:
    samples: list[_Sample] = [
        ("", {"asset": asset.asset, "quantile": f"{q:g}"}, asset.duration_s[f"p{round(q * 100)}"])
        for q in QUANTILES
    ]
    samples.append(("_sum", {"asset": asset.asset}, asset.duration_sum_s))
    samples.append(("_count", {"asset": asset.asset}, asset.units))
    return samples


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: Any) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)
