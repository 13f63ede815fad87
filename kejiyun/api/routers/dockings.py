"""`/api/v1/dockings`: an S&T worker's docking requests and applications (对接), the reply to
a request, and the application (申请对接) for a published demand's docking.

Over the same selectors and services as the worker's pages (kejiyun/cases/dockings/views.py),
with the page's hourly limit on applications. What the worker reads of the demand is what
its confidentiality allows them (`demand_public`, opened when staff arranged the docking)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Path, Router, Schema, Status
from pydantic import Field

from kejiyun.api.auth import SIGNED_IN
from kejiyun.api.casework import (
    ID_MAX,
    PlaceOut,
    cursor_param,
    limit_param,
    masked,
    region_out,
    worker_caller,
)
from kejiyun.api.errors import ApiProblem
from kejiyun.api.models import Scope
from kejiyun.api.pagination import paginate
from kejiyun.api.schemas import Page
from kejiyun.cases.dockings import services
from kejiyun.cases.dockings.selectors import access_docking_for_expert, dockings_for_expert
from kejiyun.cases.dockings.views import APPLICATIONS_PER_HOUR
from kejiyun.cases.models import DockingRequest
from kejiyun.cases.workflow.selectors import case_of_demand
from kejiyun.common.ratelimit import rate_limit_exceeded
from kejiyun.demands.selectors import access_published_demand, demand_public

router = Router(tags=["对接"], auth=SIGNED_IN)


class DockingDemandOut(Schema):
    """The demand as the worker may read it: a summary-only demand keeps its text back
    unless staff arranged this docking."""

    id: int
    title: str
    category_label: str
    industry: str
    region: PlaceOut
    summary_only: bool
    organisation: str
    description: str
    problem: str
    current_state: str
    target_indicators: str


class DockingOut(Schema):
    id: int
    case_id: int
    case_step: str
    case_step_label: str
    origin: str
    origin_label: str
    status: str
    status_label: str
    awaits_staff: bool
    may_respond: bool
    message: str
    decline_reason: str
    refusal_reason: str
    created_at: datetime
    responded_at: datetime | None
    demand: DockingDemandOut


def _docking(d: DockingRequest) -> DockingOut:
    case = d.case
    shown = demand_public(case.demand, arranged=d.arranged_by_staff)
    demand = case.demand
    return DockingOut(
        id=d.pk,
        case_id=case.pk,
        case_step=case.step,
        case_step_label=case.get_step_display(),
        origin=d.origin,
        origin_label=d.get_origin_display(),
        status=d.status,
        status_label=d.get_status_display(),
        awaits_staff=d.awaits_staff,
        may_respond=d.status == DockingRequest.Status.SENT
        and case.step in services.STEPS_OPEN_TO_REQUESTS,
        message=masked(d.message),
        decline_reason=masked(d.decline_reason),
        refusal_reason=masked(d.refusal_reason),
        created_at=d.created_at,
        responded_at=d.responded_at,
        demand=DockingDemandOut(
            id=demand.pk,
            title=demand.title,
            category_label=demand.get_category_display(),
            industry=demand.industry,
            region=region_out(demand.region),
            summary_only=shown.summary_only,
            organisation=shown.organisation,
            description=shown.description,
            problem=shown.problem,
            current_state=shown.current_state,
            target_indicators=shown.target_indicators,
        ),
    )


def _docking_id() -> Any:
    return Path(..., ge=1, le=ID_MAX, description="对接编号")


@router.get(
    "",
    response=Page[DockingOut],
    operation_id="dockings_mine_list",
    summary="我的对接请求与申请",
)
def mine(
    request: HttpRequest, cursor: str | None = cursor_param(), limit: int = limit_param()
) -> dict[str, Any]:
    """服务中心发来的对接请求和本人的申请；企业提议在服务中心发出前不可见。新的在前。"""
    user = worker_caller(request, Scope.CASES_READ)
    qs = dockings_for_expert(user=user).select_related("case__demand__region__parent")
    return paginate(qs, cursor=cursor, limit=limit, out=_docking)


class ApplyIn(Schema):
    demand_id: int = Field(..., ge=1, le=ID_MAX, description="已发布需求的编号")
    message: str = Field(
        ..., min_length=10, max_length=500, description="申请留言：能提供哪些帮助（10–500 字）"
    )


@router.post(
    "/applications",
    response={201: DockingOut},
    operation_id="dockings_apply",
    summary="申请对接一条已发布的需求",
)
def apply(request: HttpRequest, payload: ApplyIn) -> Status[DockingOut]:
    """需求须在“匹配”或“对接”环节；每人每需求一次；每小时至多 10 次申请。"""
    user = worker_caller(request, Scope.CASES_WRITE)
    demand = access_published_demand(payload.demand_id)
    if rate_limit_exceeded(
        key=f"docking-apply:{user.pk}", limit=APPLICATIONS_PER_HOUR, window_seconds=3600
    ):
        raise ApiProblem(
            429,
            "申请过于频繁，请稍后再试。",
            code="too_many_applications",
            headers={"Retry-After": "3600"},
        )
    case = case_of_demand(demand_id=demand.pk)
    if case is None:
        raise ApiProblem(409, "该需求还没有服务案例，暂不能申请对接。", code="no_case")
    docking = services.docking_apply(case=case, actor=user, message=payload.message)
    return Status(201, _docking(access_docking_for_expert(user, docking.pk)))


@router.get(
    "/{docking_id}",
    response=DockingOut,
    operation_id="dockings_detail",
    summary="一条对接请求或申请",
)
def detail(request: HttpRequest, docking_id: int = _docking_id()) -> DockingOut:
    user = worker_caller(request, Scope.CASES_READ)
    return _docking(access_docking_for_expert(user, docking_id))


class RespondIn(Schema):
    accept: bool = Field(..., description="接受（true）或婉拒（false）")
    reason: str = Field("", max_length=200, description="婉拒原因（婉拒时必填）")


@router.post(
    "/{docking_id}/respond",
    response=DockingOut,
    operation_id="dockings_respond",
    summary="答复对接请求",
)
def respond(
    request: HttpRequest, payload: RespondIn, docking_id: int = _docking_id()
) -> DockingOut:
    user = worker_caller(request, Scope.CASES_WRITE)
    docking = access_docking_for_expert(user, docking_id)
    services.docking_respond(
        docking=docking, actor=user, accept=payload.accept, reason=payload.reason
    )
    return _docking(access_docking_for_expert(user, docking.pk))
