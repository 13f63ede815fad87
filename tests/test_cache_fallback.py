"""The production cache (`kejiyun.common.cache.FallbackRedisCache`) against real Redis
servers: the shared one on 127.0.0.1:6379, one this file starts and stops or freezes, and a
closed port. Nothing of Redis is mocked: an outage is a refused connection (a closed port, a
stopped server) or a server that stops answering (SIGSTOP), as in production."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache.backends.base import BaseCache
from django.test import Client

from kejiyun.accounts.models import User
from kejiyun.common.cache import FallbackRedisCache

SHARED_REDIS = "redis://127.0.0.1:6379/0"
TIMEOUTS = {"socket_connect_timeout": 0.3, "socket_timeout": 0.3}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def backend(location: str, *, retry: float = 5.0, prefix: str | None = None) -> BaseCache:
    return FallbackRedisCache(
        location,
        {
            "KEY_PREFIX": prefix or f"t{uuid.uuid4().hex[:12]}",
            "OPTIONS": TIMEOUTS,
            "RETRY_SECONDS": retry,
        },
    )


def cache_settings(location: str, *, retry: float = 5.0) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "kejiyun.common.cache.FallbackRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": f"t{uuid.uuid4().hex[:12]}",
            "OPTIONS": TIMEOUTS,
            "RETRY_SECONDS": retry,
        }
    }


@pytest.fixture
def own_redis() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A redis-server of this test alone, on a free port, without persistence."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    server = subprocess.Popen(  # noqa: S603
        [shutil.which("redis-server") or "redis-server", *command[1:], "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    probe = redis.Redis(port=port)
    for _ in range(100):
        try:
            probe.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        yield server, f"redis://127.0.0.1:{port}/0"
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.terminate()
        server.wait(10)


def shared_redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(SHARED_REDIS, **TIMEOUTS).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not shared_redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_with_redis_up_values_live_in_redis_under_the_prefix() -> None:
    cache = backend(SHARED_REDIS)
    raw = redis.Redis.from_url(SHARED_REDIS)
    cache.set("greeting", {"text": "你好"}, 30)
    assert cache.get("greeting") == {"text": "你好"}
    assert raw.exists(f"{cache.key_prefix}:1:greeting") == 1
    assert cache.add("hits", 1, 30) is True
    assert cache.add("hits", 1, 30) is False
    assert cache.incr("hits") == 2
    assert int(raw.get(f"{cache.key_prefix}:1:hits") or 0) == 2
    with pytest.raises(ValueError):
        cache.incr("never-set")
    assert cache.delete("greeting") is True
    assert cache.get("greeting", "gone") == "gone"
    cache.delete("hits")


def test_a_closed_port_answers_as_a_miss_counts_locally_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = backend(f"redis://:sesame-{'x' * 20}@127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.WARNING, logger="kejiyun.common.cache"):
        cache.set("greeting", "你好", 30)
        assert cache.get("greeting") is None
        assert cache.get("greeting", "默认") == "默认"
        assert cache.get_many(["greeting", "other"]) == {}
        assert cache.has_key("greeting") is False
        assert cache.delete("greeting") is False
        assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
        cache.delete_many(["a", "b"])
        assert cache.touch("a") is False
        # Counters (the rate limits) keep counting in this process.
        assert cache.add("hits", 1, 30) is True
        assert cache.add("hits", 1, 30) is False
        assert cache.incr("hits") == 2
        assert cache.decr("hits") == 1
        with pytest.raises(ValueError):
            cache.incr("never-set")
        for _ in range(50):
            cache.get("greeting")
    outage_lines = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(outage_lines) == 1
    assert "ConnectionError" in outage_lines[0].getMessage()
    assert "sesame" not in caplog.text  # the Redis password stays out of the log


def test_the_rate_limits_keep_counting_while_redis_is_down(settings: Any) -> None:
    from kejiyun.common.ratelimit import rate_limit_exceeded, rate_limit_hit

    settings.CACHES = cache_settings(f"redis://127.0.0.1:{free_port()}/0")
    answers = [rate_limit_exceeded(key="sms:203.0.113.9", limit=3, window_seconds=60)]
    answers += [rate_limit_exceeded(key="sms:203.0.113.9", limit=3, window_seconds=60)]
    answers += [rate_limit_exceeded(key="sms:203.0.113.9", limit=3, window_seconds=60)]
    answers += [rate_limit_exceeded(key="sms:203.0.113.9", limit=3, window_seconds=60)]
    assert answers == [False, False, False, True]
    hits = [rate_limit_hit(key="search:ip:x", limit=2, window_seconds=60) for _ in range(3)]
    assert [hit.count for hit in hits] == [1, 2, 3]
    assert hits[-1].exceeded and hits[-1].first_over


def test_a_hung_redis_costs_one_timeout_then_nothing_until_the_retry(
    own_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    server, location = own_redis
    cache = backend(location, retry=60)
    cache.set("k", "v", 30)
    os.kill(server.pid, signal.SIGSTOP)  # accepts connections, never answers
    started = time.monotonic()
    assert cache.get("k", "miss") == "miss"
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(200):
        assert cache.get("k", "miss") == "miss"
        cache.set("k", "w", 30)
    rest = time.monotonic() - started
    assert first >= 0.25  # the socket timeout, once
    assert rest < 0.2  # 400 calls without touching the network


def test_what_changed_during_an_outage_is_invalidated_when_redis_is_back(
    own_redis: tuple[subprocess.Popen[bytes], str], caplog: pytest.LogCaptureFixture
) -> None:
    server, location = own_redis
    cache = backend(location, retry=0.5)
    cache.set("deleted-while-down", "old", 300)
    cache.set("changed-while-down", "old", 300)
    cache.set("untouched", "kept", 300)
    os.kill(server.pid, signal.SIGSTOP)
    with caplog.at_level(logging.WARNING, logger="kejiyun.common.cache"):
        cache.delete("deleted-while-down")  # times out: the outage starts
        cache.set("changed-while-down", "new", 300)  # skipped: Redis still holds "old"
        os.kill(server.pid, signal.SIGCONT)
        time.sleep(0.6)
        assert cache.get("deleted-while-down") is None
        assert cache.get("changed-while-down") is None  # not the stale "old"
        assert cache.get("untouched") == "kept"
        cache.set("changed-while-down", "new", 300)
        assert cache.get("changed-while-down") == "new"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unavailable" in m for m in messages) == 1
    assert sum("is back" in m and "2 keys" in m for m in messages) == 1


def test_clear_while_down_empties_the_prefix_when_redis_is_back(
    own_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    server, location = own_redis
    ours = backend(location, retry=0.5, prefix="ours")
    theirs = backend(location, retry=0.5, prefix="theirs")
    ours.set("a", 1, 300)
    theirs.set("a", 1, 300)
    os.kill(server.pid, signal.SIGSTOP)
    assert ours.get("a") is None  # times out: the outage starts (a timed-out FLUSHDB
    ours.clear()  # could still run later, so clear() is not the first call)
    os.kill(server.pid, signal.SIGCONT)
    time.sleep(0.6)
    assert ours.get("a") is None
    assert theirs.get("a") == 1


@pytest.mark.django_db
def test_cached_db_sessions_sign_in_and_out_with_redis_down(settings: Any, erin: User) -> None:
    settings.SESSION_ENGINE = "kejiyun.common.sessions.cached_db"
    settings.CACHES = cache_settings(f"redis://127.0.0.1:{free_port()}/0")
    erin.set_password("Bamboo-Panda-Tea-2026")
    erin.save()
    client = Client()
    signed_in = client.post(
        "/accounts/login/", {"username": "erin", "password": "Bamboo-Panda-Tea-2026"}
    )
    assert signed_in.status_code == 302
    assert client.get("/dashboard/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.django_db
def test_a_session_ended_while_redis_was_frozen_stays_ended(
    settings: Any, erin: User, own_redis: tuple[subprocess.Popen[bytes], str]
) -> None:
    server, location = own_redis
    settings.SESSION_ENGINE = "kejiyun.common.sessions.cached_db"
    settings.CACHES = cache_settings(location, retry=0.5)
    browser = Client()
    browser.force_login(erin)
    assert browser.get("/dashboard/").status_code == 200  # the session is now in Redis
    stolen = browser.cookies["sessionid"].value
    os.kill(server.pid, signal.SIGSTOP)
    assert browser.post("/accounts/logout/").status_code == 302  # database row deleted
    os.kill(server.pid, signal.SIGCONT)
    time.sleep(0.6)
    replay = Client()
    replay.cookies["sessionid"] = stolen
    assert replay.get("/dashboard/").status_code == 302
