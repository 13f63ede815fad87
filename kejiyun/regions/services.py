"""Writes for regions and service centres. Every loader here is idempotent."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from kejiyun.regions.models import Region, ServiceCentre

DATA_FILE = Path(__file__).resolve().parent / "data" / "regions.csv"
_LEVEL_ORDER = {"province": 0, "city": 1, "county": 2, "township": 3}
_FIELDS = ("name", "level", "kind", "parent_id", "path", "lon", "lat")


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


def _float_or_none(raw: str) -> float | None:
    return float(raw) if raw else None


@transaction.atomic
def regions_load(*, data_file: Path = DATA_FILE) -> LoadResult:
    """Insert or update every region in the data file; rows already right are left alone."""
    with data_file.open(encoding="utf-8") as fh:
        records = sorted(csv.DictReader(fh), key=lambda r: (_LEVEL_ORDER[r["level"]], r["code"]))
    existing = {r.code: r for r in Region.objects.all()}
    paths: dict[str, str] = {}
    to_create: list[Region] = []
    to_update: list[Region] = []
    unchanged = 0
    for rec in records:
        parent = rec["parent_code"] or None
        path = (paths[parent] if parent else "") + rec["code"] + "/"
        paths[rec["code"]] = path
        wanted = Region(
            code=rec["code"],
            name=rec["name"],
            level=rec["level"],
            kind=rec["kind"],
            parent_id=parent,
            path=path,
            lon=_float_or_none(rec["lon"]),
            lat=_float_or_none(rec["lat"]),
        )
        current = existing.get(rec["code"])
        if current is None:
            to_create.append(wanted)
        elif any(getattr(current, f) != getattr(wanted, f) for f in _FIELDS):
            to_update.append(wanted)
        else:
            unchanged += 1
    # Parents sort before children, so creating in order satisfies the foreign keys.
    Region.objects.bulk_create(to_create, batch_size=1000)
    Region.objects.bulk_update(to_update, list(_FIELDS), batch_size=1000)
    return LoadResult(created=len(to_create), updated=len(to_update), unchanged=unchanged)


def centre_name_for(region: Region) -> str:
    return f"{region.name}科技服务中心"


@transaction.atomic
def service_centres_ensure(*, province_code: str) -> LoadResult:
    """One centre for the province, each of its cities and each of its counties."""
    province = Region.objects.get(code=province_code, level=Region.Level.PROVINCE)
    regions = list(
        Region.objects.filter(
            path__startswith=province.path,
            level__in=[Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY],
        )
    )
    existing = {c.region_id: c for c in ServiceCentre.objects.filter(region__in=regions)}
    created = updated = unchanged = 0
    for region in regions:
        name = centre_name_for(region)
        # Two counties may share a name across cities (e.g. 市中区); qualify with the city.
        if region.level == Region.Level.COUNTY and _name_is_shared(region, regions):
            name = f"{region.parent.name if region.parent else ''}{name}"
        centre = existing.get(region.code)
        if centre is None:
            ServiceCentre.objects.create(region=region, name=name)
            created += 1
        elif centre.name != name:
            centre.name = name
            centre.save(update_fields=["name"])
            updated += 1
        else:
            unchanged += 1
    return LoadResult(created=created, updated=updated, unchanged=unchanged)


def _name_is_shared(region: Region, regions: list[Region]) -> bool:
    return sum(1 for r in regions if r.name == region.name and r.level == region.level) > 1
