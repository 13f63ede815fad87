"""Production settings of the stack (issue 16, docs/deploy.md): with REDIS_URL the cache is
the fallback Redis cache in its own database, sessions are `cached_db`, Celery acknowledges
late with a visibility timeout longer than any task; and the refusals that keep it so. Each
case starts the settings module in a fresh interpreter, as a server would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from django.test import RequestFactory

from kejiyun.common.ratelimit import client_ip
from tests.builders import PRODUCTION_ENV

SAFE = {**PRODUCTION_ENV, "REDIS_URL": "redis://127.0.0.1:6380/0"}

SHOW = """
import json
from kejiyun import settings as s
print(json.dumps({
    "cache": s.CACHES["default"], "sessions": s.SESSION_ENGINE, "broker": s.CELERY_BROKER_URL,
    "eager": s.CELERY_TASK_ALWAYS_EAGER, "acks_late": s.CELERY_TASK_ACKS_LATE,
    "reject_lost": s.CELERY_TASK_REJECT_ON_WORKER_LOST,
    "prefetch": s.CELERY_WORKER_PREFETCH_MULTIPLIER,
    "visibility": s.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
    "time_limit": s.CELERY_TASK_TIME_LIMIT,
    "routes": s.CELERY_TASK_ROUTES, "schedule": s.CELERY_BEAT_SCHEDULE,
}))
"""


def _start(**changes: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], **SAFE, **changes}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=False
    )


def test_with_redis_the_cache_falls_back_sessions_are_cached_db_and_tasks_ack_late() -> None:
    done = _start()
    assert done.returncode == 0, done.stderr
    shown: dict[str, Any] = json.loads(done.stdout)
    assert shown["cache"]["BACKEND"] == "kejiyun.common.cache.FallbackRedisCache"
    assert shown["cache"]["LOCATION"] == "redis://127.0.0.1:6380/1"  # not the broker's
    assert shown["cache"]["RETRY_SECONDS"] == 5.0
    assert shown["sessions"] == "kejiyun.common.sessions.cached_db"
    assert shown["broker"] == "redis://127.0.0.1:6380/0"
    assert shown["eager"] is False
    assert (shown["acks_late"], shown["reject_lost"], shown["prefetch"]) == (True, True, 1)
    assert shown["visibility"] > shown["time_limit"] >= 120
    # Long jobs have their own queue, so the outbox never waits behind them.
    assert shown["routes"]["matching.embed_vectors"] == {"queue": "long"}
    assert "notifications.dispatch_outbox" not in shown["routes"]
    # A periodic run that waited past its next tick is dropped, not piled up.
    outbox = shown["schedule"]["dispatch-outbox"]
    assert outbox["options"]["expires"] == outbox["schedule"] == 60.0


def test_without_redis_sessions_stay_in_the_database_and_tasks_run_in_process() -> None:
    done = _start(REDIS_URL="")
    shown = json.loads(done.stdout)
    assert shown["cache"]["BACKEND"].endswith("LocMemCache")
    assert shown["sessions"] == "kejiyun.common.sessions.db"
    assert shown["eager"] is True


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"REDIS_CACHE_URL": "redis://127.0.0.1:6380/0"}, "REDIS_CACHE_URL"),
        ({"CELERY_VISIBILITY_TIMEOUT": "1800"}, "CELERY_VISIBILITY_TIMEOUT"),
        ({"CELERY_TASK_TIME_LIMIT": "30"}, "CELERY_TASK_TIME_LIMIT"),
        ({"CLIENT_IP_HEADER": "X-Real-IP: 1.2.3.4"}, "CLIENT_IP_HEADER"),
        ({"CACHE_RETRY_SECONDS": "soon"}, "CACHE_RETRY_SECONDS"),
    ],
)
def test_production_refuses_a_stack_that_would_lose_or_repeat_work(
    changes: dict[str, str], named: str
) -> None:
    done = _start(**changes)
    assert done.returncode != 0
    assert "EnvError" in done.stderr and named in done.stderr


def test_behind_nginx_the_client_is_the_address_nginx_saw(settings: Any) -> None:
    factory = RequestFactory()
    request = factory.get("/", headers={"X-Real-IP": "203.0.113.7"}, REMOTE_ADDR="127.0.0.1")
    assert client_ip(request) == "127.0.0.1"  # the header is not trusted unless named
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    assert client_ip(request) == "203.0.113.7"
    garbled = factory.get("/", headers={"X-Real-IP": "evil, 1.2.3.4"}, REMOTE_ADDR="127.0.0.1")
    assert client_ip(garbled) == "127.0.0.1"
    missing = factory.get("/", REMOTE_ADDR="")
    assert client_ip(missing) is None
