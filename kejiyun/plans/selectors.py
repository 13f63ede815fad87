"""Reads for 一人一策 service plans. Jurisdiction follows the worker's county."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from kejiyun.accounts.models import Role, User
from kejiyun.plans.models import PlanAction, PlanEvent, PlanFollowUp, PlanNeed, ServicePlan
from kejiyun.regions.selectors import centres_in_jurisdiction, jurisdiction_filter


def plans_for_staff(*, user: User) -> QuerySet[ServicePlan]:
    """Plans of workers whose county lies in the staff member's jurisdiction, with the
    counts a list shows."""
    qs = ServicePlan.objects.select_related(
        "profile",
        "profile__user",
        "profile__region",
        "profile__region__parent",
        "owner",
        "centre",
    ).annotate(
        open_needs=Count("needs", filter=Q(needs__status=PlanNeed.Status.OPEN), distinct=True),
        open_actions=Count("actions", filter=Q(actions__done_at__isnull=True), distinct=True),
    )
    return jurisdiction_filter(qs, user=user, region_field="profile__region")


def access_plan(user: User, plan_id: int) -> ServicePlan:
    """The plan if `user` may see it as staff; otherwise 404."""
    try:
        return plans_for_staff(user=user).get(pk=plan_id)
    except ServicePlan.DoesNotExist:
        raise Http404("计划不存在或不在您的辖区内") from None


def plan_of_worker(*, user: User) -> ServicePlan | None:
    """The signed-in worker's own plan, if one has been opened."""
    return (
        ServicePlan.objects.select_related("profile", "profile__user", "owner", "centre")
        .filter(profile__user=user)
        .first()
    )


def plan_actions_due(*, owner: User, today: date) -> QuerySet[PlanAction]:
    """Open actions of the plans `owner` owns: overdue first, then by due date."""
    return (
        PlanAction.objects.filter(plan__owner=owner, done_at__isnull=True)
        .select_related("plan", "plan__profile", "plan__profile__user", "need")
        .annotate(
            overdue=Case(
                When(due_on__lt=today, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("overdue", "due_on", "id")
    )


def plan_actions_due_keys(*, owner: User, limit: int) -> list[tuple[object, ...]]:
    """What the first `limit` of `plan_actions_due` show of themselves (id, plan, title, due
    date), in the same order (the overdue ones are those due first): the work queue keys
    its cached table of them on it. A plain cursor: this runs on every request of the
    queue, and the ORM takes several times as long to ask."""
    action, plan = PlanAction._meta.db_table, ServicePlan._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.id, a.plan_id, a.title, a.due_on FROM {action} a"  # noqa: S608 (table names)
            f" INNER JOIN {plan} p ON a.plan_id = p.id"
            " WHERE p.owner_id = %s AND a.done_at IS NULL ORDER BY a.due_on, a.id LIMIT %s",
            [owner.pk, limit],
        )
        return [tuple(row) for row in cursor.fetchall()]


def _open_first() -> Case:
    """Open actions before done ones."""
    return Case(When(done_at__isnull=True, then=Value(0)), default=Value(1))


@dataclass(frozen=True)
class PlanPage:
    needs: list[PlanNeed]
    actions: list[PlanAction]
    followups: list[PlanFollowUp]
    events: list[PlanEvent]


def plan_page(*, plan: ServicePlan) -> PlanPage:
    """Everything the plan page lists, in four queries."""
    return PlanPage(
        needs=list(plan.needs.select_related("created_by").order_by("status", "id")),
        actions=list(
            plan.actions.select_related("need", "done_by").order_by(_open_first(), "due_on", "id")
        ),
        followups=list(plan.followups.select_related("author").order_by("-happened_on", "-id")),
        events=list(plan.events.select_related("actor").order_by("-created_at", "-id")[:50]),
    )


def owner_candidates(*, plan: ServicePlan, user: User) -> QuerySet[User]:
    """Staff the plan may be handed to by `user`: at a centre in `user`'s jurisdiction whose
    region covers the worker's county (the new owner must be able to see the plan)."""
    county = plan.profile.region
    centres = centres_in_jurisdiction(user=user).filter(region_id__in=county.ancestor_codes)
    return (
        User.objects.filter(role=Role.STAFF, is_active=True, centre__in=centres.values("pk"))
        .select_related("centre")
        .order_by("centre__region__path", "id")
    )
