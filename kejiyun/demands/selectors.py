"""Reads for demands."""

from __future__ import annotations

from django.conf import settings
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.http import Http404

from kejiyun.accounts.models import Organisation, User
from kejiyun.demands.models import Demand
from kejiyun.regions.selectors import jurisdiction_filter


def demands_published() -> QuerySet[Demand]:
    """Published demands of the deployment province that may be shown outside the centres:
    those the enterprise asked to keep private (不公开) are left out. Callers that show text
    must still respect `confidentiality == summary` (title, category, industry and region
    only)."""
    return (
        Demand.objects.filter(
            status=Demand.Status.PUBLISHED,
            region__path__startswith=f"{settings.DEPLOYMENT_PROVINCE}/",
        )
        .exclude(confidentiality=Demand.Confidentiality.PRIVATE)
        .select_related("organisation", "region", "region__parent")
    )


def demands_of_organisation(*, organisation: Organisation) -> QuerySet[Demand]:
    """Every demand of one organisation, with its case (if it has one) for the link."""
    return Demand.objects.filter(organisation=organisation).select_related(
        "region", "region__parent", "case"
    )


def access_own_demand(user: User, demand_id: int) -> Demand:
    """The demand if it belongs to `user`'s organisation (an enterprise user); else 404."""
    if user.organisation_id is None:
        raise Http404("需求不存在")
    try:
        return (
            Demand.objects.filter(organisation_id=user.organisation_id)
            .select_related("organisation", "region", "region__parent", "case")
            .get(pk=demand_id)
        )
    except Demand.DoesNotExist:
        raise Http404("需求不存在") from None


def demands_for_staff(*, user: User, status: str = "") -> QuerySet[Demand]:
    """Demands in the staff member's jurisdiction, optionally of one status."""
    qs = Demand.objects.select_related("organisation", "region", "region__parent")
    if status:
        qs = qs.filter(status=status)
    return jurisdiction_filter(qs, user=user, region_field="region")


def demands_review_queue(*, user: User) -> QuerySet[Demand]:
    """Submitted demands waiting for review in the jurisdiction: flagged ones first, then the
    longest waiting."""
    flagged = Case(
        When(Q(duplicate_of__isnull=False) | ~Q(review_flags=[]), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    return (
        demands_for_staff(user=user, status=Demand.Status.SUBMITTED)
        .annotate(flagged=flagged)
        .order_by("-flagged", "submitted_at", "id")
    )


def access_demand(user: User, demand_id: int) -> Demand:
    """The demand if `user` may see it as staff (it lies in their jurisdiction); else 404."""
    try:
        return demands_for_staff(user=user).get(pk=demand_id)
    except Demand.DoesNotExist:
        raise Http404("需求不存在或不在您的辖区内") from None
