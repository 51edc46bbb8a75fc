"""Dynamic partitions: keys bound from the catalog, stable indices when keys are appended,
and multi-dimensional partitions that follow their keys."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from partita.catalog.records import DynamicKeySet
from partita.definitions.mappings import PerDimension, default_mapping
from partita.definitions.partitions import (
    DailyPartitions,
    DynamicPartitions,
    MultiPartitions,
    StaticPartitions,
)
from partita.definitions.partitions.dynamic import bind_dynamic_keys, check_dynamic_keys
from partita.errors import DefinitionError, PartitionError


def test_keys_indices_and_errors() -> None:
    customers = DynamicPartitions("customers")
    assert customers.count() == 0
    customers.bind(["acme", "globex"], 0)
    assert customers.keys() == ["acme", "globex"]
    assert customers.index("globex") == 1
    with pytest.raises(PartitionError, match="partita partitions add customers initech"):
        customers.index("initech")
    assert customers.describe() == "dynamic 'customers', 2 keys: acme, globex"
    with pytest.raises(DefinitionError, match="name 'a b' is not a plain name"):
        DynamicPartitions("a b")
    with pytest.raises(PartitionError, match="without '\\|'"):
        check_dynamic_keys("customers", ["a|b"])


def test_appending_keys_keeps_the_layout_and_every_index() -> None:
    customers = DynamicPartitions("customers")
    customers.bind(["acme", "globex"], 0)
    layout, before = customers.layout(), customers.keys()
    customers.bind(["acme", "globex", "initech"], 0)
    assert customers.layout() == layout  # a stored state snapshot stays valid
    assert customers.keys(0, 2) == before
    customers.bind(["globex", "initech"], 1)  # a removal renumbers: another layout
    assert customers.layout() != layout


def test_equality_is_by_name_whatever_the_keys() -> None:
    one, other = DynamicPartitions("customers"), DynamicPartitions("customers")
    one.bind(["a"], 0)
    assert one == other and hash(one) == hash(other)
    assert DynamicPartitions("products") != other


def test_bind_loads_each_set_once() -> None:
    products = DynamicPartitions("products")
    multi = MultiPartitions(date=DailyPartitions("2024-01-01"), product=products)
    loads = []

    def load(name: str) -> DynamicKeySet:
        loads.append(name)
        return DynamicKeySet(name, ("p1", "p2"), 3)

    assert bind_dynamic_keys([products, multi, None, DynamicPartitions("products")], load) == [
        "products"
    ]
    assert loads == ["products"]
    assert multi.combinations == 2


def test_multi_partitions_follow_their_dynamic_keys() -> None:
    products = DynamicPartitions("products")
    sales = MultiPartitions(
        date=DailyPartitions("2024-01-01"), region=StaticPartitions(["eu", "us"]), product=products
    )
    now = datetime(2024, 1, 2, tzinfo=UTC)
    assert sales.count(now) == 0
    layout = sales.layout()
    products.bind(["p1"], 0)
    assert sales.keys(0, None, now) == ["2024-01-01|eu|p1", "2024-01-01|us|p1"]
    products.bind(["p1", "p2"], 0)
    assert sales.count(now) == 4
    assert sales.index("2024-01-01|us|p2") == 3
    assert sales.layout() != layout  # indices renumbered: state by index is rebuilt


def test_the_same_dynamic_set_maps_value_to_value() -> None:
    products = DynamicPartitions("products")
    products.bind(["p1", "p2", "p3"], 0)
    days = DailyPartitions("2024-01-01")
    sales = MultiPartitions(date=days, product=products)
    assert isinstance(default_mapping(products, sales), PerDimension)
    by_day = MultiPartitions(date=days, product=products)
    assert default_mapping(days, by_day).validate(days, by_day) is None
    windows = default_mapping(by_day, sales).windows(by_day, np.arange(3), sales, 6)
    assert windows.low.tolist() == [0, 1, 2] and windows.high.tolist() == [1, 2, 3]
