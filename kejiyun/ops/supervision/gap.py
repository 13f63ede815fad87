"""The supply-demand gap (供需缺口) of a region: its open demands against the verified
experts who could answer them, by field (the 门类 of the demand's industry class) and by the
regions one level down (the cities of the province, the counties of a city).

An open demand is a published one (not yet closed, withdrawn or returned) whose region lies
in the region. An expert "could answer" it when the matching engine ranks them for it above
the relevance threshold (`kejiyun.matching.selectors.capable_experts_for_demands`, the same
engine and ranking the case pages use). A demand with no such expert is unanswerable.

The engine takes about 30 ms per demand, too slow to ask on a page for every open demand of
the province; the periodic job `ops.gap_coverage_refresh` keeps each published demand's
experts in `GapCoverage`, and this module only reads and adds them up. A demand published
since the job last ran is "pending" until the next run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from kejiyun.demands.models import Demand
from kejiyun.ops.models import GapCoverage
from kejiyun.ops.selectors import PATH_LENGTH, child_regions
from kejiyun.regions.models import Region
from kejiyun.talent.models import Industry

# Demands with no industry class.
UNCLASSIFIED = ""
UNCLASSIFIED_NAME = "未分类"


@dataclass
class GapCell:
    """Open demands, those with at least one capable expert, and the distinct experts."""

    demands: int = 0
    answerable: int = 0
    # Open demands whose experts the periodic job has not computed yet.
    pending: int = 0
    experts: set[int] = field(default_factory=set)

    def add(self, expert_ids: list[int] | None) -> None:
        self.demands += 1
        if expert_ids is None:
            self.pending += 1
            return
        if expert_ids:
            self.answerable += 1
        self.experts.update(expert_ids)

    @property
    def computed(self) -> int:
        return self.demands - self.pending

    @property
    def unanswerable(self) -> int:
        return self.computed - self.answerable

    @property
    def expert_count(self) -> int:
        return len(self.experts)

    @property
    def gap_ratio(self) -> float | None:
        """The share of open demands nobody could answer (None without computed ones)."""
        return self.unanswerable / self.computed if self.computed else None

    @property
    def experts_per_demand(self) -> float | None:
        return self.expert_count / self.computed if self.computed else None


@dataclass
class GapLine:
    code: str
    name: str
    cell: GapCell


@dataclass
class Gap:
    region_code: str
    section: str
    # When the oldest of the expert counts read was computed (None when none were).
    computed_at: datetime | None
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


def region_gap(*, region: Region, section: str = "") -> Gap:
    """The gap of `region` (the caller has checked the user may see it), narrowed to one
    industry section when `section` is given. Two queries: the open demands with their
    stored experts, and the section names."""
    children = child_regions(region)
    length = PATH_LENGTH[Region.Level(children[0].level)] if children else 0
    demands = Demand.objects.filter(
        status=Demand.Status.PUBLISHED, region__path__startswith=region.path
    )
    if section:
        demands = demands.filter(industry_class__section=section)
    rows = list(
        demands.order_by("published_at", "id").values_list(
            "pk", "title", "region__path", "industry_class__section"
        )
    )
    coverage = {
        demand_id: (experts, computed_at)
        for demand_id, experts, computed_at in GapCoverage.objects.filter(
            demand_id__in=demands.values("pk")
        ).values_list("demand_id", "experts", "computed_at")
    }

    names = {c.code: c.name for c in children}
    names.setdefault(region.code, f"{region.name}（本级）" if children else region.name)
    section_names = dict(gap_sections())
    section_names[UNCLASSIFIED] = UNCLASSIFIED_NAME

    areas: dict[str, GapCell] = {c.code: GapCell() for c in children} or {region.code: GapCell()}
    by_section: dict[str, GapCell] = defaultdict(GapCell)
    cross: dict[tuple[str, str], GapCell] = defaultdict(GapCell)
    total = GapCell()
    unanswerable: list[tuple[int, str, str, str]] = []
    oldest: datetime | None = None
    for pk, title, path, sec in rows:
        area = _area_of(path, region, length)
        sec = sec or UNCLASSIFIED
        stored = coverage.get(pk)
        experts = list(stored[0]) if stored is not None else None
        if stored is not None and (oldest is None or stored[1] < oldest):
            oldest = stored[1]
        areas.setdefault(area, GapCell()).add(experts)
        by_section[sec].add(experts)
        cross[(area, sec)].add(experts)
        total.add(experts)
        if experts == []:
            unanswerable.append((pk, title, area, sec))
    return Gap(
        region_code=region.code,
        section=section,
        computed_at=oldest,
        areas=[GapLine(code, names.get(code, code), cell) for code, cell in sorted(areas.items())],
        fields=[
            GapLine(sec, section_names.get(sec, sec), cell)
            for sec, cell in sorted(by_section.items(), key=lambda kv: (kv[0] == "", kv[0]))
        ],
        cross=dict(cross),
        total=total,
        unanswerable=unanswerable,
    )
