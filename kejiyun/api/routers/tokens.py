"""`/api/v1/me/tokens`: the signed-in person's personal access tokens (ADR 0015).

Only the browser session or a signed-in pair (mobile sign-in) may create one: a personal or
client token may not mint tokens. The token itself is shown once, in the creation answer.
The page `/accounts/api-tokens/` offers the same to people (`kejiyun/api/views.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from kejiyun.api.auth import SIGNED_IN, caller_of, require_scope
from kejiyun.api.clients import access_personal_token, personal_token_create, personal_tokens_of
from kejiyun.api.errors import ApiProblem
from kejiyun.api.models import ApiToken, Scope
from kejiyun.api.pagination import paginate
from kejiyun.api.schemas import Page
from kejiyun.api.tokens import token_revoke

router = Router(tags=["账号"], auth=SIGNED_IN)


class PersonalTokenItemOut(Schema):
    id: int
    name: str
    prefix: str = Field(..., description="令牌开头几个字符，用于区分令牌")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _item(row: ApiToken) -> PersonalTokenItemOut:
    return PersonalTokenItemOut(
        id=row.pk,
        name=row.name,
        prefix=row.prefix,
        scopes=list(row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


@router.get(
    "",
    response=Page[PersonalTokenItemOut],
    operation_id="me_tokens_list",
    summary="我的个人访问令牌",
)
def tokens_list(request: HttpRequest, cursor: str | None = None, limit: int = 20) -> Any:
    user = require_scope(request, Scope.PROFILE)
    return paginate(personal_tokens_of(user), cursor=cursor, limit=limit, out=_item)


class PersonalTokenCreateIn(Schema):
    name: str = Field(..., min_length=1, max_length=80, description="用途说明，如“企业ERP对接”")
    scopes: list[Scope] = Field(..., min_length=1, max_length=len(Scope.values))
    days: int = Field(90, ge=1, le=3650, description="有效天数，不超过平台上限（默认 365）")


class PersonalTokenCreateOut(PersonalTokenItemOut):
    token: str = Field(..., description="令牌原文，只显示这一次，请妥善保存")


@router.post(
    "",
    response={201: PersonalTokenCreateOut},
    operation_id="me_tokens_create",
    summary="新建个人访问令牌",
    description="只能在浏览器登录状态或用登录令牌（手机号登录所得）调用；个人访问令牌与接入系统"
    "令牌不能再创建令牌。令牌原文只在此次回答中出现。",
)
def tokens_create(
    request: HttpRequest, payload: PersonalTokenCreateIn
) -> Status[PersonalTokenCreateOut]:
    user = require_scope(request, Scope.PROFILE)
    credential = caller_of(request).token
    if credential is not None and credential.kind != ApiToken.Kind.ACCESS:
        raise ApiProblem(
            403,
            "个人访问令牌和接入系统令牌不能创建新令牌，请在网页或登录后创建。",
            code="token_cannot_mint",
        )
    if payload.days > settings.API_PERSONAL_TOKEN_MAX_DAYS:
        raise ApiProblem(
            400,
            f"有效期不能超过 {settings.API_PERSONAL_TOKEN_MAX_DAYS} 天。",
            code="bad_expiry",
        )
    raw, row = personal_token_create(
        user=user, name=payload.name, scopes=[s.value for s in payload.scopes], days=payload.days
    )
    return Status(201, PersonalTokenCreateOut(token=raw, **_item(row).model_dump()))


class PersonalTokenRevokeOut(Schema):
    id: int
    revoked_at: datetime | None


@router.delete(
    "/{int:token_id}",
    response=PersonalTokenRevokeOut,
    operation_id="me_tokens_revoke",
    summary="吊销个人访问令牌",
)
def tokens_revoke(request: HttpRequest, token_id: int) -> PersonalTokenRevokeOut:
    user = require_scope(request, Scope.PROFILE)
    row = access_personal_token(user, token_id)
    token_revoke(token=row)
    row.refresh_from_db()
    return PersonalTokenRevokeOut(id=row.pk, revoked_at=row.revoked_at)
