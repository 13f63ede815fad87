"""Reads of dockings: the requests sent to an S&T worker and the worker's own applications,
one docking of a case for staff. (The case pages' lists of dockings are read in
`workflow.selectors`, which the case pages sit on.)"""

from __future__ import annotations

from django.db.models import Case as When_
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from kejiyun.accounts.models import User
from kejiyun.cases.models import Case, DockingRequest

# An enterprise's request is between the enterprise and the centre until staff send it: the
# expert never sees it waiting, nor refused.
_HIDDEN_FROM_EXPERT = Q(origin=DockingRequest.Origin.ENTERPRISE) & Q(
    status__in=[DockingRequest.Status.REQUESTED, DockingRequest.Status.REFUSED]
)


def dockings_for_expert(*, user: User) -> QuerySet[DockingRequest]:
    """Docking requests sent to the signed-in S&T worker and their own applications,
    unanswered requests first, then applications waiting for the centre, then the rest."""
    first = When_(
        When(status=DockingRequest.Status.SENT, then=Value(0)),
        When(status=DockingRequest.Status.APPLIED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        DockingRequest.objects.filter(expert__user=user)
        .exclude(_HIDDEN_FROM_EXPERT)
        .select_related(
            "case",
            "case__demand",
            "case__demand__organisation",
            "case__region",
            "expert",
        )
        .annotate(first=first)
        .order_by("first", "-created_at", "-id")
    )


def access_docking_for_expert(user: User, docking_id: int) -> DockingRequest:
    try:
        return dockings_for_expert(user=user).get(pk=docking_id)
    except DockingRequest.DoesNotExist:
        raise Http404("对接请求不存在") from None


def docking_of_worker(*, case: Case, user: User) -> DockingRequest | None:
    """The worker's own docking on a case, however it came about (None if there is none, or
    only an enterprise's request the worker may not see yet)."""
    return dockings_for_expert(user=user).filter(case=case).first()


def access_docking_for_staff(*, case: Case, docking_id: int) -> DockingRequest:
    """A docking of a case the staff member may see (the case came from `access_case`)."""
    try:
        docking = case.dockings.select_related("expert__user", "sent_by").get(pk=docking_id)
    except DockingRequest.DoesNotExist:
        raise Http404("对接不存在") from None
    docking.case = case  # with the relations the case page loaded
    return docking
