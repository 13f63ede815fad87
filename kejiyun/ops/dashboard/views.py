"""Dashboards of a province, city or county: headline figures with their changes, the trend
of one indicator, the ranking of the centres one level down and the map of their areas, for
a period the user picks. Staff see their jurisdiction only (404 elsewhere)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from urllib.parse import urlencode

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.accounts.models import User
from kejiyun.ops.access import home_region, region_for
from kejiyun.ops.dashboard import selectors
from kejiyun.ops.dashboard.params import Params, read_params
from kejiyun.ops.indicators import CATALOGUE, GROUP_NAMES, Indicator
from kejiyun.ops.periods import KIND_NAMES, Period, PeriodKind
from kejiyun.ops.supervision.selectors import escalation_inbox_allowed
from kejiyun.pagecache.fragments import fragment
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import region_in_jurisdiction, user_jurisdiction


def _query(period: Period, indicator: Indicator) -> str:
    return urlencode({"period": period.token, "indicator": indicator.key})


def _dashboard_url(code: str, period: Period, indicator: Indicator) -> str:
    return f"{reverse('ops:dashboard', args=[code])}?{_query(period, indicator)}"


def _supervision_url(code: str) -> str | None:
    """The region's supervision table, once that feature is mounted."""
    try:
        return reverse("ops:supervision", args=[code])
    except NoReverseMatch:
        return None


def _geo_file(region: Region) -> str:
    """The outline file the map draws from (kejiyun/static/geo/, see its README): the cities
    for the province, the city's counties for a city or one of its counties."""
    if region.level == Region.Level.PROVINCE:
        return "geo/sichuan_cities.json"
    return f"geo/counties/{region.ancestor_codes[1]}.json"


@staff_required
def dashboard_home(request: AuthenticatedRequest) -> HttpResponseRedirect:
    """/ops/: the dashboard of the user's own region."""
    url = reverse("ops:dashboard", args=[home_region(request.user).code])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


@staff_required
def dashboard(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The dashboard of `code` for the period and indicator asked. Everything below the
    navigation is the same for every staff member who may see the region, save the links to
    the regions above it that are theirs and the escalation inbox: it is rendered once per
    run of the rollup job and kept under the rollup version, the region, the period, the
    indicator, the year (the picker's years), the viewer's jurisdiction and inbox, and the
    language (`fragment`). The page's form is a GET form: no CSRF token in it."""
    user = request.user
    region = region_for(user, code)
    today = timezone.localdate()
    params = read_params(request.GET, today)
    period, ind = params.period, params.indicator
    if params.from_picker:
        return redirect(_dashboard_url(region.code, period, ind))
    # What of the body depends on the viewer: the regions above this one that lie in their
    # jurisdiction (the breadcrumb), and whether they have an escalation inbox.
    scope = "*" if user.sees_everything else getattr(user_jurisdiction(user), "code", "-")
    escalations = escalation_inbox_allowed(user)
    version = selectors.rollup_version()
    body = fragment(
        "ops:dashboard-body",
        topics=(),
        parts=(
            version,
            region.code,
            period.token,
            ind.key,
            today.year,
            scope,
            escalations,
            *params.errors,
        ),
        build=lambda: _dashboard_body(user, region, version, params, today, escalations),
        seconds=selectors.CACHE_SECONDS,
    )
    context = {
        "region": region,
        "period": period,
        "indicator": ind,
        "errors": params.errors,
        "body": body,
    }
    return render(request, "ops/dashboard.html", context)


def _dashboard_body(
    user: User,
    region: Region,
    version: str,
    params: Params,
    today: date,
    escalations: bool,
) -> str:
    """The rendered body of the dashboard; depends on `user` only through the regions above
    `region` that lie in their jurisdiction."""
    period, ind = params.period, params.indicator
    ancestors = [
        r
        for r in Region.objects.filter(code__in=region.ancestor_codes[:-1]).order_by("code")
        if region_in_jurisdiction(user, r)
    ]
    parts = (region.code, period.token, ind.key)
    ranked = selectors.cached(
        version, ("ranking", *parts), lambda: selectors.ranking(region, period, ind.key)
    )
    children = [r for r in ranked if not r.own]
    trend = selectors.cached(
        version, ("trend", *parts), lambda: selectors.trend(region, period, ind.key)
    )
    headlines = selectors.cached(
        version,
        ("headlines", region.code, period.token),
        lambda: selectors.headlines(region, period),
    )
    context = {
        "region": region,
        "ancestors": ancestors,
        "period": period,
        "previous": period.previous(),
        "last_year": period.last_year(),
        "indicator": ind,
        "errors": params.errors,
        "headlines": headlines,
        "ranking": [(r, None if r.own else _dashboard_url(r.code, period, ind)) for r in ranked],
        "child_level": "市（州）" if region.level == Region.Level.PROVINCE else "区（县）",
        "trend": {
            "name": ind.name,
            "unit": "%" if ind.kind == "share" else ind.unit,
            "labels": trend.labels,
            "values": trend.values,
        },
        "trend_step": "按日" if trend.step == "day" else "按月",
        "map_url": reverse("ops:dashboard_map", args=[region.code]),
        "map_codes": ",".join(r.code for r in children) if children else region.code,
        "geo_url": _geo_file(region),
        "supervision_url": _supervision_url(region.code),
        "gap_url": reverse("ops:gap", args=[region.code]),
        "escalations_url": reverse("ops:escalations") if escalations else None,
        "indicators": [
            (GROUP_NAMES[g], [i for i in CATALOGUE if i.group == g]) for g in GROUP_NAMES
        ],
        "kinds": [(k.value, KIND_NAMES[k]) for k in PeriodKind],
        "picker": {
            "year": period.start.year,
            "month": period.start.month,
            "quarter": (period.start.month - 1) // 3 + 1,
            "half": 1 if period.start.month <= 6 else 2,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "years": sorted(
                {*range(today.year - 5, today.year + 1), period.start.year}, reverse=True
            ),
        },
        "query": _query(period, ind),
    }
    return render_to_string("ops/_dashboard_body.html", context)


@staff_required
def dashboard_map(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The map's data as JSON: the areas drawn (the regions one level down, or the county
    itself) with their values in shown units, and the range the colour scale spans. The
    whole answer is kept, encoded, with the rollups' version (it changes when the rollup job
    runs)."""
    region = region_for(request.user, code)
    params = read_params(request.GET, timezone.localdate())
    period, ind = params.period, params.indicator
    content = selectors.cached(
        selectors.rollup_version(),
        ("map-json-text", region.code, period.token, ind.key, *params.errors),
        lambda: json.dumps(
            _map_payload(region, period, ind, params.errors),
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
        ),
    )
    return HttpResponse(content, content_type="application/json")


def _map_payload(
    region: Region, period: Period, ind: Indicator, errors: list[str]
) -> dict[str, object]:
    areas = selectors.map_areas(region, period, ind.key)
    drill = region.level != Region.Level.COUNTY
    values = [a.value for a in areas if a.value is not None]
    return {
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "period": {"token": period.token, "label": period.label},
        "indicator": {"key": ind.key, "name": ind.name, "unit": ind.unit, "kind": ind.kind},
        "unit": "%" if ind.kind == "share" else ind.unit,
        "areas": [
            {
                **asdict(a),
                "url": _dashboard_url(a.code, period, ind) if drill else None,
            }
            for a in areas
        ],
        "min": min(values) if values else 0,
        "max": max(values) if values else 0,
        "errors": errors,
    }
