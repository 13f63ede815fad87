"""`/api/v1/cases`: staff's cases (the work queue, the case, its moves, timeline and dockings)
and the enterprise's own cases (follow, confirm or dispute the outcome).

Over the same selectors and services as the case pages (kejiyun/cases/workflow/views.py).
A case is versioned: its detail sends `ETag`, and every edit needs `If-Match` with it
(428 without, 412 when stale, nothing changed either way); the service claims that version,
so an edit racing another one is refused as stale too."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Header, Path, Query, Router, Schema
from pydantic import Field

from kejiyun.accounts.footprints import footprint_record
from kejiyun.accounts.models import Footprint, User
from kejiyun.api.auth import SIGNED_IN
from kejiyun.api.casework import (
    ID_MAX,
    EventOut,
    PlaceOut,
    actor_name,
    cursor_param,
    enterprise_caller,
    limit_param,
    masked,
    region_out,
    staff_caller,
)
from kejiyun.api.etag import if_match_version, set_etag
from kejiyun.api.models import Scope
from kejiyun.api.pagination import paginate
from kejiyun.api.schemas import Page
from kejiyun.cases.models import MAIN_LINE, Case, CaseEvent, DockingRequest, Step
from kejiyun.cases.rules import may_act
from kejiyun.cases.workflow import services
from kejiyun.cases.workflow.selectors import (
    CaseState,
    access_case,
    access_case_for_enterprise,
    case_helpers,
    case_timeline,
    cases_of_organisation,
    work_queue,
)
from kejiyun.cases.workflow.transitions import CASE_MOVES, STAFF
from kejiyun.cases.workflow.views import ENTERPRISE_EVENT_KINDS

router = Router(tags=["服务案例"], auth=SIGNED_IN)


def _case_id() -> Any:
    return Path(..., ge=1, le=ID_MAX, description="案例编号")


IF_MATCH = "读取案例时得到的 ETag"


class StepOut(Schema):
    step: str
    label: str


class MoveOut(Schema):
    to_step: str
    label: str
    needs_reason: bool


class CaseItemOut(Schema):
    id: int
    demand_id: int
    demand_title: str
    organisation: str
    region: PlaceOut
    step: str
    step_label: str
    owner: str
    centre: str
    due_at: datetime | None
    paused: bool
    overdue: bool
    opened_at: datetime
    closed_at: datetime | None
    version: int


class CaseOut(CaseItemOut):
    """A case as its staff page shows it; `moves` are the steps this caller may move it to
    now (none when they may only read it), `steps` the main line."""

    step_index: int
    steps: list[StepOut]
    may_act: bool
    moves: list[MoveOut]
    pause_reason: str
    escalations: int
    outcome: str
    outcome_label: str
    outcome_reason: str
    contract_number: str
    contract_amount: Decimal | None
    rating: int | None
    rating_comment: str
    confirmed_at: datetime | None


def _steps() -> list[StepOut]:
    return [StepOut(step=s, label=Step(s).label) for s in MAIN_LINE]


def _item_fields(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "demand_id": case.demand_id,
        "demand_title": case.demand.title,
        "organisation": case.demand.organisation.name,
        "region": region_out(case.region),
        "step": case.step,
        "step_label": case.get_step_display(),
        "owner": case.owner.display_name if case.owner else "",
        "centre": str(case.centre),
        "due_at": case.due_at,
        "paused": case.is_paused,
        "overdue": case.is_overdue(),
        "opened_at": case.opened_at,
        "closed_at": case.closed_at,
        "version": case.version,
    }


def _item(case: Case) -> CaseItemOut:
    return CaseItemOut(**_item_fields(case))


def _case_out(user: User, case: Case) -> CaseOut:
    acting = may_act(user, case)
    moves = CASE_MOVES.moves_from(case.step, by=STAFF) if acting else ()
    return CaseOut(
        **_item_fields(case),
        step_index=case.step_index(),
        steps=_steps(),
        may_act=acting,
        moves=[
            MoveOut(to_step=m.to, label=Step(m.to).label, needs_reason=m.needs_reason)
            for m in moves
        ],
        pause_reason=case.pause_reason,
        escalations=case.escalations,
        outcome=case.outcome,
        outcome_label=case.get_outcome_display(),
        outcome_reason=case.outcome_reason,
        contract_number=case.contract_number,
        contract_amount=case.contract_amount,
        rating=case.rating,
        rating_comment=masked(case.rating_comment),
        confirmed_at=case.confirmed_at,
    )


def _event(e: CaseEvent) -> EventOut:
    return EventOut(
        id=e.pk,
        kind=e.kind,
        kind_label=e.get_kind_display(),
        from_status=e.from_step,
        from_label=e.get_from_step_display() if e.from_step else "",
        to_status=e.to_step,
        to_label=e.get_to_step_display() if e.to_step else "",
        actor=actor_name(e.actor),
        reason=masked(e.reason),
        created_at=e.created_at,
    )


# --- The enterprise's own cases (literal paths before `/{case_id}`) --------------------------


class EnterpriseCaseOut(Schema):
    """What the enterprise's case page shows: where its case stands, who helps, the outcome
    to confirm or dispute (in 验收评价)."""

    id: int
    demand_id: int
    demand_title: str
    step: str
    step_label: str
    step_index: int
    steps: list[StepOut]
    owner: str
    centre: str
    helpers: list[str]
    awaiting_confirmation: bool
    outcome: str
    outcome_label: str
    outcome_reason: str
    contract_number: str
    contract_amount: Decimal | None
    rating: int | None
    opened_at: datetime
    closed_at: datetime | None
    version: int


def _enterprise_out(case: Case) -> EnterpriseCaseOut:
    helpers = [
        f"{d.expert.user.display_name}（{d.expert.employer or '未填单位'}）"
        for d in case_helpers(case=case)
    ]
    return EnterpriseCaseOut(
        id=case.pk,
        demand_id=case.demand_id,
        demand_title=case.demand.title,
        step=case.step,
        step_label=case.get_step_display(),
        step_index=case.step_index(),
        steps=_steps(),
        owner=case.owner.display_name if case.owner else "",
        centre=str(case.centre),
        helpers=helpers,
        awaiting_confirmation=case.step == Step.ACCEPTANCE,
        outcome=case.outcome,
        outcome_label=case.get_outcome_display(),
        outcome_reason=case.outcome_reason,
        contract_number=case.contract_number,
        contract_amount=case.contract_amount,
        rating=case.rating,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        version=case.version,
    )


def _enterprise_list_item(case: Case) -> EnterpriseCaseOut:
    return _enterprise_out(case)


@router.get(
    "/mine",
    response=Page[EnterpriseCaseOut],
    operation_id="cases_mine_list",
    summary="本企业的服务案例",
)
def mine(
    request: HttpRequest, cursor: str | None = cursor_param(), limit: int = limit_param()
) -> dict[str, Any]:
    user = enterprise_caller(request, Scope.CASES_READ)
    qs = cases_of_organisation(user=user)
    return paginate(qs, cursor=cursor, limit=limit, out=_enterprise_list_item)


@router.get(
    "/mine/{case_id}",
    response=EnterpriseCaseOut,
    operation_id="cases_mine_detail",
    summary="本企业的一个服务案例（带 ETag）",
)
def mine_detail(
    request: HttpRequest, response: HttpResponse, case_id: int = _case_id()
) -> EnterpriseCaseOut:
    user = enterprise_caller(request, Scope.CASES_READ)
    case = access_case_for_enterprise(user, case_id)
    set_etag(response, case)
    return _enterprise_out(case)


@router.get(
    "/mine/{case_id}/timeline",
    response=Page[EventOut],
    operation_id="cases_mine_timeline",
    summary="本企业案例的进展记录",
)
def mine_timeline(
    request: HttpRequest,
    case_id: int = _case_id(),
    cursor: str | None = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    """环节变更、办理结果与确认、异议；不含服务中心的内部备注与专家答复。新的在前。"""
    user = enterprise_caller(request, Scope.CASES_READ)
    case = access_case_for_enterprise(user, case_id)
    qs = case_timeline(case=case).filter(kind__in=ENTERPRISE_EVENT_KINDS)
    return paginate(qs, cursor=cursor, limit=limit, out=_event)


class ConfirmIn(Schema):
    rating: int = Field(..., ge=1, le=5, description="满意度评分 1–5")
    comment: str = Field("", max_length=1000, description="评价")


@router.post(
    "/mine/{case_id}/confirm",
    response=EnterpriseCaseOut,
    operation_id="cases_confirm",
    summary="确认办理结果并评价（结案）",
)
def confirm(
    request: HttpRequest,
    response: HttpResponse,
    payload: ConfirmIn,
    case_id: int = _case_id(),
    if_match: str | None = Header(None, alias="If-Match", description=IF_MATCH),
) -> EnterpriseCaseOut:
    user = enterprise_caller(request, Scope.CASES_WRITE)
    case = access_case_for_enterprise(user, case_id)
    version = if_match_version(if_match, case)
    # The rating and where it was given from are one change, as on the page.
    with transaction.atomic():
        services.case_confirm(
            case=case,
            actor=user,
            rating=payload.rating,
            comment=payload.comment,
            expected_version=version,
        )
        footprint_record(request, user, Footprint.Kind.RATE)
    case = access_case_for_enterprise(user, case.pk)
    set_etag(response, case)
    return _enterprise_out(case)


class DisputeIn(Schema):
    reason: str = Field(..., min_length=1, max_length=2000, description="异议说明")


@router.post(
    "/mine/{case_id}/dispute",
    response=EnterpriseCaseOut,
    operation_id="cases_dispute",
    summary="对办理结果提出异议（退回实施）",
)
def dispute(
    request: HttpRequest,
    response: HttpResponse,
    payload: DisputeIn,
    case_id: int = _case_id(),
    if_match: str | None = Header(None, alias="If-Match", description=IF_MATCH),
) -> EnterpriseCaseOut:
    user = enterprise_caller(request, Scope.CASES_WRITE)
    case = access_case_for_enterprise(user, case_id)
    version = if_match_version(if_match, case)
    services.case_dispute(case=case, actor=user, reason=payload.reason, expected_version=version)
    case = access_case_for_enterprise(user, case.pk)
    set_etag(response, case)
    return _enterprise_out(case)


# --- Staff ---------------------------------------------------------------------------------


class QueueScope(StrEnum):
    MINE = "mine"
    ALL = "all"
    UNOWNED = "unowned"


class QueueQuery(Schema):
    scope: QueueScope = Field(QueueScope.MINE, description="我承办的 / 辖区全部 / 待指派")
    step: Step | None = Field(None, description="只看某一环节（在办环节）")
    state: CaseState | None = Field(None, description="状态；结案类状态列出已结束的案例")
    county: str = Field("", max_length=12, description="区县行政区划代码")
    industry: str = Field("", max_length=64, description="行业（包含）")


@router.get(
    "",
    response=Page[CaseItemOut],
    operation_id="cases_list",
    summary="工作台：辖区内的案例",
)
def cases_list(
    request: HttpRequest,
    filters: Query[QueueQuery],
    cursor: str | None = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    """与网页工作台相同的范围与筛选（默认只看我承办的在办案例）。"""
    user = staff_caller(request, Scope.CASES_READ)
    qs = work_queue(
        user=user,
        mine_only=filters.scope == QueueScope.MINE,
        unowned_only=filters.scope == QueueScope.UNOWNED,
        step=filters.step or "",
        industry=filters.industry.strip(),
        county=filters.county.strip(),
        state=filters.state or "",
    )
    return paginate(qs, cursor=cursor, limit=limit, out=_item)


@router.get(
    "/{case_id}",
    response=CaseOut,
    operation_id="cases_detail",
    summary="一个案例（带 ETag）",
)
def detail(request: HttpRequest, response: HttpResponse, case_id: int = _case_id()) -> CaseOut:
    user = staff_caller(request, Scope.CASES_READ)
    case = access_case(user, case_id)
    set_etag(response, case)
    return _case_out(user, case)


class TransitionIn(Schema):
    to_step: Step = Field(..., description="转入的环节")
    reason: str = Field("", max_length=1000, description="说明（退出主线时必填）")


@router.post(
    "/{case_id}/transition",
    response=CaseOut,
    operation_id="cases_transition",
    summary="转入下一环节",
)
def transition(
    request: HttpRequest,
    response: HttpResponse,
    payload: TransitionIn,
    case_id: int = _case_id(),
    if_match: str | None = Header(None, alias="If-Match", description=IF_MATCH),
) -> CaseOut:
    user = staff_caller(request, Scope.CASES_WRITE)
    case = access_case(user, case_id)
    version = if_match_version(if_match, case)
    services.case_transition(
        case=case,
        to_step=payload.to_step,
        actor=user,
        reason=payload.reason,
        expected_version=version,
    )
    case = access_case(user, case.pk)
    set_etag(response, case)
    return _case_out(user, case)


@router.get(
    "/{case_id}/timeline",
    response=Page[EventOut],
    operation_id="cases_timeline",
    summary="案例时间线",
)
def timeline(
    request: HttpRequest,
    case_id: int = _case_id(),
    cursor: str | None = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    """案例的全部事件，新的在前。"""
    user = staff_caller(request, Scope.CASES_READ)
    case = access_case(user, case_id)
    return paginate(case_timeline(case=case), cursor=cursor, limit=limit, out=_event)


class CaseDockingOut(Schema):
    id: int
    expert_id: int
    expert: str
    employer: str
    origin: str
    origin_label: str
    status: str
    status_label: str
    awaits_staff: bool
    message: str
    decline_reason: str
    refusal_reason: str
    created_at: datetime
    responded_at: datetime | None
    decided_at: datetime | None


def _case_docking(d: DockingRequest) -> CaseDockingOut:
    return CaseDockingOut(
        id=d.pk,
        expert_id=d.expert_id,
        expert=d.expert.user.display_name,
        employer=d.expert.employer,
        origin=d.origin,
        origin_label=d.get_origin_display(),
        status=d.status,
        status_label=d.get_status_display(),
        awaits_staff=d.awaits_staff,
        message=masked(d.message),
        decline_reason=masked(d.decline_reason),
        refusal_reason=masked(d.refusal_reason),
        created_at=d.created_at,
        responded_at=d.responded_at,
        decided_at=d.decided_at,
    )


@router.get(
    "/{case_id}/dockings",
    response=Page[CaseDockingOut],
    operation_id="cases_dockings",
    summary="案例的对接（请求、申请与企业提议）",
)
def dockings(
    request: HttpRequest,
    case_id: int = _case_id(),
    cursor: str | None = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    user = staff_caller(request, Scope.CASES_READ)
    case = access_case(user, case_id)
    qs = case.dockings.select_related("expert", "expert__user")
    return paginate(qs, cursor=cursor, limit=limit, out=_case_docking)
