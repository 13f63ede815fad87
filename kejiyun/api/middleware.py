"""Rate limits of the open API: per client address and per bearer token (ADR 0015).

Checked before the operation runs, so a flood costs one cache increment per request and no
database query. The token's key is a hash of the header as sent, so a stream of made-up
tokens is still limited by address. The answer is 429 problem details with `Retry-After`."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from kejiyun.api.errors import PROBLEM_CONTENT_TYPE, problem_body
from kejiyun.common.ratelimit import client_ip, rate_limit_exceeded

WINDOW_SECONDS = 60
API_PREFIX = "/api/"


def _limited(retry_after: int) -> HttpResponse:
    body = problem_body(429, "请求过于频繁，请稍后再试。", code="rate_limited")
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=429, content_type=PROBLEM_CONTENT_TYPE
    )
    response["Retry-After"] = str(retry_after)
    return response


class ApiRateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            window = int(time.time()) // WINDOW_SECONDS
            retry_after = WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS
            ip = client_ip(request) or "unknown"
            if rate_limit_exceeded(
                key=f"api:ip:{ip}:{window}",
                limit=settings.API_RATE_PER_IP_PER_MINUTE,
                window_seconds=WINDOW_SECONDS,
            ):
                return _limited(retry_after)
            header = request.headers.get("Authorization", "")
            if header.lower().startswith("bearer "):
                digest = hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
                if rate_limit_exceeded(
                    key=f"api:token:{digest}:{window}",
                    limit=settings.API_RATE_PER_TOKEN_PER_MINUTE,
                    window_seconds=WINDOW_SECONDS,
                ):
                    return _limited(retry_after)
        return self.get_response(request)
