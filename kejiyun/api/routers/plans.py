"""`/api/v1/plans`: 一人一策 service plans, read only. A worker reads their own plan (what
the worker's plan page shows); staff read the plans of workers in their jurisdiction, with
the list page's filters. Over `kejiyun.plans.selectors`."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Path, Query, Router, Schema
from pydantic import Field

from kejiyun.api.auth import SIGNED_IN
from kejiyun.api.casework import (
    ID_MAX,
    cursor_param,
    limit_param,
    masked,
    staff_caller,
    worker_caller,
)
from kejiyun.api.errors import ApiProblem
from kejiyun.api.etag import set_etag
from kejiyun.api.models import Scope
from kejiyun.api.pagination import paginate
from kejiyun.api.schemas import Page
from kejiyun.plans.models import ServicePlan
from kejiyun.plans.selectors import access_plan, plan_of_worker, plan_page, plans_for_staff
from kejiyun.talent.selectors import counties_for_staff

router = Router(tags=["一人一策"], auth=SIGNED_IN)


class PlanItemOut(Schema):
    id: int
    worker: str
    worker_region: str
    centre: str
    owner: str
    open_needs: int
    open_actions: int
    version: int
    created_at: datetime
    updated_at: datetime


class NeedOut(Schema):
    id: int
    kind: str
    kind_label: str
    description: str
    status: str
    status_label: str


class ActionOut(Schema):
    id: int
    title: str
    need_kind_label: str
    due_on: date
    done_at: datetime | None
    overdue: bool


class FollowUpOut(Schema):
    id: int
    author: str
    happened_on: date
    note: str


class PlanOut(Schema):
    """A plan as its page shows it: needs, actions (open first), follow-ups (newest
    first)."""

    id: int
    worker: str
    centre: str
    owner: str
    version: int
    created_at: datetime
    updated_at: datetime
    needs: list[NeedOut]
    actions: list[ActionOut]
    followups: list[FollowUpOut]


def _plan_out(plan: ServicePlan) -> PlanOut:
    page = plan_page(plan=plan)
    today = timezone.localdate()
    return PlanOut(
        id=plan.pk,
        worker=plan.profile.user.display_name,
        centre=plan.centre.name,
        owner=plan.owner.display_name if plan.owner else "",
        version=plan.version,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        needs=[
            NeedOut(
                id=n.pk,
                kind=n.kind,
                kind_label=n.get_kind_display(),
                description=masked(n.description),
                status=n.status,
                status_label=n.get_status_display(),
            )
            for n in page.needs
        ],
        actions=[
            ActionOut(
                id=a.pk,
                title=a.title,
                need_kind_label=a.need.get_kind_display() if a.need else "",
                due_on=a.due_on,
                done_at=a.done_at,
                overdue=a.done_at is None and a.due_on < today,
            )
            for a in page.actions
        ],
        followups=[
            FollowUpOut(
                id=f.pk,
                author=f.author.display_name,
                happened_on=f.happened_on,
                note=masked(f.note),
            )
            for f in page.followups
        ],
    )


@router.get(
    "/mine",
    response=PlanOut,
    operation_id="plans_mine",
    summary="我的一人一策服务计划",
)
def mine(request: HttpRequest) -> PlanOut:
    """服务中心核验档案后才建立计划；尚未建立时返回 404。"""
    user = worker_caller(request, Scope.PLANS_READ)
    if getattr(user, "talent_profile", None) is None:
        raise ApiProblem(404, "您还没有科技工作者档案。", code="no_profile")
    plan = plan_of_worker(user=user)
    if plan is None:
        raise ApiProblem(404, "服务中心核验您的档案后，将为您建立服务计划。", code="no_plan")
    return _plan_out(plan)


class OwnerFilter(StrEnum):
    ME = "me"


class PlanListQuery(Schema):
    owner: OwnerFilter | None = Field(None, description="me：只看我负责的")
    county: str = Field("", max_length=12, description="工作者所在区县代码（辖区内）")


def _item(plan: ServicePlan) -> PlanItemOut:
    region = plan.profile.region
    return PlanItemOut(
        id=plan.pk,
        worker=plan.profile.user.display_name,
        worker_region=region.name if region else "",
        centre=plan.centre.name,
        owner=plan.owner.display_name if plan.owner else "",
        open_needs=getattr(plan, "open_needs", 0),
        open_actions=getattr(plan, "open_actions", 0),
        version=plan.version,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


@router.get(
    "",
    response=Page[PlanItemOut],
    operation_id="plans_list",
    summary="辖区内的服务计划",
)
def plans_list(
    request: HttpRequest,
    filters: Query[PlanListQuery],
    cursor: str | None = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    user = staff_caller(request, Scope.PLANS_READ)
    qs = plans_for_staff(user=user)
    if filters.owner == OwnerFilter.ME:
        qs = qs.filter(owner=user)
    if filters.county:
        counties = counties_for_staff(user=user, province_code=settings.DEPLOYMENT_PROVINCE)
        if filters.county in {c.code for c in counties}:
            qs = qs.filter(profile__region_id=filters.county)
    return paginate(qs, cursor=cursor, limit=limit, out=_item)


@router.get(
    "/{plan_id}",
    response=PlanOut,
    operation_id="plans_detail",
    summary="一份服务计划（带 ETag）",
)
def detail(
    request: HttpRequest,
    response: HttpResponse,
    plan_id: int = Path(..., ge=1, le=ID_MAX, description="计划编号"),
) -> PlanOut:
    user = staff_caller(request, Scope.PLANS_READ)
    plan = access_plan(user, plan_id)
    set_etag(response, plan)
    return _plan_out(plan)
