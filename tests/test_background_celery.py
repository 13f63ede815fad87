"""A real Celery worker on Redis runs a background run (ADR 0019): a web process (here a
`manage.py shell`) starts a rollup rebuild with `REDIS_URL` set, so the run goes through the
broker; a `celery worker` process claims it and finishes it; this test only reads the
database. Both processes use the test database, so this needs PostgreSQL (an in-memory SQLite
test database is not shared between processes) and Redis on 127.0.0.1:6379 (database 15)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from kejiyun.background.models import Run
from kejiyun.regions.services import regions_load, service_centres_ensure
from tests.builders import make_staff

pytestmark = pytest.mark.django_db(transaction=True)

REDIS = ("127.0.0.1", 6379)
REDIS_URL = "redis://127.0.0.1:6379/15"
ROOT = Path(django_settings.BASE_DIR)


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a shared test database")
@pytest.mark.skipif(not _redis_up(), reason="needs Redis on 127.0.0.1:6379")
def test_a_run_started_with_redis_is_run_by_a_real_celery_worker(
    settings: Any, tmp_path: Path
) -> None:
    regions_load()
    service_centres_ensure(province_code="510000")
    pat = make_staff("pat", "510000")
    env = {
        **os.environ,
        "KEJIYUN_TESTING": "1",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": REDIS_URL,
        "BACKGROUND_MODE": "celery",
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private"),
        "MATCH_INDEX_DIR": str(tmp_path / "index"),
    }
    python = sys.executable
    queue = f"background-test-{os.getpid()}"
    # An empty queue: nothing left over from an earlier run.
    subprocess.run(  # noqa: S603 (our own celery, fixed arguments)
        [python, "-m", "celery", "-A", "kejiyun.celery", "purge", "-f", "-Q", queue],
        env=env,
        cwd=ROOT,
        check=False,
        capture_output=True,
        timeout=60,
    )
    worker = subprocess.Popen(  # noqa: S603 (our own celery worker, fixed arguments)
        [
            python,
            "-m",
            "celery",
            "-A",
            "kejiyun.celery",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
            "-n",
            f"{queue}@%h",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        today = timezone.localdate().isoformat()
        start = (
            "from kejiyun.accounts.models import User;"
            "from kejiyun.background.services import run_start;"
            "from celery import current_app;"
            f"current_app.conf.task_default_queue = {queue!r};"
            f"run = run_start(kind='ops.rollup_rebuild', owner=User.objects.get(pk={pat.pk}),"
            f" title='重建', key='celery-test', params={{'start': {today!r}, 'end': {today!r}}});"
            "print(run.pk, run.status)"
        )
        started = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
            [python, "manage.py", "shell", "-c", start],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        run_id, status = started.stdout.split()[-2:]
        assert status == "queued"  # handed to the broker, not run in the web process
        deadline = time.monotonic() + 120
        run = Run.objects.get(pk=int(run_id))
        while run.status not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.5)
            run.refresh_from_db()
        assert (run.status, run.attempts, run.percent) == ("done", 1, 100), run.error
        assert run.message.startswith(f"已重建 {today} 至 {today}")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
