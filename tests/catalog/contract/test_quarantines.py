"""Contract: quarantine records, one per unit, replaced by the latest attempt."""

from __future__ import annotations

import pytest

from partita.catalog import Catalog
from partita.catalog.records import QuarantineRecord
from partita.errors import CatalogError

from .helpers import at


def quarantine(asset="flights", partition="2013-01-01", rows=3, minute=0, run_id="run-1"):
    return QuarantineRecord(
        asset=asset,
        partition=partition,
        run_id=run_id,
        rows=rows,
        total_rows=100,
        checks=("positive_distance", "known_carrier"),
        location=f"_quarantine/{asset}/date={partition}",
        recorded_at=at(minute),
    )


def test_quarantines_are_listed_by_asset_and_partition_and_replaced(catalog: Catalog) -> None:
    catalog.record_quarantine(quarantine(partition="2013-01-02"))
    catalog.record_quarantine(quarantine(partition="2013-01-01"))
    catalog.record_quarantine(quarantine(asset="airports", partition=None, rows=1))
    assert catalog.quarantines() == [
        quarantine(asset="airports", partition=None, rows=1),
        quarantine(partition="2013-01-01"),
        quarantine(partition="2013-01-02"),
    ]
    catalog.record_quarantine(quarantine(partition="2013-01-01", rows=0, minute=5, run_id="r2"))
    assert catalog.quarantines("flights") == [
        quarantine(partition="2013-01-01", rows=0, minute=5, run_id="r2"),
        quarantine(partition="2013-01-02"),
    ]
    assert catalog.quarantines("nothing") == []


def test_a_quarantine_needs_an_aware_time(catalog: Catalog) -> None:
    naive = quarantine()
    object.__setattr__(naive, "recorded_at", at(0).replace(tzinfo=None))
    with pytest.raises(CatalogError, match="no time zone"):
        catalog.record_quarantine(naive)
