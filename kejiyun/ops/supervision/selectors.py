"""Reads of the supervision pages: the supervision table (督办表) of a region's centres, the
escalation inbox (超时升级) of a city or the province, and the supply-demand gap
(供需缺口, in `kejiyun.ops.supervision.gap`).

The table puts two kinds of figure side by side. The live ones (open, overdue, unowned) are
the cases as they stand now, read from the cases app; the period ones (closed on time,
solved with evidence, satisfaction) are the rollups over the period, read through
`kejiyun.ops.selectors`. Both attribute a case to the centre of the case's region (the
centre that served its demand when the case was opened; see `served_by_q`), so a row's
figures and the case list its links open describe the same cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.cases.models import Case, DockingRequest
from kejiyun.cases.workflow.selectors import cases_for_staff, open_case_counts_by_region
from kejiyun.ops.compute import bounds
from kejiyun.ops.periods import Period
from kejiyun.ops.selectors import PATH_LENGTH, Figure, child_regions, figures, figures_by_child
from kejiyun.regions.models import Region, ServiceCentre

# The rollup indicators the table reads.
PERIOD_INDICATORS = (
    "cases_closed",
    "closed_on_time_share",
    "solved_with_evidence",
    "satisfaction_mean",
    "rated_share",
)


@dataclass
class SupervisionRow:
    """One line of the table: the region's own centre (本级), a region one level down with
    every centre in it, or the total."""

    name: str
    region: Region
    # The region's own centre: the row counts only the cases it is answerable for. Otherwise
    # the row counts everything in `region` (a city with its counties).
    centre: ServiceCentre | None = None
    is_total: bool = False
    open: int = 0
    overdue: int = 0
    unowned: int = 0
    figures: dict[str, Figure] = field(default_factory=dict)

    def _num(self, key: str) -> int:
        figure = self.figures.get(key)
        return int(figure.num) if figure is not None else 0

    def _value(self, key: str) -> float | None:
        figure = self.figures.get(key)
        return figure.value if figure is not None else None

    @property
    def closed(self) -> int:
        return self._num("cases_closed")

    @property
    def closed_on_time(self) -> int:
        return self._num("closed_on_time_share")

    @property
    def on_time_share(self) -> float | None:
        return self._value("closed_on_time_share")

    @property
    def solved(self) -> int:
        return self._num("solved_with_evidence")

    @property
    def satisfaction(self) -> float | None:
        return self._value("satisfaction_mean")

    @property
    def rated(self) -> int:
        figure = self.figures.get("satisfaction_mean")
        return figure.den if figure is not None else 0

    @property
    def rated_share(self) -> float | None:
        return self._value("rated_share")

    @property
    def drills(self) -> bool:
        """A region one level down has its own supervision page."""
        return self.centre is None and not self.is_total

    def case_filter(self) -> dict[str, str]:
        """The case list's filter for this row's cases (before the state)."""
        if self.centre is not None:
            return {"centre": str(self.centre.pk)}
        return {"area": self.region.code}


# How the table can be sorted: column -> the row's figure (None sorts last).
SORT_KEYS: dict[str, Callable[[SupervisionRow], float | str | None]] = {
    "name": lambda r: r.region.code,
    "open": lambda r: r.open,
    "overdue": lambda r: r.overdue,
    "unowned": lambda r: r.unowned,
    "closed": lambda r: r.closed,
    "on_time": lambda r: r.on_time_share,
    "solved": lambda r: r.solved,
    "satisfaction": lambda r: r.satisfaction,
    "rated": lambda r: r.rated_share,
}


@dataclass
class SupervisionTable:
    region: Region
    period: Period
    rows: list[SupervisionRow]
    total: SupervisionRow


def _own_centre(region: Region) -> ServiceCentre | None:
    return ServiceCentre.objects.filter(region=region).select_related("region").first()


def supervision_table(
    *,
    user: User,
    region: Region,
    period: Period,
    sort: str = "",
    descending: bool = False,
    now: datetime | None = None,
) -> SupervisionTable:
    """The supervision table of `region` (which the caller has checked the user may see,
    `access.region_for`): its own centre, then each region one level down (a city with its
    counties' centres, a county), then the total. A county's table is its own centre alone.

    Open, overdue and unowned are live; the rest are the rollups over `period`.
    """
    now = now or timezone.now()
    children = child_regions(region)
    own = _own_centre(region)
    rows: list[SupervisionRow] = []
    own_row = (
        SupervisionRow(name=f"{own.name}（本级）", region=region, centre=own)
        if own is not None
        else None
    )
    if own_row is not None:
        rows.append(own_row)
    by_code = {c.code: SupervisionRow(name=c.name, region=c) for c in children}
    rows.extend(by_code.values())

    # Live counts, folded from the cases' regions into the rows.
    length = PATH_LENGTH[Region.Level(children[0].level)] if children else 0
    for path, counts in open_case_counts_by_region(user=user, within=region, now=now).items():
        if own_row is not None and path == region.path:
            row: SupervisionRow | None = own_row
        elif children and len(path) >= length:
            row = by_code.get(path[:length].rstrip("/").rsplit("/", 1)[-1])
        else:
            row = None
        if row is not None:
            row.open += counts.open
            row.overdue += counts.overdue
            row.unowned += counts.unowned

    # Period figures from the rollups.
    if children:
        split = figures_by_child(region, period, PERIOD_INDICATORS)
        for code, slot in split.items():
            if code == region.code:
                if own_row is not None:
                    own_row.figures = slot
            elif code in by_code:
                by_code[code].figures = slot
    elif own_row is not None:
        own_row.figures = figures(region, period, PERIOD_INDICATORS)

    total = SupervisionRow(name="合计", region=region, is_total=True)
    total.open = sum(r.open for r in rows)
    total.overdue = sum(r.overdue for r in rows)
    total.unowned = sum(r.unowned for r in rows)
    total.figures = figures(region, period, PERIOD_INDICATORS)

    key = SORT_KEYS.get(sort)
    if key is not None:
        present = [r for r in rows if key(r) is not None]
        absent = [r for r in rows if key(r) is None]
        present.sort(key=key, reverse=descending)  # type: ignore[arg-type]
        rows = present + absent
    return SupervisionTable(region=region, period=period, rows=rows, total=total)


# --- The escalation inbox ------------------------------------------------------------------


def escalation_inbox_allowed(user: User) -> bool:
    """City and province staff (and administrators) have an escalation inbox; a county
    centre escalates, it never receives."""
    if user.sees_everything:
        return True
    centre = user.centre if user.is_centre_staff else None
    return centre is not None and centre.region.level in (
        Region.Level.PROVINCE,
        Region.Level.CITY,
    )


def escalated_cases(*, user: User, county: str = "", step: str = "") -> QuerySet[Case]:
    """Open cases escalated to the user's centre, newest escalation first; every open
    escalated case for an administrator. Within the user's jurisdiction (`cases_for_staff`);
    narrowed to a county (region code) and a step when given."""
    qs = cases_for_staff(user=user).filter(Case.open_q(), escalations__gt=0)
    if not user.sees_everything:
        qs = qs.filter(centre_id=user.centre_id)
    if county:
        qs = qs.filter(region__code=county)
    if step:
        qs = qs.filter(step=step)
    return qs.order_by("-escalated_at", "-id")


def escalation_counties(*, user: User) -> QuerySet[Region]:
    """The counties the user's escalated cases come from (the choices of the inbox's
    county filter)."""
    ids = escalated_cases(user=user).values("region_id")
    return Region.objects.filter(code__in=ids).select_related("parent").order_by("code")


# How many declined dockings the supervision page lists (the newest; the count is of all).
DECLINES_SHOWN = 50


def declined_dockings(
    *, user: User, region: Region, period: Period
) -> tuple[int, list[DockingRequest]]:
    """Docking requests experts declined over the period in `region`'s cases, with their
    reasons (婉拒原因), newest first: how many in all and the first DECLINES_SHOWN. The
    declines the `dockings_declined` indicator counts (by reply time, in the case's region);
    the cases come through `cases_for_staff`, so the jurisdiction holds."""
    start, end = bounds(period.start, period.end)
    declines = (
        DockingRequest.objects.filter(
            status=DockingRequest.Status.DECLINED,
            responded_at__gte=start,
            responded_at__lt=end,
            case__in=cases_for_staff(user=user).filter(region__path__startswith=region.path),
        )
        .select_related("case__demand", "case__region")
        .order_by("-responded_at", "-pk")
    )
    return declines.count(), list(declines[:DECLINES_SHOWN])
