"""The stack the failure drills break: real components on scratch processes of their own, so
CI's PostgreSQL (5432) and Redis (6379) are never touched (docs/resilience.md).

- a scratch PostgreSQL cluster on 5434 (tools/pgcluster.py, shared with the restore drill);
- a scratch `redis-server` on 6390 without persistence (`--save ""`, like a Redis that lost
  its memory when it stopped);
- gunicorn with 2 sync workers serving Kejiyun under production settings (DEBUG off,
  generated keys, the HTTP SMS gateway, manifest static files), against both;
- real `celery worker` processes, each in a process group of its own so a drill can kill the
  whole worker at once, as the out-of-memory killer or a lost machine would.

Requests carry `X-Forwarded-Proto: https`, as nginx sends them: the settings trust it
(SECURE_PROXY_SSL_HEADER), so the secure cookies, CSRF's referer check and HSTS behave as in
production while the drill speaks plain HTTP on loopback.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from pgcluster import Cluster, free_port, give_to_postgres  # noqa: E402

VENV_BIN = Path(sys.executable).parent
DRILL = ROOT / "var" / "resilience"
PG_PORT = 5434
REDIS_PORT = 6390
DB = "kejiyun_drill"
# The drills' own short clocks, the code paths production's: a dispatcher's claim on an
# outbox message expires after 3 s (production: 10 minutes), and a background run whose
# heartbeat is 30 s old (the shortest the settings allow; production: 5 minutes) is taken up
# again by the periodic job `background.resume_stale`.
CLAIM_TIMEOUT = 3
STALE_SECONDS = 30
# Production's (deploy/gunicorn.conf.py): a request longer than this is killed.
GUNICORN_TIMEOUT = 60


def program(name: str) -> str:
    """The full path of a program on PATH (redis-server, ps, mount…)."""
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed")
    return found


def query(url: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows of `sql` (with %s parameters) on the database at `url`, in a connection of its own."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        return connection.execute(sql, params).fetchall()  # type: ignore[arg-type]


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _secret(n: int = 32) -> str:
    return secrets.token_hex(n)


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def drill_env(*, uploads: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Production settings for every process of the stack: no DEBUG, no KEJIYUN_TESTING,
    generated secrets, the HTTP SMS gateway (never reached: the drill's people have no mobile
    numbers), Redis for cache, sessions and the Celery broker."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KEJIYUN_TESTING", "DEBUG", "DATABASE_URL", "REDIS_URL")
        and not k.startswith(("PYTEST_", "COV_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="kejiyun.settings",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{PG_PORT}/{DB}",
        REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
        SECRET_KEY=_secret(),
        FIELD_ENCRYPTION_KEYS=f"v1:{_key()}",
        FIELD_LOOKUP_KEY=_key(),
        SMS_BACKEND="kejiyun.notifications.sms.HttpGatewayBackend",
        SMS_GATEWAY_URL="https://sms.invalid/send",
        SMS_GATEWAY_SECRET=_secret(),
        HEALTHZ_TOKEN=_secret(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        MEDIA_ROOT=str(uploads / "media"),
        PRIVATE_MEDIA_ROOT=str(uploads / "private"),
        MATCH_INDEX_DIR=str(DRILL / "match-index"),
        MATCH_EMBEDDER="none",
        OUTBOX_CLAIM_TIMEOUT_SECONDS=str(CLAIM_TIMEOUT),
        BACKGROUND_STALE_SECONDS=str(STALE_SECONDS),
        DATABASE_CONNECT_TIMEOUT_SECONDS="3",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def run(args: list[str], env: Mapping[str, str], *, timeout: float = 600) -> str:
    """Run a program of the virtualenv (manage.py, a module) in the drill's environment."""
    done = subprocess.run(  # noqa: S603
        args, cwd=ROOT, env=dict(env), text=True, capture_output=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def manage(env: Mapping[str, str], *args: str, timeout: float = 600) -> str:
    return run([sys.executable, "manage.py", *args], env, timeout=timeout)


def django_json(env: Mapping[str, str], code: str) -> Any:
    """Run `code` in a Django process of the stack; its last printed line is JSON."""
    out = run([sys.executable, "-c", f"import django\ndjango.setup()\n{code}"], env)
    return json.loads(out.strip().splitlines()[-1])


def wait_for(what: str, check: Any, *, seconds: float, every: float = 0.2) -> Any:
    """Poll `check()` until it returns something truthy; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = check()
        except Exception:  # a component still starting answers with errors
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(every)


# --- PostgreSQL ----------------------------------------------------------------------------


def scratch_cluster() -> Cluster:
    data = DRILL / "pg"
    return Cluster(data=data, port=PG_PORT, socket_dir=DRILL / "pg-socket", log=DRILL / "pg.log")


def cluster_create(cluster: Cluster) -> None:
    """initdb and start the scratch cluster and create the drill database."""
    cluster.socket_dir.mkdir(parents=True, exist_ok=True)
    give_to_postgres(DRILL, cluster.socket_dir)
    # fsync off: a drill machine's own crash is not what is drilled; a PostgreSQL restart,
    # even an immediate one, replays the WAL from the OS's page cache all the same.
    cluster.initdb("fsync = off\nmax_connections = 50\n")
    cluster.start()
    cluster.psql(f"CREATE DATABASE {DB}")


def sql(cluster: Cluster, query: str) -> str:
    return cluster.psql(query, db=DB)


def sql_int(cluster: Cluster, query: str) -> int:
    return int(sql(cluster, query) or 0)


# --- Redis ---------------------------------------------------------------------------------


@dataclass
class ScratchRedis:
    port: int = REDIS_PORT
    folder: Path = DRILL / "redis"
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [
                program("redis-server"),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for("redis", self.ping, seconds=20)

    def ping(self) -> bool:
        done = subprocess.run(  # noqa: S603
            [program("redis-cli"), "-p", str(self.port), "ping"],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() == "PONG"

    def cli(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603
            [program("redis-cli"), "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def stop(self) -> None:
        """Stop it the hard way (SIGKILL): nothing is saved, every connection drops."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


# --- gunicorn and celery ---------------------------------------------------------------------


@dataclass
class Service:
    """A long-running program of the stack in a process group of its own."""

    name: str
    args: list[str]
    env: Mapping[str, str]
    log: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            self.args,
            cwd=ROOT,
            env=dict(self.env),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: the parent and every child, no clean-up."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL if it has not ended after 15 s."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def gunicorn(env: Mapping[str, str]) -> Service:
    """gunicorn with production's settings (deploy/gunicorn.conf.py: 2 sync workers), on a
    free loopback port, its pid file and control socket in the drill's folder."""
    port = free_port()
    return Service(
        name="gunicorn",
        args=[str(VENV_BIN / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py")],
        env={
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_TIMEOUT": str(GUNICORN_TIMEOUT),
            "GUNICORN_PIDFILE": str(DRILL / "gunicorn.pid"),
            "GUNICORN_CONTROL_SOCKET": str(DRILL / "gunicorn.ctl"),
        },
        log=DRILL / "gunicorn.log",
        port=port,
    )


def celery_worker(env: Mapping[str, str], name: str) -> Service:
    return Service(
        name=name,
        args=[
            str(VENV_BIN / "celery"),
            "-A",
            "kejiyun",
            "worker",
            "--loglevel",
            "INFO",
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            # Production runs a worker per queue (deploy/systemd/kejiyun-celery@.service);
            # the drill's one worker takes both.
            "--queues",
            "celery,long",
            "--hostname",
            f"{name}@drill",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        log=DRILL / f"{name}.log",
    )


def beat_sends(env: Mapping[str, str], task: str) -> None:
    """Send `task` as celery beat sends the entries of CELERY_BEAT_SCHEDULE (`send_task` by
    name, no arguments, on the broker of REDIS_URL), rather than wait for its interval."""
    from celery import Celery

    beat = Celery("drill-beat", broker=env["REDIS_URL"], set_as_current=False)
    try:
        beat.send_task(task)
    finally:
        beat.close()


def worker_ready(worker: Service) -> bool:
    if not worker.alive():
        raise AssertionError(f"{worker.name} ended:\n{worker.log_text()[-3000:]}")
    return " ready." in worker.log_text()


# --- A browser of the site -------------------------------------------------------------------


@dataclass
class Browser:
    """One person's browser on the site, through gunicorn, as if behind nginx's TLS."""

    base: str
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.headers["X-Forwarded-Proto"] = "https"

    @property
    def origin(self) -> str:
        return self.base.replace("http://", "https://", 1)

    def _keep_cookies(self) -> None:
        # The session and CSRF cookies are Secure; the drill speaks HTTP on loopback to what
        # stands for nginx's TLS end, so the jar may send them back here.
        for cookie in self.session.cookies:
            cookie.secure = False

    def get(self, path: str, *, timeout: float = GUNICORN_TIMEOUT + 10) -> requests.Response:
        response = self.session.get(self.base + path, allow_redirects=False, timeout=timeout)
        self._keep_cookies()
        return response

    def post(
        self,
        path: str,
        data: Mapping[str, Any],
        *,
        files: Mapping[str, Any] | None = None,
        timeout: float = GUNICORN_TIMEOUT + 10,
    ) -> requests.Response:
        token = self.session.cookies.get("csrftoken")
        if token is None:
            self.get("/accounts/login/")
            token = self.session.cookies.get("csrftoken")
        response = self.session.post(
            self.base + path,
            data={**data, "csrfmiddlewaretoken": token},
            files=files,
            headers={"Referer": self.origin + path},
            allow_redirects=False,
            timeout=timeout,
        )
        self._keep_cookies()
        return response

    def sign_in(self, username: str, password: str, *, totp_key: str = "") -> None:
        """Password, then (staff) the authenticator code: the real two-step sign-in."""
        self.get("/accounts/login/")
        done = self.post("/accounts/login/", {"username": username, "password": password})
        assert done.status_code == 302, (done.status_code, done.text[:500])
        if totp_key:
            # Every page but the second step sends a privileged account to it.
            asked = self.get(done.headers["Location"])
            assert asked.status_code == 302, asked.status_code
            assert "/second-factor/verify/" in asked.headers["Location"], asked.headers
            code = totp_now(totp_key)
            verified = self.post("/accounts/second-factor/verify/", {"code": code})
            assert verified.status_code == 302, (verified.status_code, verified.text[:500])
        dashboard = self.get("/dashboard/")
        assert dashboard.status_code == 200, dashboard.status_code


_last_totp_step: dict[str, int] = {}


def totp_now(hex_key: str) -> str:
    """What the person's authenticator shows for `hex_key` (30 s steps, 6 digits). A code is
    good once: a second sign-in within the same step takes the next step's code, which the
    device's tolerance of one step accepts, or waits for the step after."""
    from django_otp.oath import totp

    while True:
        now_step = int(time.time()) // 30
        wanted = max(now_step, _last_totp_step.get(hex_key, 0) + 1)
        if wanted <= now_step + 1:
            break
        time.sleep(30 - time.time() % 30 + 0.2)
    _last_totp_step[hex_key] = wanted
    value = totp(bytes.fromhex(hex_key), step=30, t0=0, digits=6, drift=wanted - now_step)
    return f"{value:06d}"


def answers(browser: Browser, paths: list[str]) -> dict[str, int]:
    """The status of each page (redirects not followed)."""
    return {path: browser.get(path).status_code for path in paths}


@dataclass
class Timed:
    status: int
    seconds: float
    text: str


def timed_get(browser: Browser, path: str) -> Timed:
    began = time.monotonic()
    response = browser.get(path)
    return Timed(response.status_code, time.monotonic() - began, response.text)


def files_under(folder: Path) -> list[str]:
    """Every file below `folder`, as sorted relative paths."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def loop(seconds: float, every: float = 0.1) -> Iterator[float]:
    """Yield the elapsed time every `every` seconds for `seconds`."""
    began = time.monotonic()
    while (elapsed := time.monotonic() - began) < seconds:
        yield elapsed
        time.sleep(every)
