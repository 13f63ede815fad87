"""Workflows as data: the moves a record's status may make, and who may make each.

Every workflow in the platform (demands, cases, plan needs, popsci content) declares one
`MoveTable`. Its `<entity>_transition` service is the only code that changes the status: it
asks the table for the move (`table.find`), refuses anything the table does not list,
claims the row with a conditional UPDATE on the status it read, and writes an event row
with the actor, the reason, and the statuses before and after.

A table reads like a mapping from a status to the statuses it may move to, so
`to in TABLE[status]` works, and `TABLE.moves_from(status, by=STAFF)` lists the buttons a
page offers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Move:
    """One allowed move: from `source` to `to`, made by `by`, with a reason if required."""

    source: str
    to: str
    by: str
    needs_reason: bool = False


class MoveTable(Mapping[str, frozenset[str]]):
    """The allowed moves between a fixed set of statuses."""

    def __init__(self, statuses: Iterable[str], moves: Iterable[Move]) -> None:
        self.statuses: tuple[str, ...] = tuple(str(s) for s in statuses)
        known = set(self.statuses)
        self._moves: dict[str, tuple[Move, ...]] = {s: () for s in self.statuses}
        for move in moves:
            if move.source not in known or move.to not in known:
                raise ValueError(f"unknown status in move {move.source!r} → {move.to!r}")
            if self.find(move.source, move.to) is not None:
                raise ValueError(f"move {move.source!r} → {move.to!r} listed twice")
            self._moves[move.source] = (*self._moves[move.source], move)

    def __getitem__(self, source: str) -> frozenset[str]:
        return frozenset(m.to for m in self._moves[source])

    def __iter__(self) -> Iterator[str]:
        return iter(self.statuses)

    def __len__(self) -> int:
        return len(self.statuses)

    def find(self, source: str, to: str) -> Move | None:
        """The move from `source` to `to`, or None when the table has none."""
        return next((m for m in self._moves.get(source, ()) if m.to == to), None)

    def moves_from(self, source: str, *, by: str | None = None) -> tuple[Move, ...]:
        """The moves out of `source` (only those `by` may make, when given)."""
        return tuple(m for m in self._moves.get(source, ()) if by is None or m.by == by)
