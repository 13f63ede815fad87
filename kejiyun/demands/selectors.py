"""Reads for demands."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from kejiyun.accounts.models import Organisation, User
from kejiyun.demands.models import Demand
from kejiyun.regions.selectors import jurisdiction_filter


def demands_published() -> QuerySet[Demand]:
    """Published demands of the deployment province."""
    return Demand.objects.filter(
        status=Demand.Status.PUBLISHED,
        region__path__startswith=f"{settings.DEPLOYMENT_PROVINCE}/",
    ).select_related("organisation", "region", "region__parent")


def demands_of_organisation(*, organisation: Organisation) -> QuerySet[Demand]:
    return Demand.objects.filter(organisation=organisation).select_related("region")


def demands_for_staff(*, user: User) -> QuerySet[Demand]:
    qs = Demand.objects.select_related("organisation", "region", "region__parent")
    return jurisdiction_filter(qs, user=user, region_field="region")


def access_demand(user: User, demand_id: int) -> Demand:
    """The demand if `user` may see it as staff (it lies in their jurisdiction); else 404."""
    try:
        return demands_for_staff(user=user).get(pk=demand_id)
    except Demand.DoesNotExist:
        raise Http404("需求不存在或不在您的辖区内") from None
