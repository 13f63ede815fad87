"""The stack of the failure drills, built once per run (`make test-resilience`): a scratch
PostgreSQL cluster with the migrated schema and the drill's records, a scratch Redis, the
upload folders on a small tmpfs of their own, and gunicorn serving Kejiyun under production
settings. Each drill starts its own Celery workers. Everything is stopped and removed at the
end, whatever happened. See tests/resilience/stack.py and docs/resilience.md.

tests/conftest.py leaves this folder out of every other pytest run (it starts servers and
mounts a file system); `make test-resilience` sets KEJIYUN_RESILIENCE=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.resilience.stack import (
    DRILL,
    PG_PORT,
    REDIS_PORT,
    ROOT,
    Browser,
    Cluster,
    ScratchRedis,
    Service,
    celery_worker,
    cluster_create,
    drill_env,
    gunicorn,
    manage,
    program,
    query,
    run,
    scratch_cluster,
    step,
    wait_for,
    worker_ready,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Named by path without KEJIYUN_RESILIENCE=1 (tests/conftest.py leaves the folder out of
    every other run), the drills are skipped rather than started by accident."""
    if os.environ.get("KEJIYUN_RESILIENCE") == "1":
        return
    skip = pytest.mark.skip(reason="failure drills run with `make test-resilience`")
    for item in items:
        if item.get_closest_marker("resilience") is not None:
            item.add_marker(skip)


# The tmpfs the upload folders live on: big enough for the site's own writes, small enough
# to fill in a moment.
UPLOADS_SIZE = "4m"
STATIC_ROOT = ROOT / "var" / "staticfiles"


@dataclass
class Stack:
    cluster: Cluster
    redis: ScratchRedis
    site: Service
    base: str
    env: dict[str, str]
    seed: dict[str, Any]
    uploads: Path
    uploads_mounted: bool

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Rows of a query on the scratch database."""
        return query(self.env["DATABASE_URL"], sql, *params)

    def value(self, sql: str, *params: object) -> Any:
        """The one value of a query on the scratch database."""
        return self.rows(sql, *params)[0][0]

    def browser(self) -> Browser:
        return Browser(self.base)

    def staff(self) -> Browser:
        """County staff of 锦江区, signed in with password and authenticator."""
        browser = self.browser()
        browser.sign_in(self.seed["staff"], self.seed["password"], totp_key=self.seed["totp_key"])
        return browser

    def province_staff(self) -> Browser:
        """Province staff, signed in with password and authenticator."""
        browser = self.browser()
        browser.sign_in(
            self.seed["province_staff"],
            self.seed["password"],
            totp_key=self.seed["province_totp_key"],
        )
        return browser

    def enterprise(self) -> Browser:
        browser = self.browser()
        browser.sign_in(self.seed["enterprise_user"], self.seed["password"])
        return browser


def _mount_uploads(folder: Path) -> bool:
    """A tmpfs of UPLOADS_SIZE at `folder` (needs root or CAP_SYS_ADMIN). False when the
    machine does not allow it; the disk-full drill then fails, or skips when
    RESILIENCE_SKIP_DISK_FULL=1 says this machine cannot mount."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(  # noqa: S603
        [program("mount"), "-t", "tmpfs", "-o", f"size={UPLOADS_SIZE}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        step(f"could not mount a tmpfs for the uploads: {done.stderr.strip()}")
        return False
    return True


def _unmount(folder: Path) -> None:
    if os.path.ismount(folder):
        subprocess.run([program("umount"), "-l", str(folder)], check=False)  # noqa: S603


def _clean_leftovers(cluster: Cluster) -> None:
    """What an interrupted run of the drills may have left: its cluster, its Redis, its mount."""
    if (cluster.data / "postmaster.pid").exists():
        cluster.stop(mode="immediate")
    subprocess.run(  # noqa: S603
        [program("redis-cli"), "-p", str(REDIS_PORT), "shutdown", "nosave"],
        capture_output=True,
        check=False,
    )
    _unmount(DRILL / "uploads")
    shutil.rmtree(DRILL, ignore_errors=True)


def _static_sources_newest() -> float:
    sources = [p for p in (ROOT / "kejiyun" / "static").rglob("*") if p.is_file()]
    sources.append(ROOT / "requirements.lock")
    return max(p.stat().st_mtime for p in sources if p.exists())


def _collectstatic(env: dict[str, str]) -> subprocess.Popen[bytes] | None:
    """Production serves hashed, compressed static files from a manifest; collect them unless
    var/staticfiles is newer than every source. It takes a minute or more on two cores, so it
    runs beside the migration."""
    manifest = STATIC_ROOT / "staticfiles.json"
    if manifest.exists() and manifest.stat().st_mtime > _static_sources_newest():
        step("static files: var/staticfiles is up to date")
        return None
    step("static files: collectstatic (manifest, compressed), beside the migration")
    return subprocess.Popen(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    began = time.monotonic()
    cluster = scratch_cluster()
    _clean_leftovers(cluster)
    DRILL.mkdir(parents=True)
    uploads = DRILL / "uploads"
    mounted = _mount_uploads(uploads)
    for folder in ("media", "private"):
        (uploads / folder).mkdir(parents=True, exist_ok=True)
    env = drill_env(uploads=uploads)
    redis = ScratchRedis()
    site: Service | None = None
    try:
        step(f"scratch PostgreSQL on {PG_PORT}, scratch Redis on {REDIS_PORT}")
        cluster_create(cluster)
        redis.start()
        collecting = _collectstatic(env)
        step("migrate the schema into the scratch database")
        manage(env, "migrate", "--noinput", "-v", "0")
        step("the drill's people and records (tests/resilience/seed.py)")
        seed = json.loads(
            run([sys.executable, "-m", "tests.resilience.seed"], env).strip().splitlines()[-1]
        )
        if collecting is not None:
            output, _ = collecting.communicate(timeout=900)
            if collecting.returncode != 0:
                raise RuntimeError(f"collectstatic failed:\n{output.decode()[-3000:]}")
        site = gunicorn(env)
        site.start()
        base = f"http://127.0.0.1:{site.port}"
        wait_for("gunicorn", lambda: Browser(base).get("/healthz").status_code == 200, seconds=90)
        took = time.monotonic() - began
        step(f"gunicorn (2 sync workers) serves {base}; the stack was up in {took:.0f} s")
        yield Stack(
            cluster=cluster,
            redis=redis,
            site=site,
            base=base,
            env=env,
            seed=seed,
            uploads=uploads,
            uploads_mounted=mounted,
        )
    finally:
        if site is not None:
            site.stop()
        redis.stop()
        cluster.stop(mode="immediate")
        _unmount(uploads)
        if os.environ.get("RESILIENCE_KEEP") != "1":
            shutil.rmtree(DRILL, ignore_errors=True)


class Workers:
    """The drills' Celery workers, one at a time: `current()` is the running worker (started
    when there is none, and ready before it returns); `kill()` sends SIGKILL to its whole
    process group, so the next `current()` is a new worker. A worker outlives the drill that
    started it (each start costs seconds of Django start-up); all are gone at the end."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.running: Service | None = None
        self.started = 0

    def current(self) -> Service:
        if self.running is None or not self.running.alive():
            self.started += 1
            worker = celery_worker(self.env, f"drill-{self.started}")
            worker.start()
            wait_for(f"celery worker {worker.name}", lambda: worker_ready(worker), seconds=120)
            self.running = worker
        return self.running

    def kill(self) -> Service:
        killed = self.running
        assert killed is not None, "no worker to kill"
        killed.kill()
        self.running = None
        return killed


@pytest.fixture(scope="session")
def workers(stack: Stack) -> Iterator[Workers]:
    pool = Workers(stack.env)
    yield pool
    if pool.running is not None:
        pool.running.kill()
