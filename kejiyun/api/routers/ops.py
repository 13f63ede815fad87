"""Operations figures and performance scores (ops:read), for centre staff and
administrators: the indicator catalogue; a region's figures over a period, with the changes
and the ranking one level down, exactly as the ops dashboard shows them (`kejiyun.ops`);
the published performance schemes and the scores of the centres the caller may see
(`kejiyun.performance`). A region or scheme outside the jurisdiction is a 404."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Schema
from pydantic import Field

from kejiyun.api.auth import SIGNED_IN, require_scope
from kejiyun.api.errors import ApiProblem
from kejiyun.api.models import Scope
from kejiyun.api.pagination import paginate
from kejiyun.api.routers._readers import MAX_ID, PageQuery, require_staff
from kejiyun.api.schemas import Page
from kejiyun.ops.access import region_for
from kejiyun.ops.dashboard import selectors as dashboard
from kejiyun.ops.dashboard.params import DEFAULT_INDICATOR, default_period
from kejiyun.ops.indicators import BY_KEY, CATALOGUE, GROUP_NAMES, Indicator
from kejiyun.ops.periods import Period, PeriodError
from kejiyun.performance.models import Scheme
from kejiyun.performance.schemes.selectors import (
    access_scheme,
    own_code,
    scheme_scores,
    schemes_visible,
    visible_codes,
)
from kejiyun.performance.scoring import SchemeError

router = Router(tags=["运营与考核"], auth=SIGNED_IN)

IndicatorKey = Literal[tuple(BY_KEY)]  # type: ignore[valid-type]


# --- The indicator catalogue ------------------------------------------------------------------


class IndicatorOut(Schema):
    key: str
    name: str
    group: str
    group_name: str
    kind: Literal["count", "amount", "mean", "share", "median"]
    unit: str
    better: int = Field(description="1：越高越好；-1：越低越好；0：无方向")


class CatalogueOut(Schema):
    items: list[IndicatorOut]


def _indicator_out(i: Indicator) -> IndicatorOut:
    return IndicatorOut(
        key=i.key,
        name=i.name,
        group=i.group.value,
        group_name=GROUP_NAMES[i.group],
        kind=i.kind.value,
        unit="%" if i.kind == "share" else i.unit,
        better=i.better,
    )


@router.get(
    "/ops/indicators",
    response=CatalogueOut,
    operation_id="ops_indicators_list",
    summary="运营指标目录",
)
def ops_indicators_list(request: HttpRequest) -> CatalogueOut:
    require_staff(require_scope(request, Scope.OPS_READ))
    return CatalogueOut(items=[_indicator_out(i) for i in CATALOGUE])


# --- A region's figures -------------------------------------------------------------------------


class FiguresQuery(Schema):
    period: str | None = Field(
        None,
        max_length=40,
        description="统计期：2026-05、2026Q2、2026H1、2026 或 2026-01-05~2026-02-10；默认今年至今",
    )
    indicator: IndicatorKey | None = Field(  # type: ignore[valid-type]
        None, description="排名所按的指标；默认立案"
    )


class ChangeOut(Schema):
    delta: float = Field(description="变化量（占比类为百分点）")
    percent: float | None
    tone: Literal["good", "bad", "neutral", "flat"]
    text: str


class HeadlineOut(Schema):
    key: str
    name: str
    value: float | None = Field(description="原始值（占比为 0-1）")
    text: str
    vs_previous: ChangeOut | None
    vs_last_year: ChangeOut | None


class HeadlineGroupOut(Schema):
    group: str
    name: str
    rows: list[HeadlineOut]


class RankedOut(Schema):
    code: str
    name: str
    rank: int | None
    value: float | None
    text: str
    vs_previous: ChangeOut | None
    own: bool = Field(description="本级中心（不参与排名）")


class PeriodOut(Schema):
    token: str
    label: str
    start: date
    end: date


class FiguresOut(Schema):
    region_code: str
    region_name: str
    region_level: str
    period: PeriodOut
    headlines: list[HeadlineGroupOut]
    ranking_indicator: str
    ranking: list[RankedOut]


def _change_out(c: dashboard.Change | None) -> ChangeOut | None:
    if c is None:
        return None
    text = c.delta_text + (f"（{c.percent_text}）" if c.percent_text else "")
    return ChangeOut(delta=c.delta, percent=c.percent, tone=c.tone, text=text)  # type: ignore[arg-type]


def _period_of(token: str | None) -> Period:
    if not token:
        return default_period(timezone.localdate())
    try:
        return Period.parse(token)
    except PeriodError as exc:
        raise ApiProblem(400, str(exc), code="bad_period") from None


@router.get(
    "/ops/regions/{code}/figures",
    response=FiguresOut,
    operation_id="ops_figures_get",
    summary="辖区运营指标（与运营看板一致）",
)
def ops_figures_get(
    request: HttpRequest,
    query: Query[FiguresQuery],
    code: str = Path(..., pattern=r"^[1-9][0-9]{5}$"),
) -> FiguresOut:
    user = require_staff(require_scope(request, Scope.OPS_READ))
    region = region_for(user, code)
    period = _period_of(query.period)
    key = query.indicator or DEFAULT_INDICATOR
    version = dashboard.rollup_version()
    groups = dashboard.cached(
        version,
        ("headlines", region.code, period.token),
        lambda: dashboard.headlines(region, period),
    )
    ranked = dashboard.cached(
        version,
        ("ranking", region.code, period.token, key),
        lambda: dashboard.ranking(region, period, key),
    )
    return FiguresOut(
        region_code=region.code,
        region_name=region.name,
        region_level=region.level,
        period=PeriodOut(
            token=period.token, label=period.label, start=period.start, end=period.end
        ),
        headlines=[
            HeadlineGroupOut(
                group=g.group.value,
                name=g.name,
                rows=[
                    HeadlineOut(
                        key=h.indicator.key,
                        name=h.indicator.name,
                        value=h.value,
                        text=h.text,
                        vs_previous=_change_out(h.vs_previous),
                        vs_last_year=_change_out(h.vs_last_year),
                    )
                    for h in g.rows
                ],
            )
            for g in groups
        ],
        ranking_indicator=key,
        ranking=[
            RankedOut(
                code=r.code,
                name=r.name,
                rank=r.rank,
                value=r.value,
                text=r.text,
                vs_previous=_change_out(r.vs_previous),
                own=r.own,
            )
            for r in ranked
        ],
    )


# --- Performance schemes and scores -----------------------------------------------------------


class SchemeItemOut(Schema):
    id: int
    name: str
    period: str
    period_label: str
    level: str
    level_label: str
    published_at: datetime | None
    readable: bool = Field(description="方案考核的中心中有本人可见的（可读取得分）")


def _published(user: Any) -> Any:
    return schemes_visible(user).filter(status=Scheme.Status.PUBLISHED)


def _period_label(token: str) -> str:
    try:
        return Period.parse(token).label
    except PeriodError:
        return token


@router.get(
    "/performance/schemes",
    response=Page[SchemeItemOut],
    operation_id="performance_schemes_list",
    summary="已发布的考核方案",
)
def performance_schemes_list(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    user = require_staff(require_scope(request, Scope.OPS_READ))
    sees = {level: bool(visible_codes(user, level)) for level in Scheme.Level.values}
    return paginate(
        _published(user),
        cursor=query.cursor,
        limit=query.limit,
        out=lambda s: SchemeItemOut(
            id=s.pk,
            name=s.name,
            period=s.period,
            period_label=_period_label(s.period),
            level=s.level,
            level_label=s.get_level_display(),
            published_at=s.published_at,
            readable=sees.get(s.level, False),
        ),
    )


class ScoreLineOut(Schema):
    key: str
    label: str
    raw: Decimal | None
    discount: Decimal
    net: Decimal | None
    normalised: Decimal
    weight: Decimal
    points: Decimal
    how: str


class CentreScoreOut(Schema):
    centre_id: int
    code: str
    name: str
    total: Decimal
    rank: int
    own: bool = Field(description="本人所在中心")
    lines: list[ScoreLineOut]


class ScoresOut(Schema):
    scheme_id: int
    name: str
    period: str
    period_label: str
    level: str
    scored: int = Field(description="参与考核的中心总数")
    problem: str = Field(description="方案无法计分时的原因；为空表示正常")
    scores: list[CentreScoreOut]


@router.get(
    "/performance/schemes/{scheme_id}/scores",
    response=ScoresOut,
    operation_id="performance_scores_list",
    summary="考核得分（本人可见的中心）",
)
def performance_scores_list(
    request: HttpRequest, scheme_id: int = Path(..., ge=1, le=MAX_ID)
) -> ScoresOut:
    user = require_staff(require_scope(request, Scope.OPS_READ))
    scheme = access_scheme(user, scheme_id)
    if scheme.status != Scheme.Status.PUBLISHED:
        raise Http404("页面不存在")
    codes = visible_codes(user, scheme)
    if not codes:
        raise Http404("页面不存在")
    try:
        scores, problem = scheme_scores(scheme), ""
    except SchemeError as error:
        scores, problem = [], str(error)
    mine = own_code(user)
    return ScoresOut(
        scheme_id=scheme.pk,
        name=scheme.name,
        period=scheme.period,
        period_label=_period_label(scheme.period),
        level=scheme.level,
        scored=len(scores),
        problem=problem,
        scores=[
            CentreScoreOut(
                centre_id=s.centre_id,
                code=s.code,
                name=s.name,
                total=s.total,
                rank=s.rank,
                own=s.code == mine,
                lines=[
                    ScoreLineOut(
                        key=line.key,
                        label=line.label,
                        raw=line.raw,
                        discount=line.discount,
                        net=line.net,
                        normalised=line.normalised,
                        weight=line.weight,
                        points=line.points,
                        how=line.how,
                    )
                    for line in s.lines
                ],
            )
            for s in scores
            if s.code in codes
        ],
    )
