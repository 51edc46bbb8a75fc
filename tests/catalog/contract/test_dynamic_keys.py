"""Contract: keys of dynamic partitions, in an order users control."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from partita.catalog import Catalog
from partita.catalog.records import DynamicKeySet
from partita.errors import CatalogError

from .helpers import attempt


def test_a_set_never_written_has_no_keys(catalog: Catalog) -> None:
    assert catalog.dynamic_keys("customers") == DynamicKeySet("customers", (), 0)


def test_appending_keeps_the_generation_and_skips_known_keys(catalog: Catalog) -> None:
    catalog.add_dynamic_keys("customers", ["acme", "globex"])
    added = catalog.add_dynamic_keys("customers", ["initech", "acme", "initech"])
    assert added == DynamicKeySet("customers", ("acme", "globex", "initech"), 0)
    assert catalog.dynamic_keys("customers") == added
    assert catalog.dynamic_keys("products") == DynamicKeySet("products", (), 0)


def test_placing_keys_before_others_bumps_the_generation(catalog: Catalog) -> None:
    catalog.add_dynamic_keys("customers", ["a", "d"])
    after = catalog.add_dynamic_keys("customers", ["b", "c"], after="a")
    assert (after.keys, after.generation) == (("a", "b", "c", "d"), 1)
    before = catalog.add_dynamic_keys("customers", ["z"], before="a")
    assert (before.keys, before.generation) == (("z", "a", "b", "c", "d"), 2)
    at_end = catalog.add_dynamic_keys("customers", ["e"], after="d")
    assert (at_end.keys, at_end.generation) == (("z", "a", "b", "c", "d", "e"), 2)


def test_placing_next_to_an_unknown_key_fails_and_changes_nothing(catalog: Catalog) -> None:
    catalog.add_dynamic_keys("customers", ["a"])
    with pytest.raises(
        CatalogError, match="after 'nope': it is not a key of the dynamic partitions"
    ):
        catalog.add_dynamic_keys("customers", ["b"], after="nope")
    assert catalog.dynamic_keys("customers").keys == ("a",)


def test_removing_closes_the_gap_and_forgets_units_in_one_go(catalog: Catalog) -> None:
    catalog.add_dynamic_keys("customers", ["a", "b", "c"])
    catalog.record(attempt(asset="orders", partition="b"))
    catalog.record(attempt(asset="orders", partition="c", minute=1))
    removed = catalog.remove_dynamic_keys("customers", ["b", "unknown"], forget=[("orders", "b")])
    assert removed == DynamicKeySet("customers", ("a", "c"), 1)
    assert set(catalog.states("orders")) == {"c"}
    assert [record.partition for record in catalog.history("orders")] == ["c"]
    unchanged = catalog.remove_dynamic_keys("customers", ["unknown"])
    assert unchanged.generation == 1
    assert catalog.add_dynamic_keys("customers", ["b"]).keys == ("a", "c", "b")


def test_removing_keys_drops_the_leases_of_their_units(catalog: Catalog) -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    catalog.add_dynamic_keys("customers", ["a", "b"])
    for asset, partition in [
        ("orders", "b"),
        ("orders", "a"),
        ("daily", "2024-01-01|b"),
        ("daily", "2024-01-01|a"),
        ("other", "b"),  # not partitioned by the set: its lease stays
    ]:
        assert catalog.acquire_lease(asset, partition, "run-1", now, 30.0) is None
    catalog.remove_dynamic_keys("customers", ["b"], key_positions={"orders": [0], "daily": [1]})
    assert catalog.lease_holder("orders", "b") is None
    assert catalog.lease_holder("daily", "2024-01-01|b") is None
    for asset, partition in [("orders", "a"), ("daily", "2024-01-01|a"), ("other", "b")]:
        holder = catalog.lease_holder(asset, partition)
        assert holder is not None and holder.run_id == "run-1"
    assert sorted(catalog.run_leases("run-1")) == [
        ("daily", "2024-01-01|a"),
        ("orders", "a"),
        ("other", "b"),
    ]
