"""The "my data" page in Chromium: see the categories, download the JSON and Excel exports,
withdraw the targeting consent with one click, and cancel the account (PIPL §§44-47)."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, expect

from kejiyun.accounts.models import User
from kejiyun.popsci.models import CitizenProfile
from tests.builders import PASSWORD, make_citizen
from tests.e2e.browsing import check, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_citizen_sees_exports_withdraws_and_cancels(
    page: Page, browser: Browser, live_server: object, tmp_path: object
) -> None:
    base = str(live_server)
    cora = make_citizen("cora", "510104", mobile="13600007777", consent=True)
    tab = signed_in(browser, base, "cora")
    tab.goto(f"{base}/accounts/profile/")
    tab.get_by_role("link", name="我的个人信息").click()
    expect(tab.get_by_role("heading", name="我的个人信息")).to_be_visible()
    check(tab, "my-data")
    tab.locator("#cat-account summary").click()
    expect(tab.locator("#cat-account")).to_contain_text("136****7777")
    expect(tab.locator("#cat-account")).not_to_contain_text("13600007777")

    with tab.expect_download() as got:
        tab.locator("#export-json").click()
    data = json.loads(got.value.path().read_text(encoding="utf-8"))
    assert any(c["key"] == "consents" for c in data["categories"])
    with tab.expect_download() as got:
        tab.locator("#export-xlsx").click()
    assert got.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(got.value.path().read_bytes()))
    assert "账号信息" in book.sheetnames

    tab.get_by_role("button", name="撤回授权").click()
    expect(tab.get_by_text("已撤回授权，下一次推送或展示起生效。")).to_be_visible()
    assert not CitizenProfile.objects.get(user=cora).targeting_consent

    tab.get_by_label("当前登录密码").fill(PASSWORD)
    tab.get_by_label("请输入“确认注销”").fill("确认注销")
    tab.get_by_role("button", name="注销账号").click()
    expect(tab.get_by_text("您的账号已注销")).to_be_visible()
    cora.refresh_from_db()
    assert cora.cancelled_at is not None and cora.display_name == "已注销用户"
    assert not User.objects.filter(username="cora").exists()
