"""Which kept versions pruning removes, as a table of histories and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from partita.catalog.records import MaterializationRecord
from partita.definitions.retention import Retention
from partita.planning.retention import describe_kept, replacement_times, versions_to_prune
from partita.storage.base import RetainedVersion

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def success(version: str, day: int, partition: str = "p") -> MaterializationRecord:
    moment = T0 + timedelta(days=day)
    return MaterializationRecord(
        "a", partition, f"run-{day}", "materialized", moment, moment, 1, data_version=version
    )


HISTORY = [success("v1", 0), success("v2", 1), success("v3", 2), success("v4", 3)]
KEPT = [RetainedVersion("p", v, 10) for v in ("v1", "v2", "v3")]


def pruned(retention: Retention, now: datetime, current: str = "v4", kept=KEPT) -> list[str]:
    described = describe_kept(kept, HISTORY)
    return sorted(
        v.data_version for v in versions_to_prune(described, {"p": current}, retention, now)
    )


def test_replacement_times() -> None:
    times = replacement_times(reversed(HISTORY))
    assert {key: when for key, (when, _) in times.items()} == {
        ("p", "v1"): T0 + timedelta(days=1),
        ("p", "v2"): T0 + timedelta(days=2),
        ("p", "v3"): T0 + timedelta(days=3),
    }


def test_the_count_keeps_the_most_recently_replaced() -> None:
    assert pruned(Retention(None, 2), T0) == ["v1"]
    assert pruned(Retention(None, 0), T0) == ["v1", "v2", "v3"]
    assert pruned(Retention(None, None), T0 + timedelta(days=999)) == []


def test_the_age_counts_from_the_replacement() -> None:
    now = T0 + timedelta(days=4)
    assert pruned(Retention(timedelta(days=2), None), now) == ["v1"]
    assert pruned(Retention(timedelta(days=2), 1), now) == ["v1", "v2"]
    assert pruned(Retention(timedelta(0), None), now) == ["v1", "v2", "v3"]


def test_the_current_version_is_never_pruned() -> None:
    # After a rollback to v2 the catalog names v2; a kept copy of it stays.
    assert pruned(Retention(None, 0), T0, current="v2") == ["v1", "v3"]


def test_a_version_the_catalog_does_not_know_counts_as_replaced_long_ago() -> None:
    kept = [*KEPT, RetainedVersion("p", "orphan", 5)]
    assert pruned(Retention(timedelta(days=30), 3), T0 + timedelta(days=4), kept=kept) == ["orphan"]
