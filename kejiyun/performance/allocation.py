"""Splitting a budget by score, exactly, in fen (no database).

Each centre gets its base amount, and the rest of the budget in proportion to score, with its
amount kept between its floor and cap; amounts are whole fen and sum to the budget exactly.
docs/performance.md states the rule, including how remainders and ties are settled.

The rule, for centres i with score s_i, base b_i, floor f_i and cap c_i (no cap: +∞):

    amount_i = clamp(b_i + λ·s_i, max(b_i, f_i), c_i)

for the one water level λ ≥ 0 at which the amounts sum to the budget (when every score is 0,
s_i = 1 for all: the rest is split equally). It is found by water-filling in exact rational
arithmetic, then turned into whole fen by the largest-remainder method.

Water-filling. Start with every centre free. Each round splits what is left (the budget less
the fixed amounts and the free centres' bases) among the free centres in proportion to score,
and looks at who falls outside their bounds: D = how far the free centres below their floor
fall short in total, E = how far those above their cap go over. If D > E the sum of the
clamped amounts is above the budget, so the true water level is lower and every centre now
below its floor is below it at the true level too: fix them at their floor. If E > D, by the
same argument the other way, fix the centres above their cap at their cap. If D = E the
current level is the true one: fix both. A fixed centre is never freed again and every round
that finds someone out of bounds fixes at least one centre, so there are at most n + 1 rounds.
The amounts are unique (the sum is strictly increasing in λ wherever any centre is unclamped).

Rounding. Every centre gets the whole fen below its exact amount; the fen left over (fewer
than the number of centres with a fraction) go one each to the largest fractional parts, ties
by higher score, then by region code ascending. Since floors and caps are whole fen, a centre
with a fraction is strictly between them, so one more fen never breaks a bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction


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


FLOOR = "floor"
CAP = "cap"


def yuan(fen: int) -> str:
    """Whole fen as yuan with two decimals and thousands separators: 123456 → "1,234.56"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _check(budget_fen: int, shares: Sequence[Share]) -> None:
    """Refuse inputs under which no split exists, naming the numbers."""
    if not shares:
        raise AllocationInfeasible("没有参与分配的服务中心")
    if budget_fen <= 0:
        raise AllocationInfeasible(f"预算须大于 0（现为 {yuan(budget_fen)} 元）")
    seen: set[int] = set()
    for share in shares:
        name = share.code
        if share.centre_id in seen:
            raise AllocationInfeasible(f"服务中心 {name} 重复出现")
        seen.add(share.centre_id)
        if not share.score.is_finite() or share.score < 0:
            raise AllocationInfeasible(f"服务中心 {name} 的得分 {share.score} 无效：得分不能为负")
        for label, value in (("基础额", share.base_fen), ("下限", share.floor_fen)):
            if value < 0:
                raise AllocationInfeasible(
                    f"服务中心 {name} 的{label}为 {yuan(value)} 元：金额不能为负"
                )
        if share.cap_fen is not None:
            if share.cap_fen < 0:
                raise AllocationInfeasible(
                    f"服务中心 {name} 的上限为 {yuan(share.cap_fen)} 元：金额不能为负"
                )
            if share.base_fen > share.cap_fen:
                raise AllocationInfeasible(
                    f"服务中心 {name} 的基础额 {yuan(share.base_fen)} 元"
                    f"高于其上限 {yuan(share.cap_fen)} 元"
                )
            if share.floor_fen > share.cap_fen:
                raise AllocationInfeasible(
                    f"服务中心 {name} 的下限 {yuan(share.floor_fen)} 元"
                    f"高于其上限 {yuan(share.cap_fen)} 元"
                )
    lowest = sum(max(s.base_fen, s.floor_fen) for s in shares)
    if lowest > budget_fen:
        raise AllocationInfeasible(
            f"各中心的下限（不低于基础额）合计 {yuan(lowest)} 元，"
            f"超过预算 {yuan(budget_fen)} 元：请降低下限或基础额，或增加预算"
        )
    if all(s.cap_fen is not None for s in shares):
        highest = sum(s.cap_fen or 0 for s in shares)
        if highest < budget_fen:
            raise AllocationInfeasible(
                f"各中心的上限合计 {yuan(highest)} 元，不足预算 {yuan(budget_fen)} 元："
                "全部封顶后仍有余额，请提高上限或减少预算"
            )
    if any(s.score > 0 for s in shares):
        scored = [s for s in shares if s.score > 0]
        if all(s.cap_fen is not None for s in scored):
            reach = sum(s.cap_fen or 0 for s in scored) + sum(
                max(s.base_fen, s.floor_fen) for s in shares if s.score == 0
            )
            if reach < budget_fen:
                raise AllocationInfeasible(
                    f"得分为正的中心全部封顶、得分为 0 的中心只得下限，合计 {yuan(reach)} 元，"
                    f"不足预算 {yuan(budget_fen)} 元：请提高上限或减少预算"
                )


def _water_fill(budget_fen: int, shares: Sequence[Share]) -> tuple[list[Fraction], list[str]]:
    """The exact amounts and which bound fixed each (see the module docstring)."""
    n = len(shares)
    equal = all(s.score == 0 for s in shares)
    weight = [Fraction(1) if equal else Fraction(s.score) for s in shares]
    lower = [Fraction(max(s.base_fen, s.floor_fen)) for s in shares]
    upper = [None if s.cap_fen is None else Fraction(s.cap_fen) for s in shares]
    amount: list[Fraction | None] = [None] * n
    bound = [""] * n
    while True:
        free = [i for i in range(n) if amount[i] is None]
        fixed_sum = sum((a for a in amount if a is not None), Fraction(0))
        left = budget_fen - fixed_sum - sum(Fraction(shares[i].base_fen) for i in free)
        total_weight = sum((weight[i] for i in free), Fraction(0))
        tentative = {
            i: shares[i].base_fen
            + (left * weight[i] / total_weight if total_weight else Fraction(0))
            for i in free
        }
        below = [i for i in free if tentative[i] < lower[i]]
        above = [i for i in free if (cap := upper[i]) is not None and tentative[i] > cap]
        if not below and not above:
            for i in free:
                amount[i] = tentative[i]
            break
        short = sum((lower[i] - tentative[i] for i in below), Fraction(0))
        over = sum((tentative[i] - (upper[i] or 0) for i in above), Fraction(0))
        if short >= over:
            for i in below:
                amount[i], bound[i] = lower[i], FLOOR
        if over >= short:
            for i in above:
                amount[i], bound[i] = upper[i], CAP
    exact = [a for a in amount if a is not None]
    assert len(exact) == n and sum(exact) == budget_fen
    return exact, bound


def allocate(budget_fen: int, shares: Sequence[Share]) -> list[Allotment]:
    """The amounts, in the order of `shares`.

    Raises AllocationInfeasible (nothing else) when no split meets the bases, floors and caps:
    no centres; a budget ≤ 0; a negative score, base, floor or cap; a base or floor above the
    centre's cap; floors (at least the base) summing to more than the budget; caps summing to
    less; or, when some scores are positive, the positive-score centres' caps plus the
    zero-score centres' floors summing to less than the budget (a zero score earns no share
    of the rest)."""
    _check(budget_fen, shares)
    exact, bound = _water_fill(budget_fen, shares)
    whole = [a.numerator // a.denominator for a in exact]
    left = budget_fen - sum(whole)
    order = sorted(
        range(len(shares)),
        key=lambda i: (-(exact[i] - whole[i]), -shares[i].score, shares[i].code),
    )
    for i in order[:left]:
        whole[i] += 1
    return [
        Allotment(
            centre_id=s.centre_id,
            code=s.code,
            score=s.score,
            base_fen=s.base_fen,
            amount_fen=whole[i],
            bound=bound[i],
        )
        for i, s in enumerate(shares)
    ]
