"""Who may see which region's operations data: staff see their jurisdiction's regions at
province, city and county level; administrators see every one. Anything else is a 404, so a
region outside the jurisdiction looks exactly like one that does not exist."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
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
    region = _ops_region(code)
    if region is None or not (user.is_centre_staff or user.sees_everything):
        raise Http404("页面不存在")
    if not region_in_jurisdiction(user, region):
        raise Http404("页面不存在")
    return region


# What `region_for` reads of a region and of its parent, in this order.
_REGION_COLUMNS = ("code", "name", "level", "kind", "parent_id", "path", "lon", "lat")
_OPS_REGION_SQL = (
    "SELECT r.code, r.name, r.level, r.kind, r.parent_id, r.path, r.lon, r.lat,"
    " p.code, p.name, p.level, p.kind, p.parent_id, p.path, p.lon, p.lat"
    " FROM regions_region r LEFT JOIN regions_region p ON p.code = r.parent_id"
    " WHERE r.code = %s AND r.level IN (%s, %s, %s)"
)


def _ops_region(code: str) -> Region | None:
    """The province, city or county `code` with its parent loaded, or None. A plain cursor:
    every operations page and its map data start here, and the ORM took twenty times as
    long to ask (issue 16, "fast pages")."""
    with connection.cursor() as cursor:
        cursor.execute(_OPS_REGION_SQL, [code, *(level.value for level in OPS_LEVELS)])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(_REGION_COLUMNS)
    region = Region.from_db(connection.alias, _REGION_COLUMNS, row[:width])
    if row[width] is not None:
        region.parent = Region.from_db(connection.alias, _REGION_COLUMNS, row[width:])
    return region
