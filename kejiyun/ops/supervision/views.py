"""Pages of supervision: the supervision table of a region's centres, the escalation inbox
of a city or the province, and the supply-demand gap. Thin views: access (`region_for`,
404 outside the jurisdiction), then a selector."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.cases.models import OPEN_STEPS, Step
from kejiyun.cases.workflow.selectors import CaseState
from kejiyun.ops.access import region_for
from kejiyun.ops.periods import Period, PeriodError, PeriodKind
from kejiyun.ops.selectors import child_regions
from kejiyun.ops.supervision.gap import gap_sections, region_gap
from kejiyun.ops.supervision.selectors import (
    SORT_KEYS,
    SupervisionRow,
    declined_dockings,
    escalated_cases,
    escalation_counties,
    escalation_inbox_allowed,
    supervision_table,
)
from kejiyun.ops.supervision.services import GAP_COVERAGE_MAX_AGE, GAP_MIN_SHARE
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import region_in_jurisdiction


def _period(request: HttpRequest) -> tuple[Period, str]:
    """The period of `?period=` (the current half-year by default) and an error message
    when the token cannot be read (the default is used then)."""
    default = Period.containing(PeriodKind.HALF, timezone.localdate())
    token = request.GET.get("period", "").strip()
    if not token:
        return default, ""
    try:
        return Period.parse(token), ""
    except PeriodError as error:
        return default, str(error)


def _parent_link(user: Any, region: Region) -> Region | None:
    """The region one level up, when the user may see its page."""
    parent = region.parent
    if parent is None or parent.level not in (Region.Level.PROVINCE, Region.Level.CITY):
        return None
    return parent if region_in_jurisdiction(user, parent) else None


# The states each column's figure links to.
COLUMN_STATES = {
    "open": CaseState.OPEN,
    "overdue": CaseState.OVERDUE,
    "unowned": CaseState.UNOWNED,
    "closed": CaseState.CLOSED,
    "on_time": CaseState.CLOSED_ON_TIME,
    "solved": CaseState.SOLVED,
    "rated": CaseState.RATED,
}
LIVE_STATES = {CaseState.OPEN, CaseState.OVERDUE, CaseState.UNOWNED}


def _row_links(row: SupervisionRow, period: Period) -> dict[str, str]:
    """The case list behind each of the row's figures."""
    base = reverse("cases:queue")
    links: dict[str, str] = {}
    for column, state in COLUMN_STATES.items():
        query = {"scope": "all", **row.case_filter(), "state": state.value}
        if state not in LIVE_STATES:
            query["closed_from"] = period.start.isoformat()
            query["closed_to"] = period.end.isoformat()
        links[column] = f"{base}?{urlencode(query)}"
    return links


@staff_required
def supervision(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The supervision table (督办表) of a province, city or county."""
    region = region_for(request.user, code)
    period, error = _period(request)
    sort = request.GET.get("sort", "")
    if sort not in SORT_KEYS:
        sort = ""
    descending = request.GET.get("dir", "desc" if sort and sort != "name" else "") == "desc"
    table = supervision_table(
        user=request.user, region=region, period=period, sort=sort, descending=descending
    )
    rows = [(row, _row_links(row, period)) for row in table.rows]
    declined_total, declined = declined_dockings(user=request.user, region=region, period=period)
    sort_links = {
        column: "?"
        + urlencode(
            {
                "period": period.token,
                "sort": column,
                "dir": "asc" if sort == column and descending else "desc",
            }
        )
        for column in SORT_KEYS
    }
    return render(
        request,
        "ops/supervision.html",
        {
            "region": region,
            "parent": _parent_link(request.user, region),
            "period": period,
            "period_error": error,
            "table": table,
            "rows": rows,
            "total_links": _row_links(table.total, period),
            "sort": sort,
            "descending": descending,
            "sort_links": sort_links,
            "has_inbox": escalation_inbox_allowed(request.user),
            "declined": declined,
            "declined_total": declined_total,
        },
        status=400 if error else 200,
    )


def _overdue_for(due_at: Any, now: Any) -> str:
    """How long past its due time, e.g. "2 天 3 小时" ("" when not overdue)."""
    if due_at is None or due_at >= now:
        return ""
    delta: timedelta = now - due_at
    hours = int(delta.total_seconds() // 3600)
    if hours >= 24:
        return f"{hours // 24} 天 {hours % 24} 小时"
    return f"{hours} 小时 {int(delta.total_seconds() // 60) % 60} 分钟"


@staff_required
def escalations(request: AuthenticatedRequest) -> HttpResponse:
    """The escalation inbox (超时升级) of city and province staff: open cases escalated to
    their centre. County centres escalate and have none (404)."""
    user = request.user
    if not escalation_inbox_allowed(user):
        raise Http404("页面不存在")
    counties = list(escalation_counties(user=user))
    county = request.GET.get("county", "").strip()
    step = request.GET.get("step", "").strip()
    errors = []
    if county and county not in {c.code for c in counties}:
        errors.append("该区县没有升级到本中心的案例，或不在您的辖区内。")
        county = ""
    if step and step not in OPEN_STEPS:
        errors.append("请选择有效的环节。")
        step = ""
    cases = escalated_cases(user=user, county=county, step=step)
    total = escalated_cases(user=user).count()
    page = Paginator(cases, 30).get_page(request.GET.get("page"))
    now = timezone.now()
    kept = {k: v for k, v in (("county", county), ("step", step)) if v}
    return render(
        request,
        "ops/supervision_escalations.html",
        {
            "page": page,
            "rows": [
                (case, _overdue_for(case.due_at, now) if case.is_running else "") for case in page
            ],
            "total": total,
            "shown": page.paginator.count,
            "counties": counties,
            "steps": [(s, Step(s).label) for s in OPEN_STEPS],
            "county": county,
            "step": step,
            "errors": errors,
            "extra_query": urlencode(kept),
            "now": now,
        },
        status=400 if errors else 200,
    )


def _section(request: HttpRequest) -> tuple[str, str, list[tuple[str, str]]]:
    sections = gap_sections()
    section = request.GET.get("field", "").strip()
    if section and section not in {code for code, _ in sections}:
        return "", "无法识别的领域，请从列表中选择。", sections
    return section, "", sections


UNANSWERABLE_SHOWN = 50


def _geo(region: Region) -> tuple[str, list[str]]:
    """The outline file (under static/, from the dashboards: kejiyun/static/geo/) and the
    codes of the areas the gap map draws: the cities of the province, the counties of a
    city, a county alone."""
    if region.level == Region.Level.PROVINCE:
        return "geo/sichuan_cities.json", [c.code for c in child_regions(region)]
    if region.level == Region.Level.CITY:
        return f"geo/counties/{region.code}.json", [c.code for c in child_regions(region)]
    return f"geo/counties/{region.parent_id}.json", [region.code]


@staff_required
def gap(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The supply-demand gap (供需缺口) of a region: a table and a map."""
    region = region_for(request.user, code)
    section, error, sections = _section(request)
    result = region_gap(region=region, section=section)
    geo_path, codes = _geo(region)
    cross = (
        [
            (line, [result.cell(area.code, line.code) for area in result.areas])
            for line in result.fields
        ]
        if len(result.areas) > 1
        else []
    )
    return render(
        request,
        "ops/gap.html",
        {
            "region": region,
            "parent": _parent_link(request.user, region),
            "gap": result,
            "sections": sections,
            "section": section,
            "error": error,
            "threshold": round(GAP_MIN_SHARE * 100),
            "max_age_hours": int(GAP_COVERAGE_MAX_AGE.total_seconds() // 3600),
            "map_json": reverse("ops:gap_json", args=[region.code])
            + (f"?{urlencode({'field': section})}" if section else ""),
            "geo_path": geo_path,
            "map_codes": ",".join(codes),
            "cross": cross,
            "unanswerable": result.unanswerable[:UNANSWERABLE_SHOWN],
            "more_unanswerable": max(0, len(result.unanswerable) - UNANSWERABLE_SHOWN),
            "has_inbox": escalation_inbox_allowed(request.user),
        },
        status=400 if error else 200,
    )


@staff_required
def gap_json(request: AuthenticatedRequest, code: str) -> JsonResponse:
    """The gap by region one level down, for the map: codes, names, gap ratios."""
    region = region_for(request.user, code)
    section, error, _ = _section(request)
    if error:
        return JsonResponse({"error": error}, status=400)
    result = region_gap(region=region, section=section)
    areas = [
        {
            "code": line.code,
            "name": line.name,
            "demands": line.cell.demands,
            "answerable": line.cell.answerable,
            "pending": line.cell.pending,
            "experts": line.cell.expert_count,
            "gap": None if line.cell.gap_ratio is None else round(line.cell.gap_ratio, 4),
            "url": reverse("ops:gap", args=[line.code])
            + (f"?{urlencode({'field': section})}" if section else ""),
        }
        for line in result.areas
    ]
    return JsonResponse(
        {
            "region": region.code,
            "level": "county" if region.level != Region.Level.PROVINCE else "city",
            "field": section,
            "computed_at": result.computed_at.isoformat() if result.computed_at else None,
            "areas": areas,
        }
    )
