import json
import re

import pytest
from django.db import connection
from django.test import Client, override_settings

from kejiyun.accounts.models import Role, User
from kejiyun.popsci.models import Article, Topic
from tests.builders import client_for

pytestmark = pytest.mark.django_db


def test_the_home_page_is_chinese_and_shows_live_counts() -> None:
    response = Client().get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-CN">' in html
    assert "科技云" in html
    assert 'data-count="regions">205<' in html
    assert 'data-count="centres">205<' in html
    assert 'data-count="workers">0<' in html
    assert "<main" in html
    assert "<nav" in html


def test_the_interface_switches_to_english() -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Home" in html
    assert '<dt class="small text-body-secondary">S&T workers</dt>' in html


def test_healthz_tells_a_stranger_only_ok() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    text = response.content.decode()
    assert "LocMemCache" not in text and connection.vendor not in text


def test_healthz_tells_a_signed_in_citizen_only_ok(dora: User) -> None:
    assert json.loads(client_for(dora).get("/healthz").content) == {"status": "ok"}


def test_healthz_reports_database_and_cache_to_an_administrator() -> None:
    admin = User.objects.create_user(
        username="root", password="x", display_name="管理员", role=Role.ADMIN
    )
    response = client_for(admin).get("/healthz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert body["database"] == {"status": "ok", "vendor": connection.vendor}
    assert body["cache"] == {"status": "ok", "backend": "LocMemCache"}


@override_settings(HEALTHZ_TOKEN="monitor-" + "7" * 40)
def test_healthz_reports_detail_to_a_monitor_with_the_token_only() -> None:
    good = Client().get("/healthz", headers={"X-Healthz-Token": "monitor-" + "7" * 40})
    assert json.loads(good.content)["cache"] == {"status": "ok", "backend": "LocMemCache"}
    for wrong in ("monitor-" + "7" * 39, "", "monitor"):
        bad = Client().get("/healthz", headers={"X-Healthz-Token": wrong})
        assert json.loads(bad.content) == {"status": "ok"}, wrong


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
)
@override_settings(HEALTHZ_TOKEN="monitor-" + "7" * 40)
def test_healthz_reports_a_dead_cache_without_failing_and_pages_still_work() -> None:
    response = Client().get("/healthz", headers={"X-Healthz-Token": "monitor-" + "7" * 40})
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["cache"]["status"] == "error"
    assert body["database"]["status"] == "ok"
    assert Client().get("/").status_code == 200


def test_each_role_gets_its_own_dashboard(alice: User) -> None:
    reviewer = User.objects.create_user(
        username="rev", password="x", display_name="评审", role=Role.REVIEWER
    )
    assert "辖区案例" in client_for(alice).get("/dashboard/").content.decode()
    assert "评审任务" in client_for(reviewer).get("/dashboard/").content.decode()


def test_the_dashboard_needs_a_login() -> None:
    response = Client().get("/dashboard/")
    assert response.status_code == 302


def test_unpublished_articles_are_never_shown() -> None:
    draft = Article.objects.create(
        title="未审稿", body="…", topic=Topic.HEALTH, status=Article.Status.DRAFT
    )
    assert Client().get(f"/popsci/{draft.pk}/").status_code == 404
    assert "未审稿" not in Client().get("/popsci/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/demands/",
        "/talent/",
        "/popsci/",
        "/accounts/login/",
        "/accounts/register/",
        "/accounts/register/worker/",
        "/accounts/register/enterprise/",
        "/accounts/register/citizen/",
        "/accounts/password/reset/",
    ],
)
def test_public_pages_render_with_labelled_forms_and_landmarks(url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="#main"' in html
    # Every script and stylesheet is served by the platform itself, never from a CDN.
    assets = re.findall(r"<(?:script|link)[^>]*(?:src|href)=\"([^\"]+)\"", html)
    assert assets
    assert all(url.startswith("/static/") for url in assets), assets


def test_the_admin_is_localised_and_lists_platform_models() -> None:
    admin = User.objects.create_superuser(
        username="root", password="x", display_name="管理员", role=Role.ADMIN
    )
    html = client_for(admin).get("/admin/").content.decode()
    for label in ("行政区划", "服务中心", "用户", "组织", "科技工作者档案", "技术需求", "科普内容"):
        assert label in html
    for url in (
        "/admin/regions/region/?level__exact=county&q=锦江",
        "/admin/accounts/organisation/",
        "/admin/talent/talentprofile/",
        "/admin/demands/demand/",
        "/admin/popsci/article/",
        "/admin/accounts/user/",
        "/admin/regions/servicecentre/",
        "/admin/popsci/campaign/",
        "/admin/popsci/citizenprofile/",
        "/admin/popsci/readevent/",
        "/admin/popsci/activity/",
        "/admin/popsci/contentversion/",
        "/admin/notifications/outboxmessage/",
    ):
        assert client_for(admin).get(url).status_code == 200, url


def test_a_browser_asking_for_english_still_gets_chinese_until_the_user_switches() -> None:
    html = Client().get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-CN">' in html
    assert "首页" in html


def test_form_fields_carry_bootstrap_classes_and_mark_errors() -> None:
    response = Client().post("/accounts/register/citizen/", {"mobile": "123"})
    html = response.content.decode()
    assert (
        '<input type="text" name="mobile" value="123" maxlength="20" inputmode="numeric" '
        'autocomplete="tel" class="form-control is-invalid" aria-invalid="true"' in html
    )
    assert 'class="form-select' in html
