"""The cross-jurisdiction figure (issue 15, requirement 7): staff of one jurisdiction asking
for the objects of another are refused, on every staff URL × object kind × method, and
nothing changes.

One seeded world (the crawl's: 锦江茶业's case, demand, docking, attachment, Tina's profile
and plan, the province's event, two 武侯区 cases owned by the 成都市 centre, an article),
and four more cases in 金牛区, all in 成都市's counties. Four outsiders ask for it: staff of
双流区 and 青羊区 (other counties of the same city), of 广元市 (another city) and of 青川县 (a
county of that other city). Every URL of the site that takes an id and is neither public
nor open to any signed-in person (tests/permission_matrix.py: anonymous and citizen are not
allowed) is asked with the id of every object of every kind the world holds, by GET, POST,
PUT and DELETE, and every API operation with a path id with its own method; list, search
and export pages are searched with the start of each object's title and must not show the
whole title. An answer counts as refused when it is 404/403/405, or when it is exactly the
answer the same URL gives for an id no row has (the same status and redirect: an empty body
refused as invalid before any lookup tells nothing about the object). Every table but the
audit trail and the sessions must be as it was (row counts and a checksum of every row).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from kejiyun.cases.models import Case, CaseAttachment, DockingRequest
from kejiyun.demands.models import Demand
from kejiyun.events.models import Event, Exhibit, Slot
from kejiyun.plans.models import ServicePlan
from kejiyun.popsci.models import Article
from kejiyun.talent.models import TalentProfile
from tests.builders import make_case, make_crawl_world, make_staff
from tests.permission_matrix import MATRIX
from tests.permission_walk import ABSENT_ID, ALLOWED, api_operations, every_url_key
from tests.security_figures import record_figure

pytestmark = pytest.mark.django_db

# The world's object kinds whose ids every URL is asked with.
KINDS = (
    Case,
    Demand,
    DockingRequest,
    CaseAttachment,
    TalentProfile,
    ServicePlan,
    Event,
    Exhibit,
    Slot,
    Article,
)
# Tables a refusal may write to: the audit trail (refusals are recorded) and sessions.
MAY_CHANGE = {"audit", "sessions", "admin"}
LIST_PAGES = (
    "/accounts/staff/organisations/",
    "/talent/staff/",
    "/talent/staff/teams/",
    "/talent/staff/resources/",
    "/demands/staff/",
    "/demands/staff/review/",
    "/cases/",
    "/plans/",
    "/cases/dockings/",
    "/sheets/export/demands.xlsx",
    "/sheets/export/workers.xlsx",
    "/sheets/export/cases.xlsx",
    "/api/v1/cases",
    "/api/v1/demands/staff",
    "/api/v1/plans",
    "/api/v1/workers",
    "/api/v1/organisations",
    "/api/v1/teams",
)


def checksum() -> dict[str, tuple[int, str]]:
    out = {}
    for model in apps.get_models():
        if model._meta.app_label in MAY_CHANGE or model._meta.proxy:
            continue
        rows = list(model._default_manager.order_by("pk").values_list())
        digest = hashlib.sha256(repr(rows).encode()).hexdigest()
        out[model._meta.label] = (len(rows), digest)
    return out


def refused(response: Any) -> bool:
    return response.status_code in (403, 404, 405)


def same_answer(one: Any, other: Any) -> bool:
    return one.status_code == other.status_code and one.get("Location") == other.get("Location")


def page_text(response: Any) -> str:
    kind = response.get("Content-Type", "")
    if "json" in kind:
        return json.dumps(response.json(), ensure_ascii=False)
    if "html" in kind or "text" in kind:
        return response.content.decode("utf-8", "replace")
    return ""


# URLs whose objects are the province's, open to every staff member in it (not another
# jurisdiction's): county and city staff nominate their demands to the province's events.
PROVINCE_WIDE = {"/events/manage/<int:event_id>/nominate/"}


@pytest.mark.crawl
def test_staff_are_refused_every_object_of_another_jurisdiction_and_nothing_changes() -> None:
    started = time.monotonic()
    make_crawl_world()
    for serial in range(4, 8):
        make_case(
            None, county="510106", serial=str(serial), title=f"金牛区企业{serial}智能制造诊断"
        )
    outsiders = [
        make_staff("shuangliu", "510116"),
        make_staff("qingyang", "510105"),
        make_staff("guangyuan", "510800"),
        make_staff("charlie", "510822"),
    ]
    ids = sorted({pk for kind in KINDS for pk in kind.objects.values_list("pk", flat=True)})
    titles = list(Demand.objects.values_list("title", flat=True))
    api_keys = set(api_operations())
    targets: list[tuple[str, str, str]] = []  # method, url, the url with an absent id
    for key in sorted(every_url_key()):
        method, path = key.split(" ", 1)
        entry = MATRIX.get(key, "rr")
        if path.startswith("/admin/") or ALLOWED in entry[:2] or path in PROVINCE_WIDE:
            continue
        if key in api_keys:
            if not re.search(r"\{\w+_id\}", path):
                continue
            for pk in ids:
                targets.append(
                    (
                        method,
                        re.sub(r"\{\w+_id\}", str(pk), path),
                        re.sub(r"\{\w+_id\}", str(ABSENT_ID), path),
                    )
                )
        elif "<int:" in path and method == "GET":
            for pk in ids:
                for verb in ("GET", "POST", "PUT", "DELETE"):
                    if MATRIX.get(f"{verb} {path}", "rr")[:2].count(ALLOWED):
                        continue
                    targets.append(
                        (
                            verb,
                            re.sub(r"<int:\w+>", str(pk), path),
                            re.sub(r"<int:\w+>", str(ABSENT_ID), path),
                        )
                    )
    clients = []
    for user in outsiders:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        client.get("/")
        clients.append((user.username, client))
    before = checksum()
    tried = ok = 0
    failures: list[str] = []
    for name, client in clients:
        absent: dict[tuple[str, str], Any] = {}
        for method, url, nobody in targets:
            response = getattr(client, method.lower())(url)
            tried += 1
            if not refused(response):
                if (method, nobody) not in absent:
                    absent[(method, nobody)] = getattr(client, method.lower())(nobody)
                # 429 would be the rate limit, not a refusal: the crawl mark lifts it.
                if (
                    response.status_code in (429,)
                    or response.status_code >= 500
                    or not same_answer(response, absent[(method, nobody)])
                ):
                    failures.append(f"{name} {method} {url}: HTTP {response.status_code}")
                    continue
            ok += 1
        for url in LIST_PAGES:
            for title in titles:
                response = client.get(url, {"q": title[:4]})
                tried += 1
                if response.status_code in (429,) or response.status_code >= 500:
                    failures.append(f"{name} GET {url}?q={title[:4]}: HTTP {response.status_code}")
                elif title in page_text(response):
                    failures.append(f"{name} GET {url}?q={title[:4]}: shows {title}")
                else:
                    ok += 1
    after = checksum()
    changed = sorted(k for k in before if before[k] != after.get(k))
    assert not changed, f"tables changed by refused requests: {changed}"
    assert not failures, f"{len(failures)} of {tried} not refused:\n" + "\n".join(failures[:200])
    assert tried >= 10_000, tried
    record_figure(
        "cross_jurisdiction_refused",
        f"{ok} of {tried}",
        target="all of ≥ 10,000",
        detail=f"{len(outsiders)} outsiders × {len(targets)} URL × id × method, plus "
        f"{len(LIST_PAGES) * len(titles)} searches and exports each; "
        f"{time.monotonic() - started:.0f} s",
        tried=tried,
        refused=ok,
    )
