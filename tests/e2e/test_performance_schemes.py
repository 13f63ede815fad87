"""Schemes end to end, in Chromium at phone width: the province builds a scheme on the page
(the period picker shows the fields of the chosen kind, the weights add up as they are
typed), is refused while the weights do not add up to 100, saves and publishes it, opens the
ranking and a centre's breakdown, then the published formula; a county sees its own centre
only. Every page is checked for policy violations and sideways scrolling, and the ranking
at desktop width too."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import Browser, Page, expect

from kejiyun.ops.models import Rollup
from kejiyun.ops.rollups import rollup_areas_refresh
from kejiyun.performance.models import Scheme
from kejiyun.regions.models import ServiceCentre
from tests.builders import make_staff
from tests.e2e.browsing import LISTEN, OPEN_CONTEXTS, check, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_province_builds_and_publishes_a_scheme_and_a_county_reads_its_score(
    page: Page, browser: Browser, live_server: object
) -> None:
    base = str(live_server)
    make_staff("alice", "510104")
    pat = make_staff("pat", "510000")
    pat.user_permissions.add(Permission.objects.get(codename="manage_scheme"))
    for code, closed, rating in (("510104", 12, 45), ("510105", 8, 36), ("510107", 4, 12)):
        centre = ServiceCentre.objects.select_related("region").get(region_id=code)
        for indicator, num, den in (("cases_closed", closed, 0), ("satisfaction_mean", rating, 10)):
            Rollup.objects.create(
                grain=Rollup.Grain.MONTH,
                start=date(2026, 3, 1),
                indicator=indicator,
                centre=centre,
                path=centre.region.path,
                num=Decimal(num),
                den=den,
            )
    rollup_areas_refresh(month=date(2026, 3, 1))

    province = signed_in(browser, base, "pat")
    province.goto(f"{base}/performance/schemes/")
    check(province, "s1-list-empty")
    province.get_by_role("link", name="制定考核方案").click()
    province.get_by_label("方案名称").fill("2026年上半年区县考核")
    province.get_by_label("考核期类型").select_option("half")
    expect(province.get_by_label("季度")).to_be_hidden()
    province.get_by_label("年份").fill("2026")
    province.get_by_label("半年").select_option("1")
    province.locator('select[name="items-0-indicator"]').select_option("cases_closed")
    province.locator('input[name="items-0-weight"]').fill("60")
    province.locator('input[name="items-0-target"]').fill("10")
    province.locator('select[name="items-1-indicator"]').select_option("satisfaction_mean")
    province.locator('input[name="items-1-weight"]').fill("30")
    province.locator('select[name="items-1-normalisation"]').select_option("minmax")
    expect(province.locator('input[name="items-1-target"]')).to_be_hidden()
    expect(province.locator("[data-weight-total]")).to_have_text("90 / 100")
    check(province, "s2-new")
    province.get_by_role("button", name="保存草稿").click()
    expect(province.get_by_test_id("form-error")).to_contain_text("各项权重之和须为 100 分")
    province.locator('input[name="items-1-weight"]').fill("40")
    province.get_by_role("button", name="保存草稿").click()
    expect(province.get_by_text("考核方案草稿已保存")).to_be_visible()
    check(province, "s3-draft")
    province.get_by_role("button", name="发布方案").click()
    expect(province.get_by_text("考核方案已发布，内容已冻结")).to_be_visible()
    expect(province.get_by_test_id("scheme-edit")).to_have_count(0)
    assert Scheme.objects.get().status == "published"

    province.get_by_test_id("ranking-link").click()
    first = province.locator('[data-centre="510104"]')
    expect(first).to_have_attribute("data-rank", "1")
    # 锦江区: cases 12/10 capped → 60.00; satisfaction 4.50 the highest → 40.00.
    expect(first.get_by_test_id("total")).to_have_text("100.00 分")
    first.locator("summary").click()
    expect(first.get_by_text("结案 12 件 ÷ 目标 10 件 = 1.20，封顶 1")).to_be_visible()
    check(province, "s4-ranking")
    province.get_by_test_id("formula-link").click()
    expect(province.get_by_role("heading", name="四、逐项核算")).to_be_visible()
    province.get_by_label("中心", exact=True).select_option("510105")
    province.get_by_role("button", name="查看").click()
    expect(province.get_by_test_id("worked")).to_have_attribute("data-centre", "510105")
    check(province, "s5-formula")

    county = signed_in(browser, base, "alice")
    county.goto(f"{base}/performance/schemes/")
    county.get_by_role("link", name="排名").click()
    expect(county.locator("[data-centre]")).to_have_count(1)
    expect(county.locator('[data-centre="510104"]')).to_have_attribute("data-rank", "1")
    check(county, "s6-county-ranking")

    desktop = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    OPEN_CONTEXTS.append(desktop)
    desktop.add_init_script(LISTEN)
    wide = desktop.new_page()
    wide.context.add_cookies(province.context.cookies())
    wide.goto(province.url.replace("/formula/", "/ranking/").split("?")[0])
    wide.locator('[data-centre="510105"] summary').click()
    check(wide, "s7-ranking-desktop")
