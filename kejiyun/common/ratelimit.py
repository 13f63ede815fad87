"""A fixed-window rate limit kept in the cache.

Used where one client could make the platform do costly or annoying work for others, such
as sending SMS codes to many numbers. When the cache is down the limit fails open and says
so in the log: availability of registration matters more than a perfect limit.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)


def rate_limit_exceeded(*, key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit for `key`; True once more than `limit` hits fall in the window."""
    cache_key = f"ratelimit:{key}"
    try:
        if cache.add(cache_key, 1, timeout=window_seconds):
            return False
        return cache.incr(cache_key) > limit
    except ValueError:  # the key expired between add() and incr()
        return False
    except Exception as exc:
        logger.warning(
            "rate limit cache unavailable (%s); allowing the request", type(exc).__name__
        )
        return False


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the platform records it (rate limits, lock-outs, audit)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None
