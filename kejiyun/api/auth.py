"""Who is calling the API, and what they may do (ADR 0015).

Three doors reach the same user and the same jurisdiction rules as the pages:
- the browser's session (unsafe methods need the CSRF token, as on the pages);
- a bearer token: an access token from the mobile sign-in, a personal access token, or a
  partner client's token (`kejiyun.api.tokens`);
- nobody, for the operations anyone may read (regions, the demand hall, science content).

Every authenticated operation names the scope it needs (`require_scope`); a session or a
signed-in pair carries every scope, a personal or client token only those it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from kejiyun.accounts.models import User
from kejiyun.api.errors import ApiProblem
from kejiyun.api.models import ALL_SCOPES, ApiToken
from kejiyun.api.tokens import token_authenticate


@dataclass(frozen=True)
class Caller:
    """`request.auth` of every API operation."""

    user: User | None
    scopes: frozenset[str] = field(default_factory=frozenset)
    token: ApiToken | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user is None


ANONYMOUS = Caller(user=None)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class BearerToken(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        row = token_authenticate(token)
        if row is None:
            # A bearer token was sent and is not live: refuse rather than fall through to
            # the session or anonymous door (a revoked token must not read public data
            # as if it were fine, and the client must learn to sign in again).
            raise ApiProblem(401, "令牌无效、已过期或已吊销，请重新登录。", code="invalid_token")
        return Caller(user=row.user, scopes=frozenset(row.scopes), token=row)


class SessionCookie(APIKeyCookie):
    """The browser's Django session. Unsafe methods need the CSRF token, as on the pages; a
    request without a signed-in session passes on to the next door untouched (a mobile client
    posting without cookies is not a CSRF failure)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Caller | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise ApiProblem(
                403, "页面已过期（CSRF 校验失败），请刷新页面后重试。", code="csrf_failed"
            )
        return Caller(user=user, scopes=frozenset(ALL_SCOPES))

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        return self(request)


def anonymous(request: HttpRequest) -> Caller:
    """The last door of a public operation: anyone, with no scopes."""
    return ANONYMOUS


BEARER = BearerToken()
SESSION = SessionCookie()
SIGNED_IN: list[Any] = [BEARER, SESSION]
ANYONE: list[Any] = [BEARER, SESSION, anonymous]


def caller_of(request: HttpRequest) -> Caller:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, Caller) else ANONYMOUS


def require_scope(request: HttpRequest, scope: str) -> User:
    """The signed-in user, if the credential carries `scope`; else 401 or 403 (problem)."""
    who = caller_of(request)
    if who.user is None:
        raise ApiProblem(401, "请先登录。", code="not_authenticated")
    if scope not in who.scopes:
        raise ApiProblem(
            403, f"该令牌没有“{scope}”权限范围。", code="insufficient_scope", scope=scope
        )
    return who.user


def signed_in_user(request: HttpRequest) -> User | None:
    return caller_of(request).user
