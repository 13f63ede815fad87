"""Audit middleware (docs/security.md item 11).

`AuditMiddleware` sits first in MIDDLEWARE and does two things:

- it keeps the request's client address in `kejiyun.audit.context` while the request is served
  (and clears it after the response), so every row a service writes carries the IP;
- it writes one ACCESS_REFUSED row when a signed-in user (a session or an API token) is answered
  403 or 404 by a page, the admin or the API. The jurisdiction refusals are the 404s of the
  `access_<entity>` helpers, so a user probing other counties' objects leaves a trail.

Anonymous 404s (crawlers) and static or media files are not logged, nor is a refusal a service
already wrote a refused row for during the request (one row per refusal). A scripted probe cannot
flood the table: each user's refusals are counted in a clock-aligned window of
`AUDIT_REFUSAL_WINDOW_SECONDS`; the first `AUDIT_REFUSALS_PER_USER` in a window are written one
row each, the next writes a single row marked `suppressed` (so the flood itself is on record),
and the rest of that window writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from kejiyun.audit.context import (
    refusal_recorded,
    reset_current_ip,
    reset_refusal_recorded,
    restore_refusal_recorded,
    set_current_ip,
)
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.audit.services import audit_record
from kejiyun.common.ratelimit import client_ip, rate_limit_hit

REFUSED_STATUSES = frozenset({403, 404})


def _signed_in_user(request: HttpRequest) -> Any:
    """The user the request acted as: the session's, else an API token's (`request.auth`)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    caller = getattr(request, "auth", None)
    token_user = getattr(caller, "user", None)
    if token_user is not None and getattr(token_user, "is_authenticated", False):
        return token_user
    return None


def _object_of(kwargs: dict[str, Any]) -> tuple[str, str]:
    """The object a URL names: its first `<name>_id`, `id` or `pk` argument."""
    for name, value in kwargs.items():
        if name in ("id", "pk"):
            return "", str(value)[:40]
        if name.endswith("_id") or name.endswith("_pk"):
            return name[:-3][:40], str(value)[:40]
    return "", ""


def refusal_record(request: HttpRequest, status: int) -> AuditEvent | None:
    """Write the ACCESS_REFUSED row for this answer, within the per-user limit."""
    user = _signed_in_user(request)
    if user is None:
        return None
    path = request.path
    if path.startswith((settings.STATIC_URL or "/static/", settings.MEDIA_URL or "/media/")):
        return None
    hit = rate_limit_hit(
        key=f"audit-refused:{user.pk}",
        limit=settings.AUDIT_REFUSALS_PER_USER,
        window_seconds=settings.AUDIT_REFUSAL_WINDOW_SECONDS,
    )
    if hit.exceeded and not hit.first_over:
        return None
    match = getattr(request, "resolver_match", None)
    object_type, object_id = _object_of(dict(match.kwargs)) if match is not None else ("", "")
    detail: dict[str, Any] = {
        "status": status,
        "view": (match.view_name if match is not None else "") or "",
        "method": request.method or "",
    }
    if match is None:
        detail["path"] = path[:200]  # an unknown URL has no view name to record
    if hit.first_over:
        detail["suppressed"] = True  # further refusals of this window are not written
    return audit_record(
        action=AuditAction.ACCESS_REFUSED,
        user=user,
        ip=client_ip(request),
        object_type=object_type,
        object_id=object_id,
        outcome=AuditEvent.Outcome.REFUSED,
        detail=detail,
    )


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_current_ip(client_ip(request))
        noted = reset_refusal_recorded()
        try:
            response = self.get_response(request)
            # A refusal the service already audited (e.g. FLAG_CLEAR refused) is not written twice.
            if response.status_code in REFUSED_STATUSES and not refusal_recorded():
                refusal_record(request, response.status_code)
            return response
        finally:
            restore_refusal_recorded(noted)
            reset_current_ip(token)
