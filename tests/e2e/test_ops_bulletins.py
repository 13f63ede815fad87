"""Bulletins end to end, in Chromium at phone width: the city drafts a bulletin on the page
and submits it; the author is offered no approval; a colleague approves it; a county finds it
in its inbox, opens it and downloads the PDF; the author sees that county's read receipt.
Every page is checked for policy violations and sideways scrolling."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from kejiyun.ops.models import Bulletin, Rollup
from kejiyun.ops.rollups import rollup_areas_refresh
from kejiyun.regions.models import ServiceCentre
from tests.builders import make_staff
from tests.e2e.browsing import check, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_city_bulletin_is_approved_by_a_colleague_and_read_by_a_county(
    page: Page, browser: Browser, live_server: object
) -> None:
    base = str(live_server)
    make_staff("alice", "510104")
    make_staff("bob", "510100")
    make_staff("bella", "510100")
    for code, opened in (("510104", 40), ("510105", 30), ("510107", 10)):
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

    bob = signed_in(browser, base, "bob")
    bob.goto(f"{base}/ops/bulletins/")
    check(bob, "b1-city-list-empty")
    bob.get_by_role("link", name="起草通报").click()
    bob.get_by_label("统计期").fill("2026H1")
    bob.get_by_label("立案（件）").check()
    bob.get_by_label("点评").fill("武侯区立案偏少。")
    check(bob, "b2-city-new")
    bob.get_by_role("button", name="保存草稿").click()
    expect(bob.get_by_text("通报草稿已保存")).to_be_visible()
    expect(bob.locator('[data-code="510104"]')).to_contain_text("40")
    check(bob, "b3-city-draft")
    bob.get_by_role("button", name="提交审核").click()
    expect(bob.get_by_text("已提交审核，内容已冻结")).to_be_visible()
    expect(bob.get_by_role("button", name="审核通过并发布")).to_have_count(0)

    bella = signed_in(browser, base, "bella")
    bella.goto(f"{base}/ops/bulletins/")
    bella.get_by_role("link", name="成都市2026年上半年运营情况通报").click()
    expect(bella.get_by_role("button", name="审核通过并发布")).to_be_visible()
    check(bella, "b4-colleague-pending")
    bella.get_by_role("button", name="审核通过并发布").click()
    expect(bella.get_by_text("通报已审核发布")).to_be_visible()

    alice = signed_in(browser, base, "alice")
    alice.goto(f"{base}/notifications/")
    item = alice.locator(".list-group-item", has_text="新通报：成都市2026年上半年运营情况通报")
    item.get_by_role("button", name="查看").click()
    expect(alice.locator('[data-code="510104"]')).to_contain_text("40")
    check(alice, "b5-county-reads")
    # The file is made in the background; the progress page offers it when done.
    alice.get_by_role("link", name="下载 PDF").click()
    expect(alice.locator("[data-testid=run-progress]")).to_have_attribute(
        "data-status", "done", timeout=30_000
    )
    check(alice, "b5b-county-file-made")
    with alice.expect_download() as download:
        alice.get_by_test_id("run-result-file").click()
    assert download.value.suggested_filename == "成都市2026年上半年运营情况通报.pdf"

    bob.reload()
    expect(bob.locator('[data-centre="510104"]')).to_contain_text("已读")
    expect(bob.locator('[data-centre="510107"]')).to_contain_text("未读")
    check(bob, "b6-city-receipts")
    bulletin = Bulletin.objects.get()
    assert (bulletin.status, bulletin.author.username, bulletin.approver.username) == (
        "published",
        "bob",
        "bella",
    )
