"""Gaming flags end to end, in Chromium at phone and desktop width: the scan flags a template
family of demands in 锦江区; the county's own staff see the flag but cannot decide it; the
city's staff find it from the staff menu (刷量识别), follow the evidence to another demand of
the family, are refused a clearing without a note, and confirm it. Every page is checked for
policy violations and sideways scrolling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.demands.models import Demand
from kejiyun.integrity.models import Flag
from kejiyun.integrity.services import integrity_scan
from tests.builders import make_enterprise, make_staff
from tests.e2e.browsing import PHONE, check, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
TEMPLATE = (
    "我公司主要生产{p}，年产量约三千吨，烘干工序沿用多年前的老设备，能耗高、效率低，"
    "产品合格率长期在百分之八十左右徘徊，旺季订单交付困难，希望引进先进技术进行改造升级"
)


def test_the_city_confirms_a_template_family_flag_the_county_cannot_decide(
    page: Page, browser: Browser, live_server: object
) -> None:
    base = str(live_server)
    make_staff("alice", "510104")
    make_staff("bob", "510100")
    firms = [
        make_enterprise("甲食品公司", "510104", "1"),
        make_enterprise("乙食品公司", "510104", "2"),
    ]
    at = timezone.now() - timedelta(days=1)
    demands = [
        Demand.objects.create(
            organisation=firms[i % 2],
            region_id="510104",
            category=Demand.Category.PROBLEM,
            title=f"{p}烘干节能改造",
            description=TEMPLATE.format(p=p),
            problem="烘干后产品含水率不稳定，出厂合格率只有百分之八十五",
            current_state="现用热风烘干，试过分段控温，效果仍然不够理想",
            target_indicators="合格率提高到百分之九十五以上，单位能耗下降两成",
            status=Demand.Status.SUBMITTED,
            submitted_at=at + timedelta(hours=i),
        )
        for i, p in enumerate(["茶叶", "腊肉", "花椒"])
    ]
    integrity_scan(since=timezone.now() - timedelta(days=3))
    flag = Flag.objects.get(subject_id=demands[0].pk)

    alice = signed_in(browser, base, "alice", PHONE)
    alice.goto(f"{base}/integrity/{flag.pk}/")
    expect(alice.locator("[data-reason]")).to_contain_text("同出一个模板")
    expect(alice.locator("[data-refusal]")).to_contain_text("须由上级服务中心复核")
    expect(alice.locator("[data-decide]")).to_have_count(0)
    check(alice, "county-detail")

    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        bob = signed_in(browser, base, "bob", viewport)
        if viewport is DESKTOP:
            bob.get_by_role("button", name="服务中心").click()
            bob.get_by_role("link", name="刷量识别").click()
        else:
            bob.goto(f"{base}/integrity/")
        expect(bob.locator('[data-kind="duplicate_demand"] [data-open]')).to_have_text("3")
        check(bob, f"city-list-{name}")
    bob.get_by_label("类型").select_option(label="模板或重复需求")
    bob.get_by_label("状态").select_option(label="待复核")
    bob.get_by_role("button", name="筛选").click()
    expect(bob.locator("[data-flag]")).to_have_count(3)
    bob.locator(f'[data-flag="{flag.pk}"] a').click()
    check(bob, "city-detail")
    bob.locator("[data-records]").get_by_role("link", name=f"需求 #{demands[1].pk}").click()
    expect(bob.get_by_text("腊肉烘干节能改造").first).to_be_visible()
    check(bob, "city-evidence-demand")
    bob.go_back()
    bob.get_by_label("排除（不是刷量）").check()
    bob.get_by_role("button", name="提交复核结论").click()
    expect(bob.locator("[data-error]")).to_contain_text("排除标记时必须写明理由")
    check(bob, "city-detail-refused")
    bob.get_by_label("确认刷量").check()
    bob.get_by_label("复核说明").fill("同一模板，已电话核实")
    bob.get_by_role("button", name="提交复核结论").click()
    expect(bob.get_by_text("已确认为刷量。")).to_be_visible()
    expect(bob.locator("[data-decision]")).to_contain_text("已确认")
    check(bob, "city-detail-confirmed")

    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED and flag.decision_note == "同一模板，已电话核实"
    assert AuditEvent.objects.filter(action=AuditAction.FLAG_CONFIRM).count() == 1
