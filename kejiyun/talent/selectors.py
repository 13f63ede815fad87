"""Reads for S&T worker profiles."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from kejiyun.accounts.models import User
from kejiyun.regions.selectors import jurisdiction_filter
from kejiyun.talent.models import TalentProfile


def talent_for_staff(*, user: User) -> QuerySet[TalentProfile]:
    qs = TalentProfile.objects.select_related("user", "region", "region__parent")
    return jurisdiction_filter(qs, user=user, region_field="region")


def access_talent(user: User, profile_id: int) -> TalentProfile:
    """The profile if `user` may see it as staff; otherwise 404."""
    try:
        return talent_for_staff(user=user).get(pk=profile_id)
    except TalentProfile.DoesNotExist:
        raise Http404("档案不存在或不在您的辖区内") from None


def talent_public(*, province_path: str) -> QuerySet[TalentProfile]:
    """Profiles shown in the public expert directory of the deployment province."""
    return TalentProfile.objects.select_related("user", "region", "region__parent").filter(
        region__path__startswith=province_path
    )
