"""Reads for regions, and the jurisdiction layer that scopes every staff query.

Jurisdiction is a subtree of regions: a county centre's staff see their county, a city
centre's staff see the city and its counties, the province centre sees the whole province.
Every staff list and every `access_*` helper goes through `jurisdiction_filter`, so there is
exactly one place that decides what a staff member may see.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from django.db.models import Model, Q, QuerySet

from kejiyun.regions.models import Region, ServiceCentre

M = TypeVar("M", bound=Model)


class StaffMember(Protocol):
    """What jurisdiction needs to know of a user. Regions sit below accounts, so they name
    the few attributes they read instead of the User model (which has all of them)."""

    @property
    def centre_id(self) -> int | None: ...

    @property
    def centre(self) -> ServiceCentre | None: ...

    @property
    def is_centre_staff(self) -> bool: ...

    @property
    def sees_everything(self) -> bool: ...


def region_subtree(region: Region) -> QuerySet[Region]:
    return Region.objects.filter(path__startswith=region.path)


def province_regions(province_code: str) -> QuerySet[Region]:
    return Region.objects.filter(path__startswith=f"{province_code}/")


def counties_of_province(province_code: str) -> QuerySet[Region]:
    return (
        province_regions(province_code)
        .filter(level=Region.Level.COUNTY)
        .select_related("parent")
        .order_by("code")
    )


def centre_serving(region: Region) -> ServiceCentre | None:
    """The service centre that serves `region`: its own, else the nearest one above it (a
    township is served by its county's centre). None where no centre serves the region."""
    return (
        ServiceCentre.objects.filter(region_id__in=region.ancestor_codes)
        .select_related("region")
        .order_by("-region__path")
        .first()
    )


def user_jurisdiction(user: StaffMember) -> Region | None:
    """The region a staff member may see, or None for someone who sees no staff data.

    Administrators see everything: their jurisdiction is reported as None and
    `jurisdiction_filter` treats `user.sees_everything` separately.
    """
    if user.centre_id is None:
        return None
    centre = user.centre
    return centre.region if centre is not None else None


def region_in_jurisdiction(user: StaffMember, region: Region) -> bool:
    """Whether `region` lies in what `user` may see as staff (one object, where
    `jurisdiction_filter` scopes a queryset). Administrators see everything."""
    if user.sees_everything:
        return True
    jurisdiction = user_jurisdiction(user) if user.is_centre_staff else None
    return jurisdiction is not None and jurisdiction.contains(region)


def jurisdiction_filter(
    queryset: QuerySet[M], *, user: StaffMember, region_field: str
) -> QuerySet[M]:
    """Limit `queryset` to rows whose `region_field` lies in the user's jurisdiction.

    Anyone who is neither an administrator nor bound to a centre gets an empty queryset.
    """
    if user.sees_everything:
        return queryset
    region = user_jurisdiction(user) if user.is_centre_staff else None
    if region is None:
        return queryset.none()
    return queryset.filter(Q(**{f"{region_field}__path__startswith": region.path}))


def centres_in_jurisdiction(*, user: StaffMember) -> QuerySet[ServiceCentre]:
    return jurisdiction_filter(
        ServiceCentre.objects.select_related("region", "region__parent"),
        user=user,
        region_field="region",
    )
