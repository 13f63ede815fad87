"""The demand hall in Chromium: an S&T worker searches for 泡菜, opens the demand, sees why it
was recommended and applies for its docking (申请对接); the case owner, in another browser
context, approves the application and the docking appears on the case timeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kejiyun.accounts.models import Role, User
from kejiyun.cases.models import Case, DockingRequest, Step
from kejiyun.cases.workflow.services import case_open
from kejiyun.talent.models import TalentProfile
from tests.builders import PASSWORD, case_to_matching, make_demand, make_enterprise, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MESSAGE = "我做过十年泡菜发酵与包装工艺，可以帮助分析胀袋原因并改进杀菌工艺。"


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def sign_in(page: Page, base: str, login: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(login)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_a_worker_finds_a_pickle_demand_applies_and_the_owner_approves_it(
    page: Page, browser: Browser, live_server: object, contexts: list[BrowserContext]
) -> None:
    base = str(live_server)
    alice = make_staff("alice", "510104")
    pickles = make_enterprise("锦江泡菜食品有限公司", "510104", "MA6100003")
    demand = make_demand(
        pickles,
        title="泡菜包装后胀袋问题",
        description="袋装泡菜夏季常温运输中胀袋，退货率高，希望找到原因并改进工艺。",
        problem="常温流通七天内胀袋率约百分之八",
        current_state="巴氏杀菌后直接装袋，未控制残氧",
        target_indicators="胀袋率降到千分之五以下",
        industry="食品制造",
    )
    make_demand(pickles, title="茶叶烘干设备改造", description="烘干机热效率低。", industry="茶叶")
    case = case_to_matching(case_open(demand=demand, actor=alice), alice)
    worker = User.objects.create_user(
        username="wang",
        password=PASSWORD,
        display_name="王发酵",
        mobile="13900003333",
        role=Role.WORKER,
        region_id="510104",
    )
    TalentProfile.objects.create(
        user=worker,
        region_id="510104",
        employer="四川旅游学院",
        title="教授",
        fields="食品科学、发酵工程",
        keywords="泡菜、乳酸菌发酵、包装杀菌、胀袋",
        capability="长期研究四川泡菜发酵与包装杀菌工艺，解决过多家企业的胀袋问题。",
        verified=True,
    )

    # The worker searches the hall (at phone width) and opens the demand.
    sign_in(page, base, "wang")
    page.goto(f"{base}/demands/")
    expect(page.get_by_test_id("hall-list")).to_contain_text("茶叶烘干设备改造")
    page.get_by_role("searchbox").fill("泡菜")
    page.get_by_role("button", name="搜索").click()
    hall = page.get_by_test_id("hall-list")
    expect(hall).to_contain_text("泡菜包装后胀袋问题")
    expect(hall).not_to_contain_text("茶叶烘干设备改造")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    hall.get_by_role("link", name="泡菜包装后胀袋问题").click()
    expect(page.get_by_test_id("demand")).to_contain_text("巴氏杀菌后直接装袋，未控制残氧")

    # Why it was recommended, then the application.
    for_me = page.get_by_test_id("for-me")
    expect(for_me).to_contain_text("为您推荐的理由")
    expect(for_me.locator(".reasons")).to_contain_text("泡菜")
    for_me.get_by_label("申请留言").fill(MESSAGE)
    for_me.get_by_role("button", name="申请对接").click()
    expect(page.get_by_text("申请已提交，服务中心审核后会通知您。")).to_be_visible()
    expect(page.get_by_test_id("my-docking")).to_contain_text("申请待审核")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    docking = DockingRequest.objects.get(case=case)
    assert (docking.origin, docking.status, docking.message) == ("worker", "applied", MESSAGE)

    # The owner, in a browser context of their own, approves it on the case page.
    owner_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    contexts.append(owner_context)
    owner_context.set_default_timeout(15_000)
    owner = owner_context.new_page()
    sign_in(owner, base, "alice")
    owner.goto(f"{base}/cases/{case.pk}/")
    pending = owner.get_by_test_id("pending-dockings")
    expect(pending).to_contain_text("王发酵")
    expect(pending).to_contain_text(MESSAGE)
    pending.get_by_role("button", name="批准申请").click()
    expect(owner.get_by_text("已安排 王发酵 对接。")).to_be_visible()
    expect(owner.get_by_test_id("step")).to_have_text("对接")
    timeline = owner.get_by_test_id("timeline")
    expect(timeline).to_contain_text("王发酵（四川旅游学院）申请对接")
    expect(timeline).to_contain_text("批准 王发酵（四川旅游学院） 的对接申请，对接已确认")
    expect(owner.get_by_test_id("pending-dockings")).to_have_count(0)

    docking.refresh_from_db()
    assert docking.status == DockingRequest.Status.ACCEPTED
    assert Case.objects.get(pk=case.pk).step == Step.DOCKING
    # The worker's page now says the application was approved.
    page.reload()
    expect(page.get_by_test_id("my-docking")).to_contain_text("已接受")
