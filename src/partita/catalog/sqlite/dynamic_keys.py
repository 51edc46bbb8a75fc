"""The dynamic-partition role of the SQLite catalog: keys by set, in position order.

Positions are dense (0, 1, ...) and are the partition indices. Appending takes the next
position; placing a key before others shifts theirs and removing one closes the gap, and
both bump the set's generation, which the partitions' layout carries (state kept by index
is rebuilt once then).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from partita.catalog.records import DynamicKeySet
from partita.catalog.sqlite.connection import SQLiteConnection
from partita.catalog.sqlite.rows import partition_to_text
from partita.errors import CatalogError


class SQLiteDynamicKeys(SQLiteConnection):
    """Keys of dynamic partitions (`partita.catalog.base.DynamicKeys`)."""

    def dynamic_keys(self, name: str) -> DynamicKeySet:
        with self._read_transaction(f"read the dynamic partitions {name!r}") as connection:
            return _read(connection, name)

    def add_dynamic_keys(
        self,
        name: str,
        keys: Sequence[str],
        *,
        after: str | None = None,
        before: str | None = None,
    ) -> DynamicKeySet:
        with self._transaction(f"add keys to the dynamic partitions {name!r}") as connection:
            connection.execute(
                "INSERT INTO dynamic_partition_sets (name) VALUES (?) ON CONFLICT DO NOTHING",
                (name,),
            )
            current = _read(connection, name)
            new = [key for key in dict.fromkeys(keys) if key not in set(current.keys)]
            position = len(current.keys)
            if after is not None or before is not None:
                position = _anchor(current, after, before)
            if new and position < len(current.keys):
                connection.execute(
                    "UPDATE dynamic_partitions SET position = position + ?"
                    " WHERE name = ? AND position >= ?",
                    (len(new), name, position),
                )
                _bump(connection, name)
            connection.executemany(
                "INSERT INTO dynamic_partitions (name, partition_key, position) VALUES (?, ?, ?)",
                [(name, key, position + offset) for offset, key in enumerate(new)],
            )
            return _read(connection, name)

    def remove_dynamic_keys(
        self,
        name: str,
        keys: Sequence[str],
        *,
        forget: Sequence[tuple[str, str]] = (),
        key_positions: Mapping[str, Sequence[int]] | None = None,
    ) -> DynamicKeySet:
        with self._transaction(f"remove keys of the dynamic partitions {name!r}") as connection:
            current = _read(connection, name)
            removed = set(keys) & set(current.keys)
            if removed:
                kept = [key for key in current.keys if key not in removed]
                connection.executemany(
                    "DELETE FROM dynamic_partitions WHERE name = ? AND partition_key = ?",
                    [(name, key) for key in removed],
                )
                connection.executemany(
                    "UPDATE dynamic_partitions SET position = ?"
                    " WHERE name = ? AND partition_key = ?",
                    [(position, name, key) for position, key in enumerate(kept)],
                )
                _bump(connection, name)
                _drop_leases(connection, removed, key_positions or {})
            _forget(connection, forget)
            return _read(connection, name)


def _read(connection: sqlite3.Connection, name: str) -> DynamicKeySet:
    found = connection.execute(
        "SELECT generation FROM dynamic_partition_sets WHERE name = ?", (name,)
    ).fetchone()
    rows = connection.execute(
        "SELECT partition_key FROM dynamic_partitions WHERE name = ? ORDER BY position",
        (name,),
    ).fetchall()
    return DynamicKeySet(name, tuple(row[0] for row in rows), 0 if found is None else found[0])


def _anchor(current: DynamicKeySet, after: str | None, before: str | None) -> int:
    anchor = after if after is not None else before
    if after is not None and before is not None:
        raise CatalogError("give either after or before to place dynamic partition keys")
    if anchor not in current.keys:
        raise CatalogError(
            f"cannot place keys {'after' if after is not None else 'before'} {anchor!r}: it "
            f"is not a key of the dynamic partitions {current.name!r}"
        )
    position = current.keys.index(anchor)
    return position + 1 if after is not None else position


def _bump(connection: sqlite3.Connection, name: str) -> None:
    connection.execute(
        "UPDATE dynamic_partition_sets SET generation = generation + 1 WHERE name = ?", (name,)
    )


def _drop_leases(
    connection: sqlite3.Connection, removed: set[str], positions: Mapping[str, Sequence[int]]
) -> None:
    """Drop the leases of the units whose key holds a removed key at one of its asset's
    `positions` (a run holding one no longer publishes it)."""
    for asset, places in positions.items():
        leased = connection.execute(
            "SELECT partition FROM leases WHERE asset = ?", (asset,)
        ).fetchall()
        doomed = []
        for (partition,) in leased:
            values = partition.split("|")
            if any(place < len(values) and values[place] in removed for place in places):
                doomed.append((asset, partition))
        connection.executemany("DELETE FROM leases WHERE asset = ? AND partition = ?", doomed)


def _forget(connection: sqlite3.Connection, units: Sequence[tuple[str, str]]) -> None:
    """Delete the states, history (with its check results) and snapshots of `units`."""
    rows = [(asset, partition_to_text(partition)) for asset, partition in units]
    connection.executemany(
        "DELETE FROM check_results WHERE materialization_id IN"
        " (SELECT id FROM materializations WHERE asset = ? AND partition = ?)",
        rows,
    )
    connection.executemany("DELETE FROM materializations WHERE asset = ? AND partition = ?", rows)
    connection.executemany("DELETE FROM partition_states WHERE asset = ? AND partition = ?", rows)
    connection.executemany(
        "DELETE FROM state_snapshots WHERE asset = ?", sorted({(asset,) for asset, _ in rows})
    )
