"""Who may see which region's operations data: staff see their jurisdiction's regions at
province, city and county level; administrators see every one. Anything else is a 404, so a
region outside the jurisdiction looks exactly like one that does not exist."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404

from kejiyun.accounts.models import User
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import region_in_jurisdiction, user_jurisdiction

OPS_LEVELS = (Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY)


def home_region(user: User) -> Region:
    """The region whose dashboard a user lands on: their centre's (the deployment's province
    for an administrator). 404 for anyone without one."""
    if user.sees_everything:
        region = Region.objects.filter(code=settings.DEPLOYMENT_PROVINCE).first()
    elif user.is_centre_staff:
        region = user_jurisdiction(user)
    else:
        region = None
    if region is None:
        raise Http404("页面不存在")
    return region


def region_for(user: User, code: str) -> Region:
    """The province, city or county `code` when `user` may see it; 404 otherwise."""
    region = Region.objects.filter(code=code, level__in=OPS_LEVELS).select_related("parent").first()
    if region is None or not (user.is_centre_staff or user.sees_everything):
        raise Http404("页面不存在")
    if not region_in_jurisdiction(user, region):
        raise Http404("页面不存在")
    return region
