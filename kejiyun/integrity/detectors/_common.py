"""Small helpers the case-side detectors share."""

from __future__ import annotations

from datetime import date, datetime

from kejiyun.common.workdays import BEIJING
from kejiyun.integrity.rows import CaseRow


def case_day(case: CaseRow) -> date:
    """The Beijing day a case counts on: its closure (the day the operations indicators count
    it), else its rating, else its opening."""
    moment: datetime = case.closed_at or case.rated_at or case.opened_at
    return moment.astimezone(BEIJING).date()


def combine(weights: list[float]) -> float:
    """Independent signals combined: 1 - Π(1 - w). Each signal adds, none alone reaches 1."""
    rest = 1.0
    for w in weights:
        rest *= 1.0 - max(0.0, min(1.0, w))
    return round(1.0 - rest, 3)


class UnionFind:
    """Disjoint sets over hashable items (path halving, union by size)."""

    def __init__(self) -> None:
        self.parent: dict[object, object] = {}
        self.size: dict[object, int] = {}

    def find(self, item: object) -> object:
        parent = self.parent
        if item not in parent:
            parent[item] = item
            self.size[item] = 1
            return item
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: object, b: object) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
