"""Half-year work reports end to end, in Chromium at phone width: a county files its report
(the figures read from the rollups, read-only), submits it, the city returns it with a
reason, the county corrects and resubmits, the city accepts it and the page offers no edit
any more. Every page is checked for policy violations and sideways scrolling."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect

from kejiyun.ops.models import Rollup, WorkReport
from kejiyun.ops.rollups import rollup_areas_refresh
from kejiyun.regions.models import ServiceCentre
from tests.builders import make_staff
from tests.e2e.browsing import check, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_county_files_and_the_city_returns_then_accepts_its_half_year_report(
    page: Page, browser: Browser, live_server: object
) -> None:
    base = str(live_server)
    make_staff("alice", "510104")
    make_staff("bob", "510100")
    centre = ServiceCentre.objects.select_related("region").get(region_id="510104")
    Rollup.objects.create(
        grain=Rollup.Grain.MONTH,
        start=date(2026, 3, 1),
        indicator="cases_opened",
        centre=centre,
        path=centre.region.path,
        num=Decimal(12),
    )
    rollup_areas_refresh(month=date(2026, 3, 1))

    with time_machine.travel("2026-07-03 10:00:00+08:00", tick=True):
        alice = signed_in(browser, base, "alice")
        alice.goto(f"{base}/ops/reports/")
        check(alice, "1-county-list-empty")
        alice.get_by_role("link", name="填报工作汇报").click()
        alice.get_by_label("汇报期").select_option(label="2026年上半年")
        check(alice, "2-county-new")
        alice.get_by_role("button", name="创建").click()

        expect(alice.locator('[data-indicator="cases_opened"]')).to_contain_text("12")
        alice.get_by_label("主要工作成效").fill("完成企业需求对接 12 项。")
        alice.get_by_role("button", name="保存并提交上级审阅").click()
        expect(alice.get_by_text("提交前请填写“存在的困难问题”。")).to_be_visible()
        expect(alice.get_by_label("主要工作成效")).to_have_value("完成企业需求对接 12 项。")
        check(alice, "3-county-form-refused")
        alice.get_by_label("存在的困难问题").fill("基层服务人员不足。")
        alice.get_by_label("下半年工作安排").fill("开展专家服务月活动。")
        alice.get_by_role("button", name="保存并提交上级审阅").click()
        expect(alice.get_by_text("工作汇报已提交，等待上级审阅。")).to_be_visible()
        check(alice, "4-county-detail-submitted")

        bob = signed_in(browser, base, "bob")
        bob.goto(f"{base}/ops/reports/")
        check(bob, "5-city-list")
        bob.get_by_role("link", name="锦江区科技服务中心").first.click()
        bob.get_by_label("退回原因").fill("请补充典型案例。")
        check(bob, "6-city-detail")
        bob.get_by_role("button", name="退回修改").click()
        expect(bob.get_by_text("已退回修改。")).to_be_visible()

        alice.goto(f"{base}/ops/reports/")
        alice.get_by_role("link", name="2026年上半年").click()
        expect(alice.get_by_text("退回原因：请补充典型案例。")).to_be_visible()
        alice.get_by_role("link", name="编辑").click()
        alice.get_by_label("主要工作成效").fill("完成企业需求对接 12 项，典型案例 3 个。")
        check(alice, "7-county-form-returned")
        alice.get_by_role("button", name="保存并提交上级审阅").click()
        expect(alice.get_by_text("工作汇报已提交，等待上级审阅。")).to_be_visible()

        bob.reload()
        bob.get_by_role("button", name="审阅通过").click()
        expect(bob.get_by_text("工作汇报已通过审阅。", exact=True)).to_be_visible()
        check(bob, "8-city-detail-accepted")

        alice.reload()
        expect(alice.get_by_text("本工作汇报已通过审阅，内容已固定，不能再修改。")).to_be_visible()
        expect(alice.get_by_role("link", name="编辑")).to_have_count(0)

    report = WorkReport.objects.get(centre=centre, year=2026, half=1)
    assert report.status == "accepted"
    assert report.achievements == "完成企业需求对接 12 项，典型案例 3 个。"
    assert report.figures["cases_opened"] == 12.0
