"""Reads of the rollups: a region's figures over a period, split by the centres one level
down, and as a series by month or day. Nothing here reads raw records; the figures are
exactly those the rollup job wrote (`ops_verify` checks them against the raw records).

A region's figures are the sum over every centre in its subtree: the province's own centre,
its cities' and its counties'. Whole months inside a period are read from month rows, the
days around them from day rows.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Substr

from kejiyun.ops.indicators import BY_KEY, Indicator, Kind
from kejiyun.ops.models import Rollup
from kejiyun.ops.periods import Period
from kejiyun.regions.models import Region

# Region paths are codes of six digits, each followed by "/": a city's path is 14 characters
# long, a county's 21.
PATH_LENGTH = {Region.Level.PROVINCE: 7, Region.Level.CITY: 14, Region.Level.COUNTY: 21}


@dataclass
class Figure:
    """An indicator's figure: the added-up numerator, denominator and samples, and the value
    the kind makes of them (None when there is nothing to show: no ratings for a mean, no
    samples for a median)."""

    indicator: Indicator
    num: Decimal = Decimal(0)
    den: int = 0
    samples: list[float] = field(default_factory=list)

    def add(self, num: Decimal, den: int, samples: Iterable[float] | None) -> None:
        self.num += num
        self.den += den
        if samples:
            self.samples.extend(samples)

    @property
    def value(self) -> float | None:
        kind = self.indicator.kind
        if kind in (Kind.COUNT, Kind.AMOUNT):
            return float(self.num)
        if kind in (Kind.MEAN, Kind.SHARE):
            return float(self.num) / self.den if self.den else None
        return float(statistics.median(self.samples)) if self.samples else None


def _period_rows(period: Period) -> QuerySet[Rollup]:
    """Rows that together cover the period once: month rows for the whole months, day rows
    for the rest."""
    months = period.months()
    loose = period.loose_days()
    where = Q(pk__in=[])
    if months:
        where |= Q(grain=Rollup.Grain.MONTH, start__in=months)
    if loose:
        where |= Q(grain=Rollup.Grain.DAY, start__gte=loose[0], start__lte=loose[-1]) & Q(
            start__in=loose
        )
    return Rollup.objects.filter(where)


def _keys(indicators: Iterable[str] | None) -> list[str]:
    keys = list(indicators) if indicators is not None else list(BY_KEY)
    for key in keys:
        BY_KEY[key]  # an unknown key is a programming error: KeyError
    return keys


def _collect(
    rows: QuerySet[Rollup], keys: list[str], group: str | None
) -> dict[str, dict[str, Figure]]:
    """{group value: {indicator: Figure}} from `rows`, summed in the database; medians merge
    their samples in Python (only median indicators carry samples)."""
    out: dict[str, dict[str, Figure]] = defaultdict(dict)
    additive = [k for k in keys if BY_KEY[k].kind != Kind.MEDIAN]
    medians = [k for k in keys if BY_KEY[k].kind == Kind.MEDIAN]
    group_fields = ["indicator"] + ([group] if group else [])
    if additive:
        for row in (
            rows.filter(indicator__in=additive)
            .values(*group_fields)
            .annotate(n=Sum("num"), d=Sum("den"))
            .order_by()
        ):
            slot = out[row[group] if group else ""]
            figure = slot.setdefault(row["indicator"], Figure(BY_KEY[row["indicator"]]))
            figure.add(row["n"] or Decimal(0), row["d"] or 0, None)
    if medians:
        for row in rows.filter(indicator__in=medians).values(*group_fields, "samples"):
            slot = out[row[group] if group else ""]
            figure = slot.setdefault(row["indicator"], Figure(BY_KEY[row["indicator"]]))
            figure.add(Decimal(0), 0, row["samples"])
    for slot in out.values():
        for key in keys:
            slot.setdefault(key, Figure(BY_KEY[key]))
    return out


def figures(
    region: Region, period: Period, indicators: Iterable[str] | None = None
) -> dict[str, Figure]:
    """Every figure (or those named) of `region` and everything below it over `period`."""
    keys = _keys(indicators)
    rows = _period_rows(period).filter(path__startswith=region.path)
    found = _collect(rows, keys, None).get("")
    return found if found is not None else {k: Figure(BY_KEY[k]) for k in keys}


def child_regions(region: Region) -> list[Region]:
    """The regions one level down whose centres are ranked and mapped: the cities of the
    province, the counties of a city; none below a county."""
    if region.level not in (Region.Level.PROVINCE, Region.Level.CITY):
        return []
    return list(region.children.order_by("code"))


def figures_by_child(
    region: Region, period: Period, indicators: Iterable[str] | None = None
) -> dict[str, dict[str, Figure]]:
    """{region code: {indicator: Figure}} for each region one level down (every child is
    present, with empty figures where it has no rows). A city's own centre (市本级) is keyed
    by the city's code when it has figures of its own."""
    keys = _keys(indicators)
    children = child_regions(region)
    out: dict[str, dict[str, Figure]] = {
        child.code: {k: Figure(BY_KEY[k]) for k in keys} for child in children
    }
    if not children:
        return out
    length = PATH_LENGTH[Region.Level(children[0].level)]
    rows = (
        _period_rows(period)
        .filter(path__startswith=region.path)
        .annotate(branch=Substr("path", 1, length))
    )
    for branch, slot in _collect(rows, keys, "branch").items():
        code = branch.rstrip("/").rsplit("/", 1)[-1]
        out[code] = slot
    return out


def series(
    region: Region, period: Period, indicator: str, *, by: str = "month"
) -> list[tuple[date, Figure]]:
    """The indicator over the period month by month (`by="month"`, whole months of the
    period plus the days around them folded into their months) or day by day."""
    ind = BY_KEY[indicator]
    buckets: dict[date, Figure] = {}
    if by == "day":
        for day in period.each_day():
            buckets[day] = Figure(ind)
        rows = Rollup.objects.filter(
            grain=Rollup.Grain.DAY,
            start__gte=period.start,
            start__lte=period.end,
            path__startswith=region.path,
            indicator=indicator,
        )
        key_of = _identity
    elif by == "month":
        day = date(period.start.year, period.start.month, 1)
        while day <= period.end:
            buckets[day] = Figure(ind)
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        rows = _period_rows(period).filter(path__startswith=region.path, indicator=indicator)
        key_of = _month_of
    else:
        raise ValueError(f"unknown series step {by!r}")
    if ind.kind == Kind.MEDIAN:
        for start, samples in rows.values_list("start", "samples"):
            buckets[key_of(start)].add(Decimal(0), 0, samples)
    else:
        for row in rows.values("start").annotate(n=Sum("num"), d=Sum("den")).order_by():
            buckets[key_of(row["start"])].add(row["n"] or Decimal(0), row["d"] or 0, None)
    return sorted(buckets.items())


def _identity(day: date) -> date:
    return day


def _month_of(day: date) -> date:
    return date(day.year, day.month, 1)
