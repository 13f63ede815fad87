"""Reads of the 一单一策 workflow: who may see which case (staff by jurisdiction, the
enterprise its own), the work queue and its counts, the timeline, who a case may go to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import connection
from django.db.models import Case as When_
from django.db.models import Count, IntegerField, Q, QuerySet, Value, When, Window
from django.http import Http404
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.cases.models import (
    OPEN_STEPS,
    TERMINAL,
    WAITING_ON_ENTERPRISE,
    Case,
    CaseEvent,
    DockingRequest,
    Outcome,
    Step,
)
from kejiyun.demands.models import Demand
from kejiyun.pagecache.models import ContentGeneration
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.regions.selectors import jurisdiction_filter, user_jurisdiction

_CASE_RELATED = (
    "demand",
    "demand__organisation",
    "demand__region",
    "region",
    "region__parent",
    "centre",
    "centre__region",
    "owner",
)


def cases_for_staff(*, user: User) -> QuerySet[Case]:
    """Cases of enterprises in the user's jurisdiction (by the enterprise's county).

    County staff keep seeing their county's cases after escalation (read only: see
    `cases.rules.may_act`).
    """
    qs = Case.objects.select_related(*_CASE_RELATED)
    return jurisdiction_filter(qs, user=user, region_field="region")


def access_case(user: User, case_id: int) -> Case:
    """The case if `user` may see it as staff; otherwise 404."""
    try:
        return cases_for_staff(user=user).get(pk=case_id)
    except Case.DoesNotExist:
        raise Http404("案例不存在或不在您的辖区内") from None


# What the staff case page shows of a case besides the case itself: its demand, the
# enterprise's name, the county, the handling centre and the owner's name (the page asks
# for no more of them, and reading whole rows of seven tables cost a third of its time).
_CASE_PAGE_FIELDS = (
    *(f.name for f in Case._meta.concrete_fields),
    *(
        f"demand__{name}"
        for name in (
            "title",
            "category",
            "description",
            "problem",
            "current_state",
            "target_indicators",
            "organisation",
        )
    ),
    "demand__organisation__name",
    *(f"region__{name}" for name in ("name", "level", "path", "parent")),
    "region__parent__name",
    "centre__name",
    "centre__region",
    *(f"centre__region__{name}" for name in ("name", "level", "path", "parent")),
    "owner__display_name",
)


def access_case_page(user: User, case_id: int) -> Case:
    """`access_case` with only what the staff case page shows (`_CASE_PAGE_FIELDS`)."""
    qs = Case.objects.select_related(
        "demand__organisation", "region__parent", "centre__region", "owner"
    ).only(*_CASE_PAGE_FIELDS)
    try:
        return jurisdiction_filter(qs, user=user, region_field="region").get(pk=case_id)
    except Case.DoesNotExist:
        raise Http404("案例不存在或不在您的辖区内") from None


def cases_of_organisation(*, user: User) -> QuerySet[Case]:
    """The cases of the enterprise user's own organisation."""
    if user.role != Role.ENTERPRISE or user.organisation_id is None:
        return Case.objects.none()
    return Case.objects.select_related(*_CASE_RELATED).filter(
        demand__organisation_id=user.organisation_id
    )


def organisation_cases_stamp(*, user: User) -> tuple[int, ...]:
    """What changes whenever the enterprise's list of its cases does: how many there are,
    the newest, and the sums of the cases' and their demands' versions (every step,
    reassignment and edit through a service moves one on). One aggregate over exactly the
    rows `cases_of_organisation` lists, for keying the list in the page cache."""
    if user.role != Role.ENTERPRISE or user.organisation_id is None:
        return ()
    with connection.cursor() as cursor:  # a plain cursor: the ORM costs several times more
        cursor.execute(
            "SELECT COUNT(*), MAX(c.id), SUM(c.version), SUM(d.version)"
            " FROM cases_case c JOIN demands_demand d ON d.id = c.demand_id"
            " WHERE d.organisation_id = %s",
            [user.organisation_id],
        )
        row = cursor.fetchone()
    return tuple(int(value or 0) for value in row)


def access_case_for_enterprise(user: User, case_id: int) -> Case:
    try:
        return cases_of_organisation(user=user).get(pk=case_id)
    except Case.DoesNotExist:
        raise Http404("案例不存在") from None


def library_eligible_q(via: str = "") -> Q:
    """A case that may enter the public case library (案例库) once its enterprise consents:
    closed, solved (contract and evidence recorded), confirmed by the enterprise, and not of
    a demand kept private (不公开). `via` reaches the case through a relation."""
    return (
        Q(**{f"{via}step": Step.CLOSED})
        & Q(**{f"{via}outcome": Outcome.SOLVED})
        & Q(**{f"{via}confirmed_at__isnull": False})
        & ~Q(**{f"{via}demand__confidentiality": Demand.Confidentiality.PRIVATE})
    )


def library_eligible(case: Case) -> bool:
    """`library_eligible_q` of one loaded case (the consent card and the consent service)."""
    return (
        case.step == Step.CLOSED
        and case.outcome == Outcome.SOLVED
        and case.confirmed_at is not None
        and case.demand.confidentiality != Demand.Confidentiality.PRIVATE
    )


def case_helpers(*, case: Case) -> QuerySet[DockingRequest]:
    """The experts who took the case on (accepted its docking request), for the enterprise
    to see who helped: their name and organisation only."""
    return (
        case.dockings.filter(status=DockingRequest.Status.ACCEPTED)
        .select_related("expert__user")
        .order_by("responded_at", "id")
    )


def case_timeline(*, case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor").order_by("created_at", "id")


def _with_urgency(qs: QuerySet[Case], now: datetime) -> QuerySet[Case]:
    """Order overdue first, then due soon, then the rest; each by due time.

    A case whose clock is stopped (paused, or waiting on the enterprise) is never overdue or
    due soon. The same as `Case.overdue_q`, `Case.due_soon_q` and `Case.running_q` (a test
    holds them together), written as one flat CASE: the queue builds it on every request,
    and the nested form costs the ORM several times as much to build and compile.
    """
    soon = now + timedelta(hours=settings.CASE_DUE_SOON_HOURS)
    return qs.annotate(
        urgency=When_(
            When(step__in=[*TERMINAL, *WAITING_ON_ENTERPRISE], then=Value(3)),
            When(paused_at__isnull=False, then=Value(3)),
            When(due_at__lt=now, then=Value(0)),
            When(due_at__lt=soon, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    ).order_by("urgency", "due_at", "id")


class CaseState(StrEnum):
    """What the case list can be narrowed to, beyond its scope (the supervision table links
    each of its figures to one of these). The live states describe cases now; the closed
    ones cases that ended within `closed_from`..`closed_to` (Beijing dates, inclusive)."""

    OPEN = "open"
    OVERDUE = "overdue"
    UNOWNED = "unowned"
    CLOSED = "closed"
    CLOSED_ON_TIME = "closed_on_time"
    SOLVED = "solved"
    RATED = "rated"


CASE_STATE_LABELS: dict[str, str] = {
    CaseState.OPEN: "在办",
    CaseState.OVERDUE: "已超时",
    CaseState.UNOWNED: "待指派",
    CaseState.CLOSED: "已结案",
    CaseState.CLOSED_ON_TIME: "按时结案",
    CaseState.SOLVED: "有佐证的解决",
    CaseState.RATED: "已评价",
}

CLOSED_STATES = frozenset(
    {CaseState.CLOSED, CaseState.CLOSED_ON_TIME, CaseState.SOLVED, CaseState.RATED}
)


def _beijing_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def case_state_q(
    state: str,
    *,
    now: datetime,
    closed_from: date | None = None,
    closed_to: date | None = None,
) -> Q:
    """The cases in `state` (a `CaseState`), as a query.

    - open: not ended; overdue: running and past its step's due time; unowned: open and
      owned by nobody;
    - closed: ended (办结, withdrawn or unsolvable), its `closed_at` within the dates;
    - closed_on_time: ended and never escalated;
    - solved: ended at 办结 as solved with evidence on file (a contract and its document);
    - rated: ended at 办结 and rated by the enterprise.

    The same cases as the rollup indicators `cases_closed`, `closed_on_time_share` (its
    numerator), `solved_with_evidence` and `satisfaction_mean` (its denominator) count
    (`kejiyun/ops/compute.py`), so a supervision figure and its case list agree.
    """
    if state == CaseState.OPEN:
        return Case.open_q()
    if state == CaseState.OVERDUE:
        return Case.overdue_q(now)
    if state == CaseState.UNOWNED:
        return Case.open_q() & Q(owner__isnull=True)
    if state not in CLOSED_STATES:
        raise ValueError(f"unknown case state {state!r}")
    where = Q(step__in=list(TERMINAL), closed_at__isnull=False)
    if closed_from is not None:
        where &= Q(closed_at__gte=_beijing_start(closed_from))
    if closed_to is not None:
        where &= Q(closed_at__lt=_beijing_start(closed_to + timedelta(days=1)))
    if state == CaseState.CLOSED_ON_TIME:
        where &= Q(escalations=0)
    elif state == CaseState.SOLVED:
        where &= Q(step=Step.CLOSED, outcome=Outcome.SOLVED) & ~Q(evidence="")
    elif state == CaseState.RATED:
        where &= Q(step=Step.CLOSED, rating__isnull=False)
    return where


def served_by_q(centre: ServiceCentre) -> Q:
    """Cases the centre is answerable for: those of its own region. A case's region is the
    region of the centre that served its demand when it was opened (`case_open`), so each
    case belongs to exactly one centre here, wherever escalation has taken it since."""
    return Q(region_id=centre.region_id)


def work_queue(
    *,
    user: User,
    mine_only: bool = True,
    unowned_only: bool = False,
    step: str = "",
    industry: str = "",
    county: str = "",
    centre: ServiceCentre | None = None,
    area: Region | None = None,
    state: str = "",
    closed_from: date | None = None,
    closed_to: date | None = None,
    now: datetime | None = None,
) -> QuerySet[Case]:
    """Open cases for the staff work queue: overdue first, then due soon.

    `mine_only` keeps the cases the user owns, `unowned_only` those nobody owns (a centre
    without staff, waiting to be assigned); otherwise every open case of the jurisdiction.
    Filters: step, industry (substring of the demand's industry), county (region code),
    centre (the cases it is answerable for, `served_by_q`), area (cases anywhere in that
    region), state (a `CaseState`; a closed state lists ended cases instead, newest first,
    within the closing dates). Jurisdiction always applies first (`cases_for_staff`).
    """
    now = now or timezone.now()
    qs = cases_for_staff(user=user)
    closed = state in CLOSED_STATES
    qs = qs.filter(
        case_state_q(state, now=now, closed_from=closed_from, closed_to=closed_to)
        if state
        else Case.open_q()
    )
    if mine_only:
        qs = qs.filter(owner=user)
    elif unowned_only:
        qs = qs.filter(owner__isnull=True)
    if step in OPEN_STEPS:
        qs = qs.filter(step=step)
    if industry:
        qs = qs.filter(demand__industry__icontains=industry)
    if county:
        qs = qs.filter(region__code=county)
    if centre is not None:
        qs = qs.filter(served_by_q(centre))
    if area is not None:
        qs = qs.filter(region__path__startswith=area.path)
    if closed:
        return qs.order_by("-closed_at", "-id")
    return _with_urgency(qs, now)


@dataclass(frozen=True)
class QueueRowKey:
    """What a row of the work queue is drawn from, as far as one cheap query can tell: the
    case; its version, which every write of its step, clock, owner or centre moves
    (`claim_version`); its demand's version, which every edit of the demand moves; and its
    urgency (overdue, due soon, ...), which moves with the time."""

    id: int
    version: int
    demand_version: int
    urgency: int | None

    def __str__(self) -> str:
        return f"{self.id}.{self.version}.{self.demand_version}.{self.urgency}"


def work_queue_keys(
    cases: QuerySet[Case], *, offset: int, limit: int
) -> tuple[list[QueueRowKey], int | None]:
    """The keys of the rows `offset`..`offset + limit` of `work_queue`'s `cases`, and how
    many cases it has in all (None when the slice is empty: ask `cases.count()`), in one
    query: a window count instead of the paginator's COUNT(*)."""
    urgent = "urgency" in cases.query.annotations  # not on the lists of closed cases
    fields = ["id", "version", "demand__version", "queue_total", *(["urgency"] if urgent else [])]
    rows = list(
        cases.annotate(queue_total=Window(Count("id"))).values_list(*fields)[
            offset : offset + limit
        ]
    )
    keys = [QueueRowKey(row[0], row[1], row[2], row[4] if urgent else None) for row in rows]
    return keys, (rows[0][3] if rows else None)


def work_queue_rows(keys: list[QueueRowKey]) -> list[Case]:
    """The cases of `keys`, in their order, with what a queue row shows (the demand's title
    and organisation, the county, the step and clock, the owner and centre) and their
    `urgency`."""
    found = (
        Case.objects.select_related("demand__organisation", "region__parent", "owner", "centre")
        .only(
            "step",
            "due_at",
            "paused_at",
            "demand__title",
            "demand__organisation__name",
            "region__name",
            "region__parent__name",
            "owner__display_name",
            "centre__name",
        )
        .in_bulk([key.id for key in keys])
    )
    rows = []
    for key in keys:
        case = found.get(key.id)
        if case is not None:  # gone since the keys were read
            case.urgency = key.urgency  # type: ignore[attr-defined]
            rows.append(case)
    return rows


def staff_owners_for(*, user: User, case: Case | None = None) -> QuerySet[User]:
    """Staff members the user may hand cases to: in the user's jurisdiction and, for one
    case, at a centre that can see it (its county's, city's or the province's centre)."""
    qs = User.objects.filter(role=Role.STAFF, is_active=True, centre__isnull=False)
    if case is not None:
        qs = qs.filter(centre__region__code__in=case.region.ancestor_codes)
    return jurisdiction_filter(
        qs.select_related("centre", "centre__region"), user=user, region_field="centre__region"
    ).order_by("centre__region__code", "display_name", "id")


@dataclass(frozen=True)
class QueueCounts:
    open: int
    overdue: int
    due_soon: int
    paused: int


def queue_counts(*, user: User, now: datetime | None = None) -> QueueCounts:
    """How many open cases the user owns, and how many of them are overdue or due soon."""
    now = now or timezone.now()
    counts = (
        Case.objects.filter(owner=user)
        .filter(Case.open_q())
        .aggregate(
            open=Count("id"),
            overdue=Count("id", filter=Case.overdue_q(now)),
            due_soon=Count("id", filter=Case.due_soon_q(now)),
            paused=Count("id", filter=~Case.running_q()),
        )
    )
    return QueueCounts(**counts)


@dataclass(frozen=True)
class JurisdictionCaseCounts:
    open: int
    overdue: int
    due_soon: int
    unowned: int


def jurisdiction_case_counts(*, user: User, now: datetime | None = None) -> JurisdictionCaseCounts:
    """Open cases over the user's whole jurisdiction (`cases_for_staff`), whoever owns them:
    how many are overdue, due soon, and owned by nobody (the 待指派 scope)."""
    now = now or timezone.now()
    counts = (
        jurisdiction_filter(Case.objects.all(), user=user, region_field="region")
        .filter(Case.open_q())
        .aggregate(
            open=Count("id"),
            overdue=Count("id", filter=Case.overdue_q(now)),
            due_soon=Count("id", filter=Case.due_soon_q(now)),
            unowned=Count("id", filter=Q(owner__isnull=True)),
        )
    )
    return JurisdictionCaseCounts(**counts)


def open_case_counts_by_region(
    *, user: User, within: Region, now: datetime | None = None
) -> dict[str, JurisdictionCaseCounts]:
    """`jurisdiction_case_counts` split by the case's region, for the cases under `within`
    that the user may see: {region path: counts}. Regions without an open case are absent."""
    now = now or timezone.now()
    rows = (
        jurisdiction_filter(Case.objects.all(), user=user, region_field="region")
        .filter(Case.open_q(), region__path__startswith=within.path)
        .values("region__path")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=Case.overdue_q(now)),
            due_soon=Count("id", filter=Case.due_soon_q(now)),
            unowned=Count("id", filter=Q(owner__isnull=True)),
        )
        .order_by()
    )
    return {row.pop("region__path"): JurisdictionCaseCounts(**row) for row in rows}


def areas_in_jurisdiction(*, user: User) -> QuerySet[Region]:
    """The province, cities and counties of the deployment that the user sees (the choices
    of the case list's area filter), in path order."""
    qs = Region.objects.filter(
        level__in=[Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY],
        path__startswith=f"{settings.DEPLOYMENT_PROVINCE}/",
    ).order_by("path")
    if user.sees_everything:
        return qs
    home = user_jurisdiction(user) if user.is_centre_staff else None
    if home is None:
        return qs.none()
    return qs.filter(path__startswith=home.path)


def case_of_demand(*, demand_id: int) -> Case | None:
    """The case opened for a demand, with what its pages need; None before it has one."""
    return Case.objects.select_related(*_CASE_RELATED).filter(demand_id=demand_id).first()


# --- Dockings on the case pages -------------------------------------------------------------


def case_dockings(*, case: Case) -> QuerySet[DockingRequest]:
    """Every docking of a case, oldest first, with what the case page shows of each expert:
    the applications and enterprise requests awaiting staff (`DockingRequest.awaits_staff`)
    and the rest (sent, answered or refused) in one query."""
    return case.dockings.select_related("expert", "expert__user", "expert__region").order_by(
        "created_at", "id"
    )


def dockings_asked_by_enterprise(*, case: Case) -> QuerySet[DockingRequest]:
    """The requests the enterprise made on its case, newest first."""
    return (
        case.dockings.filter(origin=DockingRequest.Origin.ENTERPRISE)
        .select_related("expert__user")
        .order_by("-created_at", "-id")
    )


# --- What the staff case page shows of a case's record ----------------------------------------

# The rows the case page shows besides the case itself (its timeline, notes, visits,
# attachments and dockings): how many and the newest of each; and the talent generation.
_RECORD_FRESHNESS_SQL = """SELECT
  (SELECT COUNT(*) FROM cases_caseevent WHERE case_id = %(case)s),
  (SELECT MAX(id) FROM cases_caseevent WHERE case_id = %(case)s),
  (SELECT COUNT(*) FROM cases_casenote WHERE case_id = %(case)s),
  (SELECT MAX(id) FROM cases_casenote WHERE case_id = %(case)s),
  (SELECT COUNT(*) FROM cases_casevisit WHERE case_id = %(case)s),
  (SELECT MAX(id) FROM cases_casevisit WHERE case_id = %(case)s),
  (SELECT COUNT(*) FROM cases_caseattachment WHERE case_id = %(case)s),
  (SELECT MAX(id) FROM cases_caseattachment WHERE case_id = %(case)s),
  (SELECT COUNT(*) FROM cases_dockingrequest WHERE case_id = %(case)s),
  (SELECT MAX(id) FROM cases_dockingrequest WHERE case_id = %(case)s),
  (SELECT number FROM pagecache_contentgeneration WHERE topic = %(talent)s)
"""


def case_record_freshness(*, case_id: int) -> tuple[object, ...]:
    """What moves whenever the case page's record of a case changes, in one query: how many
    timeline events, notes, visits, attachments and dockings the case has and the newest of
    each (every change through the services adds a timeline event in its transaction; the
    counts also catch a row removed), and the generation of the talent directory, which the
    services move when a worker edits their profile and when an account is cancelled (the
    names and notes it rewrites in place). A plain cursor: it runs on every case page."""
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD_FRESHNESS_SQL,
            {"case": case_id, "talent": ContentGeneration.Topic.TALENT.value},
        )
        row = cursor.fetchone()
    return tuple(row) if row is not None else ()
