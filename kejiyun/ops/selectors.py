"""Reads of the rollups: a region's figures over a period, split by the centres one level
down, and as a series by month or day. Nothing here reads raw records; the figures are
exactly those the rollup job wrote (`ops_verify` checks them against the raw records).

A region's figures are the sum over every centre in its subtree: the province's own centre,
its cities' and its counties'. Whole months inside a period are read from month rows (for a
province or city, its area rows: one per indicator and month), the days around them from
day rows.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Substr

from kejiyun.ops.indicators import BY_KEY, Indicator, Kind
from kejiyun.ops.models import AreaRollup, Rollup
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


Rows = QuerySet[Rollup] | QuerySet[AreaRollup]

# Regions with area rows (AreaRollup): a province's or city's whole months are one row per
# indicator. A county's figures are its own centre's rows.
AREA_LEVELS = (Region.Level.PROVINCE, Region.Level.CITY)


def _day_rows(period: Period) -> QuerySet[Rollup]:
    """Day rows of the days of the period outside its whole months."""
    loose = period.loose_days()
    if not loose:
        return Rollup.objects.none()
    return Rollup.objects.filter(
        grain=Rollup.Grain.DAY, start__gte=loose[0], start__lte=loose[-1], start__in=loose
    )


def _month_rows(period: Period) -> QuerySet[Rollup]:
    """Centre month rows of the whole months of the period."""
    return Rollup.objects.filter(grain=Rollup.Grain.MONTH, start__in=period.months())


def _region_rows(region: Region, period: Period) -> list[Rows]:
    """Row sets that together cover `region` and everything below it over the period once:
    the region's area rows (province, city) or its centres' month rows (county) for the whole
    months, day rows for the days around them."""
    days = _day_rows(period).filter(path__startswith=region.path)
    if region.level in AREA_LEVELS:
        months: Rows = AreaRollup.objects.filter(region=region, start__in=period.months())
    else:
        months = _month_rows(period).filter(path__startswith=region.path)
    return [months, days]


def _keys(indicators: Iterable[str] | None) -> list[str]:
    keys = list(indicators) if indicators is not None else list(BY_KEY)
    for key in keys:
        BY_KEY[key]  # an unknown key is a programming error: KeyError
    return keys


def _collect(
    row_sets: Iterable[Rows], keys: list[str], group: str | None
) -> dict[str, dict[str, Figure]]:
    """{group value: {indicator: Figure}} added up over every row set, summed in the
    database; medians merge their samples in Python (only median indicators carry samples)."""
    out: dict[str, dict[str, Figure]] = defaultdict(dict)
    additive = [k for k in keys if BY_KEY[k].kind != Kind.MEDIAN]
    medians = [k for k in keys if BY_KEY[k].kind == Kind.MEDIAN]
    group_fields = ["indicator"] + ([group] if group else [])
    for rows in row_sets:
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
    found = _collect(_region_rows(region, period), keys, None).get("")
    return found if found is not None else {k: Figure(BY_KEY[k]) for k in keys}


def child_regions(region: Region) -> list[Region]:
    """The regions one level down whose centres are ranked and mapped: the cities of the
    province, the counties of a city; none below a county."""
    if region.level not in AREA_LEVELS:
        return []
    return list(region.children.order_by("code"))


def figures_by_child(
    region: Region, period: Period, indicators: Iterable[str] | None = None
) -> dict[str, dict[str, Figure]]:
    """{region code: {indicator: Figure}} for each region one level down (every child is
    present, with empty figures where it has no rows). The region's own centre (市本级, or the
    province centre itself) is keyed by the region's code when it has figures of its own."""
    keys = _keys(indicators)
    children = child_regions(region)
    out: dict[str, dict[str, Figure]] = {
        child.code: {k: Figure(BY_KEY[k]) for k in keys} for child in children
    }
    if not children:
        return out
    # Each row's branch: the path down to the child it falls in ("510000/510100/"), or the
    # child's code itself for a city's area rows.
    branch = Substr("path", 1, PATH_LENGTH[Region.Level(children[0].level)])
    days = _day_rows(period).filter(path__startswith=region.path).annotate(branch=branch)
    months = _month_rows(period)
    row_sets: list[Rows]
    if children[0].level in AREA_LEVELS:
        row_sets = [
            AreaRollup.objects.filter(
                region_id__in=[c.code for c in children], start__in=period.months()
            ).annotate(branch=F("region_id")),
            months.filter(path=region.path).annotate(branch=branch),
            days,
        ]
    else:
        row_sets = [months.filter(path__startswith=region.path).annotate(branch=branch), days]
    # A city's area rows (branch "510100") and its day rows (branch "510000/510100/") are
    # two parts of one child: add them up.
    for found, slot in _collect(row_sets, keys, "branch").items():
        target = out.setdefault(
            found.rstrip("/").rsplit("/", 1)[-1], {k: Figure(BY_KEY[k]) for k in keys}
        )
        for key, figure in slot.items():
            target[key].add(figure.num, figure.den, figure.samples)
    return out


def series(
    region: Region, period: Period, indicator: str, *, by: str = "month"
) -> list[tuple[date, Figure]]:
    """The indicator over the period month by month (`by="month"`, whole months of the
    period plus the days around them folded into their months) or day by day."""
    ind = BY_KEY[indicator]
    buckets: dict[date, Figure] = {}
    row_sets: list[Rows]
    if by == "day":
        for day in period.each_day():
            buckets[day] = Figure(ind)
        row_sets = [
            Rollup.objects.filter(
                grain=Rollup.Grain.DAY,
                start__gte=period.start,
                start__lte=period.end,
                path__startswith=region.path,
            )
        ]
        key_of = _identity
    elif by == "month":
        day = date(period.start.year, period.start.month, 1)
        while day <= period.end:
            buckets[day] = Figure(ind)
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        row_sets = _region_rows(region, period)
        key_of = _month_of
    else:
        raise ValueError(f"unknown series step {by!r}")
    for rows in row_sets:
        rows = rows.filter(indicator=indicator)
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
