"""Chinese error pages with a way back (issue 10, item 10): 400, 403, 404, 500 and the CSRF
failure, as production renders them (DEBUG off)."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from kejiyun.accounts.models import User
from tests.builders import PASSWORD, client_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.error_urls")]

HOME_LINK = re.compile(r'<a [^>]*href="/"')


def assert_chinese_page(html: str, *phrases: str) -> None:
    assert '<html lang="zh-CN">' in html
    for phrase in phrases:
        assert phrase in html, phrase
    assert HOME_LINK.search(html), "no link home"
    assert "返回首页" in html
    assert "data-error-message" in html


@override_settings(DEBUG=False)
def test_an_unknown_page_is_a_chinese_404_with_a_link_home(dora: User) -> None:
    for client in (Client(), client_for(dora)):
        response = client.get("/no/such/page/")
        assert response.status_code == 404
        assert_chinese_page(response.content.decode(), "页面不存在", "没有查看它的权限")


@override_settings(DEBUG=False)
def test_a_refusal_by_an_app_guard_shows_the_same_404_page(dora: User) -> None:
    """Staff pages answer 404 to others (guards.py): the person sees the Chinese page."""
    response = client_for(dora).get("/cases/")
    assert response.status_code == 404
    assert_chinese_page(response.content.decode(), "页面不存在")


@override_settings(DEBUG=False)
def test_permission_denied_is_a_chinese_403_with_a_link_home() -> None:
    response = Client().get("/test-errors/403/")
    assert response.status_code == 403
    html = response.content.decode()
    assert_chinese_page(html, "无权访问", "没有执行此操作的权限")
    assert 'href="/accounts/login/"' in html


@override_settings(DEBUG=False)
def test_a_bad_request_is_a_chinese_400_with_a_link_home() -> None:
    for response in (
        Client().get("/test-errors/400/"),
        Client().get("/", HTTP_HOST="evil.example.com"),  # a host not in ALLOWED_HOSTS
    ):
        assert response.status_code == 400
        assert_chinese_page(response.content.decode(), "请求有误")


@override_settings(DEBUG=False)
def test_a_server_error_is_a_chinese_500_that_needs_no_database() -> None:
    client = Client(raise_request_exception=False)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/test-errors/500/")
    assert response.status_code == 500
    html = response.content.decode()
    assert_chinese_page(html, "服务器出错了")
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html
    assert queries.captured_queries == []


@override_settings(DEBUG=False)
def test_a_database_outage_is_a_chinese_503_with_retry_after_that_needs_no_database() -> None:
    client = Client(raise_request_exception=False)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/test-errors/database/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert_chinese_page(html, "服务暂时不可用", "数据库暂时无法连接", "已保存的数据不受影响")
    assert "Traceback" not in html and "5432" not in html
    assert queries.captured_queries == []


@override_settings(DEBUG=False)
def test_a_database_outage_under_the_api_is_a_problem_document() -> None:
    response = Client(raise_request_exception=False).get("/api/v1/test-errors/database/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://kejiyun.cn/problems/unavailable",
        "title": "服务暂时不可用",
        "status": 503,
        "detail": "数据库暂时无法连接，您的操作没有完成，已保存的数据不受影响。"
        "请稍等片刻后刷新页面重试。",
        "code": "unavailable",
    }


@override_settings(DEBUG=False)
def test_a_failed_query_on_a_working_database_stays_a_500() -> None:
    response = Client(raise_request_exception=False).get("/test-errors/deadlock/")
    assert response.status_code == 500
    assert_chinese_page(response.content.decode(), "服务器出错了")


@override_settings(DEBUG=False)
def test_a_full_upload_disk_nobody_answered_is_a_chinese_507() -> None:
    response = Client(raise_request_exception=False).get("/test-errors/disk-full/")
    assert response.status_code == 507
    assert_chinese_page(response.content.decode(), "存储空间不足", "服务器存储空间已满")


@override_settings(DEBUG=False)
def test_a_stale_csrf_token_gets_a_chinese_page_with_a_way_back_and_a_fresh_token(
    dora: User,
) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/accounts/login/",
        {"username": dora.mobile, "password": PASSWORD, "csrfmiddlewaretoken": "stale" * 8},
        HTTP_REFERER="http://testserver/accounts/login/?next=/dashboard/",
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert_chinese_page(html, "页面已过期", "刷新后再提交一次")
    assert 'href="http://testserver/accounts/login/?next=/dashboard/"' in html
    assert "返回原页面并刷新" in html
    assert "CSRF verification failed" not in html
    assert "_auth_user_id" not in client.session
    # The page came with a fresh token: the form, reloaded, goes through.
    form = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())
    assert token is not None
    signed_in = client.post(
        "/accounts/login/",
        {"username": dora.mobile, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
    )
    assert signed_in.status_code == 302


@override_settings(DEBUG=False)
def test_the_csrf_page_leads_back_only_to_this_site() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {}, HTTP_REFERER="https://evil.example.com/x")
    assert response.status_code == 403
    html = response.content.decode()
    assert "evil.example.com" not in html
    assert "返回原页面并刷新" not in html
    assert_chinese_page(html, "页面已过期")


@override_settings(DEBUG=False)
def test_an_htmx_request_with_a_stale_token_gets_a_fragment_to_show_in_place() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/accounts/sms-code/",
        {"mobile": "13981234567", "purpose": "register"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "<html" not in html
    assert "页面已过期" in html and "data-error-message" in html
