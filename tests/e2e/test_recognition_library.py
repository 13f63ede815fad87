"""The case library end to end, in Chromium at phone width: the enterprise reads what would be
shown and consents on its case page; anyone finds the case in the library by region and
text and opens it (no contract, no rating comment); the enterprise withdraws and the case
is gone. Every page is checked for policy violations and sideways scrolling."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from kejiyun.cases.models import Case, Step
from kejiyun.cases.workflow.services import (
    OutcomeInput,
    case_confirm,
    case_open,
    case_outcome_record,
    case_transition,
)
from kejiyun.common.levels import Level
from tests.builders import (
    make_demand,
    make_enterprise,
    make_enterprise_user,
    make_staff,
    pdf_upload,
)
from tests.e2e.browsing import check, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_enterprise_consents_anyone_finds_the_case_and_withdrawal_removes_it(
    page: Page, browser: Browser, live_server: object
) -> None:
    base = str(live_server)
    alice = make_staff("alice", "510104")
    organisation = make_enterprise("蒲江云雾茶业有限公司", "510104", "1")
    erin = make_enterprise_user(organisation, "erin")
    demand = make_demand(
        organisation,
        title="茶园病虫害绿色防控",
        description="茶园病虫害加重，希望减少农药用量。",
        industry="茶叶种植",
        created_by=erin,
    )
    case = case_open(demand=demand, actor=alice)
    for step in (Step.DIAGNOSIS, Step.MATCHING, Step.DOCKING, Step.AGREEMENT, Step.DELIVERY):
        reason = "企业自行找到合作方" if step == Step.AGREEMENT else ""
        case_transition(case=case, to_step=step, actor=alice, reason=reason)
    outcome = OutcomeInput(
        solved=True,
        contract_number="HT-2026-777",
        contract_amount=Decimal("15"),
        evidence=pdf_upload(),
    )
    case_outcome_record(case=case, outcome=outcome, actor=alice)
    case_confirm(case=case, actor=erin, rating=5, comment="王工很负责")
    Case.objects.filter(pk=case.pk).update(recognition_level=Level.TYPICAL, recognised_year=2026)

    enterprise = signed_in(browser, base, "erin")
    enterprise.goto(f"{base}/cases/mine/{case.pk}/")
    card = enterprise.get_by_test_id("library-consent")
    expect(card).to_contain_text("案例入库展示")
    expect(card).to_contain_text("合同编号和金额")
    expect(enterprise.get_by_test_id("recognition-badge").first).to_have_text(
        "典型案例（2026年度）"
    )
    check(enterprise, "enterprise case page")
    card.get_by_role("button", name="同意入库展示").click()
    expect(enterprise.get_by_text("已同意本案例入库展示。")).to_be_visible()
    check(enterprise, "enterprise consented")

    anyone = signed_in(browser, base)
    anyone.goto(f"{base}/recognition/library/")
    anyone.get_by_label("市（州）").select_option(label="成都市")
    anyone.get_by_role("button", name="搜索").click()
    anyone.get_by_label("区县").select_option(label="锦江区")
    anyone.get_by_label("搜索案例").fill("茶园 防控")
    anyone.get_by_role("button", name="搜索").click()
    expect(anyone.get_by_test_id("library-count")).to_have_text("共 1 个案例")
    check(anyone, "library searched")
    anyone.get_by_role("link", name="茶园病虫害绿色防控").click()
    detail = anyone.get_by_test_id("library-case")
    expect(detail).to_contain_text("蒲江云雾茶业有限公司")
    expect(detail).to_contain_text("满意度 5/5")
    body = anyone.locator("body")
    expect(body).not_to_contain_text("HT-2026-777")
    expect(body).not_to_contain_text("王工很负责")
    check(anyone, "library detail")

    enterprise.get_by_role("button", name="撤回授权").click()
    expect(enterprise.get_by_text("已撤回授权，本案例不再在案例库展示。")).to_be_visible()
    anyone.goto(f"{base}/recognition/library/")
    expect(anyone.get_by_test_id("library-count")).to_have_text("共 0 个案例")
    response = anyone.goto(f"{base}/recognition/library/{case.pk}/")
    assert response is not None and response.status == 404
