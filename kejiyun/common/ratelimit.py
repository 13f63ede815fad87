"""A fixed-window rate limit kept in the cache.

Used where one client could make the platform do costly or annoying work for others, such
as sending SMS codes to many numbers. When the cache is down the limit fails open and says
so in the log: availability of registration matters more than a perfect limit.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
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
    """The client's address as the platform records it (rate limits, lock-outs, audit).

    The connection's address (`REMOTE_ADDR`), or behind nginx the header it sets to the
    address it saw (`settings.CLIENT_IP_HEADER`, e.g. X-Real-IP: nginx overwrites whatever a
    client sent in it) when that header holds an IP address."""
    if request is None:
        return None
    header = settings.CLIENT_IP_HEADER
    if header:
        sent = request.headers.get(header, "").strip()
        try:
            return str(ipaddress.ip_address(sent))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or None


@dataclass(frozen=True)
class RateLimitHit:
    """One counted hit of a fixed, clock-aligned window: how many hits the window has seen
    (this one included), the limit, and the seconds until the window ends (`Retry-After`)."""

    count: int
    limit: int
    retry_after: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def first_over(self) -> bool:
        """The first hit over the limit in this window: the one worth writing down."""
        return self.count == self.limit + 1


def rate_limit_hit(*, key: str, limit: int, window_seconds: int) -> RateLimitHit:
    """Count one hit for `key` in the current window (windows start at multiples of
    `window_seconds` since the epoch, as the API's limits do). Fails open, as above."""
    now = int(time.time())
    window = now // window_seconds
    retry_after = window_seconds - now % window_seconds
    cache_key = f"ratelimit:{key}:{window_seconds}:{window}"
    try:
        if cache.add(cache_key, 1, timeout=window_seconds + 1):
            count = 1
        else:
            count = int(cache.incr(cache_key))
    except ValueError:  # the key expired between add() and incr()
        count = 1
    except Exception as exc:
        logger.warning(
            "rate limit cache unavailable (%s); allowing the request", type(exc).__name__
        )
        count = 0
    return RateLimitHit(count=count, limit=limit, retry_after=retry_after)
