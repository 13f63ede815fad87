"""Rate limits on searches and exports, answered 429 with Retry-After and audited
(docs/security.md item 21).

Limits are per user, or per client address for anonymous visitors, in clock-aligned windows
(`kejiyun.common.ratelimit.rate_limit_hit`). The first request over a limit in a window writes
one RATE_LIMITED row; the rest of that window is refused without writing more, so a flood costs
one cache increment a request.

- `SearchRateLimitMiddleware` counts every page request with a non-empty `q` (the demand hall,
  the expert directory, staff lists, the region picker, science content): a search is any page
  that takes `q`, so a new search page is limited without being listed here. The open API has
  its own limits (`kejiyun.api.middleware`).
- `request_limited(request, scope=..., limit=..., window_seconds=...)` is what an export view
  calls before it builds a file.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve

from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.audit.services import audit_record
from kejiyun.common.ratelimit import client_ip, rate_limit_hit


def _who(request: HttpRequest) -> tuple[str, object | None]:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}", user
    return f"ip:{client_ip(request) or 'unknown'}", None


def _view_name(request: HttpRequest) -> str:
    """The view the request is for (middleware runs before the URL is resolved)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return ""
    return match.view_name or ""


def too_many_requests(request: HttpRequest, retry_after: int, *, scope: str) -> HttpResponse:
    """The 429 page: what happened and when to try again, in Chinese."""
    minutes = max(1, (retry_after + 59) // 60)
    body = render_to_string(
        "429.html", {"retry_after": retry_after, "minutes": minutes, "scope": scope}, request
    )
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def request_limited(
    request: HttpRequest, *, scope: str, limit: int, window_seconds: int
) -> HttpResponse | None:
    """Count this request against `scope`'s limit; the 429 answer when over it, else None."""
    who, user = _who(request)
    hit = rate_limit_hit(key=f"{scope}:{who}", limit=limit, window_seconds=window_seconds)
    if not hit.exceeded:
        return None
    if hit.first_over:
        audit_record(
            action=AuditAction.RATE_LIMITED,
            user=user,  # type: ignore[arg-type]
            ip=client_ip(request),
            object_type=scope,
            outcome=AuditEvent.Outcome.REFUSED,
            detail={
                "scope": scope,
                "limit": limit,
                "window_seconds": window_seconds,
                "view": _view_name(request),
            },
        )
    return too_many_requests(request, hit.retry_after, scope=scope)


def export_limited(request: HttpRequest) -> HttpResponse | None:
    """The export limit (settings.EXPORT_RATE_LIMIT per EXPORT_RATE_WINDOW_SECONDS)."""
    return request_limited(
        request,
        scope="export",
        limit=settings.EXPORT_RATE_LIMIT,
        window_seconds=settings.EXPORT_RATE_WINDOW_SECONDS,
    )


class SearchRateLimitMiddleware:
    """Limit searches: any page request (not the API, not static files) with a non-empty `q`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.GET.get("q", "").strip() and not request.path.startswith(
            ("/api/", settings.STATIC_URL or "/static/")
        ):
            refused = request_limited(
                request,
                scope="search",
                limit=settings.SEARCH_RATE_LIMIT,
                window_seconds=settings.SEARCH_RATE_WINDOW_SECONDS,
            )
            if refused is not None:
                return refused
        return self.get_response(request)
