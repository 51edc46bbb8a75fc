"""Which kept versions pruning removes: pure, from the history and a retention, at `now`.

A kept version of a partition was replaced at the end of the first successful attempt
that published another version after it was last current. Pruning keeps the `versions`
most recently replaced ones that were replaced no longer than `max_age` before `now`, and
never touches the version the catalog names as current. A kept version the catalog has no
record of (written before its record, by a run that then died) counts as replaced long ago.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ..catalog.records import AttemptStatus, MaterializationRecord
from ..definitions.retention import Retention
from ..storage.base import RetainedVersion

_LONG_AGO = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class KeptVersion:
    """A kept version with what the catalog knows of it: when it was replaced, the
    attempt that first published it (None when unknown)."""

    retained: RetainedVersion
    replaced_at: datetime | None
    source: MaterializationRecord | None


def replacement_times(
    history: Iterable[MaterializationRecord],
) -> dict[tuple[str | None, str], tuple[datetime, MaterializationRecord]]:
    """For each (partition, data version) no longer current, when it was last replaced,
    and the latest successful attempt that published it; from a history in any order."""
    successes = sorted(
        (r for r in history if r.status == AttemptStatus.MATERIALIZED and r.data_version),
        key=lambda r: r.finished,
    )
    current: dict[str | None, MaterializationRecord] = {}
    replaced: dict[tuple[str | None, str], tuple[datetime, MaterializationRecord]] = {}
    for record in successes:
        before = current.get(record.partition)
        if before is not None and before.data_version != record.data_version:
            assert before.data_version is not None
            replaced[(record.partition, before.data_version)] = (record.finished, before)
        if before is None or before.data_version != record.data_version:
            current[record.partition] = record
    return replaced


def describe_kept(
    retained: Sequence[RetainedVersion], history: Iterable[MaterializationRecord]
) -> list[KeptVersion]:
    """The kept versions with their replacement time and source attempt."""
    times = replacement_times(history)
    kept = []
    for version in retained:
        found = times.get((version.partition, version.data_version))
        kept.append(KeptVersion(version, found[0] if found else None, found[1] if found else None))
    return kept


def versions_to_prune(
    kept: Sequence[KeptVersion],
    current: Mapping[str | None, str | None],
    retention: Retention,
    now: datetime,
) -> list[RetainedVersion]:
    """The kept versions the retention no longer keeps at `now`; never a current one."""
    by_partition: dict[str | None, list[KeptVersion]] = {}
    for version in kept:
        by_partition.setdefault(version.retained.partition, []).append(version)
    pruned = []
    for partition, versions in by_partition.items():
        newest_first = sorted(versions, key=lambda v: v.replaced_at or _LONG_AGO, reverse=True)
        kept_count = 0
        for version in newest_first:
            if version.retained.data_version == current.get(partition):
                continue
            replaced_at = version.replaced_at or _LONG_AGO
            young = retention.max_age is None or now - replaced_at <= retention.max_age
            room = retention.versions is None or kept_count < retention.versions
            if young and room:
                kept_count += 1
            else:
                pruned.append(version.retained)
    return pruned
