"""Gaming flags end to end, in Chromium at phone and desktop width: the scan flags a template
family of demands in 锦江区; the county's own staff see the flag but cannot decide it; the
city's staff find it from the staff menu (刷量识别), follow the evidence to another demand of
the family, are refused a clearing without a note, and confirm it. Every page is checked for
policy violations and sideways scrolling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.demands.models import Demand
from kejiyun.integrity.models import Flag
from kejiyun.integrity.services import integrity_scan
from tests.builders import PASSWORD, make_enterprise, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
});
"""
TEMPLATE = (
    "我公司主要生产{p}，年产量约三千吨，烘干工序沿用多年前的老设备，能耗高、效率低，"
    "产品合格率长期在百分之八十左右徘徊，旺季订单交付困难，希望引进先进技术进行改造升级"
)

OPEN_CONTEXTS: list[BrowserContext] = []


@pytest.fixture(autouse=True)
def _close_contexts() -> Iterator[None]:
    yield
    while OPEN_CONTEXTS:
        OPEN_CONTEXTS.pop().close()


def signed_in(browser: Browser, base: str, username: str, viewport: dict[str, int]) -> Page:
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    OPEN_CONTEXTS.append(context)
    context.set_default_timeout(15_000)
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def check(page: Page, name: str) -> None:
    page.wait_for_load_state("load")
    page.wait_for_function(
        "document.documentElement !== null && document.readyState === 'complete'"
    )
    assert page.evaluate("window.__cspViolations") == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"


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
