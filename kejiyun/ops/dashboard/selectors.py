"""What a region's dashboard shows, read from the rollups through `kejiyun.ops.selectors`:
headline figures with their changes, the ranking of the centres one level down, the values
of the map and the trend. Dataclasses out; nothing here reads raw records.

Shown values: a share is a percentage (0.25 is shown as 25.0), so its change against another
period is in percentage points and has no relative change; every other kind changes by its
own unit and by a percentage of the earlier figure (none when that figure is 0 or missing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from django.db import connection

from kejiyun.ops.indicators import BY_KEY, CATALOGUE, GROUP_NAMES, Group, Indicator, Kind
from kejiyun.ops.periods import Period, PeriodKind
from kejiyun.ops.selectors import Figure, child_regions, figures, figures_by_child, series
from kejiyun.pagecache.fragments import fragment
from kejiyun.regions.models import Region

# A custom period up to this many days long is drawn day by day, like a month.
DAILY_TREND_MAX_DAYS = 62

# How long a dashboard's figures are kept in the cache. The key carries the time the rollup
# job last ran, so a run shows at once; a rebuild by hand (rollup_days) shows within this.
CACHE_SECONDS = 600

T = TypeVar("T")


def rollup_version() -> str:
    """Changes each time the periodic rollup job runs (RollupState.updated_at). A plain
    cursor: every dashboard request and its map data ask, and the ORM took ten times as long
    (only a key is made of it, so the stamp is written as the driver returns it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT updated_at FROM ops_rollupstate ORDER BY id LIMIT 1")
        row = cursor.fetchone()
    return str(row[0]) if row is not None else "-"


def cached(version: str, parts: tuple[str, ...], compute: Callable[[], T]) -> T:
    """`compute()` kept for CACHE_SECONDS under `parts` and the rollup `version` (a page
    cache fragment: computed from the database when the cache is down)."""
    return fragment(
        "ops:dashboard", topics=(), parts=(version, *parts), build=compute, seconds=CACHE_SECONDS
    )


def shown(indicator: Indicator, value: float | None) -> float | None:
    """`value` as the page shows it: a share as a percentage, everything else as it is."""
    if value is None:
        return None
    return round(value * 100, 6) if indicator.kind == Kind.SHARE else value


def text(indicator: Indicator, value: float | None) -> str:
    """A shown value written out: counts and amounts whole with thousands separators, means
    with two decimals, shares as a percentage with one, medians with one; "—" for none."""
    value = shown(indicator, value)
    if value is None:
        return "—"
    if indicator.kind in (Kind.COUNT, Kind.AMOUNT):
        return f"{value:,.0f}"
    if indicator.kind == Kind.MEAN:
        return f"{value:.2f}"
    if indicator.kind == Kind.SHARE:
        return f"{value:.1f}%"
    return f"{value:.1f}"


@dataclass(frozen=True)
class Change:
    """A figure against an earlier one. `delta` is in shown units (percentage points for a
    share), `percent` relative to the earlier figure; `tone` says whether it is good news:
    "good", "bad", "neutral" (the indicator has no better direction) or "flat" (no change)."""

    delta: float
    percent: float | None
    tone: str
    points: bool  # the delta is in percentage points

    @property
    def arrow(self) -> str:
        return "▲" if self.delta > 0 else "▼" if self.delta < 0 else ""

    @property
    def delta_text(self) -> str:
        if self.delta == 0:
            return "持平"
        if self.points:
            return f"{self.delta:+.1f} 个百分点"
        if float(self.delta).is_integer():
            return f"{self.delta:+,.0f}"
        return f"{self.delta:+,.2f}"

    @property
    def percent_text(self) -> str:
        return "" if self.percent is None else f"{self.percent:+.1f}%"


def change(indicator: Indicator, now: float | None, before: float | None) -> Change | None:
    """`now` against `before` (raw values, as `Figure.value`); None when either is missing."""
    a, b = shown(indicator, now), shown(indicator, before)
    if a is None or b is None:
        return None
    delta = round(a - b, 6)
    points = indicator.kind == Kind.SHARE
    percent = None if points or b == 0 else round(delta / b * 100, 6)
    if delta == 0:
        tone = "flat"
    elif indicator.better == 0:
        tone = "neutral"
    else:
        tone = "good" if (delta > 0) == (indicator.better > 0) else "bad"
    return Change(delta=delta, percent=percent, tone=tone, points=points)


@dataclass(frozen=True)
class Headline:
    indicator: Indicator
    value: float | None  # raw, as Figure.value
    text: str
    vs_previous: Change | None
    vs_last_year: Change | None


@dataclass(frozen=True)
class HeadlineGroup:
    group: Group
    name: str
    rows: list[Headline]


def headlines(region: Region, period: Period) -> list[HeadlineGroup]:
    """Every indicator of the catalogue for `region` over `period`, against the period before
    and the same period a year earlier, grouped as in the catalogue."""
    now = figures(region, period)
    before = figures(region, period.previous())
    # A year's previous period is the year before: read it once.
    same = period.last_year() == period.previous()
    last_year = before if same else figures(region, period.last_year())
    groups: dict[Group, HeadlineGroup] = {}
    for ind in CATALOGUE:
        value = now[ind.key].value
        row = Headline(
            indicator=ind,
            value=value,
            text=text(ind, value),
            vs_previous=change(ind, value, before[ind.key].value),
            vs_last_year=change(ind, value, last_year[ind.key].value),
        )
        groups.setdefault(ind.group, HeadlineGroup(ind.group, GROUP_NAMES[ind.group], []))
        groups[ind.group].rows.append(row)
    return list(groups.values())


@dataclass(frozen=True)
class Ranked:
    """One centre one level down (or the region's own centre, `own`, which is not ranked)."""

    code: str
    name: str
    rank: int | None
    value: float | None
    text: str
    vs_previous: Change | None
    own: bool = False


def _order_key(indicator: Indicator, value: float | None) -> tuple[int, float]:
    if value is None:
        return (1, 0.0)
    return (0, value if indicator.better < 0 else -value)


def ranking(region: Region, period: Period, key: str) -> list[Ranked]:
    """The regions one level down ranked by indicator `key` over `period`: best first (the
    highest figure, or the lowest where lower is better; a neutral indicator ranks highest
    first), ties sharing a rank (1, 2, 2, 4), regions without a figure last and unranked.
    The region's own centre (市本级, 省本级), when it has figures, follows unranked."""
    ind = BY_KEY[key]
    children = child_regions(region)
    now = figures_by_child(region, period, [key])
    before = figures_by_child(region, period.previous(), [key])
    rows: list[tuple[Region, Figure]] = [(child, now[child.code][key]) for child in children]
    rows.sort(key=lambda pair: (*_order_key(ind, pair[1].value), pair[0].code))
    out: list[Ranked] = []
    rank = 0
    last: float | None = None
    for position, (child, figure) in enumerate(rows, start=1):
        value = figure.value
        if value is not None and value != last:
            rank = position
        last = value
        prior = before.get(child.code, {}).get(key)
        out.append(
            Ranked(
                code=child.code,
                name=child.name,
                rank=rank if value is not None else None,
                value=value,
                text=text(ind, value),
                vs_previous=change(ind, value, prior.value if prior else None),
            )
        )
    own = now.get(region.code, {}).get(key)
    if children and own is not None:
        prior = before.get(region.code, {}).get(key)
        out.append(
            Ranked(
                code=region.code,
                name=f"{region.name}本级",
                rank=None,
                value=own.value,
                text=text(ind, own.value),
                vs_previous=change(ind, own.value, prior.value if prior else None),
                own=True,
            )
        )
    return out


@dataclass(frozen=True)
class MapArea:
    code: str
    name: str
    value: float | None  # shown units (a share in percent)
    text: str


def map_areas(region: Region, period: Period, key: str) -> list[MapArea]:
    """The areas the map colours: the regions one level down, or the county itself."""
    ind = BY_KEY[key]
    children = child_regions(region)
    if not children:
        value = figures(region, period, [key])[key].value
        return [MapArea(region.code, region.name, shown(ind, value), text(ind, value))]
    found = figures_by_child(region, period, [key])
    out = []
    for child in children:
        value = found[child.code][key].value
        out.append(MapArea(child.code, child.name, shown(ind, value), text(ind, value)))
    return out


@dataclass(frozen=True)
class Trend:
    step: str  # "day" or "month"
    labels: list[str]
    values: list[float | None]  # shown units


def trend_step(period: Period) -> str:
    if period.kind == PeriodKind.MONTH or (
        period.kind == PeriodKind.CUSTOM and period.days <= DAILY_TREND_MAX_DAYS
    ):
        return "day"
    return "month"


def _label(day: date, step: str) -> str:
    return f"{day.month}月{day.day}日" if step == "day" else f"{day.year}年{day.month}月"


def trend(region: Region, period: Period, key: str) -> Trend:
    """Indicator `key` over `period`, day by day for a month (or a short custom range),
    month by month otherwise."""
    ind = BY_KEY[key]
    step = trend_step(period)
    points = series(region, period, key, by=step)
    return Trend(
        step=step,
        labels=[_label(day, step) for day, _ in points],
        values=[shown(ind, figure.value) for _, figure in points],
    )
