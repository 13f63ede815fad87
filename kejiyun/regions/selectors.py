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


# --- Pickers: the public region tree, read a level at a time ------------------------------

PICKER_SEARCH_LIMIT = 20


def region_children(code: str | None) -> QuerySet[Region]:
    """The regions directly below `code` (the provinces when `code` is None), in code order."""
    if code is None:
        return Region.objects.filter(parent__isnull=True).order_by("code")
    return Region.objects.filter(parent_id=code).order_by("code")


def region_search(
    text: str, *, within: Region | None = None, levels: list[str] | None = None
) -> list[Region]:
    """Regions whose name contains `text`, inside `within` and of `levels` when given:
    higher levels first (a county before the townships with the same word), then by code.
    The parents come along for the labels."""
    text = text.strip()
    if not text:
        return []
    qs = Region.objects.filter(name__contains=text)
    if within is not None:
        qs = qs.filter(path__startswith=within.path)
    if levels:
        qs = qs.filter(level__in=levels)
    rows = list(qs.select_related("parent", "parent__parent").order_by("path")[:500])
    order = {level: i for i, level in enumerate(Region.Level.values)}
    rows.sort(key=lambda r: (order.get(r.level, 9), not r.name.startswith(text), r.code))
    return rows[:PICKER_SEARCH_LIMIT]


def region_label(region: Region) -> str:
    """A region's name with its city and county, e.g. "成都市 · 双流区 · 东升街道" (the
    province is left out: a picker never leaves it)."""
    names: list[str] = []
    node: Region | None = region
    while node is not None and node.level != Region.Level.PROVINCE:
        names.append(node.name)
        # Stop at the city so a label never needs more than the two parents loaded.
        node = node.parent if node.level != Region.Level.CITY else None
    return " · ".join(reversed(names)) or region.name


def region_lineage(code: str) -> list[Region]:
    """The region `code` and every region above it, from the province down (empty for an
    unknown code)."""
    region = Region.objects.filter(pk=code).first()
    if region is None:
        return []
    found = {r.code: r for r in Region.objects.filter(code__in=region.ancestor_codes)}
    return [found[c] for c in region.ancestor_codes if c in found]


def counties_in_jurisdiction(user: StaffMember, *, province_code: str) -> QuerySet[Region]:
    """The counties of `province_code` a staff member sees (all of them for an
    administrator), with their cities, in code order: the choices of a county filter."""
    qs = counties_of_province(province_code)
    if user.sees_everything:
        return qs
    home = user_jurisdiction(user) if user.is_centre_staff else None
    if home is None:
        return qs.none()
    return qs.filter(path__startswith=home.path)
