"""The pure allocator (kejiyun/performance/allocation.py): hand-checked splits, every refusal,
and properties over random budgets, scores, bases, floors and caps checked against an
independent reference (the water level found by walking the breakpoints)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kejiyun.performance.allocation import AllocationInfeasible, Share, allocate, yuan


def share(
    centre_id: int,
    score: str | int,
    *,
    base: int = 0,
    floor: int = 0,
    cap: int | None = None,
    code: str | None = None,
) -> Share:
    return Share(
        centre_id=centre_id,
        code=code or f"5101{centre_id:02d}",
        score=Decimal(str(score)),
        base_fen=base,
        floor_fen=floor,
        cap_fen=cap,
    )


def amounts(budget: int, shares: list[Share]) -> list[int]:
    return [a.amount_fen for a in allocate(budget, shares)]


# --- Hand-checked examples ------------------------------------------------------------------


def test_the_rest_is_split_in_proportion_to_score_after_the_bases() -> None:
    # 1,000 yuan; base 100 yuan each; the remaining 700 yuan split 60:30:10.
    shares = [share(1, 60, base=10000), share(2, 30, base=10000), share(3, 10, base=10000)]
    result = allocate(100000, shares)
    assert [a.amount_fen for a in result] == [52000, 31000, 17000]
    assert [a.bound for a in result] == ["", "", ""]
    assert [a.centre_id for a in result] == [1, 2, 3]


def test_a_centre_above_its_cap_is_held_there_and_the_rest_refilled() -> None:
    # Proportional split of 1,000 fen by 8:1:1 gives 800/100/100; cap 500 on the first:
    # the 500 left go 1:1 to the other two.
    result = allocate(1000, [share(1, 8, cap=500), share(2, 1), share(3, 1)])
    assert [a.amount_fen for a in result] == [500, 250, 250]
    assert [a.bound for a in result] == ["cap", "", ""]


def test_a_centre_below_its_floor_is_raised_to_it_and_the_others_pay() -> None:
    # 1,000 fen by 9:1 gives 900/100; floor 300 on the second: the first keeps 700.
    result = allocate(1000, [share(1, 9), share(2, 1, floor=300)])
    assert [a.amount_fen for a in result] == [700, 300]
    assert [a.bound for a in result] == ["", "floor"]


def test_fixing_a_floor_can_push_another_centre_under_its_own_floor() -> None:
    # 100 fen by 98:1:1: centres 2 and 3 are both under their floor of 30; fixing both
    # leaves 40 for centre 1.
    result = allocate(100, [share(1, 98), share(2, 1, floor=30), share(3, 1, floor=30)])
    assert [a.amount_fen for a in result] == [40, 30, 30]


def test_floors_and_caps_in_the_same_split() -> None:
    # 10,000 fen by 50:30:15:5; cap 4,000 on the first, floor 1,200 on the last.
    # First round: 5000/3000/1500/500 → over 1,000 at the cap, short 700 at the floor:
    # the cap is fixed first (E > D). Then 6,000 by 30:15:5 → 3600/1800/600: the floor
    # is fixed. Then 4,800 by 30:15 → 3200/1600.
    result = allocate(
        10000, [share(1, 50, cap=4000), share(2, 30), share(3, 15), share(4, 5, floor=1200)]
    )
    assert [a.amount_fen for a in result] == [4000, 3200, 1600, 1200]
    assert [a.bound for a in result] == ["cap", "", "", "floor"]


def test_remainder_fen_go_to_the_largest_fractions() -> None:
    # 100 fen by 1:1:1 → 33⅓ each; fractions and scores are equal, so the last fen goes to
    # the lowest region code (510103).
    result = allocate(100, [share(1, 1, code="510105"), share(2, 1, code="510104"), share(3, 1)])
    assert [a.amount_fen for a in result] == [33, 33, 34]
    # 1,000 fen by 2:2:1 → 400 each... 1,001 fen → 400.4, 400.4, 200.2: one fen to a .4.
    assert amounts(1001, [share(1, 2), share(2, 2), share(3, 1)]) == [401, 400, 200]


def test_equal_fractions_go_to_the_higher_score_then_the_lower_region_code() -> None:
    # 5 fen by 1:3:0 → 1.25 / 3.75 / 0: the one fen left goes to the .75.
    assert amounts(5, [share(1, 1), share(2, 3), share(3, 0)]) == [1, 4, 0]
    # 6 fen by 1:3 → 1.5 and 4.5: equal fractions, the fen goes to the higher score.
    assert amounts(6, [share(1, 1, code="510101"), share(2, 3, code="510199")]) == [1, 5]
    # 3 fen by 1:1 → 1.5 each: equal fractions and scores, the lower region code wins.
    assert amounts(3, [share(1, 1, code="510199"), share(2, 1, code="510101")]) == [1, 2]
    # A capped centre takes no remainder fen: 4 fen, the first capped at 1, the others
    # split 3 → 1.5 each and the lower code gets the fen.
    result = allocate(
        4, [share(1, 5, cap=1), share(2, 2, code="510150"), share(3, 2, code="510120")]
    )
    assert [a.amount_fen for a in result] == [1, 1, 2]


def test_all_scores_zero_split_the_rest_equally_with_the_same_rounding() -> None:
    result = allocate(1001, [share(1, 0, base=100), share(2, 0, base=200), share(3, 0)])
    # 701 left, 233⅔ each: 333/433/233 and two fen to the lowest codes (all fractions equal).
    assert [a.amount_fen for a in result] == [334, 434, 233]


def test_a_zero_score_centre_gets_its_base_or_floor_only() -> None:
    result = allocate(1000, [share(1, 0, base=100), share(2, 0, floor=50), share(3, 5)])
    assert [a.amount_fen for a in result] == [100, 50, 850]
    assert [a.bound for a in result] == ["", "floor", ""]


def test_one_centre_takes_the_whole_budget() -> None:
    assert amounts(12345, [share(1, 7, floor=100, cap=20000)]) == [12345]


def test_caps_that_exactly_cover_the_budget_fix_every_centre_at_its_cap() -> None:
    result = allocate(300, [share(1, 1, cap=100), share(2, 9, cap=200)])
    assert [a.amount_fen for a in result] == [100, 200]


def test_yuan_formats_fen_with_two_decimals() -> None:
    assert yuan(123456789) == "1,234,567.89"
    assert yuan(5) == "0.05"
    assert yuan(-150) == "-1.50"


# --- Refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "shares", "message"),
    [
        (100, [], "没有参与分配的服务中心"),
        (0, [share(1, 1)], "预算须大于 0（现为 0.00 元）"),
        (-100, [share(1, 1)], "预算须大于 0（现为 -1.00 元）"),
        (100, [share(1, 1), share(1, 2)], "服务中心 510101 重复出现"),
        (100, [share(1, -1)], "服务中心 510101 的得分 -1 无效：得分不能为负"),
        (100, [share(1, "NaN")], "服务中心 510101 的得分 NaN 无效：得分不能为负"),
        (100, [share(1, 1, base=-1)], "服务中心 510101 的基础额为 -0.01 元：金额不能为负"),
        (100, [share(1, 1, floor=-5)], "服务中心 510101 的下限为 -0.05 元：金额不能为负"),
        (100, [share(1, 1, cap=-5)], "服务中心 510101 的上限为 -0.05 元：金额不能为负"),
        (
            100,
            [share(1, 1, base=60, cap=50)],
            "服务中心 510101 的基础额 0.60 元高于其上限 0.50 元",
        ),
        (
            100,
            [share(1, 1, floor=60, cap=50)],
            "服务中心 510101 的下限 0.60 元高于其上限 0.50 元",
        ),
        (
            100000,
            [share(1, 1, floor=60000), share(2, 1, base=50000)],
            "各中心的下限（不低于基础额）合计 1,100.00 元，超过预算 1,000.00 元："
            "请降低下限或基础额，或增加预算",
        ),
        (
            100000,
            [share(1, 1, cap=30000), share(2, 0, cap=30000)],
            "各中心的上限合计 600.00 元，不足预算 1,000.00 元："
            "全部封顶后仍有余额，请提高上限或减少预算",
        ),
        (
            100000,
            [share(1, 1, cap=30000), share(2, 0, floor=100)],
            "得分为正的中心全部封顶、得分为 0 的中心只得下限，合计 301.00 元，"
            "不足预算 1,000.00 元：请提高上限或减少预算",
        ),
    ],
)
def test_infeasible_inputs_are_refused_with_the_numbers(
    budget: int, shares: list[Share], message: str
) -> None:
    with pytest.raises(AllocationInfeasible) as refused:
        allocate(budget, shares)
    assert str(refused.value) == message


# --- Properties -----------------------------------------------------------------------------


def reference_exact(budget: int, shares: list[Share]) -> list[Fraction] | None:
    """The exact amounts by walking the water level's breakpoints, or None when the formula
    has no solution. Written independently of the allocator."""
    if not shares or budget <= 0:
        return None
    for s in shares:
        if s.score < 0 or s.base_fen < 0 or s.floor_fen < 0:
            return None
        if s.cap_fen is not None and (s.cap_fen < s.base_fen or s.cap_fen < s.floor_fen):
            return None
    if len({s.centre_id for s in shares}) != len(shares):
        return None
    equal = all(s.score == 0 for s in shares)
    w = [Fraction(1) if equal else Fraction(s.score) for s in shares]
    lo = [Fraction(max(s.base_fen, s.floor_fen)) for s in shares]
    hi = [None if s.cap_fen is None else Fraction(s.cap_fen) for s in shares]

    def at(level: Fraction) -> list[Fraction]:
        out = []
        for s, wi, low, high in zip(shares, w, lo, hi, strict=True):
            value = max(s.base_fen + level * wi, low)
            out.append(value if high is None else min(value, high))
        return out

    points = {Fraction(0)}
    for s, wi, low, high in zip(shares, w, lo, hi, strict=True):
        if wi > 0:
            points.add((low - s.base_fen) / wi)
            if high is not None:
                points.add((high - s.base_fen) / wi)
    ordered = sorted(points)
    if sum(at(ordered[0])) > budget:
        return None
    for left, right in pairwise(ordered):
        g_left, g_right = sum(at(left)), sum(at(right))
        if g_left <= budget <= g_right:
            if g_right == g_left:
                return at(left)
            return at(left + (right - left) * (budget - g_left) / (g_right - g_left))
    last = ordered[-1]
    rising = sum(wi for wi, high in zip(w, hi, strict=True) if wi > 0 and high is None)
    if sum(at(last)) == budget:
        return at(last)
    if rising == 0:
        return None
    # Past the last breakpoint only uncapped centres grow, each at its weight.
    return at(last + (budget - sum(at(last))) / rising)


scores = st.one_of(
    st.just(Decimal(0)),
    st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False),
)
fen = st.integers(min_value=0, max_value=2_000_000)


@st.composite
def share_lists(draw: st.DrawFn, *, valid: bool) -> list[Share]:
    n = draw(st.integers(min_value=1 if valid else 0, max_value=8))
    codes = draw(st.lists(st.integers(0, 9999), min_size=n, max_size=n, unique=True))
    out = []
    for i in range(n):
        base = draw(st.one_of(st.just(0), fen))
        floor = draw(st.one_of(st.just(0), fen))
        cap = draw(st.one_of(st.none(), fen))
        score = draw(scores)
        if valid and cap is not None:
            cap = max(cap, base, floor)
        if not valid and draw(st.booleans()):
            base, floor = base * draw(st.sampled_from([1, -1])), floor
            score = score * draw(st.sampled_from([1, -1]))
            cap = None if cap is None else cap * draw(st.sampled_from([1, -1]))
        code = f"51{codes[i]:04d}"
        out.append(
            Share(
                centre_id=i + 1, code=code, score=score, base_fen=base, floor_fen=floor, cap_fen=cap
            )
        )
    return out


@settings(max_examples=400, deadline=None)
@given(budget=st.integers(min_value=1, max_value=20_000_000), shares=share_lists(valid=True))
def test_every_answer_sums_to_the_budget_within_bounds_and_matches_the_formula(
    budget: int, shares: list[Share]
) -> None:
    exact = reference_exact(budget, shares)
    try:
        result = allocate(budget, shares)
    except AllocationInfeasible:
        assert exact is None
        return
    assert exact is not None, "the allocator answered where the formula has no solution"
    assert sum(a.amount_fen for a in result) == budget
    for s, a, x in zip(shares, result, exact, strict=True):
        assert a.centre_id == s.centre_id
        assert a.amount_fen >= max(s.floor_fen, s.base_fen)
        if s.cap_fen is not None:
            assert a.amount_fen <= s.cap_fen
        assert x - 1 < a.amount_fen < x + 1
        if a.bound == "floor":
            assert a.amount_fen == s.floor_fen
        if a.bound == "cap":
            assert a.amount_fen == s.cap_fen


@settings(max_examples=300, deadline=None)
@given(budget=st.integers(min_value=1, max_value=20_000_000), shares=share_lists(valid=True))
def test_a_higher_score_never_gets_less_proportional_money_among_unbounded_centres(
    budget: int, shares: list[Share]
) -> None:
    try:
        result = allocate(budget, shares)
    except AllocationInfeasible:
        return
    free = [a for a in result if a.bound == ""]
    for a in free:
        for b in free:
            if a.score > b.score:
                assert a.amount_fen - a.base_fen >= b.amount_fen - b.base_fen


@settings(max_examples=400, deadline=None)
@given(budget=st.integers(min_value=-1000, max_value=5_000_000), shares=share_lists(valid=False))
def test_infeasible_inputs_always_raise_and_feasible_ones_never_do(
    budget: int, shares: list[Share]
) -> None:
    exact = reference_exact(budget, shares)
    if exact is None:
        with pytest.raises(AllocationInfeasible):
            allocate(budget, shares)
    else:
        result = allocate(budget, shares)
        assert sum(a.amount_fen for a in result) == budget


@settings(max_examples=200, deadline=None)
@given(
    budget=st.integers(min_value=1, max_value=1_000_000),
    shares=share_lists(valid=True),
    order=st.randoms(use_true_random=False),
)
def test_the_order_of_the_centres_does_not_change_anyones_amount(
    budget: int, shares: list[Share], order: object
) -> None:
    try:
        first = {a.centre_id: a.amount_fen for a in allocate(budget, shares)}
    except AllocationInfeasible:
        return
    shuffled = list(shares)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    assert {a.centre_id: a.amount_fen for a in allocate(budget, shuffled)} == first
