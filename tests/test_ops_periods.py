"""Periods (统计期): reading and writing tokens, the period before, the same period last year,
and how a period splits into whole months and loose days for the rollup reads."""

from datetime import date

import pytest

from kejiyun.ops.periods import MAX_CUSTOM_DAYS, Period, PeriodError, PeriodKind


@pytest.mark.parametrize(
    ("token", "kind", "start", "end", "label"),
    [
        ("2026-05", PeriodKind.MONTH, date(2026, 5, 1), date(2026, 5, 31), "2026年5月"),
        ("2024-02", PeriodKind.MONTH, date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
        ("2026Q2", PeriodKind.QUARTER, date(2026, 4, 1), date(2026, 6, 30), "2026年第2季度"),
        ("2026H1", PeriodKind.HALF, date(2026, 1, 1), date(2026, 6, 30), "2026年上半年"),
        ("2026H2", PeriodKind.HALF, date(2026, 7, 1), date(2026, 12, 31), "2026年下半年"),
        ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31), "2026年"),
        (
            "2026-01-05~2026-02-10",
            PeriodKind.CUSTOM,
            date(2026, 1, 5),
            date(2026, 2, 10),
            "2026-01-05 至 2026-02-10",
        ),
    ],
)
def test_a_token_reads_as_its_period_and_writes_back_the_same(
    token: str, kind: PeriodKind, start: date, end: date, label: str
) -> None:
    period = Period.parse(token)
    assert (period.kind, period.start, period.end, period.label) == (kind, start, end, label)
    assert Period.parse(period.token) == period


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "无法识别的统计期"),
        ("2026Q5", "无法识别的统计期"),
        ("last year", "无法识别的统计期"),
        ("2026-13", "日期无效"),
        ("2026-02-30~2026-03-01", "日期无效"),
        ("2026-03-01~2026-02-01", "结束日期不能早于开始日期"),
        ("2020-01-01~2026-01-01", f"最长 {MAX_CUSTOM_DAYS} 天"),
        ("0001", "统计期须在 2000 年至 2100 年之间"),
        ("1999H2", "统计期须在 2000 年至 2100 年之间"),
        ("9999-12", "统计期须在 2000 年至 2100 年之间"),
    ],
)
def test_a_token_that_cannot_be_read_is_refused_in_chinese(token: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        Period.parse(token)


@pytest.mark.parametrize(
    ("token", "previous", "last_year"),
    [
        ("2026-01", "2025-12", "2025-01"),
        ("2026-03", "2026-02", "2025-03"),
        ("2026Q1", "2025Q4", "2025Q1"),
        ("2026H1", "2025H2", "2025H1"),
        ("2026H2", "2026H1", "2025H2"),
        ("2026", "2025", "2025"),
        ("2026-01-05~2026-01-14", "2025-12-26~2026-01-04", "2025-01-05~2025-01-14"),
        ("2024-02-29~2024-03-02", "2024-02-26~2024-02-28", "2023-02-28~2023-03-02"),
    ],
)
def test_the_period_before_and_the_same_period_last_year(
    token: str, previous: str, last_year: str
) -> None:
    period = Period.parse(token)
    assert period.previous().token == previous
    assert period.last_year().token == last_year


def test_the_period_containing_a_day() -> None:
    day = date(2026, 8, 17)
    assert [Period.containing(kind, day).token for kind in list(PeriodKind)[:4]] == [
        "2026-08",
        "2026Q3",
        "2026H2",
        "2026",
    ]
    with pytest.raises(PeriodError, match="自定义"):
        Period.containing(PeriodKind.CUSTOM, day)


def test_a_period_splits_into_whole_months_and_the_days_around_them() -> None:
    period = Period.parse("2026-01-30~2026-04-02")
    assert period.days == 63
    assert period.months() == [date(2026, 2, 1), date(2026, 3, 1)]
    assert period.loose_days() == [
        date(2026, 1, 30),
        date(2026, 1, 31),
        date(2026, 4, 1),
        date(2026, 4, 2),
    ]
    assert len(period.each_day()) == 63


def test_a_year_is_twelve_whole_months_and_no_loose_day() -> None:
    period = Period.parse("2025")
    assert len(period.months()) == 12
    assert period.loose_days() == []


def test_a_range_inside_one_month_is_all_loose_days() -> None:
    period = Period.parse("2026-05-03~2026-05-09")
    assert period.months() == []
    assert len(period.loose_days()) == 7
