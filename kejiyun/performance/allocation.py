"""Splitting a budget by score, exactly, in fen (no database).

Each centre gets its base amount, and the rest of the budget in proportion to score, with its
amount kept between its floor and cap; amounts are whole fen and sum to the budget exactly.
docs/performance.md states the rule, including how remainders and ties are settled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Share:
    centre_id: int
    code: str  # region code: the last tie-breaker
    score: Decimal  # ≥ 0
    base_fen: int  # ≥ 0
    floor_fen: int  # ≥ 0: the amount is never below this
    cap_fen: int | None  # the amount is never above this; None: no cap


@dataclass(frozen=True)
class Allotment:
    centre_id: int
    code: str
    score: Decimal
    base_fen: int
    amount_fen: int
    bound: str  # "" | "floor" | "cap": which bound fixed the amount


class AllocationInfeasible(ValueError):
    """The budget cannot be split under these bases, floors and caps; the message says why in
    Chinese, with the numbers."""


def allocate(budget_fen: int, shares: Sequence[Share]) -> list[Allotment]:
    """The amounts, in the order of `shares`."""
    raise NotImplementedError
