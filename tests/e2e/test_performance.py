"""Scoring and fund allocation end to end, in Chromium at phone width: a province user with
the scheme role builds a scheme and publishes it, sees the ranking with its breakdowns,
creates an allocation, runs a what-if and submits; the same user's approval is refused with a
visible message; a second user with the approver role approves; the approved allocation
refuses an edit. Every page is checked for policy violations and sideways scrolling."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from kejiyun.audit.models import AuditEvent
from kejiyun.ops.models import Rollup
from kejiyun.ops.rollups import rollup_areas_refresh
from kejiyun.performance.models import Allocation, Scheme
from kejiyun.regions.models import ServiceCentre
from tests.builders import grant_perms, make_staff
from tests.e2e.browsing import LISTEN, OPEN_CONTEXTS, check, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CASES = {"510104": 40, "510105": 30, "510106": 20, "510107": 10}


def _figures() -> None:
    for code, opened in CASES.items():
        centre = ServiceCentre.objects.select_related("region").get(region_id=code)
        Rollup.objects.create(
            grain=Rollup.Grain.MONTH,
            start=date(2026, 3, 1),
            indicator="cases_opened",
            centre=centre,
            path=centre.region.path,
            num=Decimal(opened),
        )
    rollup_areas_refresh(month=date(2026, 3, 1))


def build_scheme(pat: Page, base: str) -> None:
    """The province builds a one-indicator county scheme on the page, publishes it and reads
    the ranking with a breakdown."""
    pat.goto(f"{base}/performance/schemes/")
    pat.get_by_role("link", name="制定考核方案").click()
    pat.get_by_label("方案名称").fill("2026年上半年区县考核")
    pat.get_by_label("考核期类型").select_option("half")
    pat.get_by_label("年份").fill("2026")
    pat.get_by_label("半年").select_option("1")
    pat.locator('select[name="items-0-indicator"]').select_option("cases_opened")
    pat.locator('input[name="items-0-weight"]').fill("100")
    pat.locator('input[name="items-0-target"]').fill("40")
    pat.get_by_role("button", name="保存草稿").click()
    expect(pat.get_by_text("考核方案草稿已保存")).to_be_visible()
    pat.get_by_role("button", name="发布方案").click()
    expect(pat.get_by_text("考核方案已发布，内容已冻结")).to_be_visible()
    pat.get_by_test_id("ranking-link").click()
    first = pat.locator('[data-centre="510104"]')
    expect(first).to_have_attribute("data-rank", "1")
    expect(first.get_by_test_id("total")).to_have_text("100.00 分")
    second = pat.locator('[data-centre="510105"]')
    second.locator("summary").click()
    expect(second.get_by_text("立案 30 件 ÷ 目标 40 件 = 0.75")).to_be_visible()
    check(pat, "p4-ranking")


def test_a_scheme_is_built_and_its_allocation_is_approved_by_a_second_person(
    page: Page, browser: Browser, live_server: object
) -> None:
    base = str(live_server)
    grant_perms(make_staff("pat", "510000"), "manage_scheme", "approve_allocation")
    grant_perms(make_staff("quinn", "510000"), "approve_allocation")
    _figures()

    pat = signed_in(browser, base, "pat")
    build_scheme(pat, base)
    scheme = Scheme.objects.get(status=Scheme.Status.PUBLISHED)

    menu = pat.locator('a.dropdown-item[href="/performance/allocations/"]')
    expect(menu).to_have_text("资金分配")
    pat.goto(f"{base}/performance/allocations/")
    check(pat, "p5-allocations-empty")
    pat.get_by_role("link", name="编制资金分配").click()
    pat.get_by_label("考核方案").select_option(str(scheme.pk))
    pat.get_by_label("名称").fill("2026年上半年区县经费")
    pat.get_by_label("预算（元）").fill("10000")
    check(pat, "p6-allocation-new")
    pat.get_by_role("button", name="计算并保存草稿").click()
    expect(pat.get_by_text("资金分配草稿已计算并保存")).to_be_visible()
    expect(pat.locator('[data-centre="510104"] [data-amount]')).to_have_text("4,000.00")
    expect(pat.get_by_test_id("total")).to_have_text("10,000.00")
    pat.locator('[data-centre="510104"] summary').click()
    expect(pat.locator('[data-centre="510104"] details li').first).to_be_visible()
    check(pat, "p7-allocation-draft")
    # A second tab keeps the draft's page, edit form and all, for the end.
    stale = pat.context.new_page()
    stale.goto(pat.url)

    pat.get_by_role("link", name="假设测算").click()
    pat.get_by_label("预算（元）").fill("20000")
    pat.get_by_role("button", name="测算").click()
    expect(pat.get_by_test_id("total-then")).to_have_text("20,000.00")
    expect(pat.locator('[data-testid="whatif"] [data-centre="510104"]')).to_contain_text(
        "+4,000.00"
    )
    check(pat, "p8-whatif")
    pat.get_by_role("link", name="2026年上半年区县经费").click()

    pat.get_by_role("button", name="提交审批").click()
    expect(pat.get_by_text("已提交审批，须由另一位审批人批准")).to_be_visible()
    expect(pat.get_by_text("这是您编制或提交的资金分配，不能由您本人批准。")).to_be_visible()
    pat.get_by_role("button", name="批准").click()
    expect(pat.get_by_test_id("refusal")).to_contain_text("不能审批自己编制、修改或提交的资金分配")
    check(pat, "p9-self-approval-refused")
    allocation = Allocation.objects.get()
    assert allocation.status == Allocation.Status.PENDING
    assert AuditEvent.objects.filter(action="allocation.approve", outcome="refused").count() == 1

    quinn = signed_in(browser, base, "quinn")
    quinn.goto(f"{base}/performance/allocations/{allocation.pk}/")
    quinn.get_by_role("button", name="批准").click()
    expect(quinn.get_by_text("资金分配已批准，已冻结")).to_be_visible()
    expect(quinn.get_by_test_id("approved")).to_contain_text("Quinn")
    check(quinn, "p10-approved")

    # The draft's page in Pat's other tab still offers the edit form: saving it is refused.
    stale.get_by_label("预算（元）").fill("12000")
    with stale.expect_response(lambda r: r.url.endswith("/edit/")) as answer:
        stale.get_by_role("button", name="保存并重新计算").click()
    assert answer.value.status == 409
    expect(stale.get_by_test_id("refusal")).to_have_text("该资金分配已批准，已冻结，不能再修改。")
    expect(stale.get_by_test_id("approved")).to_be_visible()
    check(stale, "p11-approved-refuses-edit")
    desktop = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    OPEN_CONTEXTS.append(desktop)
    desktop.add_init_script(LISTEN)
    wide = desktop.new_page()
    wide.context.add_cookies(quinn.context.cookies())
    wide.goto(f"{base}/performance/allocations/{allocation.pk}/")
    expect(wide.get_by_test_id("total")).to_have_text("10,000.00")
    check(wide, "p12-approved-desktop")
    wide.goto(
        f"{base}/performance/allocations/{allocation.pk}/whatif/?budget=15000&base=&floor=&cap=&w_cases_opened=100&t_cases_opened=40&n_cases_opened=target"
    )
    expect(wide.get_by_test_id("total-then")).to_have_text("15,000.00")
    check(wide, "p13-whatif-desktop")
    allocation.refresh_from_db()
    assert (allocation.status, allocation.budget_fen) == ("approved", 1_000_000)
    assert allocation.approved_by is not None and allocation.approved_by.username == "quinn"
