"""The dashboard's query string read at the edge: the period (a token, or the picker's
fields) and the indicator. Nothing here fails: a bad value gives the default and a message in
Chinese for the page to show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from kejiyun.ops.indicators import BY_KEY, Indicator
from kejiyun.ops.periods import Period, PeriodError, PeriodKind

DEFAULT_INDICATOR = "cases_opened"


def default_period(today: date) -> Period:
    """The year so far (1 January to today): the figures a centre is judged on build up over
    the year, and against the same days of last year the comparison is fair even early in the
    year; a current month, quarter or half-year would compare a few days against a whole
    period before it."""
    return Period.custom(date(today.year, 1, 1), today)


@dataclass
class Params:
    period: Period
    indicator: Indicator
    errors: list[str] = field(default_factory=list)
    # True when the period came from the picker's fields: the view redirects to the token.
    from_picker: bool = False


def _int(query: Mapping[str, str], name: str, low: int, high: int) -> int:
    raw = (query.get(name) or "").strip()
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise PeriodError(f"统计期的{_FIELD_NAMES[name]}无效")
    return int(raw)


_FIELD_NAMES = {"year": "年份", "month": "月份", "quarter": "季度", "half": "半年"}


def _from_picker(query: Mapping[str, str]) -> Period:
    try:
        kind = PeriodKind(query.get("kind", ""))
    except ValueError:
        raise PeriodError("请选择统计期的类型：月、季度、半年、年或自定义") from None
    if kind == PeriodKind.CUSTOM:
        start, end = (query.get("from") or "").strip(), (query.get("to") or "").strip()
        if not start or not end:
            raise PeriodError("自定义统计期需要开始和结束日期")
        return Period.parse(f"{start}~{end}")
    year = _int(query, "year", 2000, 2100)
    if kind == PeriodKind.MONTH:
        return Period.month(year, _int(query, "month", 1, 12))
    if kind == PeriodKind.QUARTER:
        return Period.quarter(year, _int(query, "quarter", 1, 4))
    if kind == PeriodKind.HALF:
        return Period.half(year, _int(query, "half", 1, 2))
    return Period.year(year)


def read_params(query: Mapping[str, str], today: date) -> Params:
    """The period and indicator a dashboard request asks for, or the defaults with the reason."""
    errors: list[str] = []
    period = default_period(today)
    from_picker = False
    try:
        if query.get("kind"):
            period = _from_picker(query)
            from_picker = True
        elif query.get("period"):
            period = Period.parse(query["period"])
    except PeriodError as exc:
        errors.append(f"{exc}；已改为显示{period.label}。")
    key = (query.get("indicator") or "").strip()
    if key and key not in BY_KEY:
        errors.append(f"没有这个指标：{key[:40]}；已改为显示{BY_KEY[DEFAULT_INDICATOR].name}。")
        key = ""
    return Params(period, BY_KEY[key or DEFAULT_INDICATOR], errors, from_picker)
