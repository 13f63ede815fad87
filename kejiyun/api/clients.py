"""Partner systems' OAuth2 client credentials (RFC 6749 §4.4) and the personal access
tokens people make for themselves (ADR 0015).

A client secret, like a token, is stored only as `lookup_hash(secret)`; it is shown once,
when the client is created (`manage.py api_client_create`)."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.api.models import ALL_SCOPES, ApiClient, ApiToken
from kejiyun.api.tokens import TokenError, token_issue
from kejiyun.common.crypto import lookup_hash

CLIENT_SECRET_PURPOSE = "api-client-secret"  # noqa: S105  (a hash purpose label)


class ClientError(TokenError):
    """A refused client-credentials request; `code` is the RFC 6749 error code."""


def client_secret_hash(secret: str) -> str:
    return lookup_hash(secret, purpose=CLIENT_SECRET_PURPOSE)


def scopes_parse(raw: str | list[str] | tuple[str, ...]) -> list[str]:
    """Scope names from a space-separated string (or a list); unknown names refused."""
    names = raw.split() if isinstance(raw, str) else list(raw)
    unknown = sorted(set(names) - set(ALL_SCOPES))
    if unknown:
        raise ClientError(f"未知的权限范围：{'、'.join(unknown)}。", code="invalid_scope")
    return sorted(set(names))


def api_client_create(*, name: str, owner: User, scopes: list[str]) -> tuple[ApiClient, str]:
    """A partner client acting as `owner`; returns the row and the secret (shown once)."""
    wanted = scopes_parse(scopes)
    if not wanted:
        raise ClientError("请至少指定一个权限范围。", code="invalid_scope")
    secret = f"kjy_s_{secrets.token_urlsafe(32)}"
    client = ApiClient.objects.create(
        name=name.strip()[:80],
        client_id=f"kjy_client_{secrets.token_hex(8)}",
        secret_hash=client_secret_hash(secret),
        owner=owner,
        scopes=wanted,
    )
    return client, secret


def api_client_revoke(*, client: ApiClient, now: datetime | None = None) -> None:
    """Revoke a client and every token it was issued."""
    moment = now or timezone.now()
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=moment)
        ApiToken.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=moment)


def client_credentials_grant(
    *, client_id: str, client_secret: str, scope: str | None, now: datetime | None = None
) -> tuple[str, ApiToken]:
    """Check the client's credentials and issue a client token with the asked scopes (all
    the client's scopes when none are asked). Refusals raise `ClientError` with the RFC's
    code: `invalid_client` (unknown, revoked, wrong secret: one answer) or `invalid_scope`."""
    client = (
        ApiClient.objects.select_related("owner").filter(client_id=client_id[:40]).first()
        if client_id
        else None
    )
    expected = client.secret_hash if client is not None else client_secret_hash("-")
    matches = hmac.compare_digest(client_secret_hash(client_secret or "-"), expected)
    if client is None or not matches or client.revoked_at is not None or not client.owner.is_active:
        raise ClientError("客户端标识或密钥不正确，或该接入系统已停用。", code="invalid_client")
    asked = scopes_parse(scope) if scope else list(client.scopes)
    if not set(asked) <= set(client.scopes):
        raise ClientError("申请的权限范围超出该接入系统的授权。", code="invalid_scope")
    return token_issue(
        user=client.owner,
        kind=ApiToken.Kind.CLIENT,
        lifetime=timedelta(seconds=settings.API_CLIENT_TOKEN_SECONDS),
        scopes=asked,
        client=client,
        name=client.name,
        now=now,
    )


def personal_token_create(
    *, user: User, name: str, scopes: list[str], days: int, now: datetime | None = None
) -> tuple[str, ApiToken]:
    """A personal access token: chosen scopes, expiry at most API_PERSONAL_TOKEN_MAX_DAYS."""
    name = name.strip()
    if not name:
        raise TokenError("请填写令牌名称。", code="name_required")
    wanted = scopes_parse(scopes)
    if not wanted:
        raise TokenError("请至少选择一个权限范围。", code="invalid_scope")
    limit = settings.API_PERSONAL_TOKEN_MAX_DAYS
    if not 1 <= days <= limit:
        raise TokenError(f"有效期须在 1 到 {limit} 天之间。", code="bad_expiry")
    return token_issue(
        user=user,
        kind=ApiToken.Kind.PERSONAL,
        lifetime=timedelta(days=days),
        scopes=wanted,
        name=name[:80],
        now=now,
    )


def personal_tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, kind=ApiToken.Kind.PERSONAL).order_by("-id")


def access_personal_token(user: User, token_id: int) -> ApiToken:
    """The user's own personal token, or 404 (another's id is as good as none)."""
    row = personal_tokens_of(user).filter(pk=token_id).first()
    if row is None:
        raise Http404("令牌不存在")
    return row
