"""`/api/v1/demands`: the public hall, the enterprise's own demands, staff review.

The same selectors, form checks and services as the pages (kejiyun/demands/views.py and the
staff acceptance in kejiyun/cases/workflow/views.py). The enterprise's and the staff's
detail answers carry an `ETag` (the demand's `version`, bumped by every edit and status move),
and every write needs it back in `If-Match`: none gets 428, a stale one 412, and nothing
changes. The edit itself claims that version (`demand_update(expected_version=…)`); a status
move is also conditional on the status it read, so a move racing another is refused too."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Header, Path, Query, Router, Schema, Status
from pydantic import Field

from kejiyun.accounts.models import User
from kejiyun.api.auth import ANYONE, SIGNED_IN
from kejiyun.api.casework import (
    ID_MAX,
    EventOut,
    PlaceOut,
    actor_name,
    cursor_param,
    enterprise_caller,
    limit_param,
    region_out,
    staff_caller,
)
from kejiyun.api.errors import ApiProblem
from kejiyun.api.etag import if_match_version, set_etag
from kejiyun.api.models import Scope
from kejiyun.api.pagination import paginate
from kejiyun.api.schemas import Page
from kejiyun.cases.workflow.services import case_open_from_demand
from kejiyun.demands.forms import DemandForm, HallForm
from kejiyun.demands.models import Demand
from kejiyun.demands.selectors import (
    PublicDemand,
    access_demand,
    access_own_demand,
    access_published_demand,
    demand_public,
    demands_for_staff,
    demands_hall,
    demands_of_organisation,
    hall_industries,
)
from kejiyun.demands.services import (
    EDITABLE,
    WITHDRAWABLE,
    DemandInput,
    demand_create,
    demand_return,
    demand_submit,
    demand_update,
    demand_withdraw,
)

IF_MATCH = "读取需求时得到的 ETag"

router = Router(tags=["技术需求"])


def _demand_id() -> Any:
    return Path(..., ge=1, le=ID_MAX, description="需求编号")


# --- The public hall ---------------------------------------------------------------------


class HallItemOut(Schema):
    """A demand as the hall shows it. A summary-only demand (`summary_only`) shows its
    title, category, industry, region and date only: no organisation, text nor budget."""

    id: int
    title: str
    category: str
    category_label: str
    industry: str
    region: PlaceOut
    summary_only: bool
    organisation: str
    description: str
    budget: str
    budget_label: str
    published_at: datetime | None


class HallDemandOut(HallItemOut):
    problem: str
    current_state: str
    target_indicators: str
    deadline: date | None


def _hall_fields(row: PublicDemand) -> dict[str, Any]:
    d = row.demand
    return {
        "id": d.pk,
        "title": d.title,
        "category": d.category,
        "category_label": d.get_category_display(),
        "industry": d.industry,
        "region": region_out(d.region),
        "summary_only": row.summary_only,
        "organisation": row.organisation,
        "description": row.description,
        "budget": "" if row.summary_only else d.budget,
        "budget_label": "" if row.summary_only else d.get_budget_display(),
        "published_at": d.published_at or d.created_at,
    }


def _hall_item(demand: Demand) -> HallItemOut:
    return HallItemOut(**_hall_fields(demand_public(demand)))


class HallQuery(Schema):
    q: str = Field("", max_length=50, description="搜索词（按中文分词）")
    category: str = Field("", max_length=16, description="类别，如 problem")
    section: str = Field("", max_length=8, description="领域：国民经济行业门类代码，如 C")
    industry: str = Field("", max_length=64, description="行业名称")
    city: str = Field("", max_length=12, description="市（州）行政区划代码")
    county: str = Field("", max_length=12, description="区县行政区划代码（需同时给出 city）")
    budget: str = Field("", max_length=8, description="预算范围；unknown 表示待商定")


@router.get(
    "/hall",
    response=Page[HallItemOut],
    auth=ANYONE,
    operation_id="demands_hall",
    summary="需求大厅：已发布的需求",
)
def hall(
    request: HttpRequest,
    filters: Query[HallQuery],
    cursor: str | None = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    """已发布且可公开的需求，与需求大厅相同的搜索与筛选；无法识别的筛选条件被忽略。"""
    form = HallForm(filters.dict(), industries=hall_industries())
    return paginate(demands_hall(form.filters()), cursor=cursor, limit=limit, out=_hall_item)


@router.get(
    "/hall/{demand_id}",
    response=HallDemandOut,
    auth=ANYONE,
    operation_id="demands_hall_detail",
    summary="需求大厅：一条已发布的需求",
)
def hall_detail(request: HttpRequest, demand_id: int = _demand_id()) -> HallDemandOut:
    row = demand_public(access_published_demand(demand_id))
    d = row.demand
    return HallDemandOut(
        **_hall_fields(row),
        problem=row.problem,
        current_state=row.current_state,
        target_indicators=row.target_indicators,
        deadline=None if row.summary_only else d.deadline,
    )


# --- The enterprise's own demands ----------------------------------------------------------


class OwnDemandOut(Schema):
    id: int
    title: str
    status: str
    status_label: str
    category: str
    category_label: str
    region: PlaceOut
    industry: str
    industry_class: str | None
    discipline: str | None
    description: str
    problem: str
    current_state: str
    target_indicators: str
    budget: str
    deadline: date | None
    confidentiality: str
    return_reasons: str
    editable: bool
    withdrawable: bool
    case_id: int | None
    created_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None


class OwnDemandDetailOut(OwnDemandOut):
    events: list[EventOut]


def _case_id(demand: Demand) -> int | None:
    case = getattr(demand, "case", None)
    return case.pk if case is not None else None


def _own_fields(d: Demand) -> dict[str, Any]:
    return {
        "id": d.pk,
        "title": d.title,
        "status": d.status,
        "status_label": d.get_status_display(),
        "category": d.category,
        "category_label": d.get_category_display(),
        "region": region_out(d.region),
        "industry": d.industry,
        "industry_class": d.industry_class_id,
        "discipline": d.discipline_id,
        "description": d.description,
        "problem": d.problem,
        "current_state": d.current_state,
        "target_indicators": d.target_indicators,
        "budget": d.budget,
        "deadline": d.deadline,
        "confidentiality": d.confidentiality,
        "return_reasons": d.return_reasons,
        "editable": d.status in EDITABLE,
        "withdrawable": d.status in WITHDRAWABLE,
        "case_id": _case_id(d),
        "created_at": d.created_at,
        "submitted_at": d.submitted_at,
        "published_at": d.published_at,
    }


def _own_item(demand: Demand) -> OwnDemandOut:
    return OwnDemandOut(**_own_fields(demand))


def _events(demand: Demand) -> list[EventOut]:
    return [
        EventOut(
            id=e.pk,
            kind="automatic" if e.automatic else "status",
            kind_label="系统自动" if e.automatic else "状态变更",
            from_status=e.from_status,
            from_label=e.get_from_status_display(),
            to_status=e.to_status,
            to_label=e.get_to_status_display(),
            actor=actor_name(e.actor),
            reason=e.reason,
            created_at=e.created_at,
        )
        for e in demand.events.select_related("actor")
    ]


def _own_detail(user: User, demand_id: int) -> OwnDemandDetailOut:
    demand = access_own_demand(user, demand_id)
    return OwnDemandDetailOut(**_own_fields(demand), events=_events(demand))


class DemandIn(Schema):
    """What the enterprise writes (the page's form). Status, organisation, review fields and
    the like are not here: sent anyway, they are ignored."""

    title: str = Field(..., min_length=1, max_length=120, description="需求名称")
    category: Demand.Category = Field(..., description="类别")
    description: str = Field(..., min_length=1, max_length=10000, description="需求描述")
    region: str = Field(..., min_length=1, max_length=12, description="所在区县的行政区划代码")
    industry: str = Field("", max_length=16, description="行业：国民经济行业分类代码")
    discipline: str = Field("", max_length=16, description="学科代码（可不填）")
    problem: str = Field("", max_length=5000, description="要解决的问题")
    current_state: str = Field("", max_length=5000, description="目前现状")
    target_indicators: str = Field("", max_length=5000, description="目标指标")
    budget: Demand.Budget = Field(Demand.Budget.UNKNOWN, description="预算范围；空为待商定")
    deadline: date | None = Field(None, description="期望完成时间（晚于今天）")
    confidentiality: Demand.Confidentiality = Field(
        Demand.Confidentiality.PUBLIC, description="公开方式"
    )


def _demand_input(payload: DemandIn) -> DemandInput:
    """The page's form checks the input (counties of the province, classes that exist, a
    deadline after today) and builds the service's input."""
    data = payload.dict()
    data["deadline"] = payload.deadline.isoformat() if payload.deadline else ""
    form = DemandForm(data)
    if not form.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        first = next(iter(errors.values()))[0]
        raise ApiProblem(400, first, code="invalid", errors=errors)
    return form.demand_input()


@router.get(
    "/mine",
    response=Page[OwnDemandOut],
    auth=SIGNED_IN,
    operation_id="demands_mine_list",
    summary="本企业的需求",
)
def mine(
    request: HttpRequest,
    cursor: str | None = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    user = enterprise_caller(request, Scope.DEMANDS_READ)
    assert user.organisation is not None
    qs = demands_of_organisation(organisation=user.organisation)
    return paginate(qs, cursor=cursor, limit=limit, out=_own_item)


@router.post(
    "/mine",
    response={201: OwnDemandOut},
    auth=SIGNED_IN,
    operation_id="demands_create",
    summary="新建需求（草稿）",
)
def create(request: HttpRequest, response: HttpResponse, payload: DemandIn) -> Status[OwnDemandOut]:
    user = enterprise_caller(request, Scope.DEMANDS_WRITE)
    organisation = user.organisation
    assert organisation is not None
    data = _demand_input(payload)
    with transaction.atomic():
        demand = demand_create(organisation=organisation, actor=user, data=data)
    set_etag(response, demand)
    return Status(201, _own_item(access_own_demand(user, demand.pk)))


@router.get(
    "/mine/{demand_id}",
    response=OwnDemandDetailOut,
    auth=SIGNED_IN,
    operation_id="demands_mine_detail",
    summary="本企业的一条需求（含审核记录）",
)
def mine_detail(
    request: HttpRequest, response: HttpResponse, demand_id: int = _demand_id()
) -> OwnDemandDetailOut:
    user = enterprise_caller(request, Scope.DEMANDS_READ)
    set_etag(response, access_own_demand(user, demand_id))
    return _own_detail(user, demand_id)


@router.put(
    "/mine/{demand_id}",
    response=OwnDemandDetailOut,
    auth=SIGNED_IN,
    operation_id="demands_update",
    summary="修改草稿或退回修改的需求",
)
def update(
    request: HttpRequest,
    response: HttpResponse,
    payload: DemandIn,
    demand_id: int = _demand_id(),
    if_match: str | None = Header(None, alias="If-Match", description=IF_MATCH),
) -> OwnDemandDetailOut:
    user = enterprise_caller(request, Scope.DEMANDS_WRITE)
    demand = access_own_demand(user, demand_id)
    version = if_match_version(if_match, demand)
    demand_update(demand=demand, actor=user, data=_demand_input(payload), expected_version=version)
    set_etag(response, demand)
    return _own_detail(user, demand.pk)


class ReviewProblemOut(Schema):
    field: str
    message: str


class SubmitOut(Schema):
    """`submitted`: accepted for review (待审核, with `flags` for staff); otherwise sent back
    (退回修改) by the automatic check with `problems`, one per missing or vague part."""

    submitted: bool
    problems: list[ReviewProblemOut]
    flags: list[str]
    demand: OwnDemandDetailOut


@router.post(
    "/mine/{demand_id}/submit",
    response=SubmitOut,
    auth=SIGNED_IN,
    operation_id="demands_submit",
    summary="提交审核",
)
def submit(
    request: HttpRequest,
    response: HttpResponse,
    demand_id: int = _demand_id(),
    if_match: str | None = Header(None, alias="If-Match", description=IF_MATCH),
) -> SubmitOut:
    """先经自动检查：不够具体的需求被退回修改（`submitted` 为 false，`problems` 逐条说明）。"""
    user = enterprise_caller(request, Scope.DEMANDS_WRITE)
    demand = access_own_demand(user, demand_id)
    if_match_version(if_match, demand)
    result = demand_submit(demand=demand, actor=user)
    set_etag(response, access_own_demand(user, demand.pk))
    return SubmitOut(
        submitted=result.submitted,
        problems=[ReviewProblemOut(field=p.field, message=p.message) for p in result.problems],
        flags=list(result.flags),
        demand=_own_detail(user, demand.pk),
    )


@router.post(
    "/mine/{demand_id}/withdraw",
    response=OwnDemandDetailOut,
    auth=SIGNED_IN,
    operation_id="demands_withdraw",
    summary="撤回需求（受理前）",
)
def withdraw(
    request: HttpRequest,
    response: HttpResponse,
    demand_id: int = _demand_id(),
    if_match: str | None = Header(None, alias="If-Match", description=IF_MATCH),
) -> OwnDemandDetailOut:
    user = enterprise_caller(request, Scope.DEMANDS_WRITE)
    demand = access_own_demand(user, demand_id)
    demand_withdraw(demand=demand, actor=user, expected_version=if_match_version(if_match, demand))
    set_etag(response, demand)
    return _own_detail(user, demand.pk)


# --- Staff -----------------------------------------------------------------------------------


class OrganisationRefOut(Schema):
    id: int
    name: str


class StaffDemandOut(Schema):
    id: int
    title: str
    status: str
    status_label: str
    category: str
    category_label: str
    organisation: OrganisationRefOut
    region: PlaceOut
    industry: str
    confidentiality: str
    flagged: bool
    created_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None


class StaffDemandDetailOut(StaffDemandOut):
    description: str
    problem: str
    current_state: str
    target_indicators: str
    budget: str
    deadline: date | None
    source: str
    return_reasons: str
    review_flags: list[str]
    duplicate_of_id: int | None
    reviewable: bool
    events: list[EventOut]


def _staff_fields(d: Demand) -> dict[str, Any]:
    return {
        "id": d.pk,
        "title": d.title,
        "status": d.status,
        "status_label": d.get_status_display(),
        "category": d.category,
        "category_label": d.get_category_display(),
        "organisation": OrganisationRefOut(id=d.organisation_id, name=d.organisation.name),
        "region": region_out(d.region),
        "industry": d.industry,
        "confidentiality": d.confidentiality,
        "flagged": bool(d.review_flags) or d.duplicate_of_id is not None,
        "created_at": d.created_at,
        "submitted_at": d.submitted_at,
        "published_at": d.published_at,
    }


def _staff_item(demand: Demand) -> StaffDemandOut:
    return StaffDemandOut(**_staff_fields(demand))


def _staff_detail(user: User, demand_id: int) -> StaffDemandDetailOut:
    d = access_demand(user, demand_id)
    return StaffDemandDetailOut(
        **_staff_fields(d),
        description=d.description,
        problem=d.problem,
        current_state=d.current_state,
        target_indicators=d.target_indicators,
        budget=d.budget,
        deadline=d.deadline,
        source=d.source,
        return_reasons=d.return_reasons,
        review_flags=[str(flag) for flag in d.review_flags],
        duplicate_of_id=d.duplicate_of_id,
        reviewable=d.status == Demand.Status.SUBMITTED,
        events=_events(d),
    )


class StaffListQuery(Schema):
    status: Demand.Status | None = Field(None, description="只看某一状态")


@router.get(
    "/staff",
    response=Page[StaffDemandOut],
    auth=SIGNED_IN,
    operation_id="demands_staff_list",
    summary="辖区内的需求",
)
def staff_list(
    request: HttpRequest,
    filters: Query[StaffListQuery],
    cursor: str | None = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    user = staff_caller(request, Scope.DEMANDS_READ)
    qs = demands_for_staff(user=user, status=filters.status or "")
    return paginate(qs, cursor=cursor, limit=limit, out=_staff_item)


@router.get(
    "/staff/{demand_id}",
    response=StaffDemandDetailOut,
    auth=SIGNED_IN,
    operation_id="demands_staff_detail",
    summary="辖区内的一条需求",
)
def staff_detail(
    request: HttpRequest, response: HttpResponse, demand_id: int = _demand_id()
) -> StaffDemandDetailOut:
    user = staff_caller(request, Scope.DEMANDS_READ)
    set_etag(response, access_demand(user, demand_id))
    return _staff_detail(user, demand_id)


class PublishOut(Schema):
    demand: StaffDemandDetailOut
    case_id: int
    case_owner: str


@router.post(
    "/staff/{demand_id}/publish",
    response=PublishOut,
    auth=SIGNED_IN,
    operation_id="demands_publish",
    summary="受理并发布需求（同时立案）",
)
def publish(
    request: HttpRequest,
    response: HttpResponse,
    demand_id: int = _demand_id(),
    if_match: str | None = Header(None, alias="If-Match", description=IF_MATCH),
) -> PublishOut:
    """与网页的“受理”相同：需求发布，并为其立案、指定承办人。"""
    user = staff_caller(request, Scope.DEMANDS_WRITE)
    demand = access_demand(user, demand_id)
    if_match_version(if_match, demand)
    case = case_open_from_demand(demand=demand, actor=user)
    set_etag(response, access_demand(user, demand.pk))
    return PublishOut(
        demand=_staff_detail(user, demand.pk),
        case_id=case.pk,
        case_owner=case.owner.display_name if case.owner else "",
    )


class ReturnIn(Schema):
    reasons: str = Field(..., min_length=1, max_length=2000, description="退回原因")


@router.post(
    "/staff/{demand_id}/return",
    response=StaffDemandDetailOut,
    auth=SIGNED_IN,
    operation_id="demands_return",
    summary="退回企业修改",
)
def return_(
    request: HttpRequest,
    response: HttpResponse,
    payload: ReturnIn,
    demand_id: int = _demand_id(),
    if_match: str | None = Header(None, alias="If-Match", description=IF_MATCH),
) -> StaffDemandDetailOut:
    user = staff_caller(request, Scope.DEMANDS_WRITE)
    demand = access_demand(user, demand_id)
    demand_return(
        demand=demand,
        actor=user,
        reasons=payload.reasons,
        expected_version=if_match_version(if_match, demand),
    )
    set_etag(response, demand)
    return _staff_detail(user, demand.pk)
