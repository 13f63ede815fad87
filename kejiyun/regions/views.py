"""Public JSON reads of the region tree for the region picker (`kejiyun/static/js/pickers.js`).

Region names and codes are public data (GB/T 2260), so these answer anyone and may be cached
by browsers and proxies."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from kejiyun.regions.models import Region
from kejiyun.regions.selectors import region_children, region_label, region_search

_CACHE_SECONDS = 24 * 3600


def _children_payload(code: str | None) -> dict[str, Any]:
    rows = region_children(code).annotate(
        branch=Exists(Region.objects.filter(parent_id=OuterRef("pk")))
    )
    return {
        "parent": code,
        "items": [
            {"code": r.code, "name": r.name, "level": r.level, "leaf": not r.branch} for r in rows
        ],
    }


@require_GET
@cache_control(public=True, max_age=_CACHE_SECONDS)
def children(request: HttpRequest, code: str = "") -> JsonResponse:
    """The regions directly below `code`; without a code, the provinces."""
    if code and not Region.objects.filter(pk=code).exists():
        raise Http404("没有这个行政区划。")
    key = f"regions:children:{code or 'root'}"
    payload = cache.get(key)
    if payload is None:
        payload = _children_payload(code or None)
        cache.set(key, payload, _CACHE_SECONDS)
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


@require_GET
@cache_control(public=True, max_age=3600)
def search(request: HttpRequest) -> JsonResponse:
    """Regions whose name contains `q`, limited to the subtree of `within` and to `levels`
    (comma-separated) when given. Each carries its label and the codes from the province down,
    which the picker uses to set its cascade."""
    text = request.GET.get("q", "")[:20]
    within_code = request.GET.get("within", "")
    within = Region.objects.filter(pk=within_code).first() if within_code else None
    levels = [
        level for level in request.GET.get("levels", "").split(",") if level in Region.Level.values
    ]
    rows = region_search(text, within=within, levels=levels or None)
    return JsonResponse(
        {
            "q": text,
            "items": [
                {
                    "code": r.code,
                    "name": r.name,
                    "level": r.level,
                    "label": region_label(r),
                    "path": r.ancestor_codes,
                }
                for r in rows
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )
