"""Writes of the rollups: day rows computed from raw records, month rows summed from day rows,
the incremental job that keeps them current, and the check that they still agree.

- `rollup_days(start=, end=)` recomputes the day rows of those days for every indicator and
  centre (rows only where there is something: a count above zero, a ratio with a denominator,
  a median with samples), then rebuilds the month rows of every month it touched from the
  day rows. Each month's days are replaced in one transaction, so a reader never sees a
  half-written month and a run that stops half-way leaves whole months behind.
- `rollup_refresh(now=)` is the periodic job (`ops.rollup_refresh`, every 10 minutes): it
  recomputes from SETTLE_DAYS before its watermark (`RollupState.last_complete_day`) through
  today, then moves the watermark to yesterday. On a database without a watermark it starts
  at the earliest dated record, at most BACKFILL_DAYS back.
- The gaming indicators read the integrity flags, which staff decide (and the scan withdraws)
  long after the day they count on: each run also recomputes the days whose flags changed
  since the previous run (`kejiyun.integrity.services.changed_days`), whatever their age.
- After each month's centre rows, `rollup_areas_refresh(month=)` rebuilds that month's
  province and city rows (AreaRollup), the sums the dashboards read for whole months.
- `rollup_verify(start=, end=)` recomputes every day x indicator x centre and compares with
  the stored rows (a missing row is zero), every month row with the sum of its days, and every
  province and city row with the sum of its centres' month rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from kejiyun.integrity.services import changed_days
from kejiyun.ops.compute import Cell, CentreMap, compute_days, earliest_day
from kejiyun.ops.indicators import CATALOGUE, Kind
from kejiyun.ops.models import AreaRollup, Rollup, RollupState
from kejiyun.regions.models import ServiceCentre

# Days before the watermark recomputed on every run: a delivery read to the end and a read
# the bot job flags may arrive up to 48 hours after the day they count on.
SETTLE_DAYS = 2
# A fresh database's rollups start no more than this many days back.
BACKFILL_DAYS = 3 * 366
# Flag changes recorded this long before the previous run's start are looked at again (a
# decision committed while that run was computing is not missed).
FLAG_CHANGE_MARGIN = timedelta(minutes=5)
# PostgreSQL advisory lock taken while a month's rows are replaced, so that two runs at once
# (the job and a rebuild) take turns instead of inserting the same rows twice. SQLite
# serialises writers by itself.
LOCK_KEY = 0x6F7073  # "ops"
# The watermark is one row, always this one.
STATE_ID = 1


def _lock_rollups() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


@dataclass
class RollupResult:
    days: int = 0
    months: int = 0
    rows: int = 0


@dataclass
class Mismatch:
    indicator: str
    centre_id: int | None  # None for a province's or city's area row
    grain: str  # "day", "month", or "area" (a province's or city's month)
    day: date
    stored: Cell
    expected: Cell
    region: str = ""  # the province or city of an area row

    def describe(self, centres: dict[int, str]) -> str:
        if self.centre_id is None:
            return (
                f"{self.indicator} 区域 {self.region} 月 {self.day}（各中心月汇总之和）: "
                f"已存 {_show(self.stored)}，重算 {_show(self.expected)}"
            )
        name = centres.get(self.centre_id, str(self.centre_id))
        grain = "日" if self.grain == Rollup.Grain.DAY else "月"
        return (
            f"{self.indicator} {name}（#{self.centre_id}）{grain} {self.day}: "
            f"已存 {_show(self.stored)}，重算 {_show(self.expected)}"
        )


@dataclass
class VerifyResult:
    days: int = 0
    months: int = 0
    checked: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)


def _show(cell: Cell) -> str:
    text = f"num={cell.num.normalize():f} den={cell.den}"
    if cell.samples:
        text += f" samples={cell.samples}"
    return text


def _months(start: date, end: date) -> Iterator[tuple[date, date, date]]:
    """(first of month, first day in range, last day in range) for each month of the range."""
    day = start
    while day <= end:
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        last = min(end, following - timedelta(days=1))
        yield first, day, last
        day = last + timedelta(days=1)


def _day_rows(start: date, end: date, centres: CentreMap, now: datetime) -> list[Rollup]:
    rows: list[Rollup] = []
    for key, days in compute_days(start, end, centres=centres).items():
        for day, cells in days.items():
            for centre_id, cell in cells.items():
                if cell.empty:
                    continue
                rows.append(
                    Rollup(
                        grain=Rollup.Grain.DAY,
                        start=day,
                        indicator=key,
                        centre_id=centre_id,
                        path=centres.paths[centre_id],
                        num=cell.num,
                        den=cell.den,
                        samples=sorted(cell.samples) if cell.samples else None,
                        computed_at=now,
                    )
                )
    return rows


def _month_cells(month: date) -> dict[tuple[str, int], tuple[str, Cell]]:
    """{(indicator, centre id): (path, Cell)} summed from the month's day rows."""
    following = (month + timedelta(days=32)).replace(day=1)
    days = Rollup.objects.filter(grain=Rollup.Grain.DAY, start__gte=month, start__lt=following)
    out: dict[tuple[str, int], tuple[str, Cell]] = {}
    medians = [i.key for i in CATALOGUE if i.kind == Kind.MEDIAN]
    for row in (
        days.exclude(indicator__in=medians)
        .values("indicator", "centre_id", "path")
        .annotate(n=Sum("num"), d=Sum("den"))
        .order_by()
    ):
        out[(row["indicator"], row["centre_id"])] = (
            row["path"],
            Cell(num=row["n"] or Decimal(0), den=row["d"] or 0),
        )
    for indicator, centre_id, path, samples in days.filter(indicator__in=medians).values_list(
        "indicator", "centre_id", "path", "samples"
    ):
        _, cell = out.setdefault((indicator, centre_id), (path, Cell()))
        cell.samples.extend(samples or [])
    for _, cell in out.values():
        cell.samples.sort()
    return out


def _area_cells(cells: Iterable[tuple[str, str, Cell]]) -> dict[tuple[str, str], Cell]:
    """{(indicator, province or city code): Cell} added up from (indicator, centre path, Cell)
    triples: every centre adds to its province, and a city's or county's centre to its city."""
    out: dict[tuple[str, str], Cell] = {}
    for indicator, path, cell in cells:
        codes = [c for c in path.split("/") if c]
        for code in codes[:2]:
            out.setdefault((indicator, code), Cell()).add(cell)
    for cell in out.values():
        cell.samples.sort()
    return out


def _month_refresh(month: date, now: datetime) -> int:
    rows = [
        Rollup(
            grain=Rollup.Grain.MONTH,
            start=month,
            indicator=indicator,
            centre_id=centre_id,
            path=path,
            num=cell.num,
            den=cell.den,
            samples=cell.samples or None,
            computed_at=now,
        )
        for (indicator, centre_id), (path, cell) in _month_cells(month).items()
        if not cell.empty
    ]
    Rollup.objects.filter(grain=Rollup.Grain.MONTH, start=month).delete()
    Rollup.objects.bulk_create(rows, batch_size=1000)
    return len(rows) + rollup_areas_refresh(month=month, now=now)


def _stored_areas(month: date) -> dict[tuple[str, str], Cell]:
    """{(indicator, province or city code): Cell} summed from the month's stored centre rows."""
    return _area_cells(
        (indicator, path, Cell(num=num, den=den, samples=list(samples or [])))
        for indicator, path, num, den, samples in Rollup.objects.filter(
            grain=Rollup.Grain.MONTH, start=month
        ).values_list("indicator", "path", "num", "den", "samples")
    )


def rollup_areas_refresh(*, month: date, now: datetime | None = None) -> int:
    """Rebuild the province and city rows (AreaRollup) of `month` from its centre month rows;
    the number of rows written. The rollup job calls it after every month it rebuilds."""
    now = now or timezone.now()
    areas = [
        AreaRollup(
            start=month,
            indicator=indicator,
            region_id=code,
            num=cell.num,
            den=cell.den,
            samples=cell.samples or None,
            computed_at=now,
        )
        for (indicator, code), cell in _stored_areas(month).items()
        if not cell.empty
    ]
    with transaction.atomic():
        AreaRollup.objects.filter(start=month).delete()
        AreaRollup.objects.bulk_create(areas, batch_size=1000)
    return len(areas)


class MonthProgress(Protocol):
    """Where a rebuild reports its months (`kejiyun.background.progress.Progress`)."""

    def start(self, total: int, message: str = "") -> None: ...

    def advance(self, steps: int = 1, message: str | None = None) -> None: ...


def rollup_days(*, start: date, end: date, progress: MonthProgress | None = None) -> RollupResult:
    """Recompute the day rows of `start`..`end` (inclusive) from raw records and rebuild the
    month rows of the months they fall in. Each month is replaced in its own transaction, so
    running it again (or after an interrupted run) writes the same rows. `progress` hears of
    every month."""
    if end < start:
        raise ValueError("结束日期不能早于开始日期。")
    centres = CentreMap.build()
    result = RollupResult()
    months = list(_months(start, end))
    if progress is not None:
        progress.start(len(months), "正在重算运营数据……")
    for month, first, last in months:
        now = timezone.now()
        rows = _day_rows(first, last, centres, now)
        with transaction.atomic():
            _lock_rollups()
            Rollup.objects.filter(
                grain=Rollup.Grain.DAY, start__gte=first, start__lte=last
            ).delete()
            Rollup.objects.bulk_create(rows, batch_size=1000)
            result.rows += len(rows) + _month_refresh(month, now)
        result.days += (last - first).days + 1
        result.months += 1
        if progress is not None:
            progress.advance(1, f"已完成 {month:%Y年%m月}")
    return result


def _runs(days: list[date]) -> Iterator[tuple[date, date]]:
    """Consecutive runs (first, last) of the sorted `days`."""
    first = last = None
    for day in days:
        if last is not None and day == last + timedelta(days=1):
            last = day
            continue
        if first is not None and last is not None:
            yield first, last
        first = last = day
    if first is not None and last is not None:
        yield first, last


def rollup_refresh(*, now: datetime | None = None) -> RollupResult:
    """The incremental job: recompute from SETTLE_DAYS before the watermark through today, and
    the days whose integrity flags changed since the last run, and move the watermark to
    yesterday. Safe to run twice (it writes the same rows)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    state = RollupState.objects.filter(pk=STATE_ID).first()
    if state is not None:
        start = state.last_complete_day - timedelta(days=SETTLE_DAYS)
    else:
        start = earliest_day() or today
    start = min(max(start, today - timedelta(days=BACKFILL_DAYS)), today)
    result = rollup_days(start=start, end=today)
    if state is not None:
        changed = sorted(
            d for d in changed_days(since=state.updated_at - FLAG_CHANGE_MARGIN) if d < start
        )
        for first, last in _runs(changed):
            more = rollup_days(start=first, end=last)
            result.days += more.days
            result.months += more.months
            result.rows += more.rows
    RollupState.objects.update_or_create(
        pk=STATE_ID,
        defaults={"last_complete_day": today - timedelta(days=1), "updated_at": now},
    )
    return result


def _stored(grain: str, start: date, end: date) -> dict[tuple[str, int, date], Cell]:
    return {
        (indicator, centre_id, day): Cell(num=num, den=den, samples=list(samples or []))
        for indicator, centre_id, day, num, den, samples in Rollup.objects.filter(
            grain=grain, start__gte=start, start__lte=end
        ).values_list("indicator", "centre_id", "start", "num", "den", "samples")
    }


def _same(a: Cell, b: Cell) -> bool:
    return a.num == b.num and a.den == b.den and sorted(a.samples) == sorted(b.samples)


def rollup_verify(*, start: date, end: date) -> VerifyResult:
    """Compare the stored rows of `start`..`end` with the raw records: every day row with a
    recomputation (a missing row counts as zero), every month row of the months touched with
    the sum of its day rows. Reads only; writes nothing."""
    if end < start:
        raise ValueError("结束日期不能早于开始日期。")
    centres = CentreMap.build()
    result = VerifyResult()
    for month, first, last in _months(start, end):
        stored = _stored(Rollup.Grain.DAY, first, last)
        expected: dict[tuple[str, int, date], Cell] = {}
        for key, days in compute_days(first, last, centres=centres).items():
            for day, cells in days.items():
                for centre_id, cell in cells.items():
                    if not cell.empty:
                        cell.samples.sort()
                        expected[(key, centre_id, day)] = cell
        for where in sorted(set(stored) | set(expected)):
            have, want = stored.get(where, Cell()), expected.get(where, Cell())
            result.checked += 1
            if not _same(have, want):
                result.mismatches.append(
                    Mismatch(where[0], where[1], Rollup.Grain.DAY, where[2], have, want)
                )
        stored_months = _stored(Rollup.Grain.MONTH, month, month)
        summed = {
            (indicator, centre_id, month): cell
            for (indicator, centre_id), (_, cell) in _month_cells(month).items()
            if not cell.empty
        }
        for where in sorted(set(stored_months) | set(summed)):
            have, want = stored_months.get(where, Cell()), summed.get(where, Cell())
            result.checked += 1
            if not _same(have, want):
                result.mismatches.append(
                    Mismatch(where[0], where[1], Rollup.Grain.MONTH, where[2], have, want)
                )
        stored_areas = {
            (indicator, code): Cell(num=num, den=den, samples=list(samples or []))
            for indicator, code, num, den, samples in AreaRollup.objects.filter(
                start=month
            ).values_list("indicator", "region_id", "num", "den", "samples")
        }
        areas = _stored_areas(month)
        for indicator, code in sorted(set(stored_areas) | set(areas)):
            have = stored_areas.get((indicator, code), Cell())
            want = areas.get((indicator, code), Cell())
            result.checked += 1
            if not _same(have, want):
                result.mismatches.append(
                    Mismatch(indicator, None, "area", month, have, want, region=code)
                )
        result.days += (last - first).days + 1
        result.months += 1
    return result


def centre_names() -> dict[int, str]:
    return dict(ServiceCentre.objects.values_list("id", "name"))


__all__ = [
    "BACKFILL_DAYS",
    "SETTLE_DAYS",
    "Mismatch",
    "RollupResult",
    "VerifyResult",
    "centre_names",
    "rollup_areas_refresh",
    "rollup_days",
    "rollup_refresh",
    "rollup_verify",
]
