"""Periods (统计期): a month, quarter, half-year, year or custom range of days, with the
period before it and the same period a year earlier, read from and written to query strings.

Dates are Beijing dates (Asia/Shanghai): a day is a Beijing calendar day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class PeriodError(ValueError):
    """A period that cannot be read; the message is for the user, in Chinese."""


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"
    CUSTOM = "custom"


KIND_NAMES = {
    PeriodKind.MONTH: "月",
    PeriodKind.QUARTER: "季度",
    PeriodKind.HALF: "半年",
    PeriodKind.YEAR: "年",
    PeriodKind.CUSTOM: "自定义",
}

# A custom range may not be longer than this (a dashboard over decades is a mistake).
MAX_CUSTOM_DAYS = 3 * 366
# Years a period read from a query string may fall in: the platform has no records before,
# and the period before it and the same period last year must stay inside the calendar.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: date
    end: date  # inclusive

    # --- construction -----------------------------------------------------------------

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(PeriodKind.MONTH, date(year, month, 1), _month_end(year, month))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = 3 * (quarter - 1) + 1
        return cls(PeriodKind.QUARTER, date(year, first, 1), _month_end(year, first + 2))

    @classmethod
    def half(cls, year: int, half: int) -> Period:
        first = 1 if half == 1 else 7
        return cls(PeriodKind.HALF, date(year, first, 1), _month_end(year, first + 5))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def custom(cls, start: date, end: date) -> Period:
        if end < start:
            raise PeriodError("结束日期不能早于开始日期")
        if (end - start).days + 1 > MAX_CUSTOM_DAYS:
            raise PeriodError(f"自定义统计期最长 {MAX_CUSTOM_DAYS} 天")
        return cls(PeriodKind.CUSTOM, start, end)

    @classmethod
    def containing(cls, kind: PeriodKind, day: date) -> Period:
        """The month, quarter, half-year or year that `day` falls in."""
        if kind == PeriodKind.MONTH:
            return cls.month(day.year, day.month)
        if kind == PeriodKind.QUARTER:
            return cls.quarter(day.year, (day.month - 1) // 3 + 1)
        if kind == PeriodKind.HALF:
            return cls.half(day.year, 1 if day.month <= 6 else 2)
        if kind == PeriodKind.YEAR:
            return cls.year(day.year)
        raise PeriodError("自定义统计期需要开始和结束日期")

    # --- text --------------------------------------------------------------------------

    @property
    def token(self) -> str:
        """The period as written in a query string: 2026-05, 2026Q2, 2026H1, 2026, or
        2026-01-05~2026-02-10."""
        if self.kind == PeriodKind.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == PeriodKind.HALF:
            return f"{self.start.year}H{1 if self.start.month == 1 else 2}"
        if self.kind == PeriodKind.YEAR:
            return f"{self.start.year}"
        return f"{self.start.isoformat()}~{self.end.isoformat()}"

    @property
    def label(self) -> str:
        """The period in Chinese: 2026年5月, 2026年第2季度, 2026年上半年, 2026年, or a range."""
        if self.kind == PeriodKind.MONTH:
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        if self.kind == PeriodKind.HALF:
            return f"{self.start.year}年{'上' if self.start.month == 1 else '下'}半年"
        if self.kind == PeriodKind.YEAR:
            return f"{self.start.year}年"
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    @classmethod
    def parse(cls, token: str) -> Period:
        """Read a period token (see `token`); PeriodError with a Chinese message otherwise,
        also for a period outside FIRST_YEAR..LAST_YEAR."""
        period = cls._read(token)
        if not (period.start.year >= FIRST_YEAR and period.end.year <= LAST_YEAR):
            raise PeriodError(f"统计期须在 {FIRST_YEAR} 年至 {LAST_YEAR} 年之间")
        return period

    @classmethod
    def _read(cls, token: str) -> Period:
        text = (token or "").strip()
        try:
            if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
                return cls.month(int(m[1]), int(m[2]))
            if m := re.fullmatch(r"(\d{4})Q([1-4])", text, flags=re.IGNORECASE):
                return cls.quarter(int(m[1]), int(m[2]))
            if m := re.fullmatch(r"(\d{4})H([12])", text, flags=re.IGNORECASE):
                return cls.half(int(m[1]), int(m[2]))
            if m := re.fullmatch(r"(\d{4})", text):
                return cls.year(int(m[1]))
            if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*~\s*(\d{4}-\d{2}-\d{2})", text):
                return cls.custom(date.fromisoformat(m[1]), date.fromisoformat(m[2]))
        except ValueError as exc:
            if isinstance(exc, PeriodError):
                raise
            raise PeriodError("统计期中的日期无效") from exc
        raise PeriodError("无法识别的统计期，例如 2026-05、2026Q2、2026H1、2026")

    # --- arithmetic --------------------------------------------------------------------

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def previous(self) -> Period:
        """The period of the same kind just before this one (a custom range: the same number
        of days just before it)."""
        if self.kind == PeriodKind.CUSTOM:
            end = self.start - timedelta(days=1)
            return Period(self.kind, end - timedelta(days=self.days - 1), end)
        months = {
            PeriodKind.MONTH: 1,
            PeriodKind.QUARTER: 3,
            PeriodKind.HALF: 6,
            PeriodKind.YEAR: 12,
        }[self.kind]
        start = _shift_months(self.start, -months)
        return Period.containing(self.kind, start)

    def last_year(self) -> Period:
        """The same period one year earlier (29 February becomes 28 February)."""
        if self.kind == PeriodKind.CUSTOM:
            return Period(self.kind, _shift_months(self.start, -12), _shift_months(self.end, -12))
        return Period.containing(self.kind, _shift_months(self.start, -12))

    def months(self) -> list[date]:
        """First days of the calendar months that lie wholly inside the period."""
        out: list[date] = []
        day = date(self.start.year, self.start.month, 1)
        if day < self.start:
            day = _shift_months(day, 1)
        while _month_end(day.year, day.month) <= self.end:
            out.append(day)
            day = _shift_months(day, 1)
        return out

    def loose_days(self) -> list[date]:
        """The days of the period outside the whole months `months` covers."""
        whole = {(m.year, m.month) for m in self.months()}
        return [d for d in self.each_day() if (d.year, d.month) not in whole]
