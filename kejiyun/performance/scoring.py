"""Scores from a scheme, as plain functions over plain values (no database).

`kejiyun/performance/schemes/selectors.py` reads each centre's figures for the scheme's period
from the operations rollups and what confirmed gaming takes off them (`discounts.py`), and
hands them here; the integrity benchmark hands in figures of a synthetic province. The formula
is the one docs/performance.md and the published formula page explain, point by point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from kejiyun.ops.indicators import BY_KEY, Kind
from kejiyun.performance.models import Normalisation

# Normalised values are kept to 4 decimal places (half up) and points to 2, so that the
# numbers a breakdown shows multiply out by hand to the points it shows.
NORMALISED_PLACES = Decimal("0.0001")
POINTS_PLACES = Decimal("0.01")
ONE = Decimal(1)
ZERO = Decimal(0)


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
    """Every centre's score under `items`, best first (ties by region code).

    Per item, a centre's net value becomes a fraction 0..1 (`normalised`, to 4 places):

    - TARGET, higher is better: min(net / target, 1); lower is better: 1 when net <= target,
      else target / net (a target of 0: 1 when net is 0, else 0);
    - MINMAX over the centres with a value: (net - min) / (max - min), reversed when lower is
      better; 1 for everyone when all values are equal;
    - RANK: k / (n - 1), k the number of the n centres with a value that are strictly worse
      (a tie beats nobody it ties with); 1 when n = 1 or all values are equal.

    A centre without a value (net None) gets 0 on the item. points = weight x normalised,
    half up to 0.01; the total is the sum of the points; equal totals share a rank.
    SchemeError (Chinese) for a scheme that cannot score."""
    _check(items)
    per_centre: dict[int, list[Line]] = {c.centre_id: [] for c in centres}
    for item in items:
        present = [
            net
            for c in centres
            if item.key in c.measures and (net := c.measures[item.key].net) is not None
        ]
        for centre in centres:
            measure = centre.measures.get(item.key, Measure(None, ZERO, None))
            per_centre[centre.centre_id].append(_line(item, measure, present))
    scored = []
    for centre in centres:
        lines = tuple(per_centre[centre.centre_id])
        total = sum((line.points for line in lines), ZERO).quantize(POINTS_PLACES)
        scored.append((centre, total, lines))
    scored.sort(key=lambda row: (-row[1], row[0].code))
    out: list[CentreScore] = []
    for index, (centre, total, lines) in enumerate(scored):
        rank = out[-1].rank if out and out[-1].total == total else index + 1
        out.append(CentreScore(centre.centre_id, centre.code, centre.name, total, rank, lines))
    return out


def _check(items: Sequence[ItemSpec]) -> None:
    if not items:
        raise SchemeError("方案没有考核指标，请至少添加一项。")
    seen: set[str] = set()
    for item in items:
        if item.key not in BY_KEY:
            raise SchemeError(f"指标“{item.key}”不在指标目录中。")
        label = BY_KEY[item.key].name
        if item.key in seen:
            raise SchemeError(f"指标“{label}”重复出现，每项指标只能用一次。")
        seen.add(item.key)
        if item.weight <= 0:
            raise SchemeError(f"指标“{label}”的权重须大于 0。")
        if item.better not in (1, -1):
            raise SchemeError(f"指标“{label}”没有优劣方向，不能用于考核。")
        if item.normalisation == Normalisation.TARGET:
            if item.target is None:
                raise SchemeError(f"指标“{label}”按目标值计分，请填写目标值。")
            if item.better == 1 and item.target <= 0:
                raise SchemeError(f"指标“{label}”越高越好，目标值须大于 0。")
            if item.better == -1 and item.target < 0:
                raise SchemeError(f"指标“{label}”越低越好，目标值不能小于 0。")


def fmt(value: Decimal) -> str:
    """A number as a breakdown writes it: whole numbers without decimals, others to 2
    places (4 for a normalised fraction that needs them)."""
    if value == value.to_integral_value():
        return str(value.quantize(ONE))
    two = value.quantize(POINTS_PLACES, rounding=ROUND_HALF_UP)
    if two == value:
        return str(two)
    return str(value.quantize(NORMALISED_PLACES, rounding=ROUND_HALF_UP).normalize())


def unit_of(key: str) -> str:
    """The unit a value of the indicator is written with (shares are percentages)."""
    ind = BY_KEY[key]
    return "%" if ind.kind == Kind.SHARE else ind.unit


def _with_unit(value: Decimal, unit: str) -> str:
    return f"{fmt(value)}{unit}" if unit in ("", "%") else f"{fmt(value)} {unit}"


def _line(item: ItemSpec, measure: Measure, present: list[Decimal]) -> Line:
    label = BY_KEY[item.key].name
    unit = unit_of(item.key)
    net = measure.net
    if net is None:
        normalised = ZERO
        why = "本期没有样本" if BY_KEY[item.key].kind == Kind.MEDIAN else "本期没有可计算的记录"
        how = f"{label}：{why}，无数值，本项得 0 分"
        return Line(
            item.key, label, measure.raw, measure.discount, None, ZERO, item.weight, ZERO, how
        )
    head = f"{label} {_with_unit(net, unit)}"
    if measure.discount:
        note = measure.discount_note or f"扣除 {_with_unit(measure.discount, unit)}"
        raw = _with_unit(measure.raw, unit) if measure.raw is not None else "无"
        head += f"（原始 {raw}，{note}）"
    normalised, explain = _normalise(item, net, present, unit)
    normalised = normalised.quantize(NORMALISED_PLACES, rounding=ROUND_HALF_UP)
    points = (item.weight * normalised).quantize(POINTS_PLACES, rounding=ROUND_HALF_UP)
    if head.endswith("）"):
        explain = explain.lstrip(" ")
    weight = item.weight.quantize(POINTS_PLACES)
    how = f"{head}{explain}，得 {weight} × {fmt(normalised)} = {points} 分"
    return Line(
        item.key, label, measure.raw, measure.discount, net, normalised, item.weight, points, how
    )


def _normalise(
    item: ItemSpec, net: Decimal, present: list[Decimal], unit: str
) -> tuple[Decimal, str]:
    """The fraction 0..1 and how it was reached, in Chinese (appended to the value)."""
    if item.normalisation == Normalisation.TARGET:
        target = item.target
        assert target is not None  # _check
        goal = _with_unit(target, unit)
        if item.better == 1:
            ratio = max(net, ZERO) / target
            if ratio > 1:
                return ONE, f" ÷ 目标 {goal} = {fmt(_q(ratio))}，封顶 1"
            return ratio, f" ÷ 目标 {goal} = {fmt(_q(ratio))}"
        if net <= target:
            return ONE, f"，不高于目标 {goal}（越低越好），计 1"
        if target == 0:
            return ZERO, "，目标为 0 而实际不为 0（越低越好），计 0"
        ratio = target / net
        return ratio, f"，高于目标（越低越好）：目标 {goal} ÷ {fmt(net)} = {fmt(_q(ratio))}"
    if item.normalisation == Normalisation.MINMAX:
        low, high = min(present), max(present)
        span = f"同级最低 {fmt(low)}、最高 {fmt(high)}"
        if low == high:
            return ONE, f"，同级各中心数值相同（{fmt(low)}），计 1"
        if item.better == 1:
            ratio = (net - low) / (high - low)
            sums = f"({fmt(net)} − {fmt(low)}) ÷ ({fmt(high)} − {fmt(low)})"
        else:
            ratio = (high - net) / (high - low)
            span = f"越低越好，{span}"
            sums = f"({fmt(high)} − {fmt(net)}) ÷ ({fmt(high)} − {fmt(low)})"
        return ratio, f"，{span}：{sums} = {fmt(_q(ratio))}"
    # RANK: the share of the other centres this one beats. Counting only the centres
    # strictly behind it means a crowd tied at the bottom (most centres with no contract at
    # all) earns nothing, where a shared competition rank would have given it nearly full
    # points.
    n = len(present)
    if n == 1:
        return ONE, "，仅 1 个中心有数值，计 1"
    if len(set(present)) == 1:
        return ONE, f"，同级各中心数值相同（{fmt(net)}），计 1"
    ahead = [v for v in present if (v > net if item.better == 1 else v < net)]
    behind = [v for v in present if (v < net if item.better == 1 else v > net)]
    r, k = len(ahead) + 1, len(behind)
    ratio = Decimal(k) / Decimal(n - 1)
    return ratio, (
        f"，在 {n} 个有数值的中心中排第 {r}，排在其后的有 {k} 个："
        f"{k} ÷ ({n} − 1) = {fmt(_q(ratio))}"
    )


def _q(value: Decimal) -> Decimal:
    return value.quantize(NORMALISED_PLACES, rounding=ROUND_HALF_UP)
