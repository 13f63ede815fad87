"""Ranking and lagging centres, as pure functions of figures (no Django), so the rules can be
read and tested on their own.

Ranking by several indicators: each centre is ranked on each indicator (1 = best, in the
indicator's better direction; ties share the better rank; a centre without a figure comes
last), and the centres are ordered by the mean of their ranks, then by the rank on the first
indicator, then by code. Neutral indicators (better == 0) are never ranked.

Lagging: on an indicator where better != 0, among the centres that have a figure (at least
two), a centre lags when it is strictly worse than the median and

- lies in the bottom quartile (at or below the first quartile where higher is better, at or
  above the third quartile where lower is better), or
- is below `lag_percent`% of the median where higher is better (above the median divided by
  `lag_percent`% where lower is better: with 50, below half or above twice the median).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# {centre code: {indicator key: value or None}}
Values = Mapping[str, Mapping[str, float | None]]


@dataclass(frozen=True)
class RankedRow:
    code: str
    rank: int  # position in the table, 1 = best
    mean_rank: float
    ranks: dict[str, int]


@dataclass(frozen=True)
class Lag:
    key: str
    value: float
    median: float
    bottom_quartile: bool
    far_from_median: bool


@dataclass
class LaggingCentre:
    code: str
    lags: list[Lag] = field(default_factory=list)


def ranks_on(values: Values, key: str, better: int) -> dict[str, int]:
    """Each centre's rank on one indicator (1 = best; equal figures share a rank; centres
    without a figure share the rank after the last centre with one)."""
    present = [(code, v[key]) for code, v in values.items() if v.get(key) is not None]
    ordered = sorted(present, key=lambda item: -better * float(item[1] or 0))
    out: dict[str, int] = {}
    for position, (code, value) in enumerate(ordered, start=1):
        previous = ordered[position - 2] if position > 1 else None
        out[code] = out[previous[0]] if previous and previous[1] == value else position
    for code in values:
        out.setdefault(code, len(present) + 1)
    return out


def rank(values: Values, keys: Sequence[str], better: Mapping[str, int]) -> list[RankedRow]:
    """The centres in table order by the indicators `keys` (neutral ones are ignored)."""
    ranked_keys = [k for k in keys if better[k] != 0]
    per_key = {k: ranks_on(values, k, better[k]) for k in ranked_keys}
    rows: list[tuple[float, int, str, dict[str, int]]] = []
    for code in values:
        ranks = {k: per_key[k][code] for k in ranked_keys}
        mean = sum(ranks.values()) / len(ranks) if ranks else 0.0
        first = ranks[ranked_keys[0]] if ranked_keys else 0
        rows.append((mean, first, code, ranks))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    out: list[RankedRow] = []
    for position, (mean, _first, code, ranks) in enumerate(rows, start=1):
        before = out[-1] if out else None
        shared = before is not None and before.mean_rank == mean and before.ranks == ranks
        out.append(
            RankedRow(code, before.rank if shared and before else position, round(mean, 2), ranks)
        )
    return out


def lagging(
    values: Values, keys: Sequence[str], better: Mapping[str, int], lag_percent: int
) -> list[LaggingCentre]:
    """The centres lagging on at least one of `keys`, in code order, with their lags."""
    found: dict[str, LaggingCentre] = {}
    for key in keys:
        direction = better[key]
        present = {c: float(v[key]) for c, v in values.items() if v.get(key) is not None}  # type: ignore[arg-type]
        if direction == 0 or len(present) < 2:
            continue
        figures = sorted(present.values())
        median = statistics.median(figures)
        q1, _q2, q3 = statistics.quantiles(figures, n=4, method="inclusive")
        share = lag_percent / 100
        for code, value in present.items():
            if direction > 0:
                worse = value < median
                quartile = value <= q1
                far = median > 0 and value < median * share
            else:
                worse = value > median
                quartile = value >= q3
                far = value > median / share if median > 0 else False
            if worse and (quartile or far):
                slot = found.setdefault(code, LaggingCentre(code))
                slot.lags.append(Lag(key, value, median, quartile, far))
    return [found[c] for c in sorted(found)]
