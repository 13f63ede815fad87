"""Half-year work reports (工作汇报): filing, submission, return, resubmission, acceptance;
an accepted report is final (service and page, any field; a refused request changes
nothing); the figures come from the rollups and the filer cannot change them; only the
filing centre and the level above see a report; reminders go out once per centre and stage.

Alice files for 锦江区 (county, 510104); Bob reviews at 成都市 (510100); Pat is at the
province; Charlie is in 青川县 (another city's county); Dave files for 武侯区 (510107, the
same city as Alice); Gina is staff of 广元市 (510800), a city that is not Alice's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection, connections
from django.template.loader import render_to_string

from kejiyun.accounts.models import User
from kejiyun.common.errors import NotPermitted
from kejiyun.notifications.models import OutboxMessage
from kejiyun.ops.models import ReportComment, ReportEvent, Rollup, WorkReport
from kejiyun.ops.periods import Period
from kejiyun.ops.reports import views as report_views
from kejiyun.ops.reports.selectors import (
    report_due_on,
    report_lines,
    report_summary,
    reports_for,
    reports_visible,
)
from kejiyun.ops.reports.services import (
    ReportError,
    Sections,
    StaleReport,
    report_accept,
    report_comment,
    report_create,
    report_return,
    report_submit,
    report_transition,
    report_update,
)
from kejiyun.ops.reports.tasks import remind_work_reports
from kejiyun.ops.rollups import rollup_areas_refresh
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.regions.services import regions_load, service_centres_ensure
from tests.builders import client_for, make_staff, make_superuser

pytestmark = pytest.mark.django_db

# Early July 2026, Beijing time: the first half of 2026 has ended, its report is due on
# 15 July (OPS_REPORT_DUE_DAYS = 15).
JULY = "2026-07-03 10:00:00+08:00"
THREADS = 12
FULL = Sections(
    achievements="完成企业需求对接 12 项。",
    difficulties="基层服务人员不足。",
    plans="下半年开展专家服务月活动。",
)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(JULY, tick=False) as clock:
        yield clock


@pytest.fixture
def dave(db: None) -> User:
    return make_staff("dave", "510107")


@pytest.fixture
def gina(db: None) -> User:
    return make_staff("gina", "510800")


def centre_of(code: str) -> ServiceCentre:
    return ServiceCentre.objects.select_related("region").get(region_id=code)


def rollup(code: str, month: date, indicator: str, num: str, den: int = 0) -> Rollup:
    """A month row of the centre of `code` (month rows are what a half-year reads)."""
    centre = centre_of(code)
    row = Rollup.objects.create(
        grain=Rollup.Grain.MONTH,
        start=month,
        indicator=indicator,
        centre=centre,
        path=centre.region.path,
        num=Decimal(num),
        den=den,
    )
    rollup_areas_refresh(month=month)
    return row


def snapshot(report: WorkReport) -> dict[str, Any]:
    """Everything about a report a refused request must leave as it was."""
    row = WorkReport.objects.filter(pk=report.pk).values().get()
    return {
        "row": row,
        "events": list(ReportEvent.objects.filter(report=report).values_list("id", flat=True)),
        "comments": list(ReportComment.objects.filter(report=report).values_list("id", "body")),
        "outbox": OutboxMessage.objects.count(),
    }


def make_accepted(alice: User, bob: User) -> WorkReport:
    report = report_create(actor=alice, year=2026, half=1)
    report_update(report=report, actor=alice, version=report.version, sections=FULL, submit=True)
    report_comment(report=report, actor=bob, body="请补充典型案例。")
    return report_accept(report=report, actor=bob, version=report.version)


def events_of(report: WorkReport) -> list[tuple[str, str, str]]:
    return list(
        ReportEvent.objects.filter(report=report)
        .order_by("id")
        .values_list("from_status", "to_status", "actor__username")
    )


# --- Filing and the workflow ---------------------------------------------------------------


def test_a_county_report_is_filed_submitted_returned_resubmitted_and_accepted_through_the_pages(
    alice: User, bob: User
) -> None:
    as_alice, as_bob = client_for(alice), client_for(bob)

    response = as_alice.post("/ops/reports/new/", {"period": "2026H1"})
    report = WorkReport.objects.get(centre=centre_of("510104"), year=2026, half=1)
    assert response.status_code == 302
    assert response["Location"] == f"/ops/reports/{report.pk}/edit/"
    assert (report.status, report.author, report.due_on) == ("draft", alice, date(2026, 7, 15))

    response = as_alice.post(
        f"/ops/reports/{report.pk}/edit/",
        {"version": report.version, "achievements": "初稿", "save": ""},
    )
    report.refresh_from_db()
    assert response.status_code == 302
    assert (report.status, report.achievements, report.plans) == ("draft", "初稿", "")

    response = as_alice.post(
        f"/ops/reports/{report.pk}/edit/",
        {"version": report.version, **FULL.as_fields(), "submit": ""},
    )
    report.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/ops/reports/{report.pk}/"
    assert report.status == "submitted"
    assert report.submitted_at is not None
    assert report.achievements == FULL.achievements

    response = as_bob.post(
        f"/ops/reports/{report.pk}/return/",
        {"version": report.version, "reason": "请补充下半年的具体措施。"},
    )
    report.refresh_from_db()
    assert response.status_code == 302
    assert (report.status, report.reviewed_by) == ("returned", bob)
    page = as_alice.get(f"/ops/reports/{report.pk}/").content.decode()
    assert "退回原因：请补充下半年的具体措施。" in page

    response = as_bob.post(f"/ops/reports/{report.pk}/comment/", {"body": "措施要量化。"})
    assert response.status_code == 302
    assert list(report.comments.values_list("body", "author__username")) == [
        ("措施要量化。", "bob")
    ]

    response = as_alice.post(
        f"/ops/reports/{report.pk}/edit/",
        {
            "version": report.version,
            **FULL.as_fields(),
            "plans": "每月两次专家服务。",
            "submit": "",
        },
    )
    report.refresh_from_db()
    assert response.status_code == 302
    assert (report.status, report.plans) == ("submitted", "每月两次专家服务。")

    response = as_bob.post(f"/ops/reports/{report.pk}/accept/", {"version": report.version})
    report.refresh_from_db()
    assert response.status_code == 302
    assert report.status == "accepted"
    assert report.accepted_at is not None
    assert report.reviewed_by == bob
    assert events_of(report) == [
        ("", "draft", "alice"),
        ("draft", "submitted", "alice"),
        ("submitted", "returned", "bob"),
        ("returned", "submitted", "alice"),
        ("submitted", "accepted", "bob"),
    ]
    returned = ReportEvent.objects.get(report=report, to_status="returned")
    assert returned.reason == "请补充下半年的具体措施。"


def test_a_city_centre_files_its_own_report_and_the_province_reviews_it(
    bob: User, pat: User
) -> None:
    report = report_create(actor=bob, year=2026, half=1)
    report_update(report=report, actor=bob, version=report.version, sections=FULL, submit=True)

    report_accept(report=report, actor=pat, version=report.version)

    report.refresh_from_db()
    assert (report.centre.region_id, report.status, report.reviewed_by) == (
        "510100",
        "accepted",
        pat,
    )


def test_submission_tells_the_reviewers_and_a_return_tells_the_filers(
    alice: User, bob: User
) -> None:
    report = report_create(actor=alice, year=2026, half=1)
    report_update(report=report, actor=alice, version=report.version, sections=FULL, submit=True)
    report_return(report=report, actor=bob, version=report.version, reason="请补充数据说明。")

    sent = list(
        OutboxMessage.objects.filter(source="ops_report")
        .order_by("id")
        .values_list("recipient__username", "title", "url")
    )
    url = f"/ops/reports/{report.pk}/"
    assert sent == [
        ("bob", "锦江区科技服务中心2026年上半年工作汇报已提交，请审阅", url),
        ("alice", "锦江区科技服务中心2026年上半年工作汇报被退回修改", url),
    ]


def test_a_submission_without_every_section_is_refused_and_keeps_the_text_typed(
    alice: User,
) -> None:
    report = report_create(actor=alice, year=2026, half=1)
    before = snapshot(report)

    response = client_for(alice).post(
        f"/ops/reports/{report.pk}/edit/",
        {
            "version": report.version,
            "achievements": "完成需求对接 12 项。",
            "difficulties": "",
            "plans": "  ",
            "submit": "",
        },
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "提交前请填写“存在的困难问题”。" in page
    assert "提交前请填写“下半年工作安排”。" in page
    assert "完成需求对接 12 项。</textarea>" in page
    assert snapshot(report) == before


def test_a_section_longer_than_the_limit_is_refused_with_a_chinese_message(alice: User) -> None:
    report = report_create(actor=alice, year=2026, half=1)
    before = snapshot(report)

    response = client_for(alice).post(
        f"/ops/reports/{report.pk}/edit/",
        {"version": report.version, "achievements": "字" * 5001, "save": ""},
    )

    assert response.status_code == 400
    assert "“主要工作成效”不能超过5000个字（现有5001个字）。" in response.content.decode()
    assert snapshot(report) == before
    with pytest.raises(ReportError) as refused:
        report_update(
            report=report,
            actor=alice,
            version=report.version,
            sections=Sections(achievements="字" * 5001),
        )
    assert refused.value.message_dict == {
        "achievements": ["“主要工作成效”不能超过5000个字（现有5001个字）。"]
    }
    assert snapshot(report) == before


def test_reports_can_be_started_only_for_the_current_or_previous_half_year_once(
    alice: User, pat: User
) -> None:
    response = client_for(alice).post("/ops/reports/new/", {"period": "2025H1"})
    assert response.status_code == 400
    assert "只能填报本半年或上一个半年的工作汇报。" in response.content.decode()
    with pytest.raises(ReportError) as refused:
        report_create(actor=alice, year=2025, half=2)
    assert refused.value.messages == ["只能填报本半年或上一个半年的工作汇报。"]

    report_create(actor=alice, year=2026, half=1)
    report_create(actor=alice, year=2026, half=2)
    with pytest.raises(ReportError) as twice:
        report_create(actor=alice, year=2026, half=1)
    assert twice.value.messages == ["本中心该半年的工作汇报已经存在。"]

    with pytest.raises(NotPermitted):
        report_create(actor=pat, year=2026, half=1)
    both_started = client_for(alice).get("/ops/reports/new/")
    assert (both_started.status_code, both_started["Location"]) == (302, "/ops/reports/")
    assert WorkReport.objects.count() == 2


def test_the_workflow_table_refuses_moves_it_does_not_list_and_changes_nothing(
    alice: User, bob: User
) -> None:
    report = report_create(actor=alice, year=2026, half=1)
    before = snapshot(report)

    with pytest.raises(ReportError) as refused:
        report_accept(report=report, actor=bob, version=report.version)
    assert refused.value.messages == ["不能把“草稿”的工作汇报改为“已通过”。"]
    with pytest.raises(ReportError):
        report_return(report=report, actor=bob, version=report.version, reason="原因")

    report_update(report=report, actor=alice, version=report.version, sections=FULL, submit=True)
    with pytest.raises(NotPermitted):  # the filer cannot accept her own report
        report_accept(report=report, actor=alice, version=report.version)
    with pytest.raises(ReportError) as no_reason:
        report_return(report=report, actor=bob, version=report.version, reason="  ")
    assert no_reason.value.message_dict == {"reason": ["请填写退回原因。"]}
    with pytest.raises(ReportError) as editing:
        report_update(report=report, actor=alice, version=report.version, sections=FULL)
    assert editing.value.messages == ["工作汇报已提交，正在审阅中，不能修改。"]
    assert before["row"]["status"] == "draft"
    assert WorkReport.objects.get(pk=report.pk).status == "submitted"
    assert events_of(report) == [("", "draft", "alice"), ("draft", "submitted", "alice")]


def test_an_edit_from_a_page_read_before_another_change_is_refused_as_stale(
    alice: User, bob: User
) -> None:
    report = report_create(actor=alice, year=2026, half=1)
    seen = report.version
    report_update(report=report, actor=alice, version=seen, sections=Sections(achievements="甲"))
    before = snapshot(report)

    with pytest.raises(StaleReport):
        report_update(report=report, actor=alice, version=seen, sections=Sections(plans="乙"))
    response = client_for(alice).post(
        f"/ops/reports/{report.pk}/edit/", {"version": seen, "plans": "乙", "save": ""}
    )

    page = response.content.decode()
    assert response.status_code == 409
    assert "该工作汇报已被他人修改或审阅，请刷新后再试。" in page
    assert "乙</textarea>" in page  # what was typed is kept, with the version now current
    assert f'name="version" value="{seen + 1}"' in page
    assert snapshot(report) == before


# --- Final once accepted ------------------------------------------------------------------


def test_an_accepted_report_cannot_be_changed_by_any_service_and_nothing_changes(
    alice: User, bob: User
) -> None:
    report = make_accepted(alice, bob)
    before = snapshot(report)
    fresh = WorkReport.objects.get(pk=report.pk)

    for name in ("achievements", "difficulties", "plans"):
        with pytest.raises(ReportError) as refused:
            report_update(
                report=fresh,
                actor=alice,
                version=fresh.version,
                sections=Sections(**{**FULL.as_fields(), name: "改过的内容"}),
            )
        assert refused.value.messages == ["工作汇报已通过审阅，不能再修改。"]
    attempts: list[Callable[[], object]] = [
        lambda: report_submit(report=fresh, actor=alice, version=fresh.version),
        lambda: report_update(
            report=fresh, actor=alice, version=fresh.version, sections=FULL, submit=True
        ),
        lambda: report_return(report=fresh, actor=bob, version=fresh.version, reason="再改"),
        lambda: report_accept(report=fresh, actor=bob, version=fresh.version),
        lambda: report_comment(report=fresh, actor=bob, body="再批注"),
        lambda: report_transition(report=fresh, to="draft", actor=alice, version=fresh.version),
        lambda: report_transition(report=fresh, to="returned", actor=bob, version=None),
    ]
    for attempt in attempts:
        with pytest.raises(ReportError) as refused:
            attempt()
        assert refused.value.messages[0].startswith("工作汇报已通过审阅，不能再")

    assert snapshot(report) == before
    assert before["row"]["status"] == "accepted"


def test_an_edit_read_before_acceptance_cannot_land_on_the_accepted_report(
    alice: User, bob: User
) -> None:
    """The filer's copy was read while the report was still a draft; meanwhile it was handed
    in and accepted. Even posting the accepted row's current version, the write is refused."""
    report = report_create(actor=alice, year=2026, half=1)
    read_as_draft = WorkReport.objects.get(pk=report.pk)
    report_update(report=report, actor=alice, version=report.version, sections=FULL, submit=True)
    report_accept(report=report, actor=bob, version=report.version)
    before = snapshot(report)

    with pytest.raises(StaleReport):
        report_update(
            report=read_as_draft,
            actor=alice,
            version=report.version,
            sections=Sections(achievements="改写", difficulties="改写", plans="改写"),
        )
    assert snapshot(report) == before


def test_an_accepted_report_cannot_be_changed_through_the_pages_and_nothing_changes(
    alice: User, bob: User
) -> None:
    report = make_accepted(alice, bob)
    before = snapshot(report)
    as_alice, as_bob = client_for(alice), client_for(bob)
    version = report.version

    edit = as_alice.post(
        f"/ops/reports/{report.pk}/edit/",
        {"version": version, **FULL.as_fields(), "achievements": "改过的内容", "save": ""},
    )
    resubmit = as_alice.post(
        f"/ops/reports/{report.pk}/edit/",
        {"version": version, **FULL.as_fields(), "submit": ""},
    )
    submit = as_alice.post(f"/ops/reports/{report.pk}/submit/", {"version": version})
    returned = as_bob.post(
        f"/ops/reports/{report.pk}/return/", {"version": version, "reason": "再改"}
    )
    accept = as_bob.post(f"/ops/reports/{report.pk}/accept/", {"version": version})
    comment = as_bob.post(f"/ops/reports/{report.pk}/comment/", {"body": "再批注"})
    edit_page = as_alice.get(f"/ops/reports/{report.pk}/edit/")

    assert (edit.status_code, resubmit.status_code) == (400, 400)
    assert "工作汇报已通过审阅，不能再修改。" in edit.content.decode()
    for refused in (submit, returned, accept, comment, edit_page):
        assert refused.status_code == 302
        assert refused["Location"] == f"/ops/reports/{report.pk}/"
    detail = as_alice.get(f"/ops/reports/{report.pk}/").content.decode()
    assert "本工作汇报已通过审阅，内容已固定，不能再修改。" in detail
    assert f"/ops/reports/{report.pk}/edit/" not in detail
    assert snapshot(report) == before


# --- Figures ------------------------------------------------------------------------------


def test_figures_are_prefilled_from_the_rollups_of_the_centres_region_and_half_year(
    alice: User, bob: User
) -> None:
    rollup("510104", date(2026, 1, 1), "cases_opened", "3")
    rollup("510104", date(2026, 6, 1), "cases_opened", "4")
    rollup("510104", date(2026, 7, 1), "cases_opened", "50")  # the next half-year
    rollup("510107", date(2026, 3, 1), "cases_opened", "9")  # another county
    rollup("510104", date(2026, 2, 1), "satisfaction_mean", "27", den=6)
    rollup("510104", date(2026, 2, 1), "contract_amount", "120000.50")

    county = report_create(actor=alice, year=2026, half=1)
    city = report_create(actor=bob, year=2026, half=1)

    assert county.figures["cases_opened"] == 7.0
    assert county.figures["satisfaction_mean"] == 4.5
    assert county.figures["contract_amount"] == 120000.5
    assert county.figures["rated_share"] is None
    assert county.figures["workers_registered"] == 0.0
    assert city.figures["cases_opened"] == 16.0  # the city covers its counties
    page = client_for(alice).get(f"/ops/reports/{county.pk}/").content.decode()
    assert (
        '<tr data-indicator="contract_amount"><td>一单一策</td><td>合同金额</td>'
        '<td class="text-end">120,000.50</td><td>元</td></tr>'
    ) in page
    assert (
        '<tr data-indicator="satisfaction_mean"><td>一单一策</td><td>满意度均分</td>'
        '<td class="text-end">4.50</td><td>分</td></tr>'
    ) in page


def test_figures_are_read_again_on_each_save_frozen_on_submission_and_never_posted(
    alice: User, bob: User
) -> None:
    rollup("510104", date(2026, 1, 1), "cases_opened", "3")
    report = report_create(actor=alice, year=2026, half=1)
    rollup("510104", date(2026, 2, 1), "cases_opened", "2")
    as_alice = client_for(alice)

    as_alice.post(
        f"/ops/reports/{report.pk}/edit/",
        {
            "version": report.version,
            "achievements": "初稿",
            "figures": '{"cases_opened": 999}',
            "cases_opened": "999",
            "figures_cases_opened": "999",
            "save": "",
        },
    )
    report.refresh_from_db()
    assert report.figures["cases_opened"] == 5.0

    rollup("510104", date(2026, 3, 1), "cases_opened", "1")
    as_alice.post(
        f"/ops/reports/{report.pk}/edit/",
        {"version": report.version, **FULL.as_fields(), "figures": "{}", "submit": ""},
    )
    report.refresh_from_db()
    assert (report.status, report.figures["cases_opened"]) == ("submitted", 6.0)

    rollup("510104", date(2026, 4, 1), "cases_opened", "10")
    report_return(report=report, actor=bob, version=report.version, reason="请补充说明。")
    report.refresh_from_db()
    assert report.figures["cases_opened"] == 6.0  # frozen since submission

    report_update(report=report, actor=alice, version=report.version, sections=FULL)
    assert report.figures["cases_opened"] == 16.0  # returned: read again on save
    report_submit(report=report, actor=alice, version=report.version)
    report_accept(report=report, actor=bob, version=report.version)
    rollup("510104", date(2026, 5, 1), "cases_opened", "100")
    report.refresh_from_db()
    assert report.figures["cases_opened"] == 16.0


# --- Who sees what ------------------------------------------------------------------------


@pytest.mark.parametrize("outsider", ["charlie", "dave", "gina", "pat", "root"])
def test_only_the_filing_centre_and_the_level_above_see_a_report(
    alice: User, bob: User, charlie: User, dave: User, gina: User, pat: User, outsider: str
) -> None:
    report = report_create(actor=alice, year=2026, half=1)
    report_update(report=report, actor=alice, version=report.version, sections=FULL, submit=True)
    people = {"charlie": charlie, "dave": dave, "gina": gina, "pat": pat}
    user = people.get(outsider) or make_superuser(outsider)
    before = snapshot(report)
    client = client_for(user)

    responses = [
        client.get(f"/ops/reports/{report.pk}/"),
        client.get(f"/ops/reports/{report.pk}/edit/"),
        client.post(
            f"/ops/reports/{report.pk}/edit/",
            {"version": report.version, **FULL.as_fields(), "save": ""},
        ),
        client.post(f"/ops/reports/{report.pk}/submit/", {"version": report.version}),
        client.post(f"/ops/reports/{report.pk}/accept/", {"version": report.version}),
        client.post(
            f"/ops/reports/{report.pk}/return/", {"version": report.version, "reason": "退回"}
        ),
        client.post(f"/ops/reports/{report.pk}/comment/", {"body": "批注"}),
    ]

    assert [r.status_code for r in responses] == [404] * 7
    assert f"/ops/reports/{report.pk}/" not in client.get("/ops/reports/").content.decode()
    assert snapshot(report) == before
    assert client_for(alice).get(f"/ops/reports/{report.pk}/").status_code == 200
    assert client_for(bob).get(f"/ops/reports/{report.pk}/").status_code == 200


def test_the_reviewer_cannot_edit_and_the_filer_cannot_review(alice: User, bob: User) -> None:
    report = report_create(actor=alice, year=2026, half=1)
    report_update(report=report, actor=alice, version=report.version, sections=FULL, submit=True)
    report_return(report=report, actor=bob, version=report.version, reason="请补充。")
    before = snapshot(report)

    edit = client_for(bob).post(
        f"/ops/reports/{report.pk}/edit/",
        {"version": report.version, **FULL.as_fields(), "submit": ""},
    )
    comment = client_for(alice).post(f"/ops/reports/{report.pk}/comment/", {"body": "自己批注"})

    assert edit.status_code == 403
    assert "只有本中心工作人员可以填报工作汇报。" in edit.content.decode()
    assert comment.status_code == 302
    assert snapshot(report) == before


def test_the_list_shows_my_reports_and_the_centres_below_with_overdue_badges(
    alice: User, bob: User, dave: User
) -> None:
    mine = report_create(actor=alice, year=2026, half=1)
    theirs = report_create(actor=dave, year=2026, half=1)
    report_update(report=theirs, actor=dave, version=theirs.version, sections=FULL, submit=True)

    with time_machine.travel("2026-07-16 09:00:00+08:00", tick=False):
        county_page = client_for(alice).get("/ops/reports/?half=2026H1").content.decode()
        city_page = client_for(bob).get("/ops/reports/?half=2026H1").content.decode()
        submitted_only = client_for(bob).get("/ops/reports/?status=submitted").content.decode()

    assert f'data-report="{mine.pk}"' in county_page
    assert f'data-report="{theirs.pk}"' not in county_page
    assert "data-overdue" in county_page
    assert f'data-report="{mine.pk}"' in city_page
    assert f'data-report="{theirs.pk}"' in city_page
    counties = Region.objects.filter(parent_id="510100").count()
    # The roster: every county but Dave's (submitted); the list: Alice's draft.
    assert city_page.count("data-overdue") == (counties - 1) + 1
    assert f'data-report="{mine.pk}"' not in submitted_only
    assert f'data-report="{theirs.pk}"' in submitted_only


def test_the_reports_below_are_paged_keeping_the_filters(
    alice: User, bob: User, dave: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_views, "BELOW_PER_PAGE", 1)
    first = report_create(actor=alice, year=2026, half=1)
    second = report_create(actor=dave, year=2026, half=1)

    one = client_for(bob).get("/ops/reports/?half=2026H1&status=draft").content.decode()
    two = client_for(bob).get("/ops/reports/?half=2026H1&status=draft&page=2").content.decode()

    assert (f'data-report="{first.pk}"' in one, f'data-report="{second.pk}"' in one) == (
        True,
        False,
    )
    assert 'href="?half=2026H1&amp;status=draft&page=2"' in one
    assert f'data-report="{second.pk}"' in two


def test_the_list_reads_a_fixed_number_of_queries_however_many_reports(
    alice: User, bob: User, django_assert_num_queries: Any
) -> None:
    report_create(actor=alice, year=2026, half=1)
    report_create(actor=bob, year=2026, half=1)
    for code in ("510105", "510106", "510107", "510108"):
        report_create(actor=make_staff(f"staff{code}", code), year=2026, half=1)

    reports_visible(bob)  # Bob's centre and its region, read once per request
    with django_assert_num_queries(1):
        lines = report_lines(reports_visible(bob), date(2026, 7, 3))
        names = [(line.report.centre.name, line.report.author) for line in lines]

    assert len(names) == 6


def test_the_summary_for_a_dashboard_counts_the_centres_below_and_flags_overdue_ones(
    alice: User, bob: User, dave: User, pat: User
) -> None:
    report_create(actor=alice, year=2026, half=1)
    theirs = report_create(actor=dave, year=2026, half=1)
    report_update(report=theirs, actor=dave, version=theirs.version, sections=FULL, submit=True)
    report_accept(report=theirs, actor=bob, version=theirs.version)
    counties = Region.objects.filter(parent_id="510100").count()
    cities = Region.objects.filter(parent_id="510000").count()

    city = report_summary(bob, date(2026, 7, 16))
    county = report_summary(alice, date(2026, 7, 16))
    province = report_summary(pat, date(2026, 7, 10))

    assert (city.half.token, city.due_on, city.files, city.mine, city.mine_overdue) == (
        "2026H1",
        date(2026, 7, 15),
        True,
        None,
        True,
    )
    assert (city.below, city.handed_in, city.accepted, city.overdue) == (
        counties,
        1,
        1,
        counties - 1,
    )
    assert county.mine is not None
    assert (county.mine.status, county.mine_overdue, county.below) == ("draft", True, 0)
    assert (province.files, province.below, province.overdue) == (False, cities, 0)
    card = render_to_string("ops/reports/_summary.html", {"summary": city})
    assert f"下级中心 {counties} 个：已提交 1 个，已通过 1 个，逾期 {counties - 1} 个" in card
    assert 'href="/ops/reports/?half=2026H1"' in card


# --- Reports for bulletins ----------------------------------------------------------------


def test_reports_for_a_region_are_the_handed_in_reports_below_it_for_the_half_years_within(
    alice: User, bob: User, dave: User, charlie: User
) -> None:
    accepted = make_accepted(alice, bob)
    draft = report_create(actor=dave, year=2026, half=1)
    city = report_create(actor=bob, year=2026, half=1)
    report_update(report=city, actor=bob, version=city.version, sections=FULL, submit=True)
    qingchuan = report_create(actor=charlie, year=2026, half=1)
    report_update(
        report=qingchuan, actor=charlie, version=qingchuan.version, sections=FULL, submit=True
    )
    chengdu = Region.objects.get(code="510100")
    sichuan = Region.objects.get(code="510000")

    assert reports_for(chengdu, Period.half(2026, 1)) == [accepted]
    assert reports_for(chengdu, Period.year(2026)) == [accepted]
    assert reports_for(chengdu, Period.half(2026, 2)) == []
    assert reports_for(chengdu, Period.quarter(2026, 2)) == []
    assert reports_for(sichuan, Period.half(2026, 1)) == [city, accepted, qingchuan]
    assert draft not in reports_for(sichuan, Period.half(2026, 1))


# --- Due dates and reminders --------------------------------------------------------------


def test_reports_are_due_the_set_number_of_days_after_the_half_year(settings: Any) -> None:
    assert (report_due_on(2026, 1), report_due_on(2026, 2)) == (
        date(2026, 7, 15),
        date(2027, 1, 15),
    )
    settings.OPS_REPORT_DUE_DAYS = 10
    assert report_due_on(2026, 2) == date(2027, 1, 10)


def reminders() -> list[tuple[str, str]]:
    return list(
        OutboxMessage.objects.filter(source="ops_report")
        .order_by("id")
        .values_list("recipient__username", "title")
    )


def test_reminders_go_once_per_stage_to_centres_that_have_not_handed_in(
    alice: User, bob: User, dave: User, charlie: User, pat: User
) -> None:
    theirs = report_create(actor=dave, year=2026, half=1)
    report_update(report=theirs, actor=dave, version=theirs.version, sections=FULL, submit=True)
    report_create(actor=alice, year=2026, half=1)  # a draft is not handed in
    OutboxMessage.objects.all().delete()

    with time_machine.travel("2026-07-07 09:00:00+08:00", tick=False):
        assert remind_work_reports() == 0  # eight days before: nothing yet
    with time_machine.travel("2026-07-08 09:00:00+08:00", tick=False):
        first = remind_work_reports()
        again = remind_work_reports()
    soon = reminders()
    with time_machine.travel("2026-07-12 09:00:00+08:00", tick=False):
        assert remind_work_reports() == 0
    with time_machine.travel("2026-07-15 09:00:00+08:00", tick=False):
        due = remind_work_reports()
        assert remind_work_reports() == 0
    with time_machine.travel("2026-07-16 09:00:00+08:00", tick=False):
        overdue = remind_work_reports()
        assert remind_work_reports() == 0
    with time_machine.travel("2026-08-20 09:00:00+08:00", tick=False):
        assert remind_work_reports() == 0

    assert (first, again, due) == (3, 0, 3)
    assert soon == [
        ("bob", "2026年上半年工作汇报即将截止"),
        ("alice", "2026年上半年工作汇报即将截止"),
        ("charlie", "2026年上半年工作汇报即将截止"),
    ]
    sent = reminders()
    counties = Region.objects.filter(parent_id="510100").count()
    cities = Region.objects.filter(parent_id="510000").count()
    assert overdue == 3 + 2  # the three centres again, and the city and the province above
    assert sent[6:] == [
        ("bob", "2026年上半年工作汇报已逾期"),
        ("alice", "2026年上半年工作汇报已逾期"),
        ("charlie", "2026年上半年工作汇报已逾期"),
        ("pat", f"2026年上半年工作汇报：{cities}个下级中心逾期未交"),
        ("bob", f"2026年上半年工作汇报：{counties - 1}个下级中心逾期未交"),
    ]
    to_bob = OutboxMessage.objects.get(
        idempotency_key__startswith="ops-report-overdue:", recipient=bob
    )
    assert "锦江区科技服务中心" in to_bob.body
    assert "武侯区科技服务中心" not in to_bob.body
    assert to_bob.url == "/ops/reports/?half=2026H1"
    assert not any(name == "dave" for name, _ in sent)


# --- Races (PostgreSQL) -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises all writers")
def test_racing_reviewers_and_a_racing_edit_from_one_page_state_make_exactly_one_change() -> None:
    regions_load()
    service_centres_ensure(province_code="510000")
    alice = make_staff("alice", "510104")
    reviewers = [make_staff(f"bob{i}", "510100") for i in range(4)]
    report = report_create(actor=alice, year=2026, half=1)
    report_update(report=report, actor=alice, version=report.version, sections=FULL, submit=True)
    seen = report.version
    landed: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def act(index: int) -> None:
        try:
            mine = WorkReport.objects.select_related("centre__region").get(pk=report.pk)
            reviewer = reviewers[index % len(reviewers)]
            start.wait()
            try:
                if index % 3 == 0:
                    report_accept(report=mine, actor=reviewer, version=seen)
                    landed.append("accepted")
                elif index % 3 == 1:
                    report_return(report=mine, actor=reviewer, version=seen, reason="请补充。")
                    landed.append("returned")
                else:
                    report_update(
                        report=mine, actor=alice, version=seen, sections=Sections(plans="改")
                    )
                    landed.append("edited")
            except ReportError:
                refused.append("refused")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    final = WorkReport.objects.get(pk=report.pk)
    assert errors == []
    assert len(landed) == 1
    assert landed[0] in ("accepted", "returned")  # a submitted report is not editable
    assert len(refused) == THREADS - 1
    assert (final.status, final.version) == (landed[0], seen + 1)
    assert final.plans == FULL.plans
    assert ReportEvent.objects.filter(report=final).count() == 3
