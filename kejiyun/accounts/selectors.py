"""Reads for organisations and users. Staff reads are scoped by jurisdiction."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.http import Http404

from kejiyun.accounts.models import Organisation, User
from kejiyun.regions.selectors import jurisdiction_filter


def organisations_for_staff(*, user: User, kind: str | None = None) -> QuerySet[Organisation]:
    qs = Organisation.objects.select_related("region", "region__parent").annotate(
        demand_count=Count("demands", distinct=True)
    )
    if kind:
        qs = qs.filter(kind=kind)
    return jurisdiction_filter(qs, user=user, region_field="region")


def access_organisation(user: User, organisation_id: int) -> Organisation:
    """The organisation if `user` may see it as staff; otherwise 404."""
    try:
        return organisations_for_staff(user=user).get(pk=organisation_id)
    except Organisation.DoesNotExist:
        raise Http404("组织不存在或不在您的辖区内") from None


def user_by_mobile(mobile: str) -> User | None:
    """The account holding exactly this (normalised) mobile number, through its keyed hash:
    the one lookup by number (sign-in, lock-out, registration, SMS sign-in, imports)."""
    return User.objects.for_mobile(mobile).first()
