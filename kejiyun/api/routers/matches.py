"""`/api/v1/matches`: what the engine ranks, with the reasons the pages show. Staff: the
experts, teams and results ranked for a demand in their jurisdiction (the staff demand
page's slot, `matching.views.demand_matches`: the same selectors, the same numbers of
candidates, the same reason strings). A worker: the demands recommended to them (the worker
dashboard's list, `site.views.dashboard`)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Router, Schema

from kejiyun.api.auth import SIGNED_IN
from kejiyun.api.casework import ID_MAX, PlaceOut, region_out, staff_caller, worker_caller
from kejiyun.api.models import Scope
from kejiyun.demands.models import Demand
from kejiyun.demands.selectors import access_demand
from kejiyun.matching.selectors import (
    DemandMatchRow,
    MatchRow,
    ResultMatchRow,
    TeamMatchRow,
    demands_for_expert,
    experts_for_demand,
    results_for_demand,
    teams_for_demand,
)

router = Router(tags=["匹配"], auth=SIGNED_IN)

# The staff demand page's numbers of candidates (`matching.views.demand_matches`) and the
# worker dashboard's (`site.views.dashboard`).
EXPERTS_TOP_K = 10
TEAMS_TOP_K = 5
RESULTS_TOP_K = 5
RECOMMENDED_TOP_K = 8


class ReasonsOut(Schema):
    """Why a candidate ranks where it does, as the page words it."""

    matched_terms: list[str]
    matched_terms_label: str
    match_percent: int
    region_label: str
    conflict: str


def _reasons(row: MatchRow | TeamMatchRow | ResultMatchRow) -> ReasonsOut:
    return ReasonsOut(
        matched_terms=row.reason_terms,
        matched_terms_label=row.matched_terms_label,
        match_percent=row.match_percent,
        region_label=row.region_label,
        conflict=row.conflict,
    )


class ExpertMatchOut(Schema):
    expert_id: int
    name: str
    title: str
    employer: str
    region: PlaceOut
    verified: bool
    field_fit_percent: int
    availability_percent: int
    reasons: ReasonsOut


class TeamMatchOut(Schema):
    team_id: int
    name: str
    kind: str
    kind_label: str
    lead: str
    region: str
    reasons: ReasonsOut


class ResultMatchOut(Schema):
    result_id: int
    title: str
    kind: str
    kind_label: str
    for_transfer: bool
    owner: str
    reasons: ReasonsOut


class DemandMatchesOut(Schema):
    demand_id: int
    experts: list[ExpertMatchOut]
    teams: list[TeamMatchOut]
    results: list[ResultMatchOut]


def _expert(row: MatchRow) -> ExpertMatchOut:
    p = row.profile
    return ExpertMatchOut(
        expert_id=p.pk,
        name=p.user.display_name,
        title=p.title,
        employer=p.employer,
        region=region_out(p.region),
        verified=p.verified,
        field_fit_percent=row.field_fit_percent,
        availability_percent=row.availability_percent,
        reasons=_reasons(row),
    )


def _team(row: TeamMatchRow) -> TeamMatchOut:
    t = row.team
    return TeamMatchOut(
        team_id=t.pk,
        name=t.name,
        kind=t.kind,
        kind_label=t.get_kind_display(),
        lead=t.lead.user.display_name if t.lead else "",
        region=t.region.name if t.region else "",
        reasons=_reasons(row),
    )


def _result(row: ResultMatchRow) -> ResultMatchOut:
    r = row.tech_result
    if r.owner_profile is not None:
        owner = r.owner_profile.user.display_name
    else:
        owner = r.owner_team.name if r.owner_team else ""
    return ResultMatchOut(
        result_id=r.pk,
        title=r.title,
        kind=r.kind,
        kind_label=r.get_kind_display(),
        for_transfer=r.for_transfer,
        owner=owner,
        reasons=_reasons(row),
    )


@router.get(
    "/demands/{demand_id}",
    response=DemandMatchesOut,
    operation_id="matches_for_demand",
    summary="为一条需求推荐的专家、团队与成果",
)
def for_demand(
    request: HttpRequest,
    demand_id: int = Path(..., ge=1, le=ID_MAX, description="需求编号"),
) -> DemandMatchesOut:
    """与网页需求详情页相同：专家前 10 名、团队与成果各前 5 名，附命中词、匹配度、地域等理由；
    利益冲突照常列出并标明。"""
    user = staff_caller(request, Scope.MATCHES_READ)
    demand = access_demand(user, demand_id)
    return DemandMatchesOut(
        demand_id=demand.pk,
        experts=[_expert(r) for r in experts_for_demand(demand=demand, top_k=EXPERTS_TOP_K)],
        teams=[_team(r) for r in teams_for_demand(demand=demand, top_k=TEAMS_TOP_K)],
        results=[_result(r) for r in results_for_demand(demand=demand, top_k=RESULTS_TOP_K)],
    )


class RecommendedDemandOut(Schema):
    """A demand recommended to the worker. Matched terms come from the demand's text, so a
    summary-only demand shows none (as on the dashboard)."""

    demand_id: int
    title: str
    category: str
    category_label: str
    industry: str
    region: PlaceOut
    region_label: str
    matched_terms: list[str]
    matched_terms_label: str


class RecommendedOut(Schema):
    items: list[RecommendedDemandOut]


def _recommended(row: DemandMatchRow) -> RecommendedDemandOut:
    d = row.demand
    public = d.confidentiality == Demand.Confidentiality.PUBLIC
    return RecommendedDemandOut(
        demand_id=d.pk,
        title=d.title,
        category=d.category,
        category_label=d.get_category_display(),
        industry=d.industry,
        region=region_out(d.region),
        region_label=row.region_label,
        matched_terms=row.reason_terms if public else [],
        matched_terms_label=row.matched_terms_label if public else "",
    )


@router.get(
    "/recommended-demands",
    response=RecommendedOut,
    operation_id="matches_recommended_demands",
    summary="为我推荐的需求",
)
def recommended(request: HttpRequest) -> RecommendedOut:
    """与科技工作者工作台相同的前 8 条；尚无档案时为空。"""
    user = worker_caller(request, Scope.MATCHES_READ)
    profile = getattr(user, "talent_profile", None)
    rows = demands_for_expert(profile=profile, top_k=RECOMMENDED_TOP_K) if profile else []
    return RecommendedOut(items=[_recommended(r) for r in rows])
