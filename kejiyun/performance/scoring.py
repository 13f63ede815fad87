"""Scores from a scheme, as plain functions over plain values (no database).

`kejiyun/performance/schemes/selectors.py` reads each centre's figures for the scheme's period
from the operations rollups and what confirmed gaming takes off them (`discounts.py`), and
hands them here; the integrity benchmark hands in figures of a synthetic province. The formula
is the one docs/performance.md and the published formula page explain, point by point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from kejiyun.performance.models import Normalisation


@dataclass(frozen=True)
class ItemSpec:
    """One indicator of a scheme."""

    key: str  # kejiyun.ops.indicators key
    label: str
    weight: Decimal  # points for a full score on this indicator
    normalisation: Normalisation
    target: Decimal | None  # required for Normalisation.TARGET
    better: int  # +1 higher is better, -1 lower is better (the catalogue's `better`)


@dataclass(frozen=True)
class Measure:
    """A centre's value of one indicator for the period."""

    raw: Decimal | None  # from the rollups; None when there is nothing to measure
    discount: Decimal  # how much confirmed gaming took off (raw - net), 0 when none
    net: Decimal | None  # what is scored
    discount_note: str = ""  # plain Chinese, e.g. "扣除已确认的空壳结案 3 件"


@dataclass(frozen=True)
class CentreMeasures:
    centre_id: int
    code: str  # the centre's region code (ties and order)
    name: str
    measures: dict[str, Measure]  # by indicator key


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    raw: Decimal | None
    discount: Decimal
    net: Decimal | None
    normalised: Decimal  # 0..1
    weight: Decimal
    points: Decimal  # weight × normalised, to 0.01
    how: str  # how the points were earned, in plain Chinese with the numbers


@dataclass(frozen=True)
class CentreScore:
    centre_id: int
    code: str
    name: str
    total: Decimal  # the sum of the lines' points, to 0.01
    rank: int  # 1 = best; equal totals share a rank (1, 1, 3)
    lines: tuple[Line, ...]


class SchemeError(ValueError):
    """A scheme that cannot score (no items, a target missing, ...): the message says why in
    Chinese."""


def score(items: Sequence[ItemSpec], centres: Sequence[CentreMeasures]) -> list[CentreScore]:
    """Every centre's score under `items`, best first (ties by region code)."""
    raise NotImplementedError
