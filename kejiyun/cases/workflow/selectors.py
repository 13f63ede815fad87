"""Reads of the 一单一策 workflow: who may see which case (staff by jurisdiction, the
enterprise its own), the work queue and its counts, the timeline, who a case may go to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case as When_
from django.db.models import Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.cases.models import AWAITING_STAFF, OPEN_STEPS, Case, CaseEvent, DockingRequest
from kejiyun.regions.selectors import jurisdiction_filter

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


def cases_of_organisation(*, user: User) -> QuerySet[Case]:
    """The cases of the enterprise user's own organisation."""
    if user.role != Role.ENTERPRISE or user.organisation_id is None:
        return Case.objects.none()
    return Case.objects.select_related(*_CASE_RELATED).filter(
        demand__organisation_id=user.organisation_id
    )


def access_case_for_enterprise(user: User, case_id: int) -> Case:
    try:
        return cases_of_organisation(user=user).get(pk=case_id)
    except Case.DoesNotExist:
        raise Http404("案例不存在") from None


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

    A paused case is never overdue or due soon: its clock is stopped.
    """
    return qs.annotate(
        urgency=When_(
            When(Case.overdue_q(now), then=Value(0)),
            When(Case.due_soon_q(now), then=Value(1)),
            When(Case.running_q(), then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
    ).order_by("urgency", "due_at", "id")


def work_queue(
    *,
    user: User,
    mine_only: bool = True,
    unowned_only: bool = False,
    step: str = "",
    industry: str = "",
    county: str = "",
    now: datetime | None = None,
) -> QuerySet[Case]:
    """Open cases for the staff work queue: overdue first, then due soon.

    `mine_only` keeps the cases the user owns, `unowned_only` those nobody owns (a centre
    without staff, waiting to be assigned); otherwise every open case of the jurisdiction.
    Filters: step, industry (substring of the demand's industry), county (region code).
    """
    now = now or timezone.now()
    qs = cases_for_staff(user=user).filter(Case.open_q())
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
    return _with_urgency(qs, now)


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


def case_of_demand(*, demand_id: int) -> Case | None:
    """The case opened for a demand, with what its pages need; None before it has one."""
    return Case.objects.select_related(*_CASE_RELATED).filter(demand_id=demand_id).first()


# --- Dockings on the case pages -------------------------------------------------------------


def dockings_awaiting_staff(*, case: Case) -> QuerySet[DockingRequest]:
    """Applications and enterprise requests on a case that staff have not decided, oldest
    first."""
    return (
        case.dockings.filter(status__in=list(AWAITING_STAFF))
        .select_related("expert", "expert__user", "expert__region", "sent_by")
        .order_by("created_at", "id")
    )


def dockings_decided(*, case: Case) -> QuerySet[DockingRequest]:
    """Every other docking of a case: sent, answered or refused."""
    return (
        case.dockings.exclude(status__in=list(AWAITING_STAFF))
        .select_related("expert__user")
        .order_by("-created_at", "-id")
    )


def dockings_asked_by_enterprise(*, case: Case) -> QuerySet[DockingRequest]:
    """The requests the enterprise made on its case, newest first."""
    return (
        case.dockings.filter(origin=DockingRequest.Origin.ENTERPRISE)
        .select_related("expert__user")
        .order_by("-created_at", "-id")
    )
