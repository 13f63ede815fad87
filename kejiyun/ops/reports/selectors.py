"""Reads of half-year work reports, and who may see which.

A report is seen by exactly two groups of people (anyone else gets a 404, as if it did not
exist): the staff of the centre that files it (the filer), and the staff of the centre one
level up, whose region is the parent of the filing centre's region (the reviewer: a city
for its counties, the province for its cities). Administrators are not among them; a
report is a matter between two centres.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from kejiyun.accounts.models import User
from kejiyun.ops.indicators import CATALOGUE, GROUP_NAMES, Kind
from kejiyun.ops.models import ReportComment, ReportEvent, WorkReport
from kejiyun.ops.periods import Period, PeriodKind
from kejiyun.regions.models import Region, ServiceCentre

# Centres at these levels file reports; the province centre only reviews.
FILING_LEVELS = (Region.Level.CITY, Region.Level.COUNTY)
HANDED_IN = (WorkReport.Status.SUBMITTED, WorkReport.Status.ACCEPTED)


class ReportRole(StrEnum):
    FILER = "filer"
    REVIEWER = "reviewer"


def report_due_on(year: int, half: int) -> date:
    """The day a half-year's report is due: OPS_REPORT_DUE_DAYS days after the half-year
    ends (with 15: 15 July for the first half, 15 January for the second)."""
    return Period.half(year, half).end + timedelta(days=settings.OPS_REPORT_DUE_DAYS)


def report_halves_open(today: date) -> list[Period]:
    """The half-years a report may be created for on `today`: the current one and the one
    before it, newest first."""
    current = Period.containing(PeriodKind.HALF, today)
    return [current, current.previous()]


def report_halves_startable(centre: ServiceCentre | None, today: date) -> list[Period]:
    """The half-years `centre` may still start a report for on `today`: the current and
    the previous one, less those it has started already."""
    if centre is None:
        return []
    started = set(WorkReport.objects.filter(centre=centre).values_list("year", "half"))
    return [p for p in report_halves_open(today) if (p.start.year, half_of(p)) not in started]


def half_of(period: Period) -> int:
    """1 or 2: which half of its year a half-year period is."""
    return 1 if period.start.month == 1 else 2


def report_last_return(report: WorkReport) -> ReportEvent | None:
    """The latest return of the report for corrections (its reason and reviewer), if any."""
    return (
        ReportEvent.objects.filter(report=report, to_status=WorkReport.Status.RETURNED)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )


def _staff_centre(user: User) -> ServiceCentre | None:
    if not user.is_authenticated or not user.is_centre_staff:
        return None
    return user.centre


def report_role(user: User, report: WorkReport) -> ReportRole | None:
    """Whether `user` files `report`, reviews it, or neither (None)."""
    centre = _staff_centre(user)
    if centre is None:
        return None
    if centre.pk == report.centre_id:
        return ReportRole.FILER
    if report.centre.region.parent_id == centre.region_id:
        return ReportRole.REVIEWER
    return None


def filing_centre(user: User) -> ServiceCentre | None:
    """The centre whose reports `user` files: their own, when it is a city or county
    centre."""
    centre = _staff_centre(user)
    if centre is None or centre.region.level not in FILING_LEVELS:
        return None
    return centre


def centres_reviewed_by(user: User) -> QuerySet[ServiceCentre]:
    """The centres whose reports `user` reviews: those one level down from their centre."""
    centre = _staff_centre(user)
    if centre is None:
        return ServiceCentre.objects.none()
    return (
        ServiceCentre.objects.filter(
            region__parent_id=centre.region_id, region__level__in=FILING_LEVELS
        )
        .select_related("region")
        .order_by("region__code")
    )


def reports_visible(user: User) -> QuerySet[WorkReport]:
    """Every report `user` may open: their own centre's and those of the centres one level
    down (none for anyone else)."""
    centre = _staff_centre(user)
    if centre is None:
        return WorkReport.objects.none()
    return (
        WorkReport.objects.filter(
            Q(centre_id=centre.pk) | Q(centre__region__parent_id=centre.region_id)
        )
        .select_related("centre", "centre__region", "author", "reviewed_by")
        .order_by("-year", "-half", "centre__region__code")
    )


def access_report(user: User, report_id: int) -> WorkReport:
    """The report when `user` files or reviews it; 404 otherwise (also for a report that
    does not exist)."""
    report = reports_visible(user).filter(pk=report_id).first()
    if report is None:
        raise Http404("页面不存在")
    return report


def report_detail(report: WorkReport) -> WorkReport:
    """The report again with its comments and events, each with who wrote it."""
    return (
        WorkReport.objects.select_related("centre", "centre__region", "author", "reviewed_by")
        .prefetch_related(
            Prefetch("comments", ReportComment.objects.select_related("author")),
            Prefetch("events", ReportEvent.objects.select_related("actor")),
        )
        .get(pk=report.pk)
    )


def reports_for(
    region: Region,
    period: Period,
    *,
    statuses: tuple[str, ...] = HANDED_IN,
) -> list[WorkReport]:
    """The reports (submitted or accepted, unless `statuses` says otherwise) of the centres
    below `region` (not its own centre) for the half-years lying within `period` (a half-year
    period: that half-year; a year: both halves), in region-code order, with each centre and
    its region loaded. No user is checked: the caller decides who may read them (bulletins
    quote them)."""
    halves: list[tuple[int, int]] = []
    for year in range(period.start.year, period.end.year + 1):
        for half in (1, 2):
            span = Period.half(year, half)
            if period.start <= span.start and span.end <= period.end:
                halves.append((year, half))
    if not halves:
        return []
    which = Q(pk__in=[])
    for year, half in halves:
        which |= Q(year=year, half=half)
    return list(
        WorkReport.objects.filter(which, status__in=statuses)
        .filter(centre__region__path__startswith=region.path)
        .exclude(centre__region_id=region.pk)
        .select_related("centre", "centre__region")
        .order_by("centre__region__code", "year", "half")
    )


@dataclass(frozen=True)
class RosterLine:
    """One centre below a reviewer for one half-year: its report, or None if it has not
    started one."""

    centre: ServiceCentre
    report: WorkReport | None
    due_on: date
    overdue: bool


@dataclass(frozen=True)
class ReportLine:
    """A report in a list, with whether it is overdue today."""

    report: WorkReport
    overdue: bool


def report_lines(reports: QuerySet[WorkReport], today: date) -> list[ReportLine]:
    return [ReportLine(report=r, overdue=r.is_overdue(today)) for r in reports]


def report_roster(user: User, period: Period, today: date) -> list[RosterLine]:
    """The centres `user` reviews with their report for the half-year `period` (None where
    none was started) and whether it is overdue on `today`, in region-code order."""
    year, half = period.start.year, half_of(period)
    centres = list(centres_reviewed_by(user))
    found = {
        r.centre_id: r
        for r in WorkReport.objects.filter(centre__in=centres, year=year, half=half).select_related(
            "author"
        )
    }
    due = report_due_on(year, half)
    lines: list[RosterLine] = []
    for centre in centres:
        report = found.get(centre.pk)
        overdue = report.is_overdue(today) if report is not None else today > due
        lines.append(RosterLine(centre=centre, report=report, due_on=due, overdue=overdue))
    return lines


@dataclass(frozen=True)
class FigureRow:
    """One line of a report's figures table: the indicator's group, name, value as text
    and unit, from the catalogue."""

    key: str
    group: str
    name: str
    text: str
    unit: str


def figure_text(kind: Kind, value: float | None) -> str:
    """A figure as shown: counts whole, amounts in yuan with cents, shares in per cent,
    means and medians to one or two decimals; "—" when there is none."""
    if value is None:
        return "—"
    if kind == Kind.COUNT:
        return f"{value:,.0f}"
    if kind == Kind.AMOUNT:
        return f"{value:,.2f}"
    if kind == Kind.SHARE:
        return f"{value * 100:.1f}%"
    if kind == Kind.MEAN:
        return f"{value:.2f}"
    return f"{value:.1f}"


def report_figure_rows(report: WorkReport) -> list[FigureRow]:
    """The report's frozen (or last read) figures in catalogue order."""
    snapshot = report.figures if isinstance(report.figures, dict) else {}
    rows: list[FigureRow] = []
    for ind in CATALOGUE:
        raw = snapshot.get(ind.key)
        value = float(raw) if isinstance(raw, int | float) else None
        rows.append(
            FigureRow(
                key=ind.key,
                group=GROUP_NAMES[ind.group],
                name=ind.name,
                text=figure_text(ind.kind, value),
                unit=ind.unit,
            )
        )
    return rows


@dataclass(frozen=True)
class ReportSummary:
    """Where a staff member's work reports stand for the half-year now due (the previous
    half-year): their own centre's report, and how the centres below them are doing. What a
    dashboard card shows (`ops/reports/_summary.html`)."""

    half: Period
    due_on: date
    files: bool  # the user's centre files reports (a city or county centre)
    mine: WorkReport | None
    mine_overdue: bool
    below: int  # centres below the user's
    handed_in: int  # of those: submitted or accepted
    accepted: int
    overdue: int


def report_summary(user: User, today: date) -> ReportSummary:
    """The summary for `user` on `today` (all zeros and None for someone who neither files
    nor reviews)."""
    half = report_halves_open(today)[1]
    due = report_due_on(half.start.year, half_of(half))
    centre = filing_centre(user)
    mine = (
        WorkReport.objects.filter(centre=centre, year=half.start.year, half=half_of(half)).first()
        if centre is not None
        else None
    )
    lines = report_roster(user, half, today)
    if centre is None:
        mine_overdue = False
    else:
        mine_overdue = mine.is_overdue(today) if mine is not None else today > due
    return ReportSummary(
        half=half,
        due_on=due,
        files=centre is not None,
        mine=mine,
        mine_overdue=mine_overdue,
        below=len(lines),
        handed_in=sum(1 for x in lines if x.report is not None and x.report.status in HANDED_IN),
        accepted=sum(
            1
            for x in lines
            if x.report is not None and x.report.status == WorkReport.Status.ACCEPTED
        ),
        overdue=sum(1 for x in lines if x.overdue),
    )
