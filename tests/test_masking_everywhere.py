"""Item 17: no full mobile or ID number on any page, admin page or export.

Canaries are planted in the small world of `tests.builders.make_crawl_world`: a distinct
mobile for every account, a sealed ID number on the expert's profile, and, written inside
every free-text field of every project model (text fields, and character fields of 40 or
more characters that are not codes), a mobile and an ID number. Then, as each role (staff
at province, city and county, worker, enterprise, citizen, reviewer) and as an administrator,
the test GETs every page reachable: each URL pattern without arguments, and every same-site
link found on those pages and on the pages they lead to (ids come from the planted objects
through the links); the admin's change list and the change form of every registered model;
and every export of kejiyun/spreadsheets (the .xlsx cells are read). It counts full canary
values in the bodies: 0 expected. Finally, with an unmask grant the full value shows.

The one exception, listed in `OWN_FORMS`: a user's own edit forms carry what that user typed
back in the form fields (a textarea or an input's value), or saving would overwrite it.
"""

from __future__ import annotations

import io
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook

from kejiyun.accounts.models import User
from kejiyun.accounts.validators import id_number_check_character
from kejiyun.common.crypto import lookup_hash, seal
from kejiyun.demands.models import Demand
from kejiyun.spreadsheets.exporters import EXPORT_LISTS
from kejiyun.talent.models import ID_NUMBER_PURPOSE, TalentProfile
from tests.builders import CRAWL_ROLES, client_for, make_crawl_world, make_superuser
from tests.security_figures import record_figure

pytestmark = pytest.mark.django_db

TEXT_MOBILE = "13812340000"
TEXT_ID = "51010419900101" + "123"
TEXT_ID += id_number_check_character(TEXT_ID)
PROFILE_ID = "51010719851212" + "456"
PROFILE_ID += id_number_check_character(PROFILE_ID)
SUFFIX = f" 电话{TEXT_MOBILE} 身份证{TEXT_ID}"
MAX_PAGES = 250
# The data subject's own export (/accounts/my-data/export/) carries their own data in full
# (PIPL §45); tests/test_data_subject_rights.py proves it holds nobody else's.
SKIP = re.compile(
    r"/accounts/logout|/logout|/admin/|/static/|/media/|/api/|/accounts/my-data/export/"
)
# Apps whose rows nobody types (reference data, hashes, sealed values, the audit chain).
SKIP_APPS = {"admin", "auth", "contenttypes", "sessions", "regions", "audit", "matchlog"}
REFERENCE = {"discipline", "industry"}
NOT_FREE_TEXT = re.compile(
    r"sealed|hash|secret|token|key|code|uscc|path|url|username|password|mobile|email|"
    r"filename|_name$|^file|^evidence|identifier|sha|prefix|device|ip$|status|kind|source"
)
# (role, URL prefix) of a user's own edit forms, whose fields hold what that user typed.
OWN_FORMS = (
    ("worker", re.compile(r"^/talent/me/")),
    ("enterprise", re.compile(r"^/demands/\d+/edit/$")),
)


def _free_text_fields(model: type[models.Model]) -> list[models.Field]:
    found = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.choices or getattr(field, "unique", False):
            continue
        if NOT_FREE_TEXT.search(field.name):
            continue
        if isinstance(field, models.TextField):
            found.append(field)
    return found


def plant_canaries() -> list[str]:
    """Plant the canaries; the full values to look for."""
    canaries = [TEXT_MOBILE, TEXT_ID, PROFILE_ID]
    for index, user in enumerate(User.objects.order_by("pk")):
        mobile = f"1990000{index:04d}"
        user.mobile = mobile
        user.save(update_fields=["mobile_sealed", "mobile_hash"])
        canaries.append(mobile)
    for profile in TalentProfile.objects.all():
        profile.id_number_sealed = seal(PROFILE_ID, purpose=ID_NUMBER_PURPOSE)
        profile.id_number_hash = lookup_hash(PROFILE_ID, purpose=ID_NUMBER_PURPOSE)
        profile.save(update_fields=["id_number_sealed", "id_number_hash"])
    for model in apps.get_models():
        if model._meta.app_label in SKIP_APPS or model._meta.model_name in REFERENCE:
            continue
        fields = _free_text_fields(model)
        if not fields:
            continue
        for row in model.objects.all():
            changes = {}
            for field in fields:
                old = getattr(row, field.attname) or ""
                if not isinstance(old, str):
                    continue
                limit = field.max_length or 10_000
                changes[field.attname] = (old[: max(0, limit - len(SUFFIX))] + SUFFIX)[:limit]
            model.objects.filter(pk=row.pk).update(**changes)
    return canaries


def _patterns(resolver: URLResolver, prefix: str = "") -> list[str]:
    """Paths of the URL patterns that take no arguments."""
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if "<" in route or "(" in route or "^" in route:
            continue
        if isinstance(entry, URLResolver):
            found += _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            found.append("/" + route)
    return found


def _links(html: str) -> list[str]:
    return re.findall(r'href="(/[^"#]*)"', html)


def _body(response: object, role: str, url: str) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    else:
        content = response.content  # type: ignore[attr-defined]
    if response["Content-Type"].startswith(  # type: ignore[index]
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    ):
        book = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    text = content.decode("utf-8", "replace")
    if any(role == owner and form.match(url) for owner, form in OWN_FORMS):
        text = re.sub(r"<textarea[^>]*>.*?</textarea>", "", text, flags=re.S)
        text = re.sub(r'value="[^"]*"', "", text)
    return text


def crawl(client: Client, role: str, starts: list[str], canaries: list[str]) -> tuple[int, list]:
    """GET every page reachable from `starts`; (pages fetched, (url, canary) hits)."""
    seen: set[str] = set()
    queue = deque(starts)
    hits: list[tuple[str, str, str]] = []
    pages = 0
    while queue and pages < MAX_PAGES:
        url = urldefrag(queue.popleft())[0]
        if url in seen or SKIP.search(url):
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200:
            continue
        pages += 1
        body = _body(response, role, url)
        hits += [(role, url, c) for c in canaries if c in body]
        if response["Content-Type"].startswith("text/html"):
            queue.extend(link for link in _links(body) if urlsplit(link).path not in seen)
    return pages, hits


@pytest.mark.crawl
def test_no_full_mobile_or_id_number_in_any_page_admin_page_or_export(
    settings: object,
) -> None:
    people = make_crawl_world()
    root = make_superuser()
    canaries = plant_canaries()
    # The canaries are there to be found: in the demands' text and the expert's capability.
    assert Demand.objects.filter(description__contains=TEXT_MOBILE).count() >= 2
    assert TalentProfile.objects.filter(capability__contains=TEXT_ID).exists()
    plain = [p for p in _patterns(get_resolver()) if not SKIP.search(p)]
    total_pages = exports = 0
    hits: list[tuple[str, str, str]] = []
    for role in CRAWL_ROLES:
        client = client_for(User.objects.get(pk=people[role].pk))
        pages, found = crawl(client, role, ["/", "/dashboard/", *plain], canaries)
        total_pages += pages
        hits += found
        if role.startswith("staff"):
            for export in EXPORT_LISTS:
                response = client.get(f"/sheets/export/{export}.xlsx")
                if response.status_code == 200:
                    exports += 1
                    body = _body(response, role, f"/sheets/export/{export}.xlsx")
                    hits += [(role, export, c) for c in canaries if c in body]

    # The administrator: every change list and the change form of each model's first row.
    client = client_for(root)
    for model, _ in admin.site._registry.items():
        opts = model._meta
        urls = [f"/admin/{opts.app_label}/{opts.model_name}/"]
        first = model.objects.order_by("pk").first()
        if first is not None:
            urls.append(f"/admin/{opts.app_label}/{opts.model_name}/{first.pk}/change/")
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            total_pages += 1
            body = response.content.decode()
            hits += [("admin", url, c) for c in canaries if c in body]

    record_figure(
        "full_values_in_pages_and_exports",
        len(hits),
        target="0",
        detail=f"{total_pages} pages and admin pages, {exports} exports, as 8 roles",
        pages=total_pages,
        exports=exports,
    )
    assert total_pages > 150 and exports >= 3
    assert hits == [], sorted({(url, canary) for _, url, canary in hits})


def test_an_unmask_grant_shows_the_full_values_on_that_page(db: None) -> None:
    people = make_crawl_world()
    canaries = plant_canaries()
    pat = User.objects.get(pk=people["staff_province"].pk)
    pat.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="unmask_personal")
    )
    client = client_for(User.objects.get(pk=pat.pk))
    tina = TalentProfile.objects.get(user=people["worker"])
    url = f"/talent/staff/{tina.pk}/"
    html = client.get(url).content.decode()
    assert [c for c in canaries if c in html] == []
    client.post(
        "/accounts/unmask/",
        {"view": "talent:staff_detail", "object_id": tina.pk, "reason": "verify"},
    )
    html = client.get(url).content.decode()
    assert PROFILE_ID in html and TEXT_MOBILE in html
    assert User.objects.get(pk=people["worker"].pk).mobile in html
