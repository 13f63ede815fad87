"""A docking event end to end, in Chromium at phone width: an enterprise user books a slot at
the province's service conference and sees the check-in code; province staff check them in
by that code, start the event, record the agreement signed on site, and the event's report
counts one agreement. Every page is checked for policy violations and sideways scrolling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from kejiyun.events.models import Agreement, Booking
from kejiyun.events.services import (
    event_transition,
    exhibit_decide,
    exhibit_nominate,
    slot_create,
)
from kejiyun.talent.models import TechResult
from tests.builders import (
    make_enterprise,
    make_enterprise_user,
    make_event,
    make_staff,
    make_worker,
)
from tests.e2e.browsing import check, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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
