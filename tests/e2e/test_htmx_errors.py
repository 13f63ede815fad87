"""htmx shows error answers where the person is looking (issue 10, item 10): the SMS-code
button's refusals (400, 429), an expired CSRF cookie, a server error and a lost connection
each put a Chinese message next to the button, and the page stays as it was."""

from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from kejiyun.accounts.models import SmsCode

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MOBILE = "13881234567"


def open_registration(page: Page, live_server: object) -> None:
    page.goto(f"{live_server}/accounts/register/citizen/")
    expect(page.get_by_role("heading", name="公众注册")).to_be_visible()
    page.wait_for_load_state("load")  # htmx and htmx-errors.js have run


def test_sms_code_refusals_appear_next_to_the_button(page: Page, live_server: object) -> None:
    open_registration(page, live_server)
    status = page.locator("#sms-status")
    send = page.get_by_role("button", name="获取验证码")

    page.get_by_label("手机号").fill("12345")
    send.click()  # answered 400 with the form's Chinese error
    expect(status).to_contain_text("请输入有效的中国大陆手机号")
    assert not SmsCode.objects.exists()

    page.get_by_label("手机号").fill(MOBILE)
    send.click()
    expect(status).to_contain_text("验证码已发送")
    send.click()  # answered 429
    expect(status).to_contain_text("验证码发送过于频繁，请60秒后再试。")
    expect(status.get_by_role("alert")).to_be_visible()
    assert SmsCode.objects.for_mobile(MOBILE).count() == 1


def test_an_expired_csrf_cookie_says_the_page_expired_in_place(
    page: Page, live_server: object
) -> None:
    open_registration(page, live_server)
    page.context.clear_cookies()  # the token cookie expired or was cleared
    page.get_by_label("手机号").fill(MOBILE)
    page.get_by_role("button", name="获取验证码").click()
    status = page.locator("#sms-status")
    expect(status).to_contain_text("页面已过期，这次提交没有生效。请刷新页面后重试。")
    expect(page.get_by_role("heading", name="公众注册")).to_be_visible()  # not replaced
    assert not SmsCode.objects.exists()


def test_a_server_error_shows_a_chinese_note_and_keeps_the_page(
    page: Page, live_server: object, settings: Any
) -> None:
    # An SMS gateway configured with a class that does not exist: sending fails with a 500.
    settings.SMS_BACKEND = "kejiyun.notifications.sms.NoSuchGateway"
    open_registration(page, live_server)
    page.get_by_label("手机号").fill(MOBILE)
    page.get_by_role("button", name="获取验证码").click()
    note = page.locator("#sms-status .htmx-error-note")
    expect(note).to_have_text("服务器处理这次请求时出错，您的操作可能没有完成。")
    expect(note).to_have_attribute("role", "alert")
    expect(page.get_by_role("heading", name="公众注册")).to_be_visible()
    expect(page.locator("h1")).to_have_count(1)  # the 500 page was not swapped in


def test_a_lost_connection_shows_a_chinese_note_that_clears_on_retry(
    page: Page, live_server: object
) -> None:
    open_registration(page, live_server)
    page.get_by_label("手机号").fill(MOBILE)

    def drop(route: Route) -> None:  # the connection fails before any answer arrives
        route.abort("internetdisconnected")

    page.route("**/accounts/sms-code/", drop)
    page.get_by_role("button", name="获取验证码").click()
    note = page.locator(".htmx-error-note")
    expect(note).to_contain_text("网络连接失败")
    page.unroute("**/accounts/sms-code/")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-status")).to_contain_text("验证码已发送")
    expect(note).to_have_count(0)
