"""Write-audit-publish: the checks and the schema test that new data passes before any of
it is published."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from ..catalog.records import CheckResult
from ..checks import Check, Quarantine
from ..errors import PermanentError
from .schema import schema_drift


class ChecksFailed(PermanentError):
    """A blocking check failed: the unit fails and nothing is published."""

    def __init__(self, message: str, results: tuple[CheckResult, ...]) -> None:
        super().__init__(message)
        self.results = results


class SchemaDriftError(PermanentError):
    """The new data's columns or types differ from the asset's published partitions."""


def run_checks(
    where: str,
    checks: Sequence[Check | Quarantine],
    table: pa.Table,
    earlier: tuple[CheckResult, ...] = (),
) -> tuple[CheckResult, ...]:
    """Evaluate every check (quarantines were applied before: their results are
    `earlier`); raise `ChecksFailed` (with all results) if a blocking one fails."""
    results = list(earlier)
    for check in checks:
        if isinstance(check, Quarantine):
            continue
        try:
            problem = check.evaluate(table)
        except Exception as error:  # a broken check fails like a failing one
            problem = f"the check raised {type(error).__name__}: {error}"
        results.append(CheckResult(check.name, check.severity, problem is None, problem))
    blocking = [r for r in results if not r.passed and r.severity == "error"]
    if blocking:
        details = "; ".join(f"{r.name}: {(r.message or '').rstrip('.')}" for r in blocking)
        raise ChecksFailed(
            f"{where} failed its checks, so nothing was published (the previous data stays): "
            f"{details}. Fix the data or the asset, or give the check severity='warn'.",
            tuple(results),
        )
    return tuple(results)


def check_schema(
    where: str, location: str, published: pa.Schema | None, incoming: pa.Schema, evolve: bool
) -> None:
    """Raise `SchemaDriftError` when `incoming` does not fit the published schema; with
    `evolve`, new columns are allowed (they are nullable in the older partitions)."""
    if published is None:
        return
    drift = schema_drift(published, incoming)
    if drift is None or (evolve and drift.only_additions):
        return
    advice = (
        "Only new columns can be added; to change or drop columns, delete the asset's data "
        f"in {location} and materialize it again."
        if evolve
        else "Return the published columns and types, set @asset(schema='evolve') to add "
        f"new columns, or delete the asset's data in {location} and materialize it again."
    )
    raise SchemaDriftError(
        f"{where} has a schema that differs from its published partitions: "
        f"{drift.describe()}. {advice}"
    )
