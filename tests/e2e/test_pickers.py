"""Pickers in Chromium at phone width (390 px): a worker picks the regions they serve through
the city → county cascade and by searching a place name, a discipline and an industry by
searching their Chinese names, and saves; the city work queue fits the phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kejiyun.talent.models import TalentProfile
from kejiyun.talent.services import disciplines_load, industries_load
from tests.builders import PASSWORD, make_case, make_staff, make_worker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 390


def sign_in(page: Page, base: str, login: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(login)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_a_worker_picks_regions_by_cascade_and_search_and_a_discipline_by_name(
    page: Page, live_server: object
) -> None:
    disciplines_load()
    industries_load()
    base = str(live_server)
    profile = make_worker("wang", "510104", "13900000101")
    errors: list[str] = []
    # Script errors, and any answer of 400 or more (the favicon aside: the site has none).
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    sign_in(page, base, "wang")
    page.goto(f"{base}/talent/me/")
    page.wait_for_load_state("load")

    # Regions served: 成都市 → 双流区 through the cascade, then 简阳 by typing its name.
    page.get_by_label("服务地区：市（州）").select_option(label="成都市")
    page.get_by_label("服务地区：区（县）").select_option(label="双流区")
    page.get_by_role("button", name="添加所选地区").click()
    chips = page.locator(".region-picker .picker-chips")
    expect(chips).to_contain_text("成都市 · 双流区")
    page.get_by_label("服务地区", exact=True).fill("简阳")
    page.get_by_role("button", name="成都市 · 简阳市").click()
    expect(chips).to_contain_text("简阳市")

    # A discipline by its Chinese name; an industry by browsing the tree.
    page.get_by_label("学科", exact=True).fill("果树")
    page.get_by_role("button", name="果树学（园艺学与植物营养学）").click()
    expect(page.locator(".tree-chosen").first).to_contain_text("果树学")
    industries = page.locator("[data-class-tree][data-name='industries']")
    industries.get_by_role("button", name="展开 制造业").click()
    industries.get_by_role("button", name="展开 酒、饮料和精制茶制造业").click()
    industries.get_by_role("button", name="展开 酒的制造").click()
    industries.get_by_label("白酒制造").check()
    expect(industries.locator(".tree-chosen")).to_contain_text("白酒制造")

    page.get_by_label("咨询").check()
    assert page_width(page) <= PHONE_WIDTH
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("档案已保存。")).to_be_visible()

    profile = TalentProfile.objects.get(pk=profile.pk)
    assert sorted(profile.regions_served.values_list("code", flat=True)) == ["510116", "510185"]
    assert list(profile.disciplines.values_list("name", flat=True)) == ["果树学"]
    assert list(profile.industries.values_list("code", flat=True)) == ["1512"]
    assert profile.service_mode_labels == ["咨询"]

    # The saved choices come back as chips, and dropping one saves without it.
    expect(page.locator(".region-picker .picker-chips")).to_contain_text("简阳市")
    page.get_by_role("button", name="移除 成都市 · 简阳市").click()
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("档案已保存。")).to_be_visible()
    assert list(profile.regions_served.values_list("code", flat=True)) == ["510116"]
    assert errors == []


def test_the_city_work_queue_fits_a_phone(page: Page, live_server: object) -> None:
    base = str(live_server)
    bob = make_staff("bob", "510100")
    # Staff names and centres fill the bulk-reassign select; long ones made it 608 px wide.
    make_staff("demo_staff_shuangliu_second_desk", "510116")
    for serial, county in enumerate(["510104", "510116", "510185"], start=1):
        make_case(
            bob, county=county, title=f"泡菜包装后胀袋问题的技术攻关{serial}", serial=str(serial)
        )
    sign_in(page, base, "bob")
    page.goto(f"{base}/cases/?scope=all")
    expect(page.get_by_test_id("case-queue")).to_be_visible()
    assert page_width(page) <= PHONE_WIDTH
    # The table scrolls inside its own box instead of the page.
    box = page.locator(".table-responsive").first
    assert box.evaluate("el => getComputedStyle(el).overflowX") == "auto"
