"""Issuing, checking, rotating and revoking API tokens (ADR 0015).

A token is `kjy_<kind letter>_<random>`; only `lookup_hash(token)` is stored. Access tokens
live `API_ACCESS_TOKEN_SECONDS` (15 minutes), refresh tokens `API_REFRESH_TOKEN_SECONDS`
(30 days) and are single-use: each refresh returns a new pair, and a refresh token presented
a second time revokes its whole family (someone copied it). Personal access tokens and
client tokens carry the scopes they were created with."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.api.models import ALL_SCOPES, ApiClient, ApiToken
from kejiyun.common.crypto import lookup_hash
from kejiyun.common.errors import ServiceError

TOKEN_PURPOSE = "api-token"  # noqa: S105  (a hash purpose label, not a secret)
_LETTER: dict[str, str] = {
    ApiToken.Kind.ACCESS: "a",
    ApiToken.Kind.REFRESH: "r",
    ApiToken.Kind.PERSONAL: "p",
    ApiToken.Kind.CLIENT: "c",
}


class TokenError(ServiceError):
    """A refused token request; nothing was issued."""


@dataclass(frozen=True)
class IssuedPair:
    access: str
    refresh: str
    expires_in: int
    scopes: tuple[str, ...]


def token_hash(raw: str) -> str:
    return lookup_hash(raw, purpose=TOKEN_PURPOSE)


def _mint(kind: str) -> str:
    return f"kjy_{_LETTER[kind]}_{secrets.token_urlsafe(32)}"


def token_issue(
    *,
    user: User,
    kind: str,
    lifetime: timedelta,
    scopes: tuple[str, ...] | list[str] = ALL_SCOPES,
    name: str = "",
    family: str = "",
    client: ApiClient | None = None,
    now: datetime | None = None,
) -> tuple[str, ApiToken]:
    """Create a token; returns the raw value (shown once) and its row."""
    moment = now or timezone.now()
    raw = _mint(kind)
    row = ApiToken.objects.create(
        kind=kind,
        token_hash=token_hash(raw),
        prefix=raw[:10],
        name=name,
        user=user,
        client=client,
        scopes=sorted(set(scopes)),
        family=family,
        created_at=moment,
        expires_at=moment + lifetime,
    )
    return raw, row


def token_pair_issue(*, user: User, family: str = "", now: datetime | None = None) -> IssuedPair:
    """An access token and a refresh token for a user who signed in (mobile app, mini program)."""
    family = family or secrets.token_hex(16)
    access_life = timedelta(seconds=settings.API_ACCESS_TOKEN_SECONDS)
    refresh_life = timedelta(seconds=settings.API_REFRESH_TOKEN_SECONDS)
    access, _ = token_issue(
        user=user, kind=ApiToken.Kind.ACCESS, lifetime=access_life, family=family, now=now
    )
    refresh, _ = token_issue(
        user=user, kind=ApiToken.Kind.REFRESH, lifetime=refresh_life, family=family, now=now
    )
    return IssuedPair(
        access=access,
        refresh=refresh,
        expires_in=settings.API_ACCESS_TOKEN_SECONDS,
        scopes=ALL_SCOPES,
    )


def token_usable(row: ApiToken, now: datetime) -> bool:
    if row.revoked_at is not None or row.expires_at <= now:
        return False
    if row.client_id is not None and row.client is not None and row.client.revoked_at is not None:
        return False
    return row.user.is_active


def token_authenticate(raw: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live access, personal or client token `raw` names, or None. Refresh tokens never
    authenticate a request."""
    moment = now or timezone.now()
    if not raw.startswith("kjy_"):
        return None
    row = (
        ApiToken.objects.select_related("user", "client")
        .filter(token_hash=token_hash(raw))
        .exclude(kind=ApiToken.Kind.REFRESH)
        .first()
    )
    if row is None or not token_usable(row, moment):
        return None
    if row.last_used_at is None or moment - row.last_used_at > timedelta(minutes=1):
        # At most one write a minute per token: a plain read should not write every time.
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=moment)
    return row


def token_refresh(raw: str, *, now: datetime | None = None) -> IssuedPair:
    """Rotate: spend the refresh token `raw` and issue a new pair in the same family. A
    refresh token used twice revokes the family and is refused."""
    moment = now or timezone.now()
    refused = TokenError("刷新令牌无效或已过期，请重新登录。", code="invalid_grant")
    row = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=token_hash(raw), kind=ApiToken.Kind.REFRESH)
        .first()
    )
    if row is None:
        raise refused
    if row.used_at is not None:
        token_family_revoke(family=row.family, now=moment)
        raise refused
    if not token_usable(row, moment):
        raise refused
    with transaction.atomic():
        spent = ApiToken.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=moment)
        if spent == 1:
            return token_pair_issue(user=row.user, family=row.family, now=moment)
    # Another request spent it between the check and the write: the token was presented
    # twice, so the family is revoked as for a later reuse (outside the block above, so the
    # revocation is not rolled back with it).
    token_family_revoke(family=row.family, now=moment)
    raise refused


def token_family_revoke(*, family: str, now: datetime | None = None) -> int:
    if not family:
        return 0
    return ApiToken.objects.filter(family=family, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )


def token_revoke(*, token: ApiToken, now: datetime | None = None) -> None:
    """Revoke one token; a signed-in pair is revoked with its whole family."""
    moment = now or timezone.now()
    if token.family:
        token_family_revoke(family=token.family, now=moment)
    else:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=moment)


# A spent token is kept this long past its expiry or revocation, so the token page and the
# admin still show it for a while (and a reused refresh token is still recognised as one of
# its family within its lifetime); after that it is deleted.
TOKEN_KEEP_AFTER_END = timedelta(days=30)


def tokens_purge(*, now: datetime | None = None) -> int:
    """Delete tokens that expired or were revoked more than `TOKEN_KEEP_AFTER_END` ago;
    the number deleted. Run hourly by the periodic jobs (`api.purge_tokens`)."""
    moment = now or timezone.now()
    cutoff = moment - TOKEN_KEEP_AFTER_END
    spent = ApiToken.objects.filter(expires_at__lt=cutoff) | ApiToken.objects.filter(
        revoked_at__lt=cutoff
    )
    deleted, _ = spent.delete()
    return deleted
