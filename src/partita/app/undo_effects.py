"""What a rollback or restore does downstream, for `--plan`.

A reader partition that read the data being taken back goes stale (`upstream restored:
ASSET KEY`), and so, transitively, does every partition that read a stale one (`upstream
stale: ASSET KEY`): each is rebuilt by the next `partita materialize`. Early cutoff: a
reader that read the version being restored (never the bad one) stays up to date, and
so does everything below it; and a rebuild that gives the same data as before stops the
staleness there at run time, so the stale list is what may be rebuilt, at most.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..planning.reasons import Reason, ReasonKind
from ..planning.staleness import Unit

if TYPE_CHECKING:
    from ..catalog.records import PartitionState
    from ..execution.restore import RestoreTarget
    from .session import Session


@dataclass(frozen=True)
class ReaderEffect:
    """What a restore does to one downstream partition: stale (with its reason) or fresh."""

    asset: str
    partition: str | None
    reason: Reason | None  # None: it read the restored data, so it stays up to date


def rollback_effects(session: Session, targets: Sequence[RestoreTarget]) -> list[ReaderEffect]:
    """Every downstream partition the targets' restores make stale, transitively (direct
    readers first, then breadth first), and the direct readers that stay fresh."""
    readers = _ReaderIndex(session)
    restored = {(t.asset, t.partition) for t in targets}
    decided: dict[Unit, Reason | None] = {}
    for target in targets:
        current = session.catalog.state(target.asset, target.partition)
        taken_back = current.data_version if current else None
        for unit, versions in readers.of((target.asset, target.partition)):
            if unit in restored:
                continue  # restored itself
            if target.data_version in versions and taken_back not in versions:
                decided.setdefault(unit, None)  # it read the restored data: fresh
            else:
                reason = Reason(ReasonKind.UPSTREAM_RESTORED, target.asset, target.partition)
                if decided.get(unit) is None:
                    decided[unit] = reason
    queue = deque(unit for unit, reason in decided.items() if reason is not None)
    while queue:
        upstream = queue.popleft()
        for unit, _ in readers.of(upstream):
            if unit in restored or decided.get(unit) is not None:
                continue
            decided[unit] = Reason(ReasonKind.UPSTREAM_STALE, *upstream)
            queue.append(unit)
    return [ReaderEffect(asset, key, reason) for (asset, key), reason in decided.items()]


class _ReaderIndex:
    """Per upstream unit, the downstream partitions that read it and the data versions
    they read (from the catalog's states, loaded once per asset)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_input: dict[str, dict[Unit, list[tuple[Unit, set[str | None]]]]] = {}

    def of(self, upstream: Unit) -> list[tuple[Unit, set[str | None]]]:
        found = []
        for reader in self.session.graph.downstream[upstream[0]]:
            found.extend(self._index(reader).get(upstream, []))
        return found

    def _index(self, reader: str) -> dict[Unit, list[tuple[Unit, set[str | None]]]]:
        if reader not in self._by_input:
            states: dict[str | None, PartitionState] = self.session.catalog.states(reader)
            index: dict[Unit, dict[str | None, set[str | None]]] = {}
            for key, state in states.items():
                for read in state.inputs:
                    per_unit = index.setdefault((read.asset, read.partition), {})
                    per_unit.setdefault(key, set()).add(read.data_version)
            self._by_input[reader] = {
                upstream: [((reader, key), versions) for key, versions in keyed.items()]
                for upstream, keyed in index.items()
            }
        return self._by_input[reader]
