"""What-if (假设测算): the allocation as it would be with other weights, targets,
normalisations, budget, base, floor or cap, beside the current proposal. Reads only: nothing
is saved, and the frozen lines of the allocation are the "current" side."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kejiyun.performance.allocations.services import scores_for, split
from kejiyun.performance.models import Allocation, AllocationLine
from kejiyun.performance.schemes.selectors import Overrides


@dataclass(frozen=True)
class WhatIfRow:
    centre_id: int
    code: str
    name: str
    score_now: Decimal | None  # None: the centre is not in the current proposal
    rank_now: int | None
    amount_now: int
    score_then: Decimal
    rank_then: int
    amount_then: int
    bound_then: str

    @property
    def diff_fen(self) -> int:
        return self.amount_then - self.amount_now

    @property
    def diff_score(self) -> Decimal:
        return self.score_then - (self.score_now or Decimal(0))

    @property
    def rank_up(self) -> int:
        """How many places the centre climbs (negative: falls)."""
        return 0 if self.rank_now is None else self.rank_now - self.rank_then


@dataclass(frozen=True)
class WhatIf:
    rows: list[WhatIfRow]
    budget_fen: int
    total_now: int
    total_then: int


def allocation_whatif(
    allocation: Allocation,
    *,
    overrides: Overrides,
    budget_fen: int,
    base_fen: int,
    floor_fen: int,
    cap_fen: int | None,
) -> WhatIf:
    """The what-if beside the current lines. AllocationError (in Chinese) when the changed
    scheme cannot score or the changed amounts cannot be split; nothing is saved either way.
    Centres with their own floor and cap keep them."""
    lines = {
        line.centre_id: line
        for line in AllocationLine.objects.filter(allocation=allocation).select_related("centre")
    }
    bounds = {c: (line.floor_fen, line.cap_fen) for c, line in lines.items() if line.override}
    rows = split(
        scores=scores_for(allocation.scheme, overrides),
        budget_fen=budget_fen,
        base_fen=base_fen,
        floor_fen=floor_fen,
        cap_fen=cap_fen,
        bounds=bounds,
    )
    out = []
    for score, _share, amount, bound in rows:
        now = lines.get(score.centre_id)
        out.append(
            WhatIfRow(
                centre_id=score.centre_id,
                code=score.code,
                name=score.name,
                score_now=now.score if now else None,
                rank_now=now.rank if now else None,
                amount_now=now.amount_fen if now else 0,
                score_then=score.total,
                rank_then=score.rank,
                amount_then=amount,
                bound_then=bound,
            )
        )
    out.sort(key=lambda r: (r.rank_then, r.code))
    return WhatIf(
        rows=out,
        budget_fen=budget_fen,
        total_now=sum(line.amount_fen for line in lines.values()),
        total_then=sum(r.amount_then for r in out),
    )
