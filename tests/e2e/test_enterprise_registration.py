import re

import pytest
from playwright.sync_api import Page, expect

from kejiyun.accounts.models import Role, User
from kejiyun.notifications.models import SmsMessage
from tests.builders import PASSWORD, make_uscc

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MOBILE = "13881234567"


def test_an_enterprise_user_registers_logs_in_and_sees_the_enterprise_dashboard(
    page: Page, live_server: object
) -> None:
    base = str(live_server)
    page.goto(f"{base}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("link", name="注册").first.click()
    page.get_by_role("link", name="企业注册").click()
    expect(page.get_by_role("heading", name="企业注册")).to_be_visible()

    page.get_by_label("姓名").fill("陈经理")
    page.get_by_label("手机号").fill(MOBILE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-status")).to_contain_text("验证码已发送")
    message = SmsMessage.objects.for_mobile(MOBILE).get()
    code = re.search(r"\b(\d{6})\b", message.body).group(1)  # type: ignore[union-attr]
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("searchbox", name="企业所在区县", exact=True).fill("青川")
    page.get_by_role("button", name="广元市 · 青川县").click()
    expect(page.get_by_label("企业所在区县：区（县）")).to_have_value("510822")
    page.get_by_label("企业名称").fill("青川县七佛贡茶有限公司")
    page.get_by_label("统一社会信用代码").fill(make_uscc("510822", "MA62Q8H3K"))
    page.get_by_label("所属行业").fill("茶叶")
    page.get_by_label("设置密码").fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD)
    page.get_by_label("我已阅读并同意《个人信息保护政策》").check()
    page.get_by_role("button", name="注册", exact=True).click()

    expect(page.get_by_role("heading", name="工作台", exact=True)).to_be_visible()
    expect(page.get_by_text("注册成功")).to_be_visible()
    user = User.objects.for_mobile(MOBILE).get()
    assert user.role == Role.ENTERPRISE
    assert user.organisation is not None
    assert user.organisation.region_id == "510822"

    # Log out through the user menu, then log in again with the mobile number. The menu is
    # Bootstrap's: wait until its script has run (the page can paint before the scripts at
    # the end of the body), and until the collapsed navigation has finished opening.
    page.wait_for_load_state("load")
    page.get_by_role("button", name="展开导航").click()
    expect(page.locator(".navbar-collapse.show")).to_be_visible()
    page.get_by_role("button", name="陈经理").or_(page.get_by_role("link", name="陈经理")).click()
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("link", name="登录")).to_be_visible()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(MOBILE)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="青川县七佛贡茶有限公司")).to_be_visible()


def test_a_bad_credit_code_is_refused_in_the_browser_with_a_chinese_message(
    page: Page, live_server: object
) -> None:
    page.goto(f"{live_server}/accounts/register/enterprise/")
    page.get_by_label("统一社会信用代码").fill("91510822MA62Q8H3K0")
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.get_by_text("统一社会信用代码校验位不正确")).to_be_visible()
    assert not User.objects.exists()
