"""The second factor in Chromium (ADR 0016): a county staff member enrols at first sign-in
by reading the secret off the page, keeps the recovery codes, and signs in with password and
code afterwards; with the password alone the staff pages stay out of reach."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest
from django_otp.oath import totp
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kejiyun.accounts.models import User
from tests.builders import PASSWORD, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.otp, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def fresh(browser: Browser, opened: list[BrowserContext]) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    opened.append(context)
    context.set_default_timeout(15_000)
    return context.new_page()


def password_sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill("alice")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def code_for(secret: str, *, not_before: int = 0) -> str:
    """What an authenticator app shows for `secret` (typed off the page), in a time step
    after `not_before` (a code works once, so a second sign-in waits for the next step)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    while int(time.time()) // 30 <= not_before:
        time.sleep(1)
    return f"{totp(key):06d}"


def test_staff_enrol_at_first_sign_in_and_then_sign_in_with_password_and_code(
    page: Page, browser: Browser, live_server: object, contexts: list[BrowserContext]
) -> None:
    base = str(live_server)
    alice: User = make_staff("alice", "510104")
    page = fresh(browser, contexts)  # wide: the account menu with 退出登录 shows in the bar

    # First sign-in: sent to enrolment, which shows a QR code and the secret.
    password_sign_in(page, base)
    expect(page.get_by_role("heading", level=1)).to_have_text("绑定动态口令")
    qr = page.get_by_role("img", name="动态口令二维码")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # drawn under the CSP
    secret = page.locator("#otp-secret").inner_text().replace(" ", "")
    page.get_by_label("验证器显示的6位数字").fill(code_for(secret))
    enrolled_step = int(time.time()) // 30
    page.get_by_role("button", name="完成绑定").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("恢复码")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(len(c) == 9 for c in codes)
    page.get_by_role("button", name=alice.display_name).click()
    page.get_by_role("button", name="退出登录").click()

    # Next time: password, then a code from the authenticator, then the work queue.
    password_sign_in(page, base)
    expect(page.get_by_role("heading", level=1)).to_have_text("输入动态口令")
    page.get_by_label("动态口令").fill(code_for(secret, not_before=enrolled_step))
    page.get_by_role("button", name="验证").click()
    page.goto(f"{base}/cases/")
    expect(page.get_by_role("heading", level=1)).to_have_text("案例队列")

    # A fresh browser with the password only never reaches a staff page.
    other = fresh(browser, contexts)
    password_sign_in(other, base)
    expect(other.get_by_role("heading", level=1)).to_have_text("输入动态口令")
    for path in ("/cases/", "/dashboard/", "/accounts/staff/organisations/", "/admin/"):
        other.goto(f"{base}{path}")
        assert "/accounts/second-factor/verify/" in other.url, path
        expect(other.get_by_role("heading", level=1)).to_have_text("输入动态口令")
