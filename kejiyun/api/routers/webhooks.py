"""`/api/v1/webhooks`: event subscriptions of partner systems (ADR 0015, docs/api.md).

The signing secret is made by the platform and shown once, when the subscription is
created; deliveries are signed with it (`kejiyun/api/webhooks.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from kejiyun.api.auth import SIGNED_IN, caller_of, require_scope
from kejiyun.api.models import Scope, WebhookEvent, WebhookSubscription
from kejiyun.api.pagination import paginate
from kejiyun.api.schemas import Page
from kejiyun.api.webhooks import webhook_subscription_create, webhook_subscription_delete

router = Router(tags=["事件推送"], auth=SIGNED_IN)


class WebhookItemOut(Schema):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


def _item(row: WebhookSubscription) -> WebhookItemOut:
    return WebhookItemOut(
        id=row.pk,
        url=row.url,
        events=list(row.events),
        active=row.active,
        created_at=row.created_at,
    )


def _own(request: HttpRequest) -> Any:
    user = require_scope(request, Scope.WEBHOOKS)
    return user, WebhookSubscription.objects.filter(owner=user)


@router.get(
    "",
    response=Page[WebhookItemOut],
    operation_id="webhooks_list",
    summary="我的事件订阅",
)
def webhooks_list(request: HttpRequest, cursor: str | None = None, limit: int = 20) -> Any:
    _, mine = _own(request)
    return paginate(mine, cursor=cursor, limit=limit, out=_item)


class WebhookCreateIn(Schema):
    url: str = Field(..., min_length=8, max_length=300, description="接收地址（http 或 https）")
    events: list[WebhookEvent] = Field(..., min_length=1, max_length=len(WebhookEvent.values))


class WebhookCreateOut(WebhookItemOut):
    secret: str = Field(..., description="签名密钥，只显示这一次，请妥善保存")


EVENT_SCOPES = {
    WebhookEvent.DEMAND_PUBLISHED.value: Scope.DEMANDS_READ,
    WebhookEvent.CASE_CLOSED.value: Scope.CASES_READ,
}


@router.post(
    "",
    response={201: WebhookCreateOut},
    operation_id="webhooks_create",
    summary="新建事件订阅",
    description="事件：`demand.published`（需求发布）、`case.closed`（工单办结）。只推送订阅账号"
    "有权查看的对象。每次推送带 `Kejiyun-Signature` 签名头，校验方法见 docs/api.md。",
)
def webhooks_create(request: HttpRequest, payload: WebhookCreateIn) -> Status[WebhookCreateOut]:
    user, _ = _own(request)
    # An event carries the object's data: subscribing needs the scope that reads it.
    for event in payload.events:
        require_scope(request, EVENT_SCOPES[event.value])
    credential = caller_of(request).token
    row, secret = webhook_subscription_create(
        owner=user,
        url=payload.url,
        events=[e.value for e in payload.events],
        client=credential.client if credential is not None else None,
    )
    return Status(201, WebhookCreateOut(secret=secret, **_item(row).model_dump()))


class WebhookDeleteOut(Schema):
    id: int
    deleted: bool


@router.delete(
    "/{int:webhook_id}",
    response=WebhookDeleteOut,
    operation_id="webhooks_delete",
    summary="删除事件订阅",
)
def webhooks_delete(request: HttpRequest, webhook_id: int) -> WebhookDeleteOut:
    _, mine = _own(request)
    row = mine.filter(pk=webhook_id).first()
    if row is None:
        raise Http404("订阅不存在")
    webhook_subscription_delete(subscription=row)
    return WebhookDeleteOut(id=webhook_id, deleted=True)
