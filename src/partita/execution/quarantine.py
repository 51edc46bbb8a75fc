"""Quarantined rows (`checks.quarantine`): rows a predicate rejects are removed from the
data before it is checked and published, and written to the asset's quarantine dataset,
`warehouse/_quarantine/<asset>/<hive key>=<partition>/part-0.parquet` (replaced
atomically, like a Parquet partition), with the check's name and reason in two columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..catalog.records import CheckResult, QuarantineRecord
from ..checks import Check, Quarantine
from ..definitions.asset import QUARANTINE_FOLDER, AssetDefinition
from ..definitions.storage import Parquet
from ..errors import StorageError
from ..storage.base import Storage
from ..storage.registry import open_storage
from .quality import ChecksFailed

CHECK_COLUMN = "_quarantine_check"
REASON_COLUMN = "_quarantine_reason"


@dataclass(frozen=True)
class Quarantined:
    """The rows kept (to publish) and the rows set aside, with a result per quarantine."""

    kept: pa.Table
    rows: pa.Table | None  # None when the asset has no quarantine
    results: tuple[CheckResult, ...]

    @property
    def count(self) -> int:
        return 0 if self.rows is None else self.rows.num_rows


def quarantines_of(checks: Sequence[Check | Quarantine]) -> list[Quarantine]:
    return [check for check in checks if isinstance(check, Quarantine)]


def apply_quarantines(where: str, checks: Sequence[Check | Quarantine], table: pa.Table):
    """Split `table` by the asset's quarantines (a row rejected by several is set aside by
    the first); raise `ChecksFailed` when one rejects more than its `max_fraction`."""
    quarantines = quarantines_of(checks)
    if not quarantines:
        return Quarantined(table, None, ())
    total = table.num_rows
    kept, aside, results = table, [], []
    for check in quarantines:
        try:
            mask = check.keep(kept)
        except Exception as error:  # a broken predicate fails like a failing check
            problem = f"the predicate raised {type(error).__name__}: {error}"
            results.append(CheckResult(check.name, check.severity, False, problem))
            continue
        rejected = kept.filter(pc.invert(mask))
        kept = kept.filter(mask)
        results.append(_result(check, rejected.num_rows, total))
        if rejected.num_rows:
            aside.append(_labelled(rejected, check))
    failed = [r for r in results if not r.passed]
    if failed:
        details = "; ".join(f"{r.name}: {r.message}" for r in failed)
        raise ChecksFailed(
            f"{where} failed its quarantine checks, so nothing was published (the previous "
            f"data stays): {details}. Fix the data or the predicate, or raise max_fraction.",
            tuple(results),
        )
    rows = pa.concat_tables(aside, promote_options="default") if aside else None
    if rows is None:
        rows = _labelled(table.schema.empty_table(), quarantines[0])
    return Quarantined(kept, rows, tuple(results))


def _result(check: Quarantine, rejected: int, total: int) -> CheckResult:
    fraction = rejected / total if total else 0.0
    message = f"{rejected} of {total} rows quarantined ({check.reason})"
    too_many = check.max_fraction is not None and fraction > check.max_fraction
    if too_many:
        message += f", more than max_fraction={check.max_fraction}"
    return CheckResult(check.name, check.severity, not too_many, message if rejected else None)


def _labelled(rows: pa.Table, check: Quarantine) -> pa.Table:
    count = rows.num_rows
    rows = rows.append_column(CHECK_COLUMN, pa.array([check.name] * count, pa.string()))
    return rows.append_column(REASON_COLUMN, pa.array([check.reason] * count, pa.string()))


def quarantine_storage(definition: AssetDefinition, warehouse: Path) -> Storage:
    """Where the asset's quarantined rows go: Parquet under `warehouse/_quarantine`."""
    declaration = definition.storage if isinstance(definition.storage, Parquet) else Parquet()
    hive_key = definition.partitions.hive_key if definition.partitions else None
    folder = warehouse / QUARANTINE_FOLDER
    return open_storage(declaration, folder, definition.name, hive_key)


def write_quarantine(
    definition: AssetDefinition, warehouse: Path, partition: str | None, rows: pa.Table
) -> str:
    """Replace the unit's quarantined rows (an empty set too, when earlier rows exist);
    return the folder, relative to the warehouse."""
    storage = quarantine_storage(definition, warehouse)
    if rows.num_rows or storage.exists(partition):
        storage.write(partition, rows)
    location = Path(storage.location(partition))
    folder = location if partition is None else location.parent
    return folder.relative_to(warehouse).as_posix()


def read_quarantine(
    definition: AssetDefinition,
    warehouse: Path,
    records: Sequence[QuarantineRecord],
    partition: str | None = None,
) -> pa.Table:
    """The quarantined rows the catalog records for the asset (of one partition, or of
    all), with the check and reason columns."""
    keys = [
        r.partition
        for r in records
        if r.asset == definition.name and r.rows and (partition is None or r.partition == partition)
    ]
    if not keys:
        where = f"asset '{definition.name}'" + (f" partition {partition}" if partition else "")
        raise StorageError(
            f"{where} has no quarantined rows: its latest materializations set none aside "
            "(or it has no checks.quarantine). See partita status for the quarantined counts."
        )
    storage = quarantine_storage(definition, warehouse)
    return storage.read(None if keys == [None] else keys)
