"""Working time: which days are working days in China, and adding working hours to a moment.

Working days come from the `chinese_calendar` package: Monday to Friday, less the official
public holidays, plus the weekend days swapped into working days (调休), as the State
Council's notice of each year sets them. A working day has `WORKDAY_HOURS` (09:00–17:00,
Beijing time, 8 hours); time outside them, on weekends and on holidays does not count.

The State Council publishes a year's holidays late in the year before, so the package
always knows up to some last year. A day in the year right after it counts Monday to Friday
(its holidays are not known yet; upgrade `chinese-calendar` when they are). A day further
out, or before the package's first year, is refused with `WorkCalendarUnknown` (a
`ValueError` whose message says which years are known), never silently guessed.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]

BEIJING = ZoneInfo("Asia/Shanghai")
# The working hours of a working day, Beijing time: [start, end).
WORKDAY_START = time(9, 0)
WORKDAY_END = time(17, 0)
WORKDAY_HOURS = 8


class WorkCalendarUnknown(ValueError):
    """A day lies outside the years the working calendar knows."""


@cache
def known_years() -> tuple[int, int]:
    """The first and last year whose holidays and swapped working days the package has."""
    days = [*chinese_calendar.holidays, *chinese_calendar.workdays]
    return min(days).year, max(days).year


def is_working_day(day: date) -> bool:
    """Whether `day` is a working day in China (holidays and 调休 included)."""
    first, last = known_years()
    if first <= day.year <= last:
        return bool(chinese_calendar.is_workday(day))
    if day.year == last + 1:
        return day.weekday() < 5
    raise WorkCalendarUnknown(
        f"工作日历只有 {first}–{last} 年的节假日安排，无法计算 {day.isoformat()} 的工作时间，"
        f"请升级 chinese-calendar。 (The working calendar knows holidays for {first}-{last} "
        f"only and cannot count working time on {day.isoformat()}: upgrade chinese-calendar.)"
    )


def _window(day: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, WORKDAY_START, tzinfo=BEIJING),
        datetime.combine(day, WORKDAY_END, tzinfo=BEIJING),
    )


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment `hours` working hours after `start` (an aware datetime).

    Counting starts at `start` if it lies within a working day's hours, otherwise at the
    start of the next one. The answer is in Beijing time.
    """
    left = timedelta(hours=hours)
    moment = start.astimezone(BEIJING)
    day = moment.date()
    # A year and a half of days is far more than any step needs; stop a runaway loop.
    for _ in range(550):
        if is_working_day(day):
            begin, end = _window(day)
            begin = max(begin, moment)
            if begin < end:
                if begin + left <= end:
                    return begin + left
                left -= end - begin
        day += timedelta(days=1)
        moment = datetime.combine(day, time(0, 0), tzinfo=BEIJING)
    raise WorkCalendarUnknown(f"无法在 {start.isoformat()} 之后加上 {hours} 个工作小时。")


def subtract_working_hours(end: datetime, hours: float) -> datetime:
    """The moment `hours` working hours before `end` (the inverse of `add_working_hours`)."""
    left = timedelta(hours=hours)
    moment = end.astimezone(BEIJING)
    day = moment.date()
    for _ in range(550):
        if is_working_day(day):
            begin, finish = _window(day)
            finish = min(finish, moment)
            if begin < finish:
                if finish - left >= begin:
                    return finish - left
                left -= finish - begin
        day -= timedelta(days=1)
        moment = datetime.combine(day, WORKDAY_END, tzinfo=BEIJING)
    raise WorkCalendarUnknown(f"无法在 {end.isoformat()} 之前减去 {hours} 个工作小时。")


def working_time_between(start: datetime, end: datetime) -> timedelta:
    """The working time between two moments (zero when `end` is not after `start`)."""
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    first, last = start.astimezone(BEIJING), end.astimezone(BEIJING)
    day = first.date()
    while day <= last.date():
        if is_working_day(day):
            begin, finish = _window(day)
            begin, finish = max(begin, first), min(finish, last)
            if begin < finish:
                total += finish - begin
        day += timedelta(days=1)
    return total
