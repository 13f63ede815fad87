"""A studio's recognition end to end, in Chromium at phone width: the studio lead applies
(new application form, a PDF attached, submitted); the county recommends; the city endorses;
the province closes the call and assigns reviewers; two reviewers sign in and score; the
province closes scoring and puts the result on notice (公示); once the notice has ended the
result is published and the studio shows its badge. Every page is checked for policy
violations and sideways scrolling.

The fixture prepares, through the services, what the pages start from: the province's open
batch with its criteria, the studio with its track record (two closed, solved cases) and the
two reviewers in the pool. The clock is fixed (time_machine) so the notice can end: 7 days
later the province publishes the result."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from kejiyun.accounts.models import Role, User
from kejiyun.cases.models import Case, DockingRequest, Outcome, Step
from kejiyun.common.levels import Level
from kejiyun.recognition.models import Application, Batch, Programme, ReviewAssignment
from kejiyun.recognition.review.services import ReviewerDetails, reviewer_profile_create
from kejiyun.recognition.services import (
    BatchInput,
    CriterionInput,
    batch_create,
    batch_criteria_replace,
    batch_transition,
)
from kejiyun.regions.models import Region
from kejiyun.talent.models import Team
from tests.builders import PASSWORD, make_case, make_staff, make_worker, pdf_bytes
from tests.e2e.browsing import check, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

START = "2026-05-11 10:00:00+08:00"
AFTER_NOTICE = "2026-05-18 11:00:00+08:00"  # the 7-day notice started on the 11th has ended


def _world() -> tuple[Batch, Team]:
    pat = make_staff("pat", "510000")
    pat.user_permissions.add(
        Permission.objects.get(content_type__app_label="recognition", codename="manage_recognition")
    )
    pat = User.objects.get(pk=pat.pk)
    make_staff("alice", "510104")
    make_staff("bob", "510100")
    lee = make_worker("lee", "510104", "13700002001")
    studio = Team.objects.create(
        kind=Team.Kind.STUDIO, name="茶科创工作室", lead=lee, region_id="510104"
    )
    for serial in ("71", "72"):
        case = make_case(None, serial=serial)
        now = timezone.now()
        Case.objects.filter(pk=case.pk).update(
            step=Step.CLOSED,
            outcome=Outcome.SOLVED,
            contract_number=f"HT-{serial}",
            evidence_sha256="ab" * 32,
            confirmed_at=now,
            rating=5,
            closed_at=now,
        )
        DockingRequest.objects.create(case=case, expert=lee, status=DockingRequest.Status.ACCEPTED)
    for username, name, employer, county in (
        ("zhang", "张建国", "四川大学", "510822"),
        ("chen", "陈明", "西华大学", "511802"),
    ):
        reviewer = User.objects.create_user(
            username=username, password=PASSWORD, display_name=name, role=Role.REVIEWER
        )
        reviewer_profile_create(
            actor=pat,
            user=reviewer,
            details=ReviewerDetails(
                employer=employer,
                organisation=None,
                region=Region.objects.get(code=county),
                title="研究员",
                fields="茶学、植物保护",
                keywords="茶叶、绿色防控",
                expertise="从事茶叶病虫害绿色防控技术推广。",
                load=5,
            ),
        )
    batch = batch_create(
        actor=pat,
        data=BatchInput(
            programme=Programme.STUDIO,
            year=2026,
            name="2026年度典型/精品科创工作室",
            description="各区县组织申报。",
            eligibility="有办结案例的工作室。",
            opens_on=date(2026, 5, 1),
            closes_on=date(2026, 5, 31),
            notice_days=7,
            reviewers_per_application=2,
            min_studio_cases=2,
        ),
    )
    batch_criteria_replace(
        batch=batch,
        actor=pat,
        criteria=[
            CriterionInput(name="服务成效", weight=50),
            CriterionInput(name="创新性", weight=30),
            CriterionInput(name="示范带动", weight=20),
        ],
        version=None,
    )
    batch_transition(batch=batch, to=Batch.Status.OPEN, actor=pat)
    return batch, studio


def _score(browser: Browser, base: str, username: str, title: str, name: str) -> None:
    reviewer = signed_in(browser, base, username)
    reviewer.goto(f"{base}/recognition/review/mine/")
    check(reviewer, f"6-{name}-queue")
    reviewer.get_by_role("link", name=title).click()
    for criterion, weight, score in (
        ("服务成效", 50, "92"),
        ("创新性", 30, "88"),
        ("示范带动", 20, "90"),
    ):
        reviewer.get_by_label(f"{criterion}（权重{weight}）").fill(score)
        reviewer.get_by_label(f"{criterion}评语").fill("服务成效有合同和企业评价佐证。")
    check(reviewer, f"7-{name}-score")
    reviewer.get_by_role("button", name="提交评分").click()
    expect(reviewer.get_by_text("评分已提交。")).to_be_visible()
    check(reviewer, f"8-{name}-scored")


def test_a_studio_is_applied_recommended_endorsed_reviewed_noticed_and_recognised(
    page: Page, browser: Browser, live_server: object
) -> None:
    base = str(live_server)
    title = "茶科创工作室申报精品"
    with time_machine.travel(START, tick=True):
        batch, studio = _world()

        lee = signed_in(browser, base, "lee")
        lee.goto(f"{base}/recognition/batches/{batch.pk}/apply/")
        check(lee, "1-lead-apply")
        lee.get_by_label("申报对象").select_option(label="茶科创工作室")
        lee.get_by_label("申报名称").fill(title)
        lee.get_by_label("申报材料摘要").fill("三年服务茶企二十家，推广茶叶病虫害绿色防控。")
        lee.get_by_label("专业领域").fill("茶叶、绿色防控")
        lee.get_by_label("申报等级").select_option(value=Level.PREMIUM)
        lee.get_by_label("成员及分工").fill("负责人统筹，成员分管植保和加工。")
        lee.get_by_label("服务开展情况").fill("为二十家茶企提供绿色防控服务。")
        lee.get_by_label("服务成效").fill("茶园农药用量下降三成。")
        lee.get_by_role("button", name="保存草稿").click()
        expect(lee.get_by_text("已保存申报草稿，请上传附件后提交。")).to_be_visible()
        lee.get_by_label("附件名称").fill("申报书")
        lee.get_by_label("文件").set_input_files(
            files=[{"name": "申报书.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}]
        )
        lee.get_by_role("button", name="上传附件").click()
        expect(lee.get_by_text("已上传附件。")).to_be_visible()
        check(lee, "2-lead-draft")
        lee.get_by_role("button", name="提交申报").click()
        expect(lee.get_by_text("已提交，等待区县服务中心推荐。")).to_be_visible()
        check(lee, "3-lead-submitted")

        alice = signed_in(browser, base, "alice")
        alice.goto(f"{base}/recognition/queue/")
        check(alice, "4-county-queue")
        alice.get_by_role("link", name=title).click()
        alice.get_by_role("button", name="推荐").click()
        expect(alice.get_by_text("已推荐，等待市州审核。")).to_be_visible()

        bob = signed_in(browser, base, "bob")
        bob.goto(f"{base}/recognition/queue/")
        bob.get_by_role("link", name=title).click()
        check(bob, "5-city-application")
        bob.get_by_role("button", name="审核通过").click()
        expect(bob.get_by_text("已审核通过，报送省级评审。")).to_be_visible()

        pat = signed_in(browser, base, "pat")
        pat.goto(f"{base}/recognition/manage/{batch.pk}/")
        pat.get_by_role("button", name="截止申报，进入评审").click()
        expect(pat.locator('[data-batch-status="review"]')).to_be_visible()
        pat.goto(f"{base}/recognition/review/batches/{batch.pk}/assign/")
        pat.get_by_role("button", name="按专长分配评审专家").click()
        expect(pat.get_by_text("已新分配2人次，1项申报进入专家评审。")).to_be_visible()
        check(pat, "5-province-assigned")

        _score(browser, base, "zhang", title, "zhang")
        _score(browser, base, "chen", title, "chen")

        pat.goto(f"{base}/recognition/review/batches/{batch.pk}/assign/")
        pat.get_by_role("button", name="截止评分并排名").click()
        expect(pat.get_by_text("评分已截止，已计算得分、排名和拟认定等级。")).to_be_visible()
        pat.goto(f"{base}/recognition/manage/{batch.pk}/")
        pat.get_by_role("button", name="公示拟认定名单").click()
        expect(pat.get_by_text("拟认定名单已公示。")).to_be_visible()
        check(pat, "9-province-notice")
        # Publishing before the notice ends is refused on the page.
        pat.get_by_role("button", name="发布认定结果").click()
        expect(pat.get_by_text("结束前不能发布结果")).to_be_visible()

        lee.goto(f"{base}/recognition/batches/{batch.pk}/notice/")
        expect(lee.get_by_role("cell", name=title)).to_be_visible()
        check(lee, "10-public-notice")

    with time_machine.travel(AFTER_NOTICE, tick=True):
        pat = signed_in(browser, base, "pat")
        pat.goto(f"{base}/recognition/manage/{batch.pk}/")
        pat.get_by_role("button", name="发布认定结果").click()
        expect(pat.get_by_text("已发布认定结果。")).to_be_visible()
        check(pat, "11-province-final")

        lee = signed_in(browser, base, "lee")
        lee.goto(f"{base}/recognition/batches/{batch.pk}/results/")
        expect(lee.locator('[data-level="premium"]')).to_have_count(1)
        check(lee, "12-results")
        lee.goto(f"{base}/talent/me/teams/")
        expect(lee.get_by_test_id("recognition-badge")).to_have_text("精品工作室（2026年度）")
        check(lee, "13-lead-studios")
        lee.goto(f"{base}/talent/?level=premium")
        expect(lee.get_by_test_id("recognition-badge")).to_have_text("精品工作室（2026年度）")
        check(lee, "14-directory")

    application = Application.objects.get()
    assert (application.status, application.final_level) == ("recognised", Level.PREMIUM)
    assert ReviewAssignment.objects.filter(submitted_at__isnull=False).count() == 2
    studio.refresh_from_db()
    assert (studio.recognition_level, studio.recognised_year) == (Level.PREMIUM, 2026)
