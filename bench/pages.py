"""Kejiyun's common pages under load, against a bare Django page in the same run (issue 16, item 3).

The anchor (bench/anchor/): a bare Django 5.2 project, `startproject`'s settings with DEBUG
off, whose one page lists the newest 20 of 1,000 rows from its own SQLite database through a
base and a list template. Its database is built afresh on every run.

Targets:
- `embedded` (the default): Kejiyun as the embedded default serves it, on a throwaway SQLite
  database under var/bench-cache/pages/. The database is seeded as `make run` does (migrate,
  load_regions, load_classifications, seed_demo --scale small --seed 1, every periodic job
  once with `run_periodic --once`), then every text is embedded and the match index brought
  up to date (bench/pages_prepare.py), so the pages show what users see once the periodic
  jobs have caught up. The seeded database, its match index and the generated keys that
  sealed its personal data are cached under var/bench-cache/pages/seeded/<key>/, the key a
  hash of every migration, the demo seeding code and the region and classification data;
  a cache older than --max-cache-days (default 7: the demo's dates are relative to the day
  it was seeded, and staff passwords expire after 90 days) or --rebuild builds it again.
  Each run serves a fresh copy. Kejiyun runs with production settings: DEBUG off, generated
  SECRET_KEY, FIELD_ENCRYPTION_KEYS and FIELD_LOOKUP_KEY, SMS through HttpGatewayBackend to
  an https URL that is never called, no REDIS_URL (the in-process cache), static files from
  WhiteNoise's manifest (collectstatic first); every request carries
  `X-Forwarded-Proto: https`, as from a TLS proxy (SECURE_SSL_REDIRECT is on).
  Kejiyun is served on 127.0.0.1:8741 and the anchor on 127.0.0.1:8742, both by gunicorn
  with the same settings (GUNICORN: 2 sync workers, timeout 30 s), side by side for the
  whole run but driven one at a time: an idle server costs nothing, and keeping both up
  lets the anchor be measured before, between and after the pages without a restart (a
  restart would measure cold workers).
- `prod` (`--target prod`): the same pages against the `make prod-up` stack (nginx with TLS
  on 127.0.0.1:8443 in front of gunicorn, PostgreSQL, Redis; settings from var/prod/env).
  The anchor runs under gunicorn with the stack's own gunicorn settings, behind an nginx of
  its own (bench/anchor/nginx.conf: the stack's TLS and proxy settings, its certificate)
  on 127.0.0.1:8743.

Signed-in pages: the bench signs in over HTTP through the real sign-in form as the demo
users (password as seeded by kejiyun/demo/seed.py). Staff accounts get a TOTP authenticator
in the served database (bench/pages_prepare.py enrol) and answer the verify page with the
code it shows. Every page is fetched once with its session and must answer 200 (not a
redirect to the sign-in or verify page) before anything is measured; otherwise the bench
stops with the reason. Objects are the ones a user would click first: the first demand of
the hall, the first article of the popsci list, the first case of the county queue, the map
data the province dashboard asks for.

Measurement: wrk, 50 connections and 2 threads (-c50 -t2), --timeout (default 10 s, so a slow
page shows as latency rather than as lost requests), with bench/pages.lua, which counts
every non-2xx answer and every socket error or timeout as an error and reports p50/p95/p99.
Each page: a --warmup run (default 3 s, discarded), then --repeats runs (default 3) of
--duration seconds (default 10); its figures are the medians over the runs, its errors the
sum. The anchor is measured the same way at --anchor-points points (default 3: before the
first page, in the middle and after the last) and its figures are the medians over all its
runs. Per page: requests per second, p50, p95, p99, errors, the ratio of its requests per
second to the anchor's and its p99 over the anchor's p99. Target (issue 16): every page at
>= 0.5 of the anchor's requests per second, p99 <= 2x the anchor's, 0 errors. With the
defaults the measuring takes about 10 minutes.

Run: make bench-pages [BENCH_ARGS="--target prod --duration 20"]. The last line is one JSON
object ("bench": "pages"); the exit status is non-zero only when the bench could not run
(not when the target is missed).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.common import CACHE, ROOT, median

WORK = CACHE / "pages"
PYTHON = sys.executable
LUA = ROOT / "bench" / "pages.lua"
ANCHOR_DIR = ROOT / "bench" / "anchor"

KEJIYUN_PORT = 8741
ANCHOR_PORT = 8742
ANCHOR_TLS_PORT = 8743  # the prod target's anchor behind its own nginx (https)
ANCHOR_HTTP_PORT = 8744  # and that nginx's plain-HTTP redirect
PROD_URL = "https://127.0.0.1:8443"
PROD_ENV = ROOT / "var" / "prod" / "env"

# The one gunicorn configuration of the embedded target, for Kejiyun and the anchor alike.
GUNICORN: tuple[str, ...] = ("--workers", "2", "--worker-class", "sync", "--timeout", "30")
CONNECTIONS = 50
THREADS = 2
TARGET_RATIO = 0.5
TARGET_P99_RATIO = 2.0

# kejiyun/demo/seed.py: DEMO_PASSWORD (published demo credential; tests check they agree).
DEMO_PASSWORD = "Bamboo-Panda-Tea-2026"  # noqa: S105
PROVINCE = "510000"
ANCHOR_ROWS = 1000
# Bumped when the way the cached database is built changes.
BUILD_VERSION = "1"


class BenchError(Exception):
    """The bench could not run (printed, exit status 1)."""


# --- Users and pages ------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    label: str
    user: str | None  # the demo account it is seen as; None: anonymous


USERS: dict[str, str] = {
    "citizen": "demo_c_000001",
    "worker": "demo_w_000001",
    "enterprise": "demo_e_000001",
    "county": "demo_staff_shuangliu",
    "city": "demo_staff_chengdu",
    "province": "demo_staff_province",
}
STAFF = ("county", "city", "province")

PAGES: tuple[Page, ...] = (
    Page("home", "home /", None),
    Page("demand_hall", "demand hall /demands/", None),
    Page("demand_detail", "demand detail /demands/<id>/", None),
    Page("expert_directory", "expert directory /talent/", None),
    Page("popsci_list", "popsci list /popsci/", None),
    Page("popsci_article", "popsci article /popsci/read/<id>/", None),
    Page("citizen_feed", "citizen feed /popsci/feed/", "citizen"),
    Page("worker_dashboard", "worker dashboard /dashboard/", "worker"),
    Page("enterprise_cases", "enterprise cases /cases/mine/", "enterprise"),
    Page("county_queue", "county work queue /cases/", "county"),
    Page("city_queue_all", "city queue, all scope /cases/?scope=all", "city"),
    Page("staff_demand_matches", "staff demand with matches /matching/demands/<id>/", "province"),
    Page("case_page", "case page /cases/<id>/", "county"),
    Page("province_dashboard", f"province dashboard /ops/{PROVINCE}/", "province"),
    Page("map_data", f"map data /ops/{PROVINCE}/map.json", "province"),
)
FIXED_PATHS: dict[str, str] = {
    "home": "/",
    "demand_hall": "/demands/",
    "expert_directory": "/talent/",
    "popsci_list": "/popsci/",
    "citizen_feed": "/popsci/feed/",
    "worker_dashboard": "/dashboard/",
    "enterprise_cases": "/cases/mine/",
    "county_queue": "/cases/",
    "city_queue_all": "/cases/?scope=all",
    "province_dashboard": f"/ops/{PROVINCE}/",
}


# --- A small HTTP client with a cookie jar (sign-in, checks) ----------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


@dataclass
class Browser:
    """One visitor: a cookie jar and the headers a browser behind the site's proxy sends.
    Redirects are not followed (the callers decide what a redirect means)."""

    base: str
    forwarded_https: bool
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: Mapping[str, str] | None = None) -> Answer:
        parts = urlsplit(self.base)
        host = parts.hostname or "127.0.0.1"
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            # The stack's own (self-signed) certificate on loopback.
            context = ssl._create_unverified_context()  # noqa: S323
            connection = http.client.HTTPSConnection(host, parts.port, timeout=60, context=context)
        else:
            connection = http.client.HTTPConnection(host, parts.port, timeout=60)
        origin = f"https://{parts.netloc}" if self.forwarded_https else self.base
        headers = {"User-Agent": "kejiyun-bench-pages", "Accept": "text/html,*/*"}
        if self.forwarded_https:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = origin
            headers["Referer"] = origin + path
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    self._keep(value)
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            connection.close()

    def _keep(self, header: str) -> None:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            if morsel["max-age"] == "0" or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in sorted(self.cookies.items()))

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, form: Mapping[str, str]) -> Answer:
        return self.request("POST", path, form)


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(answer: Answer, what: str) -> str:
    found = CSRF_INPUT.search(answer.text)
    if answer.status != 200 or found is None:
        raise BenchError(f"{what}: 页面没有返回表单（HTTP {answer.status}）")
    return found.group(1)


def totp_now(device: Mapping[str, Any]) -> str:
    """The code the device's authenticator shows now."""
    from django_otp.oath import totp

    key = bytes.fromhex(device["key"])
    value = totp(key, device["step"], device["t0"], device["digits"], device["drift"])
    return f"{value:0{device['digits']}d}"


def sign_in(browser: Browser, username: str, device: Mapping[str, Any] | None) -> None:
    """Sign in through the real form; for staff, answer the second-factor page with the code
    of `device`. Raises BenchError with the reason when the site refuses."""
    login = "/accounts/login/"
    token = csrf_token(browser.get(login), f"{username}: 登录页")
    answer = browser.post(
        login,
        {"csrfmiddlewaretoken": token, "username": username, "password": DEMO_PASSWORD, "next": ""},
    )
    if answer.status != 302:
        raise BenchError(f"{username}: 登录失败（HTTP {answer.status}，用户名或密码不对？）")
    probe = browser.get("/dashboard/")
    if probe.status == 302 and "/second-factor/" in probe.location:
        if device is None:
            raise BenchError(f"{username}: 需要动态口令，但没有为其登记验证器")
        verify = "/accounts/second-factor/verify/"
        for attempt in range(2):
            token = csrf_token(browser.get(verify), f"{username}: 动态口令页")
            answer = browser.post(verify, {"csrfmiddlewaretoken": token, "code": totp_now(device)})
            if answer.status == 302:
                break
            if attempt == 0:
                # A code works once: when this step's code was used already, wait for the next.
                time.sleep(device["step"] - time.time() % device["step"] + 1)
        else:
            raise BenchError(f"{username}: 动态口令被拒绝（HTTP {answer.status}）")
        probe = browser.get("/dashboard/")
    if probe.status != 200:
        raise BenchError(
            f"{username}: 登录后工作台返回 HTTP {probe.status} {probe.location}".rstrip()
        )


# --- Finding the objects a user would click ---------------------------------------------


def first_link(html: str, pattern: str, what: str) -> str:
    found = re.search(pattern, html)
    if found is None:
        raise BenchError(f"找不到{what}的链接（演示数据不完整？）")
    return found.group(0)


def map_data_path(dashboard_html: str) -> str:
    """The map data URL the province dashboard's script asks for (its data-* attributes)."""
    attrs = {}
    for name in ("map-url", "period", "indicator"):
        found = re.search(rf'data-{name}="([^"]*)"', dashboard_html)
        if found is None:
            raise BenchError(f"省级数据看板没有 data-{name}")
        attrs[name] = unescape(found.group(1))
    query = urlencode({"period": attrs["period"], "indicator": attrs["indicator"]})
    return f"{attrs['map-url']}?{query}"


def resolve_paths(browsers: Mapping[str | None, Browser]) -> dict[str, str]:
    """Every page's path, the objects picked from the pages that link to them."""
    paths = dict(FIXED_PATHS)
    anonymous = browsers[None]
    hall = anonymous.get("/demands/")
    paths["demand_detail"] = first_link(hall.text, r"/demands/\d+/", "需求大厅第一条需求")
    demand_id = paths["demand_detail"].split("/")[2]
    paths["staff_demand_matches"] = f"/matching/demands/{demand_id}/"
    popsci = anonymous.get("/popsci/")
    # The list links each article to its reading page (/popsci/read/<id>/).
    article = r"/popsci/(?:read/)?\d+/"
    paths["popsci_article"] = first_link(popsci.text, article, "科普列表第一篇文章")
    queue = browsers["county"].get("/cases/")
    paths["case_page"] = first_link(queue.text, r"/cases/\d+/", "区县案例队列第一个案例")
    dashboard = browsers["province"].get(f"/ops/{PROVINCE}/")
    paths["map_data"] = map_data_path(dashboard.text)
    return paths


def check_pages(browsers: Mapping[str | None, Browser], paths: Mapping[str, str]) -> None:
    """Every page answers 200 to its user, or the bench stops naming each that does not."""
    failures = []
    for page in PAGES:
        answer = browsers[page.user].get(paths[page.name])
        if answer.status != 200:
            where = f" → {answer.location}" if answer.location else ""
            failures.append(f"  {page.name} {paths[page.name]}: HTTP {answer.status}{where}")
        else:
            print(f"  ok {page.name:22} {paths[page.name]} ({len(answer.body):,} bytes)")
    if failures:
        raise BenchError("这些页面没有返回 200，不能测量：\n" + "\n".join(failures))


# --- wrk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkRun:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    timeouts: int

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors + self.timeouts


REPORT_PREFIX = "BENCH_PAGES_WRK "


def parse_wrk(output: str) -> WrkRun:
    """The figures of one wrk run from its output (the line bench/pages.lua prints)."""
    for line in output.splitlines():
        if line.startswith(REPORT_PREFIX):
            raw = json.loads(line[len(REPORT_PREFIX) :])
            break
    else:
        raise BenchError(f"wrk 的输出里没有结果行：\n{output}")
    seconds = raw["duration_us"] / 1e6
    return WrkRun(
        requests=raw["requests"],
        seconds=round(seconds, 2),
        rps=round(raw["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=round(raw["p50_us"] / 1000, 1),
        p95_ms=round(raw["p95_us"] / 1000, 1),
        p99_ms=round(raw["p99_us"] / 1000, 1),
        non2xx=raw["non2xx"],
        socket_errors=raw["connect"] + raw["read"] + raw["write"],
        timeouts=raw["timeout"],
    )


def wrk_command(
    url: str,
    *,
    seconds: float,
    timeout: float,
    headers: Mapping[str, str],
    connections: int = CONNECTIONS,
    threads: int = THREADS,
) -> list[str]:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout))}s",
        "-s",
        str(LUA),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    return [*command, url]


def wrk(
    url: str,
    *,
    seconds: float,
    timeout: float,
    headers: Mapping[str, str],
    connections: int = CONNECTIONS,
    threads: int = THREADS,
) -> WrkRun:
    command = wrk_command(
        url,
        seconds=seconds,
        timeout=timeout,
        headers=headers,
        connections=connections,
        threads=threads,
    )
    done = subprocess.run(  # noqa: S603  (wrk, arguments built here)
        command, capture_output=True, text=True, timeout=seconds + timeout + 60
    )
    if done.returncode != 0:
        raise BenchError(f"wrk 失败（{done.returncode}）：{done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def drain(url: str, headers: Mapping[str, str], seconds: float = 300) -> float:
    """Wait until the server has worked off what the last wrk run left behind: when wrk
    stops, up to 50 requests are still queued at gunicorn (whose sync workers take them
    in order, their clients gone), and the next run would start behind them. One request
    more, answered, means the queue before it is empty. Returns the seconds it took."""
    parts = urlsplit(url)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl._create_unverified_context()  # noqa: S323  (loopback, self-signed)
        connection = http.client.HTTPSConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=seconds, context=context
        )
    else:
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=seconds
        )
    started = time.monotonic()
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path or "/", headers=dict(headers))
        connection.getresponse().read()
    except OSError as error:
        raise BenchError(f"压测之后服务器没有应答（{error}）") from None
    finally:
        connection.close()
    return time.monotonic() - started


@dataclass(frozen=True)
class Figures:
    """A page's (or the anchor's) figures: the medians over its runs, the errors summed."""

    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    runs: int


def figures_of(runs: list[WrkRun]) -> Figures:
    return Figures(
        rps=round(median([r.rps for r in runs]), 1),
        p50_ms=round(median([r.p50_ms for r in runs]), 1),
        p95_ms=round(median([r.p95_ms for r in runs]), 1),
        p99_ms=round(median([r.p99_ms for r in runs]), 1),
        errors=sum(r.errors for r in runs),
        runs=len(runs),
    )


def page_entry(page: Figures, anchor: Figures) -> dict[str, float | int]:
    return {
        "rps": page.rps,
        "p50_ms": page.p50_ms,
        "p95_ms": page.p95_ms,
        "p99_ms": page.p99_ms,
        "errors": page.errors,
        "ratio": round(page.rps / anchor.rps, 3) if anchor.rps else 0.0,
        "p99_ratio": round(page.p99_ms / anchor.p99_ms, 3) if anchor.p99_ms else float("inf"),
    }


def summary(
    *,
    target: str,
    anchor: Figures,
    anchor_runs: list[WrkRun],
    pages: Mapping[str, Figures],
    inprocess: Mapping[str, Mapping[str, float | int]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON object of the last line. `inprocess`: each page's time and query count
    rendered in-process (bench/pages_prepare.py inprocess), added to its entry."""
    entries = {
        name: {
            **page_entry(figures, anchor),
            **(
                {"inprocess_ms": inprocess[name]["ms"], "queries": inprocess[name]["queries"]}
                if inprocess and name in inprocess
                else {}
            ),
        }
        for name, figures in pages.items()
    }
    min_ratio = min(float(e["ratio"]) for e in entries.values())
    max_p99_ratio = max(float(e["p99_ratio"]) for e in entries.values())
    errors = sum(int(e["errors"]) for e in entries.values())
    # Decided on the figures themselves, not on the rounded ratios.
    met = errors == 0 and all(
        f.rps >= TARGET_RATIO * anchor.rps and f.p99_ms <= TARGET_P99_RATIO * anchor.p99_ms
        for f in pages.values()
    )
    return {
        "bench": "pages",
        "target": target,
        "anchor": {**asdict(anchor), "rps_runs": [r.rps for r in anchor_runs]},
        "pages": entries,
        "min_ratio": min_ratio,
        "max_p99_ratio": max_p99_ratio,
        "errors": errors,
        "target_met": met,
        **(extra or {}),
    }


def anchor_points(pages: int, points: int) -> list[int]:
    """Before which page (by index; `pages` means after the last) the anchor is measured:
    `points` places spread evenly from before the first page to after the last."""
    if points <= 1:
        return [0]
    return sorted({round(i * pages / (points - 1)) for i in range(points)})


# --- Processes ------------------------------------------------------------------------------


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        # As gunicorn and nginx bind: a closed connection's TIME_WAIT does not hold the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


def start(name: str, command: list[str], env: Mapping[str, str], log: Path) -> Server:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603  (our own servers, fixed arguments)
            command,
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(name, process, log)


def wait_answering(
    server: Server, browser: Browser, path: str = "/", seconds: float = 90, status: int = 0
) -> None:
    """Until the server answers `path` (with `status`, when given: behind nginx, a 502
    means gunicorn is not up yet)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"{server.name} 退出了（{server.process.returncode}）；见 {server.log}\n"
                + tail(server.log)
            )
        try:
            answer = browser.get(path)
            if not status or answer.status == status:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise BenchError(f"{server.name} 在 {seconds:.0f} 秒内没有应答；见 {server.log}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@contextmanager
def serving(name: str, command: list[str], env: Mapping[str, str], log: Path) -> Iterator[Server]:
    server = start(name, command, env, log)
    try:
        yield server
    finally:
        stop(server)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def gunicorn_command(app: str, port: int, settings: tuple[str, ...] = GUNICORN) -> list[str]:
    return [PYTHON, "-m", "gunicorn", *settings, "--bind", f"127.0.0.1:{port}", app]


def run_step(what: str, command: list[str], env: Mapping[str, str], log: Path) -> str:
    """Run a set-up step; its output goes to `log` and is returned; fails loudly."""
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603  (our own manage.py and modules)
        command, cwd=ROOT, env=dict(env), capture_output=True, text=True
    )
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        output = f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
        raise BenchError(f"{what} 失败（{done.returncode}）：\n{output}")
    print(f"  {what}: {time.monotonic() - started:.0f} s", flush=True)
    return done.stdout


# --- The anchor -----------------------------------------------------------------------------


def anchor_env(database: Path) -> dict[str, str]:
    env = clean_env()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.anchor.settings",
            "ANCHOR_DATABASE": str(database),
            "ANCHOR_SECRET_KEY": secrets.token_urlsafe(50),
        }
    )
    return env


def anchor_build(database: Path, log: Path) -> dict[str, str]:
    """A fresh anchor database with ANCHOR_ROWS rows; returns the anchor's environment."""
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)
    env = anchor_env(database)
    run_step("anchor: migrate", [PYTHON, "-m", "django", "migrate", "--noinput"], env, log)
    seed = [PYTHON, "-m", "django", "seed_rows", "--rows", str(ANCHOR_ROWS)]
    run_step("anchor: rows", seed, env, log)
    return env


# --- Kejiyun on the embedded default ----------------------------------------------------


def clean_env() -> dict[str, str]:
    """This process's environment without any Kejiyun or Django setting."""
    drop = {
        "DEBUG",
        "KEJIYUN_TESTING",
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEYS",
        "FIELD_LOOKUP_KEY",
        "DJANGO_SETTINGS_MODULE",
        "SMS_BACKEND",
        "SMS_GATEWAY_URL",
        "SMS_GATEWAY_SECRET",
        "MATCH_INDEX_DIR",
        "PRIVATE_MEDIA_ROOT",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "OTP_REQUIRED",
    }
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def generated_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "FIELD_ENCRYPTION_KEYS": "v1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "FIELD_LOOKUP_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "SMS_GATEWAY_SECRET": secrets.token_urlsafe(48),
    }


def cache_key() -> str:
    """A hash of what decides the seeded database: every migration, the demo seeding code,
    the region and classification data, and BUILD_VERSION."""
    digest = hashlib.sha256(BUILD_VERSION.encode())
    files = sorted(
        [
            *ROOT.glob("kejiyun/**/migrations/*.py"),
            *ROOT.glob("kejiyun/demo/**/*.py"),
            *ROOT.glob("kejiyun/regions/data/*"),
            *ROOT.glob("kejiyun/talent/data/*"),
        ]
    )
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def kejiyun_env(place: Path, keys: Mapping[str, str], *, debug: bool) -> dict[str, str]:
    """Kejiyun's environment over the database in `place`: production settings (or the
    `make run` settings, DEBUG=1, for seeding), with the keys that sealed its data."""
    env = clean_env()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "kejiyun.settings",
            "DATABASE_URL": f"sqlite:///{place / 'kejiyun.sqlite3'}",
            "MATCH_INDEX_DIR": str(place / "match-index"),
            "PRIVATE_MEDIA_ROOT": str(place / "private"),
            "SECRET_KEY": keys["SECRET_KEY"],
            "FIELD_ENCRYPTION_KEYS": keys["FIELD_ENCRYPTION_KEYS"],
            "FIELD_LOOKUP_KEY": keys["FIELD_LOOKUP_KEY"],
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
    )
    if debug:
        env["DEBUG"] = "1"
    else:
        env.update(
            {
                "SMS_BACKEND": "kejiyun.notifications.sms.HttpGatewayBackend",
                # Never called: nothing sends SMS while pages are read.
                "SMS_GATEWAY_URL": "https://sms-gateway.invalid/send",
                "SMS_GATEWAY_SECRET": keys["SMS_GATEWAY_SECRET"],
            }
        )
    return env


def seeded_database(
    *, rebuild: bool, max_age_days: float, log: Path
) -> tuple[Path, dict[str, str]]:
    """The cached seeded database (built when missing, stale or asked for): its folder and
    the keys that sealed it."""
    key = cache_key()
    place = WORK / "seeded" / key
    marker = place / "built.json"
    if marker.exists() and not rebuild:
        built = json.loads(marker.read_text())
        age_days = (time.time() - built["at"]) / 86400
        if age_days <= max_age_days:
            print(f"seeded database: cached {age_days:.1f} days ago ({place})")
            return place, built["keys"]
        print(f"seeded database: the cache is {age_days:.1f} days old; building it again")
    if (WORK / "seeded").exists():
        shutil.rmtree(WORK / "seeded")
    building = WORK / "seeded" / f"{key}.building"
    building.mkdir(parents=True)
    keys = generated_secrets()
    env = kejiyun_env(building, keys, debug=True)
    manage = [PYTHON, "manage.py"]
    print(f"seeding a demo database as `make run` does (once per cache key {key}) …", flush=True)
    started = time.monotonic()
    run_step("migrate", [*manage, "migrate", "--noinput"], env, log)
    run_step("load_regions", [*manage, "load_regions"], env, log)
    run_step("load_classifications", [*manage, "load_classifications"], env, log)
    run_step("seed_demo", [*manage, "seed_demo", "--scale", "small", "--seed", "1"], env, log)
    run_step("run_periodic --once", [*manage, "run_periodic", "--once"], env, log)
    embed = [PYTHON, "-m", "bench.pages_prepare", "embed"]
    run_step("embed every text, sync the match index", embed, env, log)
    checkpoint(building / "kejiyun.sqlite3")
    building.rename(place)
    seconds = round(time.monotonic() - started)
    marker.write_text(json.dumps({"at": time.time(), "keys": keys, "seconds": seconds}))
    marker.chmod(0o600)
    print(f"seeded database built in {seconds} s ({place})")
    return place, keys


def checkpoint(database: Path) -> None:
    """Fold the write-ahead log into the database file, so a copy of the file is whole."""
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def fresh_copy(seeded: Path, run: Path) -> None:
    if run.exists():
        shutil.rmtree(run)
    run.mkdir(parents=True)
    shutil.copyfile(seeded / "kejiyun.sqlite3", run / "kejiyun.sqlite3")
    for folder in ("match-index", "private"):
        if (seeded / folder).exists():
            shutil.copytree(seeded / folder, run / folder)


def collect_static(env: Mapping[str, str], log: Path) -> None:
    """collectstatic (WhiteNoise's compressed manifest, which production settings read),
    skipped when no static source changed since the last time (compressing takes minutes)."""
    digest = hashlib.sha256(BUILD_VERSION.encode())
    for path in sorted((ROOT / "kejiyun").glob("**/static/**/*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(ROOT)} {stat.st_size} {stat.st_mtime_ns}".encode())
    digest.update((ROOT / "requirements.lock").read_bytes())  # the apps' own static files
    stamp = WORK / "static.stamp"
    manifest = ROOT / "var" / "staticfiles" / "staticfiles.json"
    if manifest.exists() and stamp.exists() and stamp.read_text() == digest.hexdigest():
        print("  collectstatic: unchanged since the last run")
        return
    collect = [PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"]
    run_step("collectstatic", collect, env, log)
    stamp.write_text(digest.hexdigest())


def enrol_staff(env: Mapping[str, str], log: Path) -> dict[str, dict[str, Any]]:
    usernames = [USERS[role] for role in STAFF]
    out = run_step(
        "TOTP authenticators for the staff",
        [PYTHON, "-m", "bench.pages_prepare", "enrol", *usernames],
        env,
        log,
    )
    devices: dict[str, dict[str, Any]] = json.loads(out.strip().splitlines()[-1])
    return devices


# --- Measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """Where the measured server answers and what every request to it carries."""

    base: str
    forwarded_https: bool


def measure(
    url: str, headers: Mapping[str, str], args: argparse.Namespace, label: str
) -> list[WrkRun]:
    if args.warmup > 0:
        wrk(url, seconds=args.warmup, timeout=args.timeout, headers=headers)
        drain(url, headers)
    runs = []
    for _ in range(args.repeats):
        run = wrk(url, seconds=args.duration, timeout=args.timeout, headers=headers)
        drain(url, headers)
        runs.append(run)
        print(
            f"    {label:22} {run.rps:8.1f} req/s  p50 {run.p50_ms:7.1f}  p95 {run.p95_ms:7.1f}"
            f"  p99 {run.p99_ms:7.1f} ms  errors {run.errors}",
            flush=True,
        )
    return runs


def measure_all(
    *,
    kejiyun: Site,
    anchor: Site,
    browsers: Mapping[str | None, Browser],
    paths: Mapping[str, str],
    args: argparse.Namespace,
) -> tuple[Figures, list[WrkRun], dict[str, Figures]]:
    points = anchor_points(len(PAGES), args.anchor_points)
    anchor_headers = {"X-Forwarded-Proto": "https"} if anchor.forwarded_https else {}
    anchor_runs: list[WrkRun] = []
    pages: dict[str, Figures] = {}
    for index in range(len(PAGES) + 1):
        if index in points:
            anchor_runs += measure(anchor.base + "/", anchor_headers, args, "anchor")
        if index == len(PAGES):
            break
        page = PAGES[index]
        headers = {}
        if kejiyun.forwarded_https:
            headers["X-Forwarded-Proto"] = "https"
        cookie = browsers[page.user].cookie_header() if page.user else ""
        if cookie:
            headers["Cookie"] = cookie
        pages[page.name] = figures_of(
            measure(kejiyun.base + paths[page.name], headers, args, page.name)
        )
    return figures_of(anchor_runs), anchor_runs, pages


def print_table(result: Mapping[str, Any]) -> None:
    anchor = result["anchor"]
    print()
    print(
        f"{'page':24}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'ratio':>8}{'p99/anchor':>12}{'in-proc ms':>12}{'queries':>9}"
    )
    print(
        f"{'anchor (bare Django)':24}{anchor['rps']:9.1f}{anchor['p50_ms']:9.1f}"
        f"{anchor['p95_ms']:9.1f}{anchor['p99_ms']:9.1f}{anchor['errors']:8d}{1:8.2f}{1:12.2f}"
    )
    for name, e in result["pages"].items():
        mark = "" if e["ratio"] >= TARGET_RATIO and e["p99_ratio"] <= TARGET_P99_RATIO else "  ✗"
        print(
            f"{name:24}{e['rps']:9.1f}{e['p50_ms']:9.1f}{e['p95_ms']:9.1f}{e['p99_ms']:9.1f}"
            f"{e['errors']:8d}{e['ratio']:8.2f}{e['p99_ratio']:12.2f}"
            f"{e.get('inprocess_ms', float('nan')):12.1f}{e.get('queries', -1):9d}{mark}"
        )
    slowest = sorted(result["pages"].items(), key=lambda kv: kv[1]["ratio"])[:5]
    print()
    print(f"anchor req/s per run: {anchor['rps_runs']}")
    print(
        "slowest pages (ratio to the anchor's req/s): "
        + ", ".join(f"{name} {e['ratio']:.2f}" for name, e in slowest)
    )
    print(
        f"target (every page >= {TARGET_RATIO} of the anchor's req/s, p99 <= "
        f"{TARGET_P99_RATIO}x the anchor's, 0 errors): "
        f"{'met' if result['target_met'] else 'not met'} — min ratio {result['min_ratio']}, "
        f"max p99 ratio {result['max_p99_ratio']}, errors {result['errors']}"
    )


# --- The two targets ------------------------------------------------------------------------


def run_embedded(args: argparse.Namespace, stack: ExitStack) -> dict[str, Any]:
    WORK.mkdir(parents=True, exist_ok=True)
    log = WORK / "setup.log"
    log.write_text("")
    for port in (KEJIYUN_PORT, ANCHOR_PORT):
        if not port_free(port):
            raise BenchError(f"端口 {port} 已被占用（另一个 bench-pages 在运行？）")
    seeded, keys = seeded_database(rebuild=args.rebuild, max_age_days=args.max_cache_days, log=log)
    run = WORK / "run"
    fresh_copy(seeded, run)
    env = kejiyun_env(run, keys, debug=False)
    collect_static(env, log)
    devices = enrol_staff(env, log)
    anchor_environment = anchor_build(WORK / "anchor.sqlite3", log)

    logs = WORK / "logs"
    if logs.exists():
        shutil.rmtree(logs)
    kejiyun_server = stack.enter_context(
        serving(
            "Kejiyun (gunicorn)",
            gunicorn_command("kejiyun.wsgi:application", KEJIYUN_PORT),
            env,
            logs / "kejiyun.log",
        )
    )
    anchor_server = stack.enter_context(
        serving(
            "anchor (gunicorn)",
            gunicorn_command("bench.anchor.wsgi:application", ANCHOR_PORT),
            anchor_environment,
            logs / "anchor.log",
        )
    )
    kejiyun = Site(f"http://127.0.0.1:{KEJIYUN_PORT}", forwarded_https=True)
    anchor = Site(f"http://127.0.0.1:{ANCHOR_PORT}", forwarded_https=False)
    wait_answering(kejiyun_server, Browser(kejiyun.base, True))
    wait_answering(anchor_server, Browser(anchor.base, False))
    return signed_in_run(kejiyun, anchor, devices, args, "embedded", env)


def inprocess_figures(
    paths: Mapping[str, str], env: Mapping[str, str], cprofile: int, log: Path
) -> dict[str, dict[str, float | int]]:
    """Each page rendered in-process with the served settings and database
    (bench/pages_prepare.py inprocess): median milliseconds and queries."""
    pages = [
        {"name": p.name, "user": USERS[p.user] if p.user else None, "path": paths[p.name]}
        for p in PAGES
    ]
    command = [PYTHON, "-m", "bench.pages_prepare", "inprocess"]
    if cprofile:
        command += ["--cprofile", str(cprofile)]
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603  (our own module)
        command, cwd=ROOT, env=dict(env), input=json.dumps(pages), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BenchError(f"页面的进程内测量失败：\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    if cprofile:
        log.write_text(done.stderr)
        print(f"  cProfile of each page (top {cprofile}): {log}")
    figures: dict[str, dict[str, float | int]] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  rendered in-process in {time.monotonic() - started:.0f} s")
    return figures


def signed_in_run(
    kejiyun: Site,
    anchor: Site,
    devices: Mapping[str, Mapping[str, Any]],
    args: argparse.Namespace,
    target: str,
    env: Mapping[str, str],
) -> dict[str, Any]:
    browsers: dict[str | None, Browser] = {None: Browser(kejiyun.base, kejiyun.forwarded_https)}
    print("signing in through the sign-in form:", flush=True)
    for role, username in USERS.items():
        browser = Browser(kejiyun.base, kejiyun.forwarded_https)
        sign_in(browser, username, devices.get(username))
        browsers[role] = browser
        print(f"  {role}: {username}")
    paths = resolve_paths(browsers)
    print("every page answers 200 to its user:")
    check_pages(browsers, paths)
    check_anchor(anchor)
    print("each page in-process (test client, served settings and database):")
    inprocess = inprocess_figures(paths, env, args.cprofile, WORK / f"cprofile-{target}.txt")

    print(
        f"measuring with wrk -t{THREADS} -c{CONNECTIONS}: warm-up {args.warmup} s, then "
        f"{args.repeats} x {args.duration} s per page; the anchor at {args.anchor_points} points",
        flush=True,
    )
    started = time.monotonic()
    anchor_figures, anchor_runs, pages = measure_all(
        kejiyun=kejiyun, anchor=anchor, browsers=browsers, paths=paths, args=args
    )
    return summary(
        target=target,
        anchor=anchor_figures,
        anchor_runs=anchor_runs,
        pages=pages,
        inprocess=inprocess,
        extra={
            "paths": dict(paths),
            "connections": CONNECTIONS,
            "threads": THREADS,
            "duration_s": args.duration,
            "repeats": args.repeats,
            "warmup_s": args.warmup,
            "timeout_s": args.timeout,
            "anchor_points": args.anchor_points,
            "measuring_s": round(time.monotonic() - started),
            "commit": git_commit(),
        },
    )


def check_anchor(anchor: Site) -> None:
    answer = Browser(anchor.base, anchor.forwarded_https).get("/")
    rows = answer.text.count('<tr class="row">')
    if answer.status != 200 or rows != 20:
        raise BenchError(f"基准页应返回 200 和 20 行，实际 HTTP {answer.status}、{rows} 行")
    print(f"  ok {'anchor':22} / ({len(answer.body):,} bytes, {rows} rows)")


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", choices=("embedded", "prod"), default="embedded")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="wrk runs per page")
    parser.add_argument("--warmup", type=float, default=3, help="discarded seconds first")
    parser.add_argument("--timeout", type=float, default=10, help="wrk's request timeout")
    parser.add_argument("--anchor-points", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="seed the database again")
    parser.add_argument("--max-cache-days", type=float, default=7)
    parser.add_argument(
        "--cprofile", type=int, default=0, help="write each page's top N functions (cProfile)"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.duration < 1:
        parser.error("--repeats and --duration must be at least 1")
    return args


def _stop_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines (as tools/prod_stack.py writes var/prod/env); comments skipped."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def prod_home() -> Path:
    return Path(os.environ.get("PROD_DIR") or ROOT / "var" / "prod")


def prod_gunicorn_workers(home: Path) -> int:
    """How many workers the stack's gunicorn runs now (its master's children), else
    PROD_WORKERS (what `make prod-up` read), else 2."""
    try:
        master = int((home / "run" / "gunicorn.pid").read_text().split()[0])
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return len(children)
    except (OSError, ValueError, IndexError):
        pass
    return int(os.environ.get("PROD_WORKERS") or 2)


def prod_upstream_is_unix(home: Path) -> bool:
    """Does the stack's nginx reach gunicorn over a unix socket (its default)?"""
    try:
        site = (home / "nginx" / "kejiyun-site.conf").read_text()
    except OSError:
        return True
    found = re.search(r"^\s*server\s+(\S+)\s+fail_timeout", site, re.MULTILINE)
    return found is None or found.group(1).startswith("unix:")


def anchor_nginx_config(place: Path, *, upstream: str, cert: Path, key: Path) -> Path:
    """The anchor's nginx: deploy/nginx/kejiyun-site.conf.template (the stack's TLS, gzip and
    proxy settings, deploy/nginx/kejiyun-proxy.conf) filled in for the anchor, inside the
    small main configuration bench/anchor/nginx.conf. Returns the main file."""
    deploy = ROOT / "deploy" / "nginx"
    template = deploy / "kejiyun-site.conf.template"
    if not template.exists():
        raise BenchError(f"没有 {template}：--target prod 需要合并了 make prod-up 的代码")
    place.mkdir(parents=True, exist_ok=True)
    for sub in ("static", "media", "private", "tmp"):
        (place / sub).mkdir(exist_ok=True)
    shutil.copyfile(deploy / "kejiyun-proxy.conf", place / "kejiyun-proxy.conf")
    names = {
        "SERVER_NAME": "127.0.0.1 localhost",
        "HTTP_LISTEN": f"127.0.0.1:{ANCHOR_HTTP_PORT}",
        "HTTPS_LISTEN": f"127.0.0.1:{ANCHOR_TLS_PORT}",
        "HTTPS_PORT_SUFFIX": f":{ANCHOR_TLS_PORT}",
        "CERT": str(cert),
        "KEY": str(key),
        "UPSTREAM": upstream,
        "STATIC_ROOT": str(place / "static"),
        "MEDIA_ROOT": str(place / "media"),
        "PRIVATE_ROOT": str(place / "private"),
        "PROXY_PARAMS": str(place / "kejiyun-proxy.conf"),
        "STAPLING": "off",
        "STAPLING_EXTRA": "",
        # Upload limits: no request of the bench has a body.
        "BODY_DEFAULT": "12m",
        "BODY_MEDIA": "212m",
    }
    site = re.sub(r"@([A-Z_]+)@", lambda m: names[m.group(1)], template.read_text())
    (place / "anchor-site.conf").write_text(site)
    root = os.geteuid() == 0
    main = (ANCHOR_DIR / "nginx.conf").read_text()
    for name, value in {
        "USER": "user www-data;" if root else "",
        "PID": str(place / "nginx.pid"),
        "LOG": str(place),
        "TMP": str(place / "tmp"),
        "SITE": str(place / "anchor-site.conf"),
    }.items():
        main = main.replace(f"@{name}@", value)
    conf = place / "nginx.conf"
    conf.write_text(main)
    if root:
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (place / "tmp" / sub).mkdir(exist_ok=True)
            shutil.chown(place / "tmp" / sub, "www-data")
    return conf


def run_prod(args: argparse.Namespace, stack: ExitStack) -> dict[str, Any]:
    home = prod_home()
    env_file = home / "env"
    if not env_file.exists():
        raise BenchError(f"没有 {env_file}：请先运行 make prod-up")
    values = read_env_file(env_file)
    port = int(os.environ.get("PROD_HTTPS_PORT") or 8443)
    kejiyun = Site(f"https://127.0.0.1:{port}", forwarded_https=False)
    try:
        health = Browser(kejiyun.base, False).get("/healthz").status
    except OSError as error:
        raise BenchError(f"{kejiyun.base} 没有应答（{error}）：请先运行 make prod-up") from None
    if health != 200:
        raise BenchError(f"{kejiyun.base}/healthz 返回 {health}：生产环境没有正常运行")
    for free in (ANCHOR_PORT, ANCHOR_TLS_PORT, ANCHOR_HTTP_PORT):
        if not port_free(free):
            raise BenchError(f"端口 {free} 已被占用（另一个 bench-pages 在运行？）")

    place = WORK / "prod"
    place.mkdir(parents=True, exist_ok=True)
    log = place / "setup.log"
    log.write_text("")
    env = {**clean_env(), "PYTHONPATH": str(ROOT), **values}
    ready = run_step(
        "demo accounts",
        [PYTHON, "-m", "bench.pages_prepare", "demo-ready", *USERS.values()],
        env,
        log,
    )
    missing = json.loads(ready.strip().splitlines()[-1])["missing"]
    if missing:
        raise BenchError(
            "生产环境的数据库里没有这些演示账号："
            + ", ".join(missing)
            + "（make prod-up 只在空数据库上运行 seed_demo）"
        )
    embed = [PYTHON, "-m", "bench.pages_prepare", "embed"]
    run_step("embed what is not embedded yet, sync the match index", embed, env, log)
    devices = enrol_staff(env, log)

    anchor_environment = anchor_build(place / "anchor.sqlite3", log)
    workers = prod_gunicorn_workers(home)
    bind = (
        f"unix:{place / 'anchor-gunicorn.sock'}"
        if prod_upstream_is_unix(home)
        else f"127.0.0.1:{ANCHOR_PORT}"
    )
    logs = place / "logs"
    if logs.exists():
        shutil.rmtree(logs)
    logs.mkdir()
    anchor_environment.update(
        {
            "GUNICORN_BIND": bind,
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_PIDFILE": str(place / "anchor-gunicorn.pid"),
            "GUNICORN_ACCESS_LOG": str(logs / "anchor-gunicorn-access.log"),
            "GUNICORN_ERROR_LOG": str(logs / "anchor-gunicorn-error.log"),
        }
    )
    config = ROOT / "deploy" / "gunicorn.conf.py"
    gunicorn = [PYTHON, "-m", "gunicorn", "--config", str(config), "bench.anchor.wsgi:application"]
    stack.enter_context(
        serving("anchor (gunicorn)", gunicorn, anchor_environment, logs / "anchor-gunicorn.out")
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = anchor_nginx_config(
        place / "nginx", upstream=bind, cert=home / "tls" / "cert.pem", key=home / "tls" / "key.pem"
    )
    test = subprocess.run(  # noqa: S603
        [nginx, "-t", "-q", "-p", str(place / "nginx"), "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    if test.returncode != 0:
        raise BenchError(f"基准页的 nginx 配置有误：{test.stderr}")
    command = [nginx, "-p", str(place / "nginx"), "-c", str(conf), "-g", "daemon off;"]
    anchor_nginx = stack.enter_context(
        serving("anchor (nginx)", command, clean_env(), logs / "anchor-nginx.out")
    )
    anchor = Site(f"https://127.0.0.1:{ANCHOR_TLS_PORT}", forwarded_https=False)
    wait_answering(anchor_nginx, Browser(anchor.base, False), status=200)
    print(
        f"prod: Kejiyun at {kejiyun.base} (the make prod-up stack, {workers} gunicorn workers); "
        f"anchor at {anchor.base} (deploy/gunicorn.conf.py on {bind}, its own nginx)"
    )
    return signed_in_run(kejiyun, anchor, devices, args, "prod", env)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench-pages: 需要 wrk（Debian 软件包 wrk）；make bench-pages 会自动安装")
    signal.signal(signal.SIGTERM, _stop_signal)
    try:
        with ExitStack() as stack:
            if args.target == "embedded":
                result = run_embedded(args, stack)
            else:
                result = run_prod(args, stack)
    except BenchError as error:
        print(f"bench-pages: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    print_table(result)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
