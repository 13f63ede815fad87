"""A docking event end to end, in Chromium at phone width: an enterprise user books a slot at
the province's service conference and sees the check-in code; province staff check them in
by that code, start the event, record the agreement signed on site, and the event's report
counts one agreement. Every page is checked for policy violations and sideways scrolling."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kejiyun.events.models import Agreement, Booking
from kejiyun.events.services import (
    event_transition,
    exhibit_decide,
    exhibit_nominate,
    slot_create,
)
from kejiyun.talent.models import TechResult
from tests.builders import (
    PASSWORD,
    make_enterprise,
    make_enterprise_user,
    make_event,
    make_staff,
    make_worker,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SHOTS = os.environ.get("KEJIYUN_SHOTS", "")
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
});
"""

OPEN_CONTEXTS: list[BrowserContext] = []


@pytest.fixture(autouse=True)
def _close_contexts() -> Iterator[None]:
    yield
    while OPEN_CONTEXTS:
        OPEN_CONTEXTS.pop().close()


def signed_in(browser: Browser, base: str, username: str) -> Page:
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
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
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_an_enterprise_books_is_checked_in_and_signs_and_the_report_counts_it(
    page: Page, browser: Browser, live_server: object
) -> None:
    base = str(live_server)
    pat = make_staff("pat", "510000")
    alice = make_staff("alice", "510104")
    owner = make_worker("wang", "510104", "13800000001")
    result = TechResult.objects.create(
        owner_profile=owner,
        kind=TechResult.Kind.PATENT,
        title="茶叶智能采摘机",
        summary="适合丘陵茶园的采摘机，可许可实施。",
        for_transfer=True,
        transfer_mode=TechResult.TransferMode.LICENCE,
    )
    event = make_event(pat, status="collecting")
    exhibit = exhibit_decide(
        exhibit=exhibit_nominate(event=event, actor=alice, result=result), actor=pat, accept=True
    )
    slot_create(
        exhibit=exhibit,
        actor=pat,
        place="A-08",
        starts_at=event.starts_at + timedelta(hours=1),
        ends_at=event.starts_at + timedelta(hours=2),
        capacity=3,
    )
    event_transition(event=event, to="open", actor=pat, version=event.version)
    make_enterprise_user(make_enterprise("锦江茶业有限公司", "510104", "MA6100001"), "erin")

    erin = signed_in(browser, base, "erin")
    erin.goto(f"{base}/events/{event.pk}/")
    check(erin, "event-public")
    expect(erin.get_by_text("茶叶智能采摘机")).to_be_visible()
    erin.get_by_role("button", name="预约").click()
    erin.wait_for_url(f"{base}/events/mine/")
    check(erin, "event-mine")
    code = erin.get_by_test_id("checkin-code").inner_text().strip()
    assert code == Booking.objects.get().code and len(code) == 8

    staff = signed_in(browser, base, "pat")
    staff.goto(f"{base}/events/manage/{event.pk}/checkin/")
    check(staff, "event-checkin")
    staff.get_by_label("签到码").fill(code.lower())
    staff.get_by_role("button", name="签到").click()
    expect(staff.get_by_test_id("checked-in")).to_contain_text("Erin")
    check(staff, "event-checked-in")
    staff.get_by_label("签到码").fill(code)
    staff.get_by_role("button", name="签到").click()
    expect(staff.get_by_text("无需重复签到")).to_be_visible()

    staff.goto(f"{base}/events/manage/{event.pk}/")
    staff.locator("[data-move=running]").click()
    expect(staff.get_by_test_id("event-status")).to_have_text("进行中")
    check(staff, "event-manage")
    staff.get_by_role("link", name="登记签约").click()
    check(staff, "event-agreement")
    staff.get_by_label("合同编号").fill("HT-2026-088")
    staff.get_by_label("合同金额（万元）").fill("20")
    staff.get_by_role("button", name="登记").click()
    expect(staff.get_by_text("已登记现场签约。")).to_be_visible()
    assert Agreement.objects.get().contract_number == "HT-2026-088"

    staff.get_by_role("link", name="活动数据").click()
    check(staff, "event-report")
    expect(staff.locator("[data-figure=agreements]")).to_have_text("1")
    expect(staff.locator("[data-figure=meetings]")).to_have_text("1")
    expect(staff.locator("[data-figure=amount]")).to_have_text("20.00")
