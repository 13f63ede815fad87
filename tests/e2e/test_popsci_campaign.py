"""精准科普 end to end: author, review, target, send, read, answer — in Chromium."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kejiyun.notifications.models import InboxItem
from kejiyun.popsci.models import Article, Delivery, QuizAttempt
from tests.builders import PASSWORD, make_citizen, make_reviewer, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "水稻病虫害绿色防控要点"


OPEN_CONTEXTS: list[BrowserContext] = []


@pytest.fixture(autouse=True)
def _close_contexts() -> Iterator[None]:
    """Close every signed-in browser before the live server stops."""
    yield
    while OPEN_CONTEXTS:
        OPEN_CONTEXTS.pop().close()


def signed_in(browser: Browser, base: str, username: str) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    OPEN_CONTEXTS.append(context)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("link", name="工作台", exact=True)).to_be_visible()
    return page


def test_staff_target_farmers_in_one_county_and_only_consenting_farmers_there_receive_it(
    page: Page, browser: Browser, live_server: object
) -> None:
    base = str(live_server)
    make_staff("alice", "510104")
    make_reviewer("rita")
    # Fang lives in a township of 锦江区; the campaign's deliveries name her profile.
    fang = make_citizen("fang", "510104017", mobile="13600000001").citizen_profile
    hu = make_citizen("hu", "510104", mobile="13600000002")  # 锦江区; will withdraw consent
    gao = make_citizen("gao", "510822", mobile="13600000003")  # 青川县, another county

    # Hu withdraws consent with one click.
    hu_page = signed_in(browser, base, "hu")
    hu_page.goto(f"{base}/popsci/me/")
    hu_page.get_by_role("button", name="一键撤回授权").click()
    expect(hu_page.get_by_role("button", name="同意接收精准推送")).to_be_visible()

    # Alice writes an article with a quiz and submits it for science review.
    alice = signed_in(browser, base, "alice")
    alice.goto(f"{base}/popsci/manage/new/")
    alice.locator("[name='title']").fill(TITLE)
    alice.get_by_label("主题").select_option("agriculture")
    alice.get_by_label("正文").fill(
        "稻飞虱、二化螟在分蘖期危害最重。优先采用灯光诱杀和性诱剂，必要时再选用低毒药剂。"
    )
    alice.get_by_label("农民").check()
    alice.locator("[name='q-0-text']").fill("防治稻飞虱应优先采用哪种方法？")
    alice.locator("[name='q-0-options']").fill("大量喷洒高毒农药\n灯光诱杀和性诱剂")
    alice.locator("[name='q-0-answer']").fill("2")
    alice.get_by_label("适用地区：乡镇（街道）").select_option("510104")
    alice.get_by_role("button", name="保存草稿").click()
    alice.get_by_role("button", name="提交审核").click()
    article = Article.objects.get(title=TITLE)
    assert article.status == Article.Status.IN_REVIEW
    # Unreviewed content is never shown to the public.
    assert hu_page.goto(f"{base}/popsci/read/{article.id}/").status == 404

    # Rita reviews it.
    rita = signed_in(browser, base, "rita")
    rita.goto(f"{base}/popsci/review/")
    rita.get_by_role("link", name=TITLE).click()
    rita.get_by_label("通过并发布").check()
    rita.get_by_role("button", name="提交审核结论").click()
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED

    # Alice builds a campaign for farmers in 锦江区, sees the audience size, sends it.
    alice.goto(f"{base}/popsci/campaigns/new/")
    alice.get_by_label("推送名称").fill("锦江区稻农病虫害防控推送")
    alice.get_by_label("推送内容（仅已审核发布）").select_option(label=TITLE)
    alice.get_by_label("目标地区：乡镇（街道）").select_option("510104")
    alice.get_by_label("农民").check()
    alice.get_by_role("button", name="预估受众").click()
    expect(alice.locator("[data-audience-size]")).to_have_attribute("data-audience-size", "1")
    alice.get_by_role("button", name="创建推送").click()
    alice.get_by_role("button", name="立即发送").click()
    assert list(Delivery.objects.values_list("citizen_id", flat=True)) == [fang.pk]
    assert InboxItem.objects.filter(user=gao).count() == 0
    assert InboxItem.objects.filter(user=hu).count() == 0

    # Fang finds it in the feed, reads it to the end and answers the quiz.
    fang_page = signed_in(browser, base, "fang")
    fang_page.goto(f"{base}/popsci/feed/")
    fang_page.get_by_role("link", name=TITLE).click()
    fang_page.get_by_role("button", name="我已读完").click()
    fang_page.get_by_label("灯光诱杀和性诱剂").check()
    fang_page.get_by_role("button", name="提交答案").click()
    expect(fang_page.locator("[data-result='after']")).to_contain_text("答对 1/1")
    delivery = Delivery.objects.get(citizen=fang)
    assert delivery.opened_at is not None
    assert delivery.read_to_end_at is not None
    attempt = QuizAttempt.objects.get(user=fang.user)
    assert (attempt.correct, attempt.total) == (1, 1)
    assert InboxItem.objects.filter(user=fang.user).count() == 1
