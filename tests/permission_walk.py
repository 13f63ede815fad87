"""What the permission matrix (tests/permission_matrix.py) is checked against: every URL of
the site, from the resolver (pages, admin) and the OpenAPI document (/api/v1/ operations),
as keys `"<METHOD> /<route>"`; the small world the crawler signs in to and fills URLs from;
and the class of an answer (allowed, login, refused)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from kejiyun.accounts.models import Role, User
from kejiyun.api.api import api
from kejiyun.cases.models import Case
from kejiyun.events.models import Event
from kejiyun.notifications.models import InboxItem
from kejiyun.popsci.models import Article
from kejiyun.regions.models import ServiceCentre
from tests.builders import PASSWORD, make_crawl_world, make_staff, make_superuser

ROLES = (
    "anonymous",
    "citizen",
    "worker",
    "enterprise",
    "staff_county",
    "staff_city",
    "staff_province",
    "reviewer",
    "auditor",
    "admin",
)
# One letter per answer class, in ROLES order, in the matrix's strings.
ALLOWED, LOGIN, REFUSED, INVALID = "a", "l", "r", "v"
# Paths that are not the site's own pages: the catch-all 404 for unknown API paths and the
# development server's media (off in production).
NOT_PAGES = ("/^api/v1/(?P<rest>.*)$", "/^media/(?P<path>.*)$")
# A path id no row has: object URLs whose kind the world does not hold are asked with it.
ABSENT_ID = 2_000_000_000


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for p in resolver.url_patterns:
        route = str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p, prefix + route)
        elif isinstance(p, URLPattern):
            yield prefix + route, p


def page_routes() -> list[str]:
    """Every route of the resolver, outside /api/v1/ operations, once each (two names that
    share a route are one URL: the first one answers)."""
    seen: dict[str, None] = {}
    for route, _pattern in _walk(get_resolver()):
        path = "/" + route
        if path.startswith("/api/v1/") and path not in ("/api/v1/openapi.json", "/api/v1/docs"):
            continue
        if path in NOT_PAGES:
            continue
        seen.setdefault(path, None)
    return list(seen)


def api_operations() -> list[str]:
    """`"<METHOD> /api/v1/<path>"` for every operation of the OpenAPI document."""
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    out = []
    for path, item in schema["paths"].items():
        for method in item:
            if method.lower() in {"get", "post", "put", "patch", "delete"}:
                out.append(f"{method.upper()} {path}")
    return sorted(out)


def every_url_key() -> set[str]:
    """The keys the matrix must have: `GET` and `POST` of every page route (a page that
    takes no POST must still refuse it), and every API operation."""
    keys = {
        f"{m} {p}"
        for p in page_routes()
        for m in (("GET",) if p.startswith("/admin/") else ("GET", "POST"))
    }
    keys |= set(api_operations())
    return keys


def make_world() -> dict[str, Any]:
    """The crawl's small world (tests/builders.py) plus an auditor and an administrator,
    and the ids its URLs are filled with."""
    people: dict[str, Any] = dict(make_crawl_world())
    auditor = User.objects.create_user(
        username="audra", password=PASSWORD, display_name="Audra", role=Role.AUDITOR
    )
    people["auditor"] = auditor
    people["admin"] = make_superuser("root")
    people["anonymous"] = None
    make_staff("charlie", "510822")  # another city's county: owns nothing here
    case = Case.objects.order_by("pk").first()
    assert case is not None
    docking = case.dockings.order_by("pk").first()
    attachment = case.attachments.order_by("pk").first()
    event = Event.objects.order_by("pk").first()
    exhibit = event.exhibits.order_by("pk").first() if event else None
    slot = exhibit.slots.order_by("pk").first() if exhibit else None
    tina = people["worker"]
    ids: dict[str, Any] = {
        "case_id": case.pk,
        "demand_id": case.demand_id,
        "docking_id": docking.pk if docking else None,
        "attachment_id": attachment.pk if attachment else None,
        "profile_id": tina.talent_profile.pk,
        "article_id": Article.objects.filter(status="published").order_by("pk").first().pk,
        "event_id": event.pk if event else None,
        "exhibit_id": exhibit.pk if exhibit else None,
        "slot_id": slot.pk if slot else None,
        "item_id": getattr(InboxItem.objects.order_by("pk").first(), "pk", None),
        "centre_id": ServiceCentre.objects.get(region__code="510104").pk,
        "code": "510104",
        "fmt": "json",
        # the second-factor reset page: the county staff member is the one reset
        "user_id": people["staff_county"].pk,
        "path": "x",
        "object_id": ABSENT_ID,
        "app_label": None,
    }
    return {"people": people, "ids": ids}


def fill(path: str, ids: dict[str, Any], *, api_style: bool = False) -> tuple[str, bool]:
    """The concrete URL for route `path` and whether every id in it names a real row."""
    import re

    real = True

    def value(name: str, conv: str) -> str:
        nonlocal real
        if name == "kind":
            return (
                "enterprise"
                if "register" in path
                else ("discipline" if "classif" in path else "workers")
            )
        if name == "name":
            return "demands"
        if name == "app_label":
            return "accounts"
        got = ids.get(name)
        if got is None:
            real = False
            return str(ABSENT_ID)
        return str(got)

    if api_style:
        url = re.sub(r"\{(\w+)\}", lambda m: value(m.group(1), ""), path)
        return url, real
    url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: value(m.group(2), m.group(1) or ""), path)
    # Regex routes (the ops dashboard's): fill their one named group.
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m.group(1), ""), url)
    url = url.replace("^", "").replace("$", "").replace("\\.", ".").replace("\\d{6}", "")
    return url, real


def answer_class(response: Any, method: str) -> str:
    """allowed (a), login (l), refused (r) or an invalid body refused (v) for one answer;
    "5" for a server error."""
    status = response.status_code
    if status >= 500 or status == 429:
        # A server error, or a rate limit the crawl should not meet (tests marked `crawl`
        # lift the limits): either way not an answer about permission.
        return "5"
    if status == 401:
        return LOGIN
    if status in (403, 404):
        return REFUSED
    if status in (301, 302, 303, 307, 308):
        location = response.get("Location", "")
        if "/accounts/login/" in location or "/admin/login/" in location:
            return LOGIN
        return ALLOWED
    if status in (400, 422):
        # The (empty) body was refused as invalid: nothing done. The cross-jurisdiction test
        # checks that this answer is the same for another's object as for no object.
        return INVALID
    if status == 405:
        # The URL does not take this method: nothing happened, for anyone.
        return REFUSED
    return ALLOWED
