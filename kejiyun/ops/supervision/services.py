"""Writes of supervision: keep the capable experts of every published demand
(`GapCoverage`), which the supply-demand gap reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kejiyun.demands.models import Demand
from kejiyun.matching.selectors import capable_experts_for_demands
from kejiyun.ops.models import GapCoverage

# An expert counts for a demand at or above this share of the highest reachable score.
GAP_MIN_SHARE = 0.5
# How many ranked experts are read per demand (the distinct-expert counts stop there).
GAP_TOP_K = 50
# A demand's experts are computed again when older than this (new and changed profiles,
# verifications, load all move the ranking).
GAP_COVERAGE_MAX_AGE = timedelta(hours=6)
# Demands computed per run of the periodic job (one engine search each, about 30 ms on the
# demo data).
GAP_REFRESH_LIMIT = 2000


def gap_coverage_refresh(
    *,
    limit: int = GAP_REFRESH_LIMIT,
    now: datetime | None = None,
    demand_ids: Iterable[int] | None = None,
) -> int:
    """Compute the capable experts of published demands: first those never computed, then
    those computed longest ago beyond `GAP_COVERAGE_MAX_AGE`, at most `limit` (or exactly
    the published ones of `demand_ids`). Rows of demands no longer published are dropped.
    Returns how many demands were computed. Safe to run twice or side by side: each row is
    written whole (an upsert on the demand)."""
    now = now or timezone.now()
    published = Demand.objects.filter(status=Demand.Status.PUBLISHED).select_related(
        "region", "organisation"
    )
    if demand_ids is not None:
        demands = list(published.filter(pk__in=list(demand_ids)).order_by("id"))
    else:
        missing = list(
            published.exclude(pk__in=GapCoverage.objects.values("demand_id")).order_by("id")[:limit]
        )
        stale_ids = list(
            GapCoverage.objects.filter(
                computed_at__lt=now - GAP_COVERAGE_MAX_AGE,
                demand__status=Demand.Status.PUBLISHED,
            )
            .order_by("computed_at", "demand_id")
            .values_list("demand_id", flat=True)[: max(0, limit - len(missing))]
        )
        demands = missing + list(published.filter(pk__in=stale_ids).order_by("id"))
    found = capable_experts_for_demands(demands=demands, min_share=GAP_MIN_SHARE, top_k=GAP_TOP_K)
    rows = [
        GapCoverage(demand_id=d.pk, experts=sorted(set(found.get(d.pk, []))), computed_at=now)
        for d in demands
    ]
    with transaction.atomic():
        GapCoverage.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["demand"],
            update_fields=["experts", "computed_at"],
        )
        GapCoverage.objects.exclude(demand__status=Demand.Status.PUBLISHED).delete()
    return len(rows)
