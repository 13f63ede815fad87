"""Scores, ranking, proposed levels and outliers, as pure functions over plain values.

- A reviewer's total for an application is Σ weight × score / 100 over the criteria (the
  weights of a batch sum to 100, so the total is on the 0–100 scale).
- An application's score is the mean of its reviewers' totals, to 2 decimals (half up).
- Rank 1 is the best score; equal scores share a rank (1, 1, 3); the display order among
  equals is the earlier submitted application first, then the lower id.
- Proposed level, taken in display order so a quota goes to the better ranked (and, among
  equals, the earlier submitted): for programmes with levels, 精品 when 精品 was asked for,
  the score reaches the premium pass mark and the premium quota is not used up; otherwise
  典型 when the score reaches the typical pass mark and the typical quota is not used up;
  otherwise none. Programmes without levels propose 入选 (listed) on the typical pass mark
  and quota. A quota of 0 means no limit.
- Outliers: a reviewer's total that differs from the median of the other reviewers' totals
  by at least 15 points, or a criterion score that differs from the median of the others'
  scores on that criterion by at least 25.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

from kejiyun.common.levels import Level

CENT = Decimal("0.01")
TOTAL_OUTLIER = Decimal(15)
CRITERION_OUTLIER = Decimal(25)


def reviewer_total(weights: Mapping[int, int], scores: Mapping[int, int]) -> Decimal:
    """Σ weight × score / 100 over the criteria (criterion id → weight, → score)."""
    total = sum((Decimal(weights[c]) * Decimal(scores.get(c, 0)) for c in weights), Decimal(0))
    return (total / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def application_score(totals: Sequence[Decimal]) -> Decimal | None:
    """The mean of the reviewers' totals, 2 decimals; None without any."""
    if not totals:
        return None
    return (sum(totals, Decimal(0)) / len(totals)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Entry:
    id: int
    score: Decimal
    requested: str  # the level asked for (Level value)
    submitted_at: datetime | None


@dataclass(frozen=True)
class Ranked:
    id: int
    score: Decimal
    rank: int
    proposed: str


@dataclass(frozen=True)
class Marks:
    premium: Decimal
    typical: Decimal
    quota_premium: int
    quota_typical: int
    has_levels: bool


def _room(quota: int, taken: int) -> bool:
    return quota == 0 or taken < quota


def rank_entries(entries: Sequence[Entry], marks: Marks) -> list[Ranked]:
    """The entries in display order with their rank and proposed level."""
    ordered = sorted(
        entries,
        key=lambda e: (
            -e.score,
            e.submitted_at is None,
            e.submitted_at or datetime.min,
            e.id,
        ),
    )
    out: list[Ranked] = []
    premium = typical = 0
    rank = 0
    previous: Decimal | None = None
    for position, entry in enumerate(ordered, start=1):
        if entry.score != previous:
            rank, previous = position, entry.score
        proposed: str = Level.NONE
        if marks.has_levels:
            if (
                entry.requested == Level.PREMIUM
                and entry.score >= marks.premium
                and _room(marks.quota_premium, premium)
            ):
                proposed, premium = Level.PREMIUM, premium + 1
            elif entry.score >= marks.typical and _room(marks.quota_typical, typical):
                proposed, typical = Level.TYPICAL, typical + 1
        elif entry.score >= marks.typical and _room(marks.quota_typical, typical):
            proposed, typical = Level.LISTED, typical + 1
        out.append(Ranked(id=entry.id, score=entry.score, rank=rank, proposed=str(proposed)))
    return out


def _others_median(values: Sequence[Decimal], index: int) -> Decimal | None:
    others = [v for i, v in enumerate(values) if i != index]
    return Decimal(median(others)) if others else None


def total_outliers(totals: Sequence[Decimal]) -> list[bool]:
    """For each reviewer's total: whether it is ≥ 15 points from the others' median."""
    out = []
    for i, value in enumerate(totals):
        middle = _others_median(totals, i)
        out.append(middle is not None and abs(value - middle) >= TOTAL_OUTLIER)
    return out


def criterion_outliers(scores: Sequence[int | None]) -> list[bool]:
    """For each reviewer's score on one criterion (None: not scored): whether it is ≥ 25
    points from the median of the others' scores."""
    out = []
    for i, value in enumerate(scores):
        if value is None:
            out.append(False)
            continue
        others = [Decimal(v) for j, v in enumerate(scores) if j != i and v is not None]
        out.append(
            bool(others) and abs(Decimal(value) - Decimal(median(others))) >= CRITERION_OUTLIER
        )
    return out
