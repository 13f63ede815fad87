"""The scoring formula (`kejiyun/performance/scoring.py`) on small examples computed by hand in
the comments: every normalisation, both directions, ties, missing values, rounding and the
refusals. No database."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kejiyun.performance.models import Normalisation
from kejiyun.performance.scoring import (
    CentreMeasures,
    ItemSpec,
    Measure,
    SchemeError,
    fmt,
    score,
)

T, M, R = Normalisation.TARGET, Normalisation.MINMAX, Normalisation.RANK


def item(
    key: str, weight: str, norm: Normalisation, target: str | None = None, better: int = 1
) -> ItemSpec:
    return ItemSpec(key, key, D(weight), norm, D(target) if target is not None else None, better)


def m(net: str | None, raw: str | None = None, discount: str = "0", note: str = "") -> Measure:
    return Measure(
        raw=D(raw) if raw is not None else (D(net) if net is not None else None),
        discount=D(discount),
        net=D(net) if net is not None else None,
        discount_note=note,
    )


def centre(cid: int, code: str, **measures: Measure) -> CentreMeasures:
    return CentreMeasures(cid, code, f"中心{cid}", measures)


def by_code(scores: list) -> dict[str, object]:  # type: ignore[type-arg]
    return {s.code: s for s in scores}


def test_target_higher_is_better_with_a_discount_and_a_cap() -> None:
    # cases_closed, weight 20, target 100.
    # A: net 112 (raw 120 - 8) → 112/100 = 1.12, capped at 1 → 20 × 1 = 20.00
    # B: net 45 → 0.45 → 20 × 0.45 = 9.00
    # C: net 0 → 0 → 0.00
    items = [item("cases_closed", "20", T, "100")]
    scores = score(
        items,
        [
            centre(1, "510104", cases_closed=m("112", "120", "8", "扣除已确认空壳结案 8 件")),
            centre(2, "510105", cases_closed=m("45")),
            centre(3, "510106", cases_closed=m("0")),
        ],
    )
    assert [(s.code, s.total, s.rank) for s in scores] == [
        ("510104", D("20.00"), 1),
        ("510105", D("9.00"), 2),
        ("510106", D("0.00"), 3),
    ]
    line = scores[0].lines[0]
    assert (line.raw, line.discount, line.net, line.normalised) == (D(120), D(8), D(112), D(1))
    assert line.how == (
        "结案 112 件（原始 120 件，扣除已确认空壳结案 8 件）÷ 目标 100 件 = 1.12，封顶 1，"
        "得 20.00 × 1 = 20.00 分"
    )
    assert scores[1].lines[0].how == "结案 45 件 ÷ 目标 100 件 = 0.45，得 20.00 × 0.45 = 9.00 分"


def test_target_lower_is_better() -> None:
    # escalations (better = -1), weight 10, target 4.
    # A: 3 ≤ 4 → 1 → 10.00; B: 4 ≤ 4 → 1 → 10.00; C: 8 → 4/8 = 0.5 → 5.00
    # D: 6 → 4/6 = 0.6667 (half up to 4 places) → 10 × 0.6667 = 6.667 → 6.67
    items = [item("escalations", "10", T, "4", better=-1)]
    scores = by_code(
        score(
            items,
            [
                centre(1, "A", escalations=m("3")),
                centre(2, "B", escalations=m("4")),
                centre(3, "C", escalations=m("8")),
                centre(4, "D", escalations=m("6")),
            ],
        )
    )
    assert scores["A"].total == D("10.00")  # type: ignore[attr-defined]
    assert scores["B"].total == D("10.00")  # type: ignore[attr-defined]
    assert scores["C"].total == D("5.00")  # type: ignore[attr-defined]
    assert scores["D"].lines[0].normalised == D("0.6667")  # type: ignore[attr-defined]
    assert scores["D"].total == D("6.67")  # type: ignore[attr-defined]
    # A and B share rank 1; D is 3rd, C 4th.
    assert [scores[c].rank for c in "ABDC"] == [1, 1, 3, 4]  # type: ignore[attr-defined]
    assert "不高于目标 4 次（越低越好），计 1" in scores["A"].lines[0].how  # type: ignore[attr-defined]
    assert "目标 4 次 ÷ 6 = 0.6667" in scores["D"].lines[0].how  # type: ignore[attr-defined]


def test_target_zero_for_lower_is_better() -> None:
    # unowned_cases target 0, weight 5: 0 → 1 → 5.00; 2 → 0 → 0.00
    items = [item("unowned_cases", "5", T, "0", better=-1)]
    scores = by_code(
        score(items, [centre(1, "A", unowned_cases=m("0")), centre(2, "B", unowned_cases=m("2"))])
    )
    assert scores["A"].total == D("5.00")  # type: ignore[attr-defined]
    assert scores["B"].total == D("0.00")  # type: ignore[attr-defined]
    assert "目标为 0 而实际不为 0" in scores["B"].lines[0].how  # type: ignore[attr-defined]


def test_minmax_both_directions_and_missing_values() -> None:
    # satisfaction_mean (higher better) weight 30 over A 4.8, B 4.2, C 3.6, D none:
    #   A (4.8-3.6)/(4.8-3.6) = 1 → 30.00; B (4.2-3.6)/1.2 = 0.5 → 15.00; C 0 → 0.00;
    #   D has no value → 0.00, not counted in min/max.
    # escalations (lower better) weight 10 over A 2, B 5, C 8, D 5:
    #   A (8-2)/(8-2) = 1 → 10.00; B and D (8-5)/6 = 0.5 → 5.00; C 0 → 0.00
    # Totals: A 40.00, B 20.00, D 5.00, C 0.00
    items = [item("satisfaction_mean", "30", M), item("escalations", "10", M, better=-1)]
    scores = score(
        items,
        [
            centre(1, "A", satisfaction_mean=m("4.8"), escalations=m("2")),
            centre(2, "B", satisfaction_mean=m("4.2"), escalations=m("5")),
            centre(3, "C", satisfaction_mean=m("3.6"), escalations=m("8")),
            centre(4, "D", satisfaction_mean=m(None), escalations=m("5")),
        ],
    )
    assert [(s.code, s.total, s.rank) for s in scores] == [
        ("A", D("40.00"), 1),
        ("B", D("20.00"), 2),
        ("D", D("5.00"), 3),
        ("C", D("0.00"), 4),
    ]
    b = by_code(scores)["B"]
    assert b.lines[0].how == (  # type: ignore[attr-defined]
        "满意度均分 4.20 分，同级最低 3.60、最高 4.80：(4.20 − 3.60) ÷ (4.80 − 3.60) = 0.50，"
        "得 30.00 × 0.50 = 15.00 分"
    )
    assert "越低越好，同级最低 2、最高 8：(8 − 5) ÷ (8 − 2)" in b.lines[1].how  # type: ignore[attr-defined]
    d = by_code(scores)["D"]
    assert d.lines[0].net is None and d.lines[0].points == D(0)  # type: ignore[attr-defined]
    assert d.lines[0].how == "满意度均分：本期没有可计算的记录，无数值，本项得 0 分"  # type: ignore[attr-defined]


def test_minmax_all_equal_scores_one() -> None:
    items = [item("cases_closed", "10", M)]
    scores = score(
        items, [centre(1, "A", cases_closed=m("7")), centre(2, "B", cases_closed=m("7"))]
    )
    assert [s.total for s in scores] == [D("10.00"), D("10.00")]
    assert [s.rank for s in scores] == [1, 1]
    assert "同级各中心数值相同（7），计 1" in scores[0].lines[0].how


def test_rank_with_ties_both_directions() -> None:
    # cases_opened (higher better) weight 12 over A 10, B 8, C 8, D 2 (n = 4):
    #   A beats 3 → 3/3 = 1 → 12.00; B and C tie and beat only D → 1/3 = 0.3333 → 3.9996
    #   → 4.00; D beats nobody → 0.00
    # first_response_hours (median, lower better) weight 9 over A 3, B 1, C none, D 5 (n = 3):
    #   B beats 2 → 1 → 9.00; A beats D → 1/2 = 0.5 → 4.50; D 0 → 0.00; C none → 0.00
    # Totals: A 16.50, B 13.00, C 4.00, D 0.00
    items = [item("cases_opened", "12", R), item("first_response_hours", "9", R, better=-1)]
    scores = score(
        items,
        [
            centre(1, "A", cases_opened=m("10"), first_response_hours=m("3")),
            centre(2, "B", cases_opened=m("8"), first_response_hours=m("1")),
            centre(3, "C", cases_opened=m("8"), first_response_hours=m(None)),
            centre(4, "D", cases_opened=m("2"), first_response_hours=m("5")),
        ],
    )
    assert [(s.code, s.total, s.rank) for s in scores] == [
        ("A", D("16.50"), 1),
        ("B", D("13.00"), 2),
        ("C", D("4.00"), 3),
        ("D", D("0.00"), 4),
    ]
    c = by_code(scores)["C"]
    assert c.lines[0].how == (  # type: ignore[attr-defined]
        "立案 8 件，在 4 个有数值的中心中排第 2，排在其后的有 1 个：1 ÷ (4 − 1) = 0.3333，"
        "得 12.00 × 0.3333 = 4.00 分"
    )
    assert c.lines[1].how == "首次响应时长中位数：本期没有样本，无数值，本项得 0 分"  # type: ignore[attr-defined]


def test_rank_gives_nothing_to_a_crowd_tied_at_the_bottom() -> None:
    # contract_amount weight 10 over 6 centres: A 50000, B 20000, C..F 0 (n = 6).
    #   A beats 5 → 1 → 10.00; B beats 4 → 0.8 → 8.00; C..F beat nobody → 0.00
    # (a shared competition rank would have put C..F 3rd: (6-3)/5 = 0.6 → 6.00 each for 0 yuan)
    # All equal: everyone 1.
    items = [item("contract_amount", "10", R)]
    values = {"A": "50000", "B": "20000", "C": "0", "D": "0", "E": "0", "F": "0"}
    scores = by_code(
        score(
            items, [centre(i, c, contract_amount=m(v)) for i, (c, v) in enumerate(values.items())]
        )
    )
    assert {c: s.total for c, s in scores.items()} == {  # type: ignore[attr-defined]
        "A": D("10.00"),
        "B": D("8.00"),
        "C": D("0.00"),
        "D": D("0.00"),
        "E": D("0.00"),
        "F": D("0.00"),
    }
    flat = score(items, [centre(i, c, contract_amount=m("7")) for i, c in enumerate("XYZ")])
    assert [s.total for s in flat] == [D("10.00")] * 3
    assert "同级各中心数值相同（7），计 1" in flat[0].lines[0].how


def test_rank_with_one_centre_and_a_missing_measure() -> None:
    items = [item("cases_opened", "5", R)]
    # B has no measure at all for the item: it counts as no value.
    scores = score(items, [centre(1, "A", cases_opened=m("3")), centre(2, "B")])
    assert [(s.code, s.total) for s in scores] == [("A", D("5.00")), ("B", D("0.00"))]
    assert "仅 1 个中心有数值，计 1" in scores[0].lines[0].how


def test_equal_totals_share_a_rank_and_list_by_region_code() -> None:
    # All three 50/100 = 0.5 × 10 = 5.00 except C 100 → 10.00: C 1st, then A and B share 2.
    items = [item("cases_closed", "10", T, "100")]
    scores = score(
        items,
        [
            centre(2, "510105", cases_closed=m("50")),
            centre(1, "510104", cases_closed=m("50")),
            centre(3, "510106", cases_closed=m("100")),
        ],
    )
    assert [(s.code, s.rank) for s in scores] == [("510106", 1), ("510104", 2), ("510105", 2)]


def test_rounding_is_half_up_at_each_step() -> None:
    # weight 33.33, target 3, net 1 → 1/3 = 0.33333 → 0.3333 → 33.33 × 0.3333 = 11.108889
    #   → 11.11. net 2 → 0.66667 → 0.6667 → 22.221111 → 22.22.
    # weight 10, target 8, net 1 → 0.125 exactly → 1.25; target 16, net 1 → 0.0625 → 0.63
    # (0.625 half up), not 0.62 as banker's rounding would give.
    items = [item("cases_closed", "33.33", T, "3"), item("cases_opened", "10", T, "16")]
    scores = by_code(
        score(
            items,
            [
                centre(1, "A", cases_closed=m("1"), cases_opened=m("1")),
                centre(2, "B", cases_closed=m("2"), cases_opened=m("0")),
            ],
        )
    )
    a, b = scores["A"], scores["B"]
    assert [ln.points for ln in a.lines] == [D("11.11"), D("0.63")]  # type: ignore[attr-defined]
    assert a.total == D("11.74")  # type: ignore[attr-defined]
    assert b.lines[0].points == D("22.22")  # type: ignore[attr-defined]
    assert b.total == D("22.22")  # type: ignore[attr-defined]


def test_shares_are_written_as_percentages() -> None:
    items = [item("closed_on_time_share", "10", T, "90")]
    scores = score(items, [centre(1, "A", closed_on_time_share=m("85.50"))])
    assert scores[0].lines[0].how.startswith("按时结案率 85.50% ÷ 目标 90% = 0.95")
    assert scores[0].total == D("9.50")


def test_a_negative_net_counts_as_zero_against_a_target() -> None:
    items = [item("cases_closed", "10", T, "5")]
    assert score(items, [centre(1, "A", cases_closed=m("-1"))])[0].total == D("0.00")


def test_a_discount_without_a_note_says_how_much() -> None:
    items = [item("cases_closed", "10", T, "5")]
    line = score(items, [centre(1, "A", cases_closed=m("3", "5", "2"))])[0].lines[0]
    assert line.how.startswith("结案 3 件（原始 5 件，扣除 2 件）÷")
    odd = Measure(raw=None, discount=D(2), net=D(3))
    line = score(items, [centre(1, "A", cases_closed=odd)])[0].lines[0]
    assert "原始 无" in line.how


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "方案没有考核指标"),
        ([item("nope", "10", T, "1")], "不在指标目录中"),
        ([item("cases_closed", "10", T, "1"), item("cases_closed", "5", M)], "重复出现"),
        ([item("cases_closed", "0", M)], "权重须大于 0"),
        ([item("cases_closed", "-1", M)], "权重须大于 0"),
        ([item("demands_returned", "10", M, better=0)], "没有优劣方向"),
        ([item("cases_closed", "10", T)], "请填写目标值"),
        ([item("cases_closed", "10", T, "0")], "目标值须大于 0"),
        ([item("escalations", "10", T, "-1", better=-1)], "目标值不能小于 0"),
    ],
)
def test_refusals(items: list[ItemSpec], message: str) -> None:
    with pytest.raises(SchemeError, match=message):
        score(items, [centre(1, "A")])


def test_fmt() -> None:
    assert fmt(D("20")) == "20"
    assert fmt(D("20.00")) == "20"
    assert fmt(D("4.5")) == "4.50"
    assert fmt(D("0.6667")) == "0.6667"
    assert fmt(D("0.123456")) == "0.1235"
