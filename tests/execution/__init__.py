"""Shared for the execution tests: a fixed `now` and result helpers."""

from __future__ import annotations

from datetime import UTC, datetime

# Daily partitions from 2024-01-01: at NOW, 2024-01-01 .. 2024-01-03 are complete.
NOW = datetime(2024, 1, 4, tzinfo=UTC)
DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]


def statuses(report) -> dict[tuple[str, str | None], str]:
    """(asset, partition) -> status of every unit of a run report."""
    return {(r.asset, r.partition): r.status for r in report.results}


def by_unit(report) -> dict[tuple[str, str | None], object]:
    return {(r.asset, r.partition): r for r in report.results}
