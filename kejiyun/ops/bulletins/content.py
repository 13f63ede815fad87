"""What a bulletin says, frozen when it is submitted: headline figures of the region with the
previous period and the same period last year, the ranking of the centres one level down,
the lagging centres and on which indicators, and excerpts of those centres' work reports.

The content is a plain JSON document (stored in `Bulletin.content`) so that the PDF, the
workbook and the page all show exactly what the approver approved, whatever happens to the
rollups later. `bulletin_content_build` reads figures only through `kejiyun.ops.selectors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kejiyun.ops.bulletins import ranking
from kejiyun.ops.bulletins.excerpts import report_excerpts
from kejiyun.ops.indicators import BY_KEY, Indicator, Kind
from kejiyun.ops.periods import Period
from kejiyun.ops.selectors import child_regions, figures, figures_by_child
from kejiyun.regions.models import Region, ServiceCentre

CONTENT_VERSION = 1

# The region's headline figures, in this order (the ranking indicators are added after them).
HEADLINE_KEYS: tuple[str, ...] = (
    "workers_registered",
    "workers_verified",
    "enterprises_registered",
    "demands_published",
    "cases_opened",
    "cases_closed",
    "closed_on_time_share",
    "solved_with_evidence",
    "contract_amount",
    "satisfaction_mean",
    "popsci_published",
    "campaign_reach",
)

# Indicators a bulletin may rank by: those with a better direction.
RANKABLE: tuple[Indicator, ...] = tuple(i for i in BY_KEY.values() if i.better != 0)


def display(key: str, value: float | None) -> str:
    """A figure as the bulletin prints it: counts whole, money with two decimals, shares as
    percentages, means and medians with two decimals; "—" for no figure."""
    if value is None:
        return "—"
    kind = BY_KEY[key].kind
    if kind == Kind.COUNT:
        return f"{round(value):,}"
    if kind == Kind.AMOUNT:
        return f"{value:,.2f}"
    if kind == Kind.SHARE:
        return f"{value * 100:.1f}%"
    return f"{value:.2f}"


def indicator_label(key: str) -> str:
    """The indicator's Chinese name with its unit: 立案（件）."""
    ind = BY_KEY[key]
    return f"{ind.name}（{ind.unit}）" if ind.unit else ind.name


def bulletin_content_build(
    *,
    region: Region,
    period: Period,
    indicators: Sequence[str],
    lag_percent: int,
    now: datetime,
) -> dict[str, Any]:
    """The bulletin's content as of now (a JSON-ready dict; see the module docstring)."""
    keys = list(dict.fromkeys(indicators))
    headline_keys = list(dict.fromkeys([*HEADLINE_KEYS, *keys]))
    current = figures(region, period, headline_keys)
    before = figures(region, period.previous(), headline_keys)
    last_year = figures(region, period.last_year(), headline_keys)
    headline = [
        {
            "key": key,
            "name": indicator_label(key),
            "value": current[key].value,
            "previous": before[key].value,
            "last_year": last_year[key].value,
        }
        for key in headline_keys
    ]

    children = child_regions(region)
    names = {c.code: c.name for c in children}
    centres = {
        c.region_id: c.name for c in ServiceCentre.objects.filter(region__in=children).only("name")
    }
    by_child = figures_by_child(region, period, keys) if keys else {}
    # Only the centres one level down are ranked (a city's own centre is not one of its
    # counties, though figures_by_child reports it under the city's code).
    values: dict[str, dict[str, float | None]] = {
        code: {key: by_child[code][key].value for key in keys} for code in names
    }
    better = {key: BY_KEY[key].better for key in keys}
    rows = ranking.rank(values, keys, better)
    lagging = ranking.lagging(values, keys, better, lag_percent)
    return {
        "version": CONTENT_VERSION,
        "region": {"code": region.code, "name": region.name},
        "period": {
            "token": period.token,
            "label": period.label,
            "previous": period.previous().label,
            "last_year": period.last_year().label,
        },
        "headline": headline,
        "indicators": [{"key": k, "name": indicator_label(k)} for k in keys],
        "ranking": [
            {
                "rank": row.rank,
                "code": row.code,
                "name": names[row.code],
                "centre": centres.get(row.code, ""),
                "values": values[row.code],
                "ranks": row.ranks,
                "mean_rank": row.mean_rank,
            }
            for row in rows
        ],
        "lag_percent": lag_percent,
        "lagging": [
            {
                "code": lag.code,
                "name": names[lag.code],
                "lags": [
                    {
                        "key": item.key,
                        "name": indicator_label(item.key),
                        "value": item.value,
                        "median": item.median,
                        "bottom_quartile": item.bottom_quartile,
                        "far_from_median": item.far_from_median,
                    }
                    for item in lag.lags
                ],
            }
            for lag in lagging
        ],
        "excerpts": report_excerpts(region=region, period=period),
        "frozen_at": now.isoformat(),
    }


def lag_reason(lag: dict[str, Any], lag_percent: int, better: int) -> str:
    """Why a centre is called lagging on one indicator, in Chinese."""
    reasons = []
    if lag["bottom_quartile"]:
        reasons.append("处于后四分之一")
    if lag["far_from_median"]:
        if better > 0:
            reasons.append(f"低于中位数的{lag_percent}%")
        else:
            reasons.append(f"高于中位数的{round(100 * 100 / lag_percent)}%")
    return "，".join(reasons)
