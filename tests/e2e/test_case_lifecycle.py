"""一单一策 end to end in Chromium: an enterprise publishes a demand, staff accept it, the case
goes through every step (with a docking request sent to a matched expert), and the enterprise
confirms the outcome and rates the service; both timelines show each event."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kejiyun.accounts.models import Role, User
from kejiyun.cases.models import Case, DockingRequest, Step
from kejiyun.demands.models import Demand
from kejiyun.talent.models import TalentProfile
from kejiyun.talent.services import industries_load
from tests.builders import PASSWORD, make_enterprise, make_staff, pdf_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Browser contexts opened by the test, closed before the live server goes away."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def sign_in(browser: Browser, base: str, login: str, opened: list[BrowserContext]) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    opened.append(context)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(login)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


def move_to(page: Page, step: str) -> None:
    page.get_by_role("button", name=f"转入“{step}”").click()
    expect(page.get_by_test_id("step")).to_have_text(step)


def test_a_demand_goes_from_publication_to_a_rated_outcome_in_the_browser(
    page: Page,
    browser: Browser,
    live_server: object,
    tmp_path: Path,
    contexts: list[BrowserContext],
) -> None:
    base = str(live_server)
    industries_load()  # a transactional test starts empty; the demand form picks an industry
    org = make_enterprise("锦江茶业有限公司", "510104", "MA6100001")
    User.objects.create_user(
        username="erin",
        password=PASSWORD,
        display_name="陈经理",
        mobile="13900001111",
        role=Role.ENTERPRISE,
        organisation=org,
        region_id="510104",
    )
    make_staff("alice", "510104")
    expert_user = User.objects.create_user(
        username="tina",
        password=PASSWORD,
        display_name="唐茶",
        mobile="13900002222",
        role=Role.WORKER,
        region_id="510104",
    )
    tina = TalentProfile.objects.create(
        user=expert_user,
        region_id="510104",
        employer="四川农业大学",
        title="研究员",
        fields="茶学、植物保护",
        keywords="茶叶、绿色防控、茶小绿叶蝉",
        capability="长期从事茶园病虫害绿色防控技术研究与推广。",
        verified=True,
    )

    # The enterprise publishes a demand with the guidance filled in.
    erin = page
    erin.goto(f"{base}/accounts/login/")
    erin.get_by_label("手机号或用户名").fill("erin")
    erin.get_by_label("密码").fill(PASSWORD)
    erin.get_by_role("button", name="登录").click()
    erin.get_by_role("link", name="发布需求").click()
    erin.get_by_label("需求名称").fill("茶园茶小绿叶蝉绿色防控")
    erin.get_by_label("需求类别").select_option("problem")
    # 茶叶种植 (0164), found in the industry tree by its Chinese name.
    erin.get_by_label("所属行业", exact=True).fill("茶叶种植")
    erin.get_by_role("button", name=re.compile("^茶叶种植")).click()
    erin.get_by_label("需求描述").fill(
        "公司在锦江区有三百亩茶园，近两年茶小绿叶蝉危害加重，化学农药用量上升，"
        "出口检测压力大，希望找到绿色防控的办法。"
    )
    erin.get_by_label("要解决的问题").fill("茶小绿叶蝉危害严重，春茶受害芽梢比例超过两成")
    erin.get_by_label("目前现状").fill("每年喷施化学农药四到五次，效果逐年下降，残留风险高")
    erin.get_by_label("目标指标").fill("两年内受害芽梢比例降到百分之五以下，化学农药用量减半")
    erin.get_by_role("button", name="提交审核").click()
    expect(erin.get_by_text("待审核").first).to_be_visible()
    demand = Demand.objects.get(title="茶园茶小绿叶蝉绿色防控")
    assert demand.status == Demand.Status.SUBMITTED

    # County staff accept it: the case opens at their centre, owned by them.
    alice = sign_in(browser, base, "alice", contexts)
    alice.goto(f"{base}/demands/staff/review/")
    alice.get_by_role("link", name="茶园茶小绿叶蝉绿色防控").click()
    alice.get_by_role("button", name="受理").click()
    expect(alice.get_by_test_id("step")).to_have_text("受理")
    case = Case.objects.get(demand=demand)
    assert case.owner.username == "alice"  # type: ignore[union-attr]

    move_to(alice, "需求诊断")
    move_to(alice, "匹配")
    # The matched expert is listed with reasons; staff send a docking request.
    experts = alice.get_by_test_id("matched-experts")
    row = experts.locator(f'[data-expert="{tina.pk}"]')
    expect(row).to_contain_text("唐茶")
    expect(row.locator(".reasons")).to_contain_text("命中词")
    expect(row.locator(".reasons")).to_contain_text("本县")
    row.get_by_role("button", name="发送对接请求").click()
    expect(alice.get_by_test_id("step")).to_have_text("对接")
    expect(alice.get_by_test_id("timeline")).to_contain_text("向 唐茶（四川农业大学）发送对接请求")
    assert DockingRequest.objects.get(case=case).expert == tina

    # The expert accepts in their own browser.
    expert = sign_in(browser, base, "tina", contexts)
    expert.goto(f"{base}/cases/dockings/")
    expert.get_by_role("link", name="茶园茶小绿叶蝉绿色防控").click()
    # "Why you were invited" loads after the page and pushes the form down: wait for it, so
    # the click lands on the radio and not where the radio was (a flake under load).
    expect(expert.get_by_test_id("why-matched")).to_be_visible()
    expert.get_by_label("接受").check()
    expert.get_by_role("button", name="提交答复").click()
    expect(expert.get_by_text("已接受")).to_be_visible()

    alice.reload()
    expect(alice.get_by_test_id("timeline")).to_contain_text("唐茶接受了对接请求")
    move_to(alice, "签约")
    move_to(alice, "实施")
    # Pause while waiting on the enterprise, then resume.
    alice.get_by_placeholder("等待企业的事项").fill("等企业提供茶园虫情记录")
    alice.get_by_role("button", name="暂停计时").click()
    expect(alice.get_by_text("暂停计时").first).to_be_visible()
    alice.get_by_role("button", name="恢复计时").click()
    # Record the outcome with evidence and send it to acceptance.
    evidence = tmp_path / "contract.pdf"
    evidence.write_bytes(pdf_bytes())
    form = alice.get_by_test_id("outcome-form")
    form.get_by_label("已解决").check()
    form.get_by_label("合同编号").fill("JJ-2026-018")
    form.get_by_label("合同金额（万元）").fill("18.5")
    form.get_by_label("佐证材料").set_input_files(str(evidence))
    form.get_by_role("button", name="提交验收").click()
    expect(alice.get_by_test_id("step")).to_have_text("验收评价")

    # The enterprise confirms the outcome and rates the service.
    erin.goto(f"{base}/dashboard/")
    erin.get_by_role("link", name="茶园茶小绿叶蝉绿色防控").first.click()
    expect(erin.get_by_test_id("outcome")).to_contain_text("JJ-2026-018")
    confirm = erin.get_by_test_id("confirm-form")
    # No score is chosen in advance: the enterprise picks one.
    assert confirm.locator("input[name=rating]:checked").count() == 0
    expect(erin.get_by_test_id("helpers")).to_contain_text("唐茶")
    confirm.get_by_label("5 分").check()
    confirm.get_by_label("评价").fill("专家两次到茶园指导，效果明显")
    confirm.get_by_role("button", name="确认并办结").click()
    expect(erin.get_by_test_id("step")).to_have_text("已办结")
    timeline = erin.get_by_test_id("timeline")
    for label in ("立案", "需求诊断", "匹配", "对接", "签约", "实施", "验收评价", "已办结"):
        expect(timeline).to_contain_text(label)
    expect(timeline).to_contain_text("评分 5/5")

    case.refresh_from_db()
    assert (case.step, case.outcome, case.rating) == (Step.CLOSED, "solved", 5)
    kinds = list(case.events.values_list("kind", flat=True))
    # intake→diagnosis→matching→docking (by the request)→agreement→delivery, acceptance→closed;
    # delivery→acceptance is the outcome event.
    assert kinds.count("transition") == 6
    assert {
        "opened",
        "docking",
        "docking_reply",
        "paused",
        "resumed",
        "outcome",
        "confirmed",
    } <= set(kinds)
    alice.reload()
    staff_timeline = alice.get_by_test_id("timeline")
    expect(staff_timeline).to_contain_text("企业确认")
    expect(staff_timeline).to_contain_text("暂停计时")
    assert Demand.objects.get(pk=demand.pk).status == Demand.Status.CLOSED
