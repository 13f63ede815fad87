"""Searches and exports are rate-limited: the N+1th request in a window is answered 429 with
Retry-After and a Chinese page, and the first refusal of a window writes one RATE_LIMITED row
(docs/security.md item 21)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from tests.builders import client_for

pytestmark = pytest.mark.django_db

# Every page that takes a free-text `q` (the middleware limits any such page).
SEARCHES = [
    "/demands/?q=茶叶",
    "/talent/?q=茶叶",
    "/regions/search/?q=成都",
    "/recognition/library/?q=茶园",
    "/talent/classifications/discipline/search/?q=农",
]


def limited_rows() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.RATE_LIMITED).order_by("id"))


@pytest.fixture
def window() -> Any:
    """Start of a clock-aligned minute, so the requests below share one window."""
    with time_machine.travel(timezone.now().replace(second=0, microsecond=0), tick=False) as t:
        yield t


@pytest.mark.parametrize("url", SEARCHES)
def test_the_nplus1th_search_is_answered_429_with_retry_after(
    url: str, settings: Any, window: Any
) -> None:
    settings.SEARCH_RATE_LIMIT = 3
    client = Client()
    statuses = [client.get(url).status_code for _ in range(5)]

    assert all(s != 429 for s in statuses[:3]), statuses
    assert statuses[3:] == [429, 429]
    response = client.get(url)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "搜索次数已达上限" in response.content.decode()
    [row] = limited_rows()  # one row per window, however many refusals
    assert (row.user_id, row.ip, row.outcome, row.object_type) == (
        None,
        "127.0.0.1",
        "refused",
        "search",
    )
    assert row.detail["limit"] == 3


def test_search_limits_are_per_address_for_anonymous_and_per_user_when_signed_in(
    settings: Any, alice: User, window: Any
) -> None:
    settings.SEARCH_RATE_LIMIT = 2
    first, second = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    assert [first.get("/demands/?q=a").status_code for _ in range(3)][-1] == 429
    assert second.get("/demands/?q=a").status_code == 200
    staff = client_for(alice)
    staff.defaults["REMOTE_ADDR"] = "10.0.0.1"  # same address, but counted as alice
    assert staff.get("/demands/?q=a").status_code == 200
    assert first.get("/demands/").status_code == 200  # no search, no limit

    window.shift(60)  # the next window starts afresh
    assert first.get("/demands/?q=a").status_code == 200


def test_a_signed_in_users_rate_limited_row_names_them(
    settings: Any, alice: User, window: Any
) -> None:
    settings.SEARCH_RATE_LIMIT = 1
    client = client_for(alice)
    client.get("/talent/?q=x")
    assert client.get("/talent/?q=x").status_code == 429
    [row] = limited_rows()
    assert (row.user_id, row.ip, row.action) == (alice.pk, "127.0.0.1", "access.rate_limited")
    assert row.detail["view"] == "talent:directory"


def test_the_nplus1th_export_is_answered_429_with_a_chinese_page(
    settings: Any, alice: User
) -> None:
    settings.EXPORT_RATE_LIMIT = 2
    with time_machine.travel(timezone.now().replace(minute=0, second=0), tick=False):
        client = client_for(alice)
        statuses = [client.get("/sheets/export/demands.xlsx").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        response = client.get("/sheets/export/demands.xlsx")
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert "导出次数已达上限" in response.content.decode()
    [row] = limited_rows()
    assert (row.user_id, row.object_type) == (alice.pk, "export")
    assert AuditEvent.objects.filter(action=AuditAction.SHEETS_EXPORT).count() == 2
