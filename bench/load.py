"""The province-scale load test: locust at 50 and at 200 users against a running site.

A realistic day's mix (bench/locustfile.py): citizens reading the feed and articles, anonymous
visitors on the public pages (most of the traffic), enterprises publishing demands through the
real form and following their demands and cases, S&T workers answering docking invitations,
centre staff working their queues, case pages and dashboards, and API clients with bearer
tokens on /api/v1/. Everyone signs in through the real forms; staff answer the second-factor
page with real TOTP codes.

Setup (skipped with --skip-setup), run inside Django against the target's database (the
environment of --env-file, default var/prod/env, the `make prod-up` stack's):
- load-test staff accounts `load_staff_NN` (one per concurrent staff user, since a TOTP code
  works once): county centres with the most open cases, the cities above them and the
  province; each gets a fresh random password and a confirmed TOTP device with a fresh random
  secret, written only to --credentials (var/load/credentials.json, mode 0600) for locust;
- open docking invitations topped up to --invitations per demo worker who can sign in, sent by
  a province load-test staff account through the docking service, so the workers always have
  open invitations to answer and a second run creates only what the first one used up.

After the runs the load-test staff are disabled and the credentials file removed (unless
--keep-accounts; a later run re-keys and re-enables them).

Then locust runs headless once per user count (--users, default 50,200) for --duration
seconds at --spawn-rate users a second, with statistics reset once every user has spawned
(the figures are the steady state), and its CSV statistics are read back: per request type
requests per second, p50/p95/p99 (ms), error count and rate. The last line is one JSON
object ("bench": "load").

Run: make bench-load   (BENCH_ARGS="--base-url http://127.0.0.1:8771 --env-file var/load/env"
for another server).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import json
import os
import re
import secrets
import struct
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT

DEFAULT_BASE_URL = "https://127.0.0.1:8443"
DEFAULT_ENV_FILE = ROOT / "var" / "prod" / "env"
DEFAULT_CREDENTIALS = ROOT / "var" / "load" / "credentials.json"
DEMO_PASSWORD = "Bamboo-Panda-Tea-2026"  # noqa: S105 - the published demo credential
LOGIN_ACCOUNTS_PER_ROLE = 20  # kejiyun.demo.seed.LOGIN_ACCOUNTS_PER_ROLE
STAFF_PREFIX = "load_staff_"
PROVINCE = "510000"

# Every page and API operation the locustfile requests: key -> (URL name, path template), or
# ("api METHOD", path template) for the API. Templates take {id} and {code};
# tests/test_bench_load.py resolves each page path to its URL name and finds each API path and
# method in the OpenAPI document, so a renamed or removed URL fails the fast suite.
ROUTES: dict[str, tuple[str, str]] = {
    "home": ("site:home", "/"),
    "dashboard": ("site:dashboard", "/dashboard/"),
    "login": ("accounts:login", "/accounts/login/"),
    "logout": ("accounts:logout", "/accounts/logout/"),
    "otp_verify": ("accounts:otp_verify", "/accounts/second-factor/verify/"),
    "demand_hall": ("demands:hall", "/demands/"),
    "demand": ("demands:detail", "/demands/{id}/"),
    "demand_for_me": ("matching:demand_for_worker", "/matching/demands/{id}/for-me/"),
    "my_demands": ("demands:mine", "/demands/mine/"),
    "demand_new": ("demands:mine_new", "/demands/new/"),
    "my_cases": ("cases:enterprise_list", "/cases/mine/"),
    "my_case": ("cases:enterprise_detail", "/cases/mine/{id}/"),
    "my_case_matches": ("matching:enterprise_case_matches", "/matching/cases/{id}/for-enterprise/"),
    "talent": ("talent:directory", "/talent/"),
    "popsci": ("popsci:list", "/popsci/"),
    "article": ("popsci:detail", "/popsci/{id}/"),
    "article_read": ("popsci:content_read", "/popsci/read/{id}/"),
    "read_finish": ("popsci:read_finish", "/popsci/read/event/{id}/finish/"),
    "feed": ("popsci:feed", "/popsci/feed/"),
    "activities": ("popsci:activities", "/popsci/activities/"),
    "dockings": ("cases:dockings", "/cases/dockings/"),
    "docking": ("cases:docking_reply", "/cases/dockings/{id}/"),
    "docking_why": ("matching:docking_match", "/matching/dockings/{id}/"),
    "queue": ("cases:queue", "/cases/"),
    "case": ("cases:detail", "/cases/{id}/"),
    "case_matches": ("matching:case_matches", "/matching/cases/{id}/"),
    "case_note": ("cases:note", "/cases/{id}/notes/"),
    "staff_demands": ("demands:staff_list", "/demands/staff/"),
    "staff_demand": ("demands:staff_detail", "/demands/staff/{id}/"),
    "staff_demand_matches": ("matching:demand_matches", "/matching/demands/{id}/"),
    "ops_home": ("ops:dashboard_home", "/ops/"),
    "ops": ("ops:dashboard", "/ops/{code}/"),
    "ops_map": ("ops:dashboard_map", "/ops/{code}/map.json"),
    "api_token": ("api POST", "/api/v1/auth/token"),
    "api_me": ("api GET", "/api/v1/me"),
    "api_hall": ("api GET", "/api/v1/demands/hall"),
    "api_hall_demand": ("api GET", "/api/v1/demands/hall/{id}"),
    "api_my_demands": ("api GET", "/api/v1/demands/mine"),
    "api_my_cases": ("api GET", "/api/v1/cases/mine"),
    "api_my_case_timeline": ("api GET", "/api/v1/cases/mine/{id}/timeline"),
    "api_recommended": ("api GET", "/api/v1/matches/recommended-demands"),
    "api_dockings": ("api GET", "/api/v1/dockings"),
    "api_feed": ("api GET", "/api/v1/popsci/feed"),
    "api_articles": ("api GET", "/api/v1/popsci/articles"),
}


def route(key: str, **params: object) -> str:
    """The path of ROUTES[key] with its {id}/{code} filled in."""
    return ROUTES[key][1].format(**params)


def route_name(key: str) -> str:
    """The name locust files a request under: the template, ids shown as {id}."""
    return ROUTES[key][1]


# --- TOTP (RFC 6238, as django-otp's TOTPDevice: SHA-1, 30 s steps from t0 = 0, 6 digits) ---


def totp(key_hex: str, at: float, *, step: int = 30, digits: int = 6) -> str:
    counter = int(at // step)
    mac = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


# --- What the locustfile reads from pages ---------------------------------------------------

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(html: str) -> str | None:
    """The form's CSRF token (the first form's; every form of a page carries the same)."""
    found = _CSRF.search(html)
    return found[1] if found else None


def ids_linked(html: str, pattern: str) -> list[int]:
    """The ids in href="…" links matching `pattern`, a path with one `(\\d+)` group, in page
    order without repeats."""
    seen: dict[int, None] = {}
    for found in re.finditer(r'href="' + pattern + r'(?:[?#][^"]*)?"', html):
        seen.setdefault(int(found[1]), None)
    return list(seen)


def form_action(html: str, pattern: str) -> str | None:
    """The action of the first form whose action matches `pattern`."""
    found = re.search(r'<form[^>]*action="(' + pattern + r')"', html)
    return found[1] if found else None


def input_value(html: str, name: str) -> str | None:
    """What the browser would post for the named field as the page shows it: a text or hidden
    input's value, the checked radio or checkbox, or the selected option of a select."""
    field = re.escape(name)
    for tag in re.finditer(r'<input[^>]*name="' + field + r'"[^>]*>', html):
        kind = re.search(r'type="([^"]*)"', tag[0])
        if kind and kind[1] in ("radio", "checkbox") and " checked" not in tag[0]:
            continue
        value = re.search(r'value="([^"]*)"', tag[0])
        return value[1] if value else ""
    select = re.search(r'<select[^>]*name="' + field + r'"[^>]*>(.*?)</select>', html, re.S)
    if select is not None:
        chosen = re.search(r'<option value="([^"]*)"[^>]*\bselected\b', select[1])
        return chosen[1] if chosen else None
    return None


DEMAND_TOPICS = (
    ("泡菜发酵", "泡菜发酵过程中亚硝酸盐峰值偏高，批次间风味不稳定", "亚硝酸盐峰值低于 20 mg/kg"),
    ("白酒窖池", "窖泥老化导致优质酒比例下降，窖池微生物结构不清楚", "优质酒比例提高到 35%"),
    ("茶叶加工", "名优绿茶杀青温度控制依赖经验，色泽和香气波动大", "一级品率提高到 80%"),
    ("猕猴桃保鲜", "猕猴桃冷库贮藏期软腐率高，出库后货架期短", "贮藏 120 天软腐率低于 5%"),
    ("竹材加工", "竹地板胶合强度不稳定，甲醛释放量接近上限", "甲醛释放量达到 E0 级"),
    ("锂电材料", "磷酸铁锂前驱体粒径分布宽，烧结后压实密度不足", "压实密度达到 2.45 g/cm³"),
)


def demand_form_data(
    form_html: str, *, token: str, number: int, stamp: str, topic: int, budget: str
) -> dict[str, str]:
    """What an enterprise types into the demand form (/demands/new/) and submits for review: a
    specific, distinct technical problem (numbered, so no two are duplicates), in the county
    and industry the form proposes."""
    subject, problem, target = DEMAND_TOPICS[topic % len(DEMAND_TOPICS)]
    return {
        "csrfmiddlewaretoken": token,
        "title": f"{subject}工艺改进需求（{stamp}-{number}）",
        "category": "problem",
        "industry": input_value(form_html, "industry") or "",
        "discipline": "",
        "region": input_value(form_html, "region") or "",
        "description": (
            f"我公司在{subject}环节遇到技术难题：{problem}。现有工艺已运行多年，"
            f"第{number}号生产线的检测数据可以提供，希望与熟悉该领域的专家合作改进。"
        ),
        "problem": f"{problem}，需要找到原因并提出可落地的改进方案。",
        "current_state": (
            f"目前靠老师傅经验控制，第{number}批次抽检合格率约七成，缺少在线检测手段。"
        ),
        "target_indicators": f"{target}，半年内在现有生产线上完成验证。",
        "budget": budget,
        "deadline": "",
        "confidentiality": "public",
        "action": "submit",
    }


def docking_ids_open(html: str) -> list[int]:
    """Docking requests on the worker's list still waiting for an answer (待答复)."""
    out = []
    for row in re.finditer(r"<tr>(.*?)</tr>", html, re.S):
        link = re.search(r'href="/cases/dockings/(\d+)/"', row[1])
        if link and "<td>待答复</td>" in row[1]:
            out.append(int(link[1]))
    return out


# --- locust's CSV statistics to the figures this benchmark prints ---------------------------


@dataclass(frozen=True)
class Figures:
    requests: int
    errors: int
    error_rate: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def _number(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def read_stats(path: Path) -> dict[str, Figures]:
    """Per request type ("GET /cases/{id}/") and "all" (locust's Aggregated row)."""
    out: dict[str, Figures] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            requests = int(row["Request Count"])
            errors = int(row["Failure Count"])
            key = "all" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
            out[key] = Figures(
                requests=requests,
                errors=errors,
                error_rate=round(errors / requests, 4) if requests else 0.0,
                rps=round(_number(row["Requests/s"]), 2),
                p50_ms=_number(row["50%"]),
                p95_ms=_number(row["95%"]),
                p99_ms=_number(row["99%"]),
            )
    return out


def read_failures(path: Path) -> list[dict[str, Any]]:
    """locust's failures CSV: one row per (method, name, error) with its count."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            {
                "request": f"{row['Method']} {row['Name']}",
                "error": row["Error"],
                "count": int(row["Occurrences"]),
            }
            for row in csv.DictReader(fh)
        ]


def figures_table(stats: dict[str, Figures]) -> list[str]:
    lines = [
        f"{'request':<52} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} "
        f"{'reqs':>6} {'errors':>6} {'rate':>6}"
    ]
    for name in sorted(stats, key=lambda n: (n == "all", n)):
        f = stats[name]
        lines.append(
            f"{name:<52} {f.rps:>7.2f} {f.p50_ms:>6.0f} {f.p95_ms:>6.0f} {f.p99_ms:>6.0f} "
            f"{f.requests:>6} {f.errors:>6} {f.error_rate:>6.2%}"
        )
    return lines


def result_line(
    runs: dict[int, dict[str, Figures]],
    failures: dict[int, list[dict[str, Any]]],
    *,
    base_url: str,
    duration_s: int,
    spawn_rate: float,
) -> str:
    """The JSON line: per user count the whole run's figures ("all"), each request type's
    and the failures locust recorded."""
    users: dict[str, Any] = {}
    for count, stats in runs.items():
        total = stats.get("all", Figures(0, 0, 0.0, 0.0, 0.0, 0.0, 0.0))
        users[str(count)] = {
            **asdict(total),
            "types": {name: asdict(f) for name, f in sorted(stats.items()) if name != "all"},
            "failures": failures.get(count, []),
        }
    return json.dumps(
        {
            "bench": "load",
            "base_url": base_url,
            "duration_s": duration_s,
            "spawn_rate": spawn_rate,
            "users": users,
            "errors": sum(u["errors"] for u in users.values()),
        },
        ensure_ascii=False,
    )


# --- Setup in the target's database ---------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (comments, blank lines and an `export ` prefix allowed; values may be
    quoted), as a shell `set -a; . file` would read them."""
    out: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ")
        key, sep, value = line.partition("=")
        if not sep:
            raise SystemExit(f"{path}: not KEY=VALUE: {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def staff_centres(count: int) -> list[str]:
    """Region codes of the centres the load-test staff work at: the province, then the county
    centres with the most open cases each followed (once) by its city, until `count`."""
    from django.db.models import Count

    from kejiyun.cases.models import Case
    from kejiyun.regions.models import Region, ServiceCentre

    busiest = (
        Case.objects.filter(closed_at__isnull=True, centre__region__level=Region.Level.COUNTY)
        .values("centre__region_id")
        .annotate(n=Count("id"))
        .order_by("-n", "centre__region_id")
    )
    codes: list[str] = [PROVINCE]
    for row in busiest:
        county = Region.objects.get(code=row["centre__region_id"])
        for code in (county.parent_id, county.code):
            if code and code not in codes and ServiceCentre.objects.filter(region_id=code).exists():
                codes.append(code)
    if len(codes) < 2:  # no open cases yet: Chengdu and its counties
        codes += list(
            ServiceCentre.objects.filter(region__path__startswith=f"{PROVINCE}/510100")
            .order_by("region_id")
            .values_list("region_id", flat=True)
        )
    return [codes[i % len(codes)] for i in range(count)]


def staff_prepare(count: int) -> list[dict[str, str]]:
    """`count` load-test staff with fresh passwords and TOTP secrets (idempotent: existing
    accounts are re-keyed, none duplicated)."""
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kejiyun.accounts.models import Role, User
    from kejiyun.accounts.services import staff_create
    from kejiyun.regions.models import Region

    out = []
    for index, code in enumerate(staff_centres(count), start=1):
        username = f"{STAFF_PREFIX}{index:03d}"
        password = "Load-" + secrets.token_urlsafe(18)
        key = secrets.token_hex(20)
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            region = Region.objects.get(code=code)
            if user is None:
                user = staff_create(
                    username=username,
                    display_name=f"压测工作人员{index:03d}",
                    password=password,
                    centre_region=region,
                )
            else:
                user.role, user.is_active = Role.STAFF, True
                user.centre, user.region = region.centre, region
                user.set_password(password)
                user.save(update_fields=["role", "is_active", "centre", "region", "password"])
            TOTPDevice.objects.filter(user=user).delete()
            TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True, key=key)
        out.append({"username": username, "password": password, "totp_key": key, "region": code})
    return out


def staff_retire() -> int:
    """After the runs: every load-test staff account disabled through the accounts service
    (audited as ACCOUNT_DISABLE), its password made unusable and its authenticator removed,
    so no province-wide account is left able to sign in on the site that was tested.
    Returns how many were disabled (a second call finds none)."""
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kejiyun.accounts.models import User
    from kejiyun.accounts.services import user_disable

    retired = 0
    for user in User.objects.filter(username__startswith=STAFF_PREFIX, is_active=True):
        with transaction.atomic():
            retired += user_disable(user=user, actor=user)
            user.set_unusable_password()
            user.save(update_fields=["password"])
            TOTPDevice.objects.filter(user=user).delete()
    return retired


def retire(*, env: dict[str, str], credentials: Path) -> None:
    """`staff_retire()` in the target's database, and the credentials file removed."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejiyun.settings")
    import django

    django.setup()
    print(f"load-test staff disabled: {staff_retire()}")
    credentials.unlink(missing_ok=True)
    from django.db import connections

    connections.close_all()


def invitations_top_up(per_worker: int, actor_username: str) -> int:
    """Send demo workers who can sign in docking requests on open cases until each has
    `per_worker` waiting for an answer; returns how many were sent."""
    from kejiyun.accounts.models import User
    from kejiyun.cases.dockings.services import docking_send
    from kejiyun.cases.errors import CaseError
    from kejiyun.cases.models import Case, DockingRequest
    from kejiyun.cases.workflow.transitions import Step
    from kejiyun.talent.models import TalentProfile

    actor = User.objects.get(username=actor_username)
    names = [f"demo_w_{i:06d}" for i in range(1, LOGIN_ACCOUNTS_PER_ROLE + 1)]
    sent = 0
    for profile in TalentProfile.objects.filter(user__username__in=names).select_related("user"):
        waiting = DockingRequest.objects.filter(
            expert=profile, status=DockingRequest.Status.SENT
        ).count()
        if waiting >= per_worker:
            continue
        cases = (
            Case.objects.filter(step__in=(Step.MATCHING, Step.DOCKING), paused_at__isnull=True)
            .exclude(dockings__expert=profile)
            .select_related("demand__organisation")
            .order_by("id")
        )
        for case in cases[: 4 * (per_worker - waiting)]:
            try:
                docking_send(case=case, expert=profile, actor=actor, message="压测：请查看需求。")
            except CaseError:
                continue
            waiting += 1
            sent += 1
            if waiting >= per_worker:
                break
    return sent


def prepare(*, env: dict[str, str], staff: int, invitations: int, credentials: Path) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejiyun.settings")
    import django

    django.setup()
    accounts = staff_prepare(staff)
    print(f"load-test staff: {len(accounts)} accounts with fresh TOTP secrets")
    province = next(a["username"] for a in accounts if a["region"] == PROVINCE)
    print(f"docking invitations sent to demo workers: {invitations_top_up(invitations, province)}")
    credentials.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"staff": accounts}, fh, ensure_ascii=False, indent=1)
    from django.db import connections

    connections.close_all()


# --- Running locust -------------------------------------------------------------------------


def run_locust(
    *,
    users: int,
    spawn_rate: float,
    duration: int,
    base_url: str,
    csv_prefix: Path,
    credentials: Path,
) -> None:
    csv_prefix.parent.mkdir(parents=True, exist_ok=True)
    for old in csv_prefix.parent.glob(csv_prefix.name + "_*.csv"):
        old.unlink()
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{duration}s",
        "--host",
        base_url,
        "--csv",
        str(csv_prefix),
        "--reset-stats",
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KEJIYUN_LOAD_CREDENTIALS": str(credentials),
    }
    print(f"locust: {users} users, {spawn_rate}/s, {duration} s against {base_url}", flush=True)
    # locust exits 1 when any request failed; the failures are read from its CSV instead.
    done = subprocess.run(cmd, env=env, cwd=ROOT, check=False)  # noqa: S603
    if not (csv_prefix.parent / f"{csv_prefix.name}_stats.csv").exists():
        raise SystemExit(f"locust wrote no statistics (exit {done.returncode})")


def _counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("user counts: comma-separated integers") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("user counts must be positive")
    return counts


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--users", type=_counts, default=[50, 200])
    parser.add_argument("--spawn-rate", type=float, default=10.0)
    parser.add_argument("--duration", type=int, default=240, help="seconds per user count")
    parser.add_argument("--env-file", type=Path, default=DEFAULT_ENV_FILE)
    parser.add_argument("--credentials", type=Path, default=DEFAULT_CREDENTIALS)
    parser.add_argument("--staff", type=int, default=40, help="load-test staff accounts")
    parser.add_argument("--invitations", type=int, default=10, help="open per demo worker")
    parser.add_argument("--skip-setup", action="store_true")
    parser.add_argument(
        "--keep-accounts",
        action="store_true",
        help="leave the load-test staff able to sign in (default: disabled after the runs)",
    )
    parser.add_argument("--pause", type=int, default=15, help="seconds between the runs")
    return parser.parse_args(list(argv) if argv is not None else None)


def main(argv: Iterable[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.skip_setup:
        if not args.env_file.exists():
            raise SystemExit(
                f"{args.env_file} is missing: start the stack (make prod-up) or pass "
                "--env-file with the server's environment (its DATABASE_URL and keys)"
            )
        prepare(
            env=read_env_file(args.env_file),
            staff=args.staff,
            invitations=args.invitations,
            credentials=args.credentials,
        )
    elif not args.credentials.exists():
        raise SystemExit(f"{args.credentials} is missing: run once without --skip-setup")
    runs: dict[int, dict[str, Figures]] = {}
    failures: dict[int, list[dict[str, Any]]] = {}
    for n, users in enumerate(args.users):
        if n:
            time.sleep(args.pause)  # let the server's queues drain between the runs
        prefix = ROOT / "var" / "load" / f"users{users}"
        run_locust(
            users=users,
            spawn_rate=args.spawn_rate,
            duration=args.duration,
            base_url=args.base_url,
            csv_prefix=prefix,
            credentials=args.credentials,
        )
        runs[users] = read_stats(prefix.parent / f"{prefix.name}_stats.csv")
        failures[users] = read_failures(prefix.parent / f"{prefix.name}_failures.csv")
        print(f"\n=== {users} users: {args.duration} s after ramp-up at {args.spawn_rate}/s ===")
        print("\n".join(figures_table(runs[users])))
        for failure in failures[users]:
            print(f"  failed {failure['count']}×  {failure['request']}: {failure['error']}")
    if not args.keep_accounts and args.env_file.exists():
        retire(env=read_env_file(args.env_file), credentials=args.credentials)
    print(
        result_line(
            runs,
            failures,
            base_url=args.base_url,
            duration_s=args.duration,
            spawn_rate=args.spawn_rate,
        )
    )


if __name__ == "__main__":
    main()
