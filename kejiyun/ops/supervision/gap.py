"""The supply-demand gap (供需缺口) of a region: its open demands against the verified
experts who could answer them, by field (the 门类 of the demand's industry class) and by the
regions one level down (the cities of the province, the counties of a city).

An open demand is a published one (not yet closed, withdrawn or returned) whose region lies
in the region. An expert "could answer" it when the matching engine ranks them for it above
the relevance threshold (`kejiyun.matching.selectors.capable_experts_for_demands`, the same
engine and ranking the case pages use). A demand with no such expert is unanswerable.

The engine is asked once per open demand, so the result is cached for `GAP_CACHE_SECONDS`
per region and field filter; the page says when it was computed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from kejiyun.demands.models import Demand
from kejiyun.matching.selectors import capable_experts_for_demands
from kejiyun.ops.selectors import PATH_LENGTH, child_regions
from kejiyun.regions.models import Region
from kejiyun.talent.models import Industry

# An expert counts for a demand at or above this share of the highest reachable score.
GAP_MIN_SHARE = 0.5
# How many ranked experts are read per demand (the distinct-expert counts stop there).
GAP_TOP_K = 50
GAP_CACHE_SECONDS = 600
# Demands with no industry class.
UNCLASSIFIED = ""
UNCLASSIFIED_NAME = "未分类"


@dataclass
class GapCell:
    """Open demands, those with at least one capable expert, and the distinct experts."""

    demands: int = 0
    answerable: int = 0
    experts: set[int] = field(default_factory=set)

    def add(self, expert_ids: list[int]) -> None:
        self.demands += 1
        if expert_ids:
            self.answerable += 1
        self.experts.update(expert_ids)

    @property
    def unanswerable(self) -> int:
        return self.demands - self.answerable

    @property
    def expert_count(self) -> int:
        return len(self.experts)

    @property
    def gap_ratio(self) -> float | None:
        """The share of open demands nobody could answer (None without open demands)."""
        return self.unanswerable / self.demands if self.demands else None

    @property
    def experts_per_demand(self) -> float | None:
        return self.expert_count / self.demands if self.demands else None


@dataclass
class GapLine:
    code: str
    name: str
    cell: GapCell


@dataclass
class Gap:
    region_code: str
    section: str
    computed_at: datetime
    areas: list[GapLine]
    fields: list[GapLine]
    # {(area code, section): cell}, only the cells that have open demands.
    cross: dict[tuple[str, str], GapCell]
    total: GapCell
    # The open demands nobody could answer: (id, title, area code, section), oldest first.
    unanswerable: list[tuple[int, str, str, str]]

    def cell(self, area: str, section: str) -> GapCell | None:
        return self.cross.get((area, section))


def gap_sections() -> list[tuple[str, str]]:
    """The industry sections (门类) a gap can be narrowed to: (letter, name)."""
    return list(Industry.objects.filter(level=1).order_by("code").values_list("code", "name"))


def _area_of(path: str, region: Region, length: int) -> str:
    """The code of the region one level down that `path` lies in (the region's own code
    for a record of the region itself, or when there is no level below)."""
    if not length or len(path) < length:
        return region.code
    return path[:length].rstrip("/").rsplit("/", 1)[-1]


def gap_compute(*, region: Region, section: str = "") -> Gap:
    """The gap of `region` (the caller has checked the user may see it), narrowed to one
    industry section when `section` is given (`UNCLASSIFIED` is not a filter)."""
    children = child_regions(region)
    length = PATH_LENGTH[Region.Level(children[0].level)] if children else 0
    demands = Demand.objects.filter(
        status=Demand.Status.PUBLISHED, region__path__startswith=region.path
    ).select_related("region", "organisation", "industry_class")
    if section:
        demands = demands.filter(industry_class__section=section)
    rows = list(demands.order_by("published_at", "id"))
    capable = capable_experts_for_demands(demands=rows, min_share=GAP_MIN_SHARE, top_k=GAP_TOP_K)

    names = {c.code: c.name for c in children}
    names.setdefault(region.code, f"{region.name}（本级）" if children else region.name)
    section_names = dict(gap_sections())
    section_names[UNCLASSIFIED] = UNCLASSIFIED_NAME

    areas: dict[str, GapCell] = {c.code: GapCell() for c in children} or {region.code: GapCell()}
    by_section: dict[str, GapCell] = defaultdict(GapCell)
    cross: dict[tuple[str, str], GapCell] = defaultdict(GapCell)
    total = GapCell()
    unanswerable: list[tuple[int, str, str, str]] = []
    for demand in rows:
        area = _area_of(demand.region.path, region, length)
        sec = demand.industry_class.section if demand.industry_class else UNCLASSIFIED
        experts = capable.get(demand.pk, [])
        areas.setdefault(area, GapCell()).add(experts)
        by_section[sec].add(experts)
        cross[(area, sec)].add(experts)
        total.add(experts)
        if not experts:
            unanswerable.append((demand.pk, demand.title, area, sec))
    return Gap(
        region_code=region.code,
        section=section,
        computed_at=timezone.now(),
        areas=[GapLine(code, names.get(code, code), cell) for code, cell in sorted(areas.items())],
        fields=[
            GapLine(sec, section_names.get(sec, sec), cell)
            for sec, cell in sorted(by_section.items(), key=lambda kv: (kv[0] == "", kv[0]))
        ],
        cross=dict(cross),
        total=total,
        unanswerable=unanswerable,
    )


def _cache_key(region: Region, section: str) -> str:
    return f"ops:gap:{region.code}:{section or '-'}"


def region_gap(*, region: Region, section: str = "", fresh: bool = False) -> Gap:
    """`gap_compute`, cached for `GAP_CACHE_SECONDS` per region and section (`fresh`
    recomputes and replaces the cached one)."""
    key = _cache_key(region, section)
    if not fresh:
        cached = cache.get(key)
        if isinstance(cached, Gap):
            return cached
    gap = gap_compute(region=region, section=section)
    cache.set(key, gap, GAP_CACHE_SECONDS)
    return gap
