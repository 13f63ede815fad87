"""The production cache: Django's `RedisCache` that keeps the site answering when Redis does
not (docs/requirements/security.md item 26, docs/deploy.md).

On a Redis error (refused or timed-out connection, a server that is loading, read-only or out
of memory) `FallbackRedisCache`:

- logs one warning for the outage (and one line when Redis is back), not one per request;
- answers as a cache without Redis would: `get` gives the default, `get_many` nothing,
  `has_key` False; `set`, `delete`, `touch` and the `_many` forms do nothing;
- counts `add`, `incr` and `decr` in a small in-process memory instead, so the rate limits
  (`kejiyun.common.ratelimit`) keep counting per process: an outage multiplies a limit by the
  number of processes (fails half open) instead of lifting it or refusing everyone;
- skips Redis for `RETRY_SECONDS` (a circuit breaker, default 5) so a dead or hung Redis
  costs no connection attempt, let alone a timeout, per request; then one call tries again.

Writes and deletes skipped during an outage are remembered (per process, up to
`MAX_MISSED_KEYS`) and deleted from Redis before the first answer after it comes back, so a
value cached before the outage is not served once it is stale: a session ended by signing
out while Redis was away does not come back from the cache (sessions are `cached_db`: the
database is the truth). Past the bound, every key under the cache's prefix is deleted
instead. A process that exits during the outage takes its list with it; docs/deploy.md says
so.

Configure it as a `RedisCache`, plus `RETRY_SECONDS`:

    CACHES = {"default": {"BACKEND": "kejiyun.common.cache.FallbackRedisCache",
                          "LOCATION": "redis://127.0.0.1:6379/1", "KEY_PREFIX": "kejiyun",
                          "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
                          "RETRY_SECONDS": 5}}
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis import exceptions as redis_errors

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The errors that mean "Redis is not there to answer", as opposed to a bug in the caller
# (a WRONGTYPE reply, a value that does not pickle), which still raises.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis_errors.ConnectionError,  # refused, reset, and BusyLoadingError (still loading)
    redis_errors.TimeoutError,
    redis_errors.ReadOnlyError,  # a replica, or a primary demoted during a failover
    redis_errors.OutOfMemoryError,  # maxmemory reached under `noeviction`
    redis_errors.MasterDownError,
    redis_errors.TryAgainError,
    OSError,
)
MAX_MISSED_KEYS = 10_000
LOCAL_MAX_ENTRIES = 10_000
DELETE_CHUNK = 500


@dataclass
class _Outage:
    """The state one process keeps per Redis location, shared by its threads (Django makes
    one cache object per thread)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    down_since: float | None = None  # monotonic time of the first error of this outage
    retry_at: float = 0.0  # monotonic time before which Redis is not tried
    missed: set[str] = field(default_factory=set)  # keys written or deleted while down
    missed_all: bool = False  # more than MAX_MISSED_KEYS, or clear() while down


_OUTAGES: dict[tuple[str, ...], _Outage] = {}
_OUTAGES_LOCK = threading.Lock()


def _without_password(url: str) -> str:
    """`url` as it may appear in a log: no user or password."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


def _glob_escape(text: str) -> str:
    """`text` matched literally by a Redis SCAN pattern."""
    return "".join(f"\\{c}" if c in "\\*?[]^" else c for c in text)


def _outage_for(location: tuple[str, ...]) -> _Outage:
    with _OUTAGES_LOCK:
        return _OUTAGES.setdefault(location, _Outage())


class FallbackRedisCache(RedisCache):
    """`RedisCache` that answers as a miss while Redis is down (see the module docstring)."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        servers = re.split("[;,]", server) if isinstance(server, str) else list(server)
        self.where = ";".join(_without_password(url) for url in servers)  # for the log
        self.retry_seconds = float(params.get("RETRY_SECONDS", 5))
        self._outage = _outage_for((*servers, self.key_prefix))
        # Counters while Redis is away: one memory per process and location.
        self._local = LocMemCache(
            f"kejiyun-cache-fallback:{self.where}:{self.key_prefix}",
            {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": LOCAL_MAX_ENTRIES}},
        )

    # --- the breaker --------------------------------------------------------------------

    def _run(self, action: Callable[[], T], fallback: Callable[[], T], keys: Iterable[str]) -> T:
        """`action` against Redis, or `fallback` (remembering `keys` as missed) when Redis is
        down or has just failed."""
        outage = self._outage
        if time.monotonic() < outage.retry_at:
            self._remember(keys)
            return fallback()
        try:
            if outage.down_since is not None:
                self._recover()
            return action()
        except UNAVAILABLE as exc:
            self._trip(exc)
            self._remember(keys)
            return fallback()

    def _trip(self, exc: BaseException) -> None:
        outage = self._outage
        with outage.lock:
            first = outage.down_since is None
            now = time.monotonic()
            if first:
                outage.down_since = now
            outage.retry_at = now + self.retry_seconds
        if first:
            logger.warning(
                "Redis cache %s unavailable (%s: %s); answering as a cache miss and trying "
                "again every %g s",
                self.where,
                type(exc).__name__,
                exc,
                self.retry_seconds,
            )

    def _remember(self, keys: Iterable[str]) -> None:
        outage = self._outage
        with outage.lock:
            if outage.missed_all:
                return
            outage.missed.update(keys)
            if len(outage.missed) > MAX_MISSED_KEYS:
                outage.missed_all = True
                outage.missed.clear()

    def _recover(self) -> None:
        """Redis answers again: delete what was written or deleted while it was away, then
        close the breaker. Raises (and the outage goes on) if Redis fails meanwhile."""
        outage = self._outage
        with outage.lock:
            missed, everything = sorted(outage.missed), outage.missed_all
            down_since = outage.down_since
        client = cast(Any, self)._cache.get_client(None, write=True)  # RedisCacheClient
        if everything:
            pattern = _glob_escape(self.key_prefix) + ":*"
            batch: list[Any] = []
            for key in client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= DELETE_CHUNK:
                    client.delete(*batch)
                    batch = []
            if batch:
                client.delete(*batch)
        for start in range(0, len(missed), DELETE_CHUNK):
            client.delete(*missed[start : start + DELETE_CHUNK])
        with outage.lock:
            if outage.down_since != down_since:  # another thread recovered first
                return
            outage.missed.difference_update(missed)
            if everything:
                outage.missed_all = False
            outage.down_since = None
            outage.retry_at = 0.0
        logger.warning(
            "Redis cache %s is back after %.0f s; %s written during the outage invalidated",
            self.where,
            time.monotonic() - (down_since or time.monotonic()),
            "every key" if everything else f"{len(missed)} keys",
        )

    # --- the cache API ------------------------------------------------------------------

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return self._run(
            lambda: super(FallbackRedisCache, self).get(key, default, version),
            lambda: default,
            (),
        )

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        keys = list(keys)
        return self._run(
            lambda: super(FallbackRedisCache, self).get_many(keys, version),
            dict,
            (),
        )

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._run(
            lambda: super(FallbackRedisCache, self).has_key(key, version),
            lambda: False,
            (),
        )

    def set(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._run(
            lambda: super(FallbackRedisCache, self).set(key, value, timeout, version),
            lambda: None,
            (self.make_and_validate_key(key, version=version),),
        )

    def set_many(
        self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[str]:
        return self._run(
            lambda: super(FallbackRedisCache, self).set_many(data, timeout, version),
            lambda: list(data),
            [self.make_and_validate_key(key, version=version) for key in data],
        )

    def add(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._run(
            lambda: super(FallbackRedisCache, self).add(key, value, timeout, version),
            lambda: self._local.add(key, value, timeout, version),
            (self.make_and_validate_key(key, version=version),),
        )

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        # Missing keys raise ValueError, as with every Django cache, Redis up or down.
        return self._run(
            lambda: super(FallbackRedisCache, self).incr(key, delta, version),
            lambda: self._local.incr(key, delta, version),
            (self.make_and_validate_key(key, version=version),),
        )

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._run(
            lambda: super(FallbackRedisCache, self).touch(key, timeout, version),
            lambda: False,
            (self.make_and_validate_key(key, version=version),),
        )

    def delete(self, key: str, version: int | None = None) -> bool:
        return self._run(
            lambda: super(FallbackRedisCache, self).delete(key, version),
            lambda: False,
            (self.make_and_validate_key(key, version=version),),
        )

    def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        keys = list(keys)
        self._run(
            lambda: super(FallbackRedisCache, self).delete_many(keys, version),
            lambda: None,
            [self.make_and_validate_key(key, version=version) for key in keys],
        )

    def clear(self) -> None:
        def while_down() -> None:
            with self._outage.lock:
                self._outage.missed_all = True
                self._outage.missed.clear()

        self._run(lambda: super(FallbackRedisCache, self).clear(), while_down, ())
