"""Excerpts of the work reports (工作汇报) of the centres one level down, for a bulletin: the
difficulties (存在的困难问题) and the plans for the next half-year (下半年工作安排) of every
report accepted by the centre one level up for a half-year that overlaps the bulletin's
period. A work report is otherwise read by two centres only (its own and the one above); the
bulletin goes to every centre one level down, so it quotes only what the level above has
accepted. Drafts, reports awaiting review and reports returned for corrections are not
quoted."""

from __future__ import annotations

from typing import Any

from kejiyun.ops.models import WorkReport
from kejiyun.ops.periods import Period
from kejiyun.ops.selectors import child_regions
from kejiyun.regions.models import Region

# Longest excerpt of one section, in characters; longer text is cut with an ellipsis.
EXCERPT_LENGTH = 400


def _cut(text: str) -> str:
    text = text.strip()
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"


def _halves(period: Period) -> list[tuple[int, int]]:
    """The (year, half) pairs whose half-year overlaps the period."""
    out = []
    for year in range(period.start.year, period.end.year + 1):
        for half in (1, 2):
            p = Period.half(year, half)
            if p.start <= period.end and p.end >= period.start:
                out.append((year, half))
    return out


def report_excerpts(*, region: Region, period: Period) -> list[dict[str, Any]]:
    """[{"code", "name", "half", "difficulties", "plans"}] for each accepted report of a
    centre one level down, in region-code order, then by half-year."""
    children = child_regions(region)
    halves = _halves(period)
    if not children or not halves:
        return []
    reports = (
        WorkReport.objects.filter(centre__region__in=children, status=WorkReport.Status.ACCEPTED)
        .select_related("centre__region")
        .order_by("centre__region__code", "year", "half")
    )
    wanted = set(halves)
    return [
        {
            "code": r.centre.region_id,
            "name": r.centre.region.name,
            "half": r.period.label,
            "difficulties": _cut(r.difficulties),
            "plans": _cut(r.plans),
        }
        for r in reports
        if (r.year, r.half) in wanted
    ]
