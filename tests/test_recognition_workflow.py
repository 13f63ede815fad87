"""Recognition (典型选树) applications: batches and criteria, eligibility, the chain applicant →
county → city with returns, attachments, public notice (公示) with objections, the final
result and the periodic job.

Alice is staff of 锦江区 (510104), Bob of 成都市 (510100), Charlie of 青川县 (510822, in
广元市), Gina of 广元市 (510800); Pat is province staff holding the recognition role. Lee is
an S&T worker in 锦江区 who leads the studio 茶科创工作室; Ed speaks for the enterprise of a
closed, solved, confirmed and rated case in 锦江区; Rita is a reviewer.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.cases.models import Case, DockingRequest, Outcome, Step
from kejiyun.common.errors import NotPermitted
from kejiyun.common.levels import Level
from kejiyun.common.versioning import claim_version
from kejiyun.notifications.models import OutboxMessage
from kejiyun.recognition.eligibility import Subject
from kejiyun.recognition.models import (
    Application,
    ApplicationAttachment,
    ApplicationEvent,
    Batch,
    Objection,
    Programme,
    ReviewAssignment,
)
from kejiyun.recognition.selectors import application_for_reviewer
from kejiyun.recognition.services import (
    ApplicationInput,
    BatchInput,
    CriterionInput,
    ObjectionInput,
    RecognitionError,
    StaleApplication,
    application_create,
    application_move,
    application_submit,
    application_transition,
    batch_create,
    batch_criteria_replace,
    batch_finalise,
    batch_notice_start,
    batch_transition,
    objection_answer,
    objection_file,
    recognition_advance,
)
from kejiyun.recognition.tasks import advance
from kejiyun.talent.models import TalentProfile, Team
from tests.builders import (
    client_for,
    make_case,
    make_enterprise_user,
    make_staff,
    make_worker,
    pdf_bytes,
    pdf_upload,
)

pytestmark = pytest.mark.django_db

S = Application.Status
CRITERIA = [
    CriterionInput(name="服务成效", weight=50, description="解决问题的实效"),
    CriterionInput(name="创新性", weight=30),
    CriterionInput(name="示范带动", weight=20),
]
STUDIO_ANSWERS = {"members_roles": "李负责技术", "services": "茶园技术服务", "effect": "增收两成"}
CASE_ANSWERS = {"problem": "病虫害", "solution": "绿色防控", "benefit": "农药减量三成"}


# --- Builders for this module ----------------------------------------------------------


def manager(user: User) -> User:
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="recognition", codename="manage_recognition")
    )
    return User.objects.get(pk=user.pk)


@pytest.fixture
def pm(pat: User) -> User:
    """Pat with the recognition role."""
    return manager(pat)


@pytest.fixture
def gina(db: None) -> User:
    return make_staff("gina", "510800")


def open_batch(pm: User, programme: str, **fields: Any) -> Batch:
    today = timezone.localdate()
    values: dict[str, Any] = {
        "programme": programme,
        "year": today.year,
        "name": f"{today.year}年度{Programme(programme).label}",
        "description": "申报通知",
        "eligibility": "申报条件",
        "opens_on": today - timedelta(days=1),
        "closes_on": today + timedelta(days=10),
        "min_studio_cases": 2,
        **fields,
    }
    batch = batch_create(actor=pm, data=BatchInput(**values))
    batch_criteria_replace(batch=batch, actor=pm, criteria=CRITERIA, version=None)
    return batch_transition(batch=batch, to=Batch.Status.OPEN, actor=pm)


def closed_case(serial: str, *, county: str = "510104", **fields: Any) -> Case:
    """A case closed as solved, with evidence, confirmed and rated 5 (fields override)."""
    case = make_case(None, county=county, serial=serial)
    values: dict[str, Any] = {
        "step": Step.CLOSED,
        "outcome": Outcome.SOLVED,
        "contract_number": f"HT-{serial}",
        "evidence_sha256": "ab" * 32,
        "confirmed_at": timezone.now(),
        "rating": 5,
        "closed_at": timezone.now(),
        **fields,
    }
    Case.objects.filter(pk=case.pk).update(**values)
    return Case.objects.select_related("demand").get(pk=case.pk)


def docked(case: Case, expert: TalentProfile) -> None:
    DockingRequest.objects.create(case=case, expert=expert, status=DockingRequest.Status.ACCEPTED)


@pytest.fixture
def lee(db: None) -> User:
    return make_worker("lee", "510104", "13700002001").user


@pytest.fixture
def studio(lee: User) -> Team:
    team = Team.objects.create(
        kind=Team.Kind.STUDIO, name="茶科创工作室", lead=lee.talent_profile, region_id="510104"
    )
    for i in range(2):
        docked(closed_case(f"7{i}"), lee.talent_profile)
    return team


@pytest.fixture
def case() -> Case:
    return closed_case("81")


@pytest.fixture
def ed(case: Case) -> User:
    return make_enterprise_user(case.demand.organisation, "ed")


def studio_input(**fields: Any) -> ApplicationInput:
    values: dict[str, Any] = {
        "title": "茶科创工作室申报典型",
        "summary": "三年服务茶企二十家",
        "fields": "茶叶",
        "level": Level.TYPICAL,
        "answers": STUDIO_ANSWERS,
        "named_people": "王五\n赵六",
        **fields,
    }
    return ApplicationInput(**values)


def case_input(**fields: Any) -> ApplicationInput:
    values: dict[str, Any] = {
        "title": "茶园绿色防控案例",
        "summary": "案例摘要",
        "level": Level.PREMIUM,
        "answers": CASE_ANSWERS,
        **fields,
    }
    return ApplicationInput(**values)


def studio_application(pm: User, lee: User, studio: Team) -> Application:
    batch = open_batch(pm, Programme.STUDIO)
    return application_create(
        batch=batch, actor=lee, subject=Subject(studio=studio), data=studio_input()
    )


def case_application(pm: User, ed: User, case: Case) -> Application:
    batch = open_batch(pm, Programme.CASE)
    return application_create(batch=batch, actor=ed, subject=Subject(case=case), data=case_input())


def fresh(application: Application) -> Application:
    return Application.objects.get(pk=application.pk)


def post_move(user: User, application: Application, to: str, reason: str = "") -> Any:
    application = fresh(application)
    return client_for(user).post(
        f"/recognition/applications/{application.pk}/move/",
        {"to": to, "version": application.version, "reason": reason},
    )


def moves(application: Application) -> list[tuple[str, str, str]]:
    return list(
        ApplicationEvent.objects.filter(
            application=application, kind=ApplicationEvent.Kind.MOVE
        ).values_list("from_status", "to_status", "reason")
    )


def audit_moves(application: Application) -> list[tuple[str, str]]:
    rows = AuditEvent.objects.filter(
        action=AuditAction.RECOGNITION_MOVE,
        object_id=str(application.pk),
        outcome="ok",
    ).order_by("id")
    return [(r.detail["from"], r.detail["to"]) for r in rows]


def row(application: Application) -> dict[str, Any]:
    return Application.objects.filter(pk=application.pk).values().get()


def scored(application: Application, pm: User, level: str, score: str, rank: int) -> None:
    """The review outcome, set without the review pages: the province moves the application
    through review to scored and the ranking's figures are written on it."""
    application = fresh(application)
    application_transition(application=application, to=S.REVIEWING, actor=pm, version=None)
    application_transition(application=application, to=S.SCORED, actor=pm, version=None)
    claim_version(application, None, proposed_level=level, score=Decimal(score), rank=rank)


def through_city(application: Application, alice: User, bob: User) -> None:
    assert post_move(application.applicant, application, S.SUBMITTED).status_code == 302
    assert post_move(alice, application, S.RECOMMENDED).status_code == 302
    assert post_move(bob, application, S.ENDORSED).status_code == 302


# --- The chain -------------------------------------------------------------------------


def _chain(application: Application, applicant: User, alice: User, bob: User) -> None:
    assert post_move(applicant, application, S.SUBMITTED).status_code == 302
    assert post_move(alice, application, S.RETURNED, "请补充服务成效的数据").status_code == 302
    returned = fresh(application)
    assert returned.status == S.RETURNED
    assert returned.return_reason == "请补充服务成效的数据"
    note = OutboxMessage.objects.get(recipient=applicant)
    assert note.title == f"申报“{application.title}”被退回修改"
    assert note.body == "退回原因：请补充服务成效的数据"

    page = client_for(applicant).get(f"/recognition/applications/{application.pk}/edit/")
    assert page.status_code == 200
    form = {
        "version": returned.version,
        "title": application.title,
        "summary": "补充后的摘要：增收两成",
        "domain": "茶叶",
        "named_people": "",
    }
    if application.batch.programme == Programme.STUDIO:
        form |= {"level": Level.PREMIUM} | {f"q_{k}": v for k, v in STUDIO_ANSWERS.items()}
    else:
        form |= {"level": Level.PREMIUM} | {f"q_{k}": v for k, v in CASE_ANSWERS.items()}
    saved = client_for(applicant).post(f"/recognition/applications/{application.pk}/edit/", form)
    assert saved.status_code == 302
    assert fresh(application).summary == "补充后的摘要：增收两成"
    assert fresh(application).level == Level.PREMIUM

    assert post_move(applicant, application, S.SUBMITTED).status_code == 302
    assert post_move(alice, application, S.RECOMMENDED).status_code == 302
    assert post_move(bob, application, S.ENDORSED).status_code == 302
    assert fresh(application).status == S.ENDORSED
    expected = [
        ("draft", "submitted", ""),
        ("submitted", "returned", "请补充服务成效的数据"),
        ("returned", "submitted", ""),
        ("submitted", "recommended", ""),
        ("recommended", "endorsed", ""),
    ]
    assert moves(application) == expected
    assert audit_moves(application) == [(f, t) for f, t, _ in expected]


def test_a_studio_goes_submit_return_fix_resubmit_recommend_endorse_on_timeline_and_audit(
    pm: User, lee: User, studio: Team, alice: User, bob: User
) -> None:
    application = studio_application(pm, lee, studio)
    assert application.region_id == "510104"
    assert application.named_people == "王五\n赵六"
    _chain(application, lee, alice, bob)


def test_a_case_goes_through_the_same_chain_with_a_return(
    pm: User, ed: User, case: Case, alice: User, bob: User
) -> None:
    application = case_application(pm, ed, case)
    assert application.organisation_id == case.demand.organisation_id
    _chain(application, ed, alice, bob)


def test_illegal_moves_are_refused_and_change_nothing(
    pm: User, lee: User, studio: Team, alice: User, bob: User
) -> None:
    application = studio_application(pm, lee, studio)
    before = row(application)
    # Nobody recommends a draft; the applicant cannot recommend their own.
    with pytest.raises(RecognitionError):
        application_move(
            application=fresh(application), to=S.RECOMMENDED, actor=alice, version=None
        )
    assert post_move(alice, application, S.SUBMITTED).status_code == 404  # not hers to see yet
    assert row(application) == before
    application_submit(application=fresh(application), actor=lee, version=None)
    before = row(application)
    events = ApplicationEvent.objects.count()
    with pytest.raises(NotPermitted):  # the city does not recommend
        application_move(application=fresh(application), to=S.RECOMMENDED, actor=bob, version=None)
    with pytest.raises(NotPermitted):  # the applicant does not recommend
        application_move(application=fresh(application), to=S.RECOMMENDED, actor=lee, version=None)
    with pytest.raises(RecognitionError):  # no jump to endorsed
        application_move(application=fresh(application), to=S.ENDORSED, actor=bob, version=None)
    with pytest.raises(RecognitionError):  # a return needs a reason
        application_move(application=fresh(application), to=S.RETURNED, actor=alice, version=None)
    response = post_move(lee, application, S.RECOMMENDED)
    assert response.status_code == 403
    assert row(application) == before
    assert ApplicationEvent.objects.count() == events
    refused = AuditEvent.objects.filter(
        action=AuditAction.RECOGNITION_MOVE, outcome="refused", object_id=str(application.pk)
    ).count()
    assert refused == 3


def test_a_stale_version_is_refused_with_409_and_changes_nothing(
    pm: User, lee: User, studio: Team, alice: User
) -> None:
    application = studio_application(pm, lee, studio)
    application_submit(application=fresh(application), actor=lee, version=None)
    seen = fresh(application).version
    application_move(
        application=fresh(application), to=S.RETURNED, actor=alice, version=seen, reason="补材料"
    )
    before = row(application)
    response = client_for(alice).post(
        f"/recognition/applications/{application.pk}/move/",
        {"to": S.RECOMMENDED, "version": seen, "reason": ""},
    )
    assert response.status_code == 409
    assert row(application) == before
    with pytest.raises(StaleApplication):
        application_move(application=fresh(application), to=S.WITHDRAWN, actor=lee, version=seen)
    assert row(application) == before


# --- Eligibility -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"step": Step.DELIVERY, "outcome": "", "contract_number": ""}, "案例尚未以“已解决”办结。"),
        (
            {"outcome": Outcome.NOT_SOLVED, "outcome_reason": "企业放弃"},
            "案例尚未以“已解决”办结。",
        ),
        ({"evidence_sha256": ""}, "案例没有上传佐证材料。"),
        ({"confirmed_at": None}, "企业尚未确认办理结果。"),
        ({"rating": 3}, "企业满意度评分须不低于4分。"),
        ({"rating": None}, "企业满意度评分须不低于4分。"),
    ],
)
def test_an_ineligible_case_cannot_apply_for_each_reason(
    pm: User, fields: dict[str, Any], reason: str
) -> None:
    case = closed_case("91", **fields)
    ed = make_enterprise_user(case.demand.organisation, "ed")
    batch = open_batch(pm, Programme.CASE)
    with pytest.raises(RecognitionError) as refused:
        application_create(batch=batch, actor=ed, subject=Subject(case=case), data=case_input())
    assert refused.value.messages == [reason]
    assert not Application.objects.exists()
    # Nor is it offered on the page: the page lists it with its reason, the POST is refused.
    page = client_for(ed).get(f"/recognition/batches/{batch.pk}/apply/")
    assert page.context["eligible"] == []
    assert page.context["refused"][0][1] == [reason]
    posted = client_for(ed).post(
        f"/recognition/batches/{batch.pk}/apply/",
        {"subject": f"case:{case.pk}", "title": "t", "summary": "s", "level": Level.TYPICAL}
        | {f"q_{k}": v for k, v in CASE_ANSWERS.items()},
    )
    assert posted.status_code == 400
    assert not Application.objects.exists()


def test_a_case_may_be_applied_for_only_by_its_enterprise_or_an_accepted_expert_and_once(
    pm: User, case: Case, ed: User, lee: User
) -> None:
    batch = open_batch(pm, Programme.CASE)
    with pytest.raises(RecognitionError) as refused:
        application_create(batch=batch, actor=lee, subject=Subject(case=case), data=case_input())
    assert refused.value.messages == ["只有案例的需求企业或已接受对接的专家可以申报该案例。"]
    docked(case, lee.talent_profile)
    application_create(batch=batch, actor=lee, subject=Subject(case=case), data=case_input())
    with pytest.raises(RecognitionError) as twice:
        application_create(batch=batch, actor=ed, subject=Subject(case=case), data=case_input())
    assert twice.value.messages == ["该案例已在本批次申报。"]
    assert Application.objects.count() == 1


def test_an_ineligible_studio_cannot_apply(pm: User, lee: User, studio: Team) -> None:
    batch = open_batch(pm, Programme.STUDIO, min_studio_cases=3)
    with pytest.raises(RecognitionError) as few:
        application_create(
            batch=batch, actor=lee, subject=Subject(studio=studio), data=studio_input()
        )
    assert few.value.messages == [
        "工作室成员作为对接专家办结并经企业确认的案例须不少于3个（现有2个）。"
    ]
    # A case closed but not confirmed does not count; a member's confirmed one does.
    member = make_worker("mo", "510104", "13700002002")
    studio.members.add(member)
    docked(closed_case("75", confirmed_at=None), member)
    with pytest.raises(RecognitionError):
        application_create(
            batch=batch, actor=lee, subject=Subject(studio=studio), data=studio_input()
        )
    docked(closed_case("76"), member)
    other = make_worker("ola", "510104", "13700002003").user
    with pytest.raises(RecognitionError) as not_lead:
        application_create(
            batch=batch, actor=other, subject=Subject(studio=studio), data=studio_input()
        )
    assert not_lead.value.messages == ["只有工作室负责人可以申报。"]
    team = Team.objects.create(
        kind=Team.Kind.TEAM, name="普通团队", lead=lee.talent_profile, region_id="510104"
    )
    with pytest.raises(RecognitionError) as kind:
        application_create(
            batch=batch, actor=lee, subject=Subject(studio=team), data=studio_input()
        )
    assert kind.value.messages[0] == "只有科创工作室可以申报。"
    assert not Application.objects.exists()
    application_create(batch=batch, actor=lee, subject=Subject(studio=studio), data=studio_input())
    assert Application.objects.count() == 1


def test_nobody_applies_to_a_batch_that_is_not_open_or_outside_its_dates(
    pm: User, lee: User, studio: Team
) -> None:
    batch = open_batch(pm, Programme.STUDIO)
    with (
        time_machine.travel(batch.closes_on + timedelta(days=1), tick=False),
        pytest.raises(RecognitionError) as late,
    ):
        application_create(
            batch=batch, actor=lee, subject=Subject(studio=studio), data=studio_input()
        )
    assert late.value.messages == [f"该批次已于 {batch.closes_on:%Y-%m-%d} 截止申报。"]
    batch_transition(batch=batch, to=Batch.Status.REVIEW, actor=pm)
    with pytest.raises(RecognitionError) as closed:
        application_create(
            batch=batch, actor=lee, subject=Subject(studio=studio), data=studio_input()
        )
    assert closed.value.messages == ["该批次评审中，不接受申报。"]
    assert not Application.objects.exists()


def test_a_submission_needs_every_required_answer_and_a_level(
    pm: User, lee: User, studio: Team
) -> None:
    application = studio_application(pm, lee, studio)
    Application.objects.filter(pk=application.pk).update(answers={"members_roles": "x"}, level="")
    with pytest.raises(RecognitionError) as refused:
        application_submit(application=fresh(application), actor=lee, version=None)
    assert refused.value.messages == [
        "请填写：服务开展情况、服务成效。",
        "请选择申报等级（典型或精品）。",
    ]
    assert fresh(application).status == S.DRAFT


# --- Jurisdiction ------------------------------------------------------------------------


def test_a_county_cannot_act_on_another_countys_application_nor_a_city_on_another_citys(
    pm: User, lee: User, studio: Team, alice: User, bob: User, charlie: User, gina: User
) -> None:
    application = studio_application(pm, lee, studio)
    application_submit(application=fresh(application), actor=lee, version=None)
    before = row(application)
    for outsider in (charlie, gina):
        client = client_for(outsider)
        assert client.get(f"/recognition/applications/{application.pk}/").status_code == 404
        assert post_move(outsider, application, S.RECOMMENDED).status_code == 404
        assert post_move(outsider, application, S.RETURNED, "不行").status_code == 404
        assert not client.get("/recognition/queue/").context["rows"]
    assert row(application) == before
    assert client_for(alice).get("/recognition/queue/").context["rows"][0][0] == fresh(application)
    post_move(alice, application, S.RECOMMENDED)
    before = row(application)
    assert post_move(gina, application, S.ENDORSED).status_code == 404
    assert row(application) == before
    assert client_for(bob).get("/recognition/queue/").context["rows"][0][0].pk == application.pk
    assert post_move(bob, application, S.ENDORSED).status_code == 302


def test_applicants_cannot_see_each_others_applications(
    pm: User, lee: User, studio: Team, ed: User
) -> None:
    application = studio_application(pm, lee, studio)
    client = client_for(ed)
    assert client.get(f"/recognition/applications/{application.pk}/").status_code == 404
    assert client.post(f"/recognition/applications/{application.pk}/edit/", {}).status_code == 404
    assert post_move(ed, application, S.WITHDRAWN).status_code == 404
    assert list(client.get("/recognition/mine/").context["applications"]) == []
    assert fresh(application).status == S.DRAFT


def test_the_applicant_never_sees_who_reviewed(
    pm: User, lee: User, studio: Team, alice: User, bob: User, rita: User
) -> None:
    application = studio_application(pm, lee, studio)
    through_city(application, alice, bob)
    ApplicationEvent.objects.create(
        application=application, actor=rita, kind=ApplicationEvent.Kind.SCORE, reason="Rita 已评分"
    )
    page = client_for(lee).get(f"/recognition/applications/{application.pk}/")
    assert "Rita" not in page.content.decode()
    staff_page = client_for(alice).get(f"/recognition/applications/{application.pk}/")
    assert "Rita" in staff_page.content.decode()


def test_the_staff_queue_uses_a_fixed_number_of_queries(
    pm: User, alice: User, studio: Team, lee: User
) -> None:
    batch = open_batch(pm, Programme.PROJECT)
    client = client_for(alice)
    client.get("/")

    def submit_one(i: int) -> None:
        worker = make_worker(f"p{i}", "510104", f"1370000{i:04d}").user
        application = application_create(
            batch=batch,
            actor=worker,
            subject=Subject(),
            data=ApplicationInput(
                title=f"项目{i}",
                summary="s",
                answers={"maturity": "中试", "investment": "100", "benefit": "b"},
            ),
        )
        application_submit(application=application, actor=worker, version=None)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/recognition/queue/").status_code == 200
        return len(ctx.captured_queries)

    submit_one(1)
    few = count()
    for i in range(2, 12):
        submit_one(i)
    assert len(client.get("/recognition/queue/").context["rows"]) == 11
    assert count() == few == 3


# --- Attachments -------------------------------------------------------------------------


def test_a_pdf_carrying_script_is_refused_and_nothing_is_stored(
    pm: User, lee: User, studio: Team
) -> None:
    application = studio_application(pm, lee, studio)
    client = client_for(lee)
    bad = pdf_upload("材料.pdf", pdf_bytes(javascript="app.alert(1)"))
    response = client.post(
        f"/recognition/applications/{application.pk}/attachments/", {"name": "材料", "file": bad}
    )
    assert response.status_code == 400
    assert "PDF 中含有 JavaScript 动作" in response.content.decode()
    assert not ApplicationAttachment.objects.exists()
    html = pdf_upload("材料.pdf", b"%PDF-1.4 <script>alert(1)</script>")
    response = client.post(
        f"/recognition/applications/{application.pk}/attachments/", {"name": "材料", "file": html}
    )
    assert response.status_code == 400
    assert not ApplicationAttachment.objects.exists()


def test_attachments_download_only_for_applicant_staff_in_jurisdiction_and_assigned_reviewers(
    pm: User,
    lee: User,
    studio: Team,
    alice: User,
    bob: User,
    charlie: User,
    gina: User,
    rita: User,
    ed: User,
) -> None:
    application = studio_application(pm, lee, studio)
    response = client_for(lee).post(
        f"/recognition/applications/{application.pk}/attachments/",
        {"name": "服务证明", "file": pdf_upload("证明.pdf")},
    )
    assert response.status_code == 302
    attachment = ApplicationAttachment.objects.get()
    assert attachment.file.name.startswith("recognition/")
    assert attachment.file.name.endswith(".pdf") and "证明" not in attachment.file.name
    url = f"/recognition/applications/{application.pk}/attachments/{attachment.pk}/"
    through_city(application, alice, bob)
    other = make_staff("rex", "510000")  # province staff without the recognition role
    for outsider in (charlie, gina, rita, ed, other):
        assert client_for(outsider).get(url).status_code == 404
    anonymous = client_for(lee)
    anonymous.logout()
    assert anonymous.get(url).status_code == 404
    with pytest.raises(Exception) as refused:
        application_for_reviewer(rita, application.pk)
    assert "Http404" in type(refused.value).__name__
    ReviewAssignment.objects.create(application=application, reviewer=rita, assigned_by=pm)
    assert application_for_reviewer(rita, application.pk) == application
    for insider in (lee, alice, bob, pm, rita):
        got = client_for(insider).get(url)
        assert got.status_code == 200
        assert got["Content-Type"] == "application/pdf"
        assert b"".join(got.streaming_content).startswith(b"%PDF-")  # type: ignore[attr-defined]
    audited = AuditEvent.objects.filter(
        action=AuditAction.RECOGNITION_FILE_DOWNLOAD, object_type="recognition.application"
    )
    assert sorted(audited.values_list("user__username", flat=True)) == [
        "alice",
        "bob",
        "lee",
        "pat",
        "rita",
    ]


def test_attachments_change_only_while_draft_or_returned(pm: User, lee: User, studio: Team) -> None:
    application = studio_application(pm, lee, studio)
    application_submit(application=fresh(application), actor=lee, version=None)
    response = client_for(lee).post(
        f"/recognition/applications/{application.pk}/attachments/",
        {"name": "迟到的材料", "file": pdf_upload("a.pdf")},
    )
    assert response.status_code == 400
    assert not ApplicationAttachment.objects.exists()


# --- Batches and criteria ----------------------------------------------------------------


def test_criteria_must_weigh_100_before_a_batch_opens_and_are_locked_once_it_is(
    pm: User, alice: User
) -> None:
    today = timezone.localdate()
    batch = batch_create(
        actor=pm,
        data=BatchInput(
            programme=Programme.CASE,
            year=today.year,
            name="案例批次",
            description="",
            eligibility="",
            opens_on=today,
            closes_on=today + timedelta(days=5),
        ),
    )
    with pytest.raises(RecognitionError) as none:
        batch_transition(batch=batch, to=Batch.Status.OPEN, actor=pm)
    assert none.value.messages == ["请至少设置一项评审指标。"]
    client = client_for(pm)
    form = {
        "version": batch.version,
        "name_0": "成效",
        "weight_0": 60,
        "name_1": "创新",
        "weight_1": 30,
    }
    response = client.post(f"/recognition/manage/{batch.pk}/criteria/", form)
    assert response.status_code == 400
    assert "评审指标的权重合计须为100（现为90）。" in response.content.decode()
    assert not batch.criteria.exists()
    form["weight_1"] = 40
    assert client.post(f"/recognition/manage/{batch.pk}/criteria/", form).status_code == 302
    assert list(batch.criteria.values_list("name", "weight")) == [("成效", 60), ("创新", 40)]
    batch.refresh_from_db()
    response = client.post(
        f"/recognition/manage/{batch.pk}/move/", {"to": "open", "version": batch.version}
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == Batch.Status.OPEN
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.RECOGNITION_BATCH, object_id=str(batch.pk)
        ).count()
        == 3
    )  # create, criteria, open
    form["version"] = batch.version
    form["weight_0"], form["weight_1"] = 50, 50
    response = client.post(f"/recognition/manage/{batch.pk}/criteria/", form)
    assert response.status_code == 409
    with pytest.raises(RecognitionError):
        batch_criteria_replace(batch=batch, actor=pm, criteria=CRITERIA, version=None)
    assert list(batch.criteria.values_list("name", "weight")) == [("成效", 60), ("创新", 40)]
    # The call is public, with its criteria; the management pages are the province's.
    public = client_for(alice).get(f"/recognition/batches/{batch.pk}/")
    assert [c.name for c in public.context["criteria"]] == ["成效", "创新"]
    for url in (
        "/recognition/manage/",
        f"/recognition/manage/{batch.pk}/",
        "/recognition/manage/new/",
    ):
        assert client_for(alice).get(url).status_code == 404


def test_a_draft_batch_is_not_public(pm: User, dora: User) -> None:
    today = timezone.localdate()
    batch = batch_create(
        actor=pm,
        data=BatchInput(
            programme=Programme.STUDIO,
            year=today.year,
            name="草稿批次",
            description="",
            eligibility="",
            opens_on=today,
            closes_on=today,
        ),
    )
    assert client_for(dora).get(f"/recognition/batches/{batch.pk}/").status_code == 404
    assert client_for(dora).get("/recognition/").context["batches"].count() == 0
    with pytest.raises(NotPermitted):
        batch_create(
            actor=dora,
            data=BatchInput(
                programme=Programme.STUDIO,
                year=today.year,
                name="x",
                description="",
                eligibility="",
                opens_on=today,
                closes_on=today,
            ),
        )


# --- Notice, objections, result ----------------------------------------------------------


@pytest.fixture
def on_notice(
    pm: User, lee: User, studio: Team, ed: User, case: Case, alice: User, bob: User
) -> dict[str, Any]:
    """A studio batch and a case batch, each with one application endorsed, scored and
    proposed, and put on notice."""
    studio_app = studio_application(pm, lee, studio)
    case_app = case_application(pm, ed, case)
    out: dict[str, Any] = {"studio": studio_app, "case": case_app}
    for application, level in ((studio_app, Level.PREMIUM), (case_app, Level.TYPICAL)):
        through_city(application, alice, bob)
        batch = application.batch
        batch_transition(batch=batch, to=Batch.Status.REVIEW, actor=pm)
        scored(application, pm, level, "88.50", 1)
        batch_notice_start(batch=Batch.objects.get(pk=batch.pk), actor=pm)
    return out


def test_notice_start_is_refused_while_an_application_is_still_in_the_chain(
    pm: User, lee: User, studio: Team, alice: User
) -> None:
    application = studio_application(pm, lee, studio)
    application_submit(application=fresh(application), actor=lee, version=None)
    batch = Batch.objects.get(pk=application.batch_id)
    batch_transition(batch=batch, to=Batch.Status.REVIEW, actor=pm)
    with pytest.raises(RecognitionError) as refused:
        batch_notice_start(batch=batch, actor=pm)
    assert refused.value.messages == ["还有1项申报未完成评审，不能开始公示。"]
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.REVIEW


def test_a_full_notice_with_an_answered_and_an_upheld_objection_then_the_result(
    on_notice: dict[str, Any], pm: User, lee: User, ed: User, studio: Team, case: Case, dora: User
) -> None:
    studio_app, case_app = fresh(on_notice["studio"]), fresh(on_notice["case"])
    assert studio_app.status == case_app.status == S.NOTICE
    studio_batch = studio_app.batch
    page = client_for(dora).get(f"/recognition/batches/{studio_batch.pk}/notice/")
    assert [(a.pk, name) for a, name in page.context["rows"]] == [(studio_app.pk, "茶科创工作室")]

    # An anonymous visitor objects to the studio; the objection is answered, not upheld.
    anonymous = client_for(dora)
    anonymous.logout()
    response = anonymous.post(
        f"/recognition/batches/{studio_batch.pk}/notice/",
        {
            "application": studio_app.pk,
            "contact_name": "张三",
            "contact": "13812345678",
            "body": "成员有虚报",
        },
    )
    assert response.status_code == 302
    objection = Objection.objects.get(application=studio_app)
    assert objection.filed_by is None and objection.contact == "13812345678"
    manage = client_for(pm).get(f"/recognition/manage/{studio_batch.pk}/").content.decode()
    assert "138****5678" in manage and "13812345678" not in manage

    # Finalising is refused while the notice runs and while the objection is unanswered.
    with pytest.raises(RecognitionError) as running:
        batch_finalise(batch=Batch.objects.get(pk=studio_batch.pk), actor=pm)
    assert running.value.code == "notice_running"
    later = timezone.now() + timedelta(days=8)
    with time_machine.travel(later, tick=False):
        with pytest.raises(RecognitionError) as unanswered:
            batch_finalise(batch=Batch.objects.get(pk=studio_batch.pk), actor=pm)
        assert unanswered.value.messages == ["还有1条公示异议未答复，答复后才能发布结果。"]
        assert Batch.objects.get(pk=studio_batch.pk).status == Batch.Status.NOTICE
        assert fresh(studio_app).status == S.NOTICE

    opened = client_for(pm).get(f"/recognition/manage/objections/{objection.pk}/")
    assert "13812345678" in opened.content.decode()
    answered = client_for(pm).post(
        f"/recognition/manage/objections/{objection.pk}/",
        {"answer": "经核实，成员信息属实。", "upheld": "no"},
    )
    assert answered.status_code == 302
    objection.refresh_from_db()
    assert objection.upheld is False and objection.answered_by == pm
    assert [
        e.detail
        for e in AuditEvent.objects.filter(
            action=AuditAction.RECOGNITION_OBJECTION, object_id=str(objection.pk)
        ).order_by("id")
    ] == [
        {"op": "contact_view"},
        {"application": studio_app.pk, "upheld": False},
    ]
    assert list(
        ApplicationEvent.objects.filter(application=studio_app)
        .exclude(kind=ApplicationEvent.Kind.MOVE)
        .exclude(kind=ApplicationEvent.Kind.EDIT)
        .values_list("kind", flat=True)
    ) == ["objection", "answer"]
    with pytest.raises(RecognitionError):  # answered once
        objection_answer(objection=objection, actor=pm, answer="再答", upheld=True)

    # The case gets an objection that is upheld.
    upheld = objection_file(
        application=case_app,
        data=ObjectionInput(contact_name="李四", contact="li@example.com", body="合同金额不实"),
        user=None,
    )
    objection_answer(objection=upheld, actor=pm, answer="经核实，合同金额有误。", upheld=True)

    with time_machine.travel(later, tick=False):
        response = client_for(pm).post(
            f"/recognition/manage/{studio_batch.pk}/finalise/",
            {"version": Batch.objects.get(pk=studio_batch.pk).version},
        )
        assert response.status_code == 302
        batch_finalise(batch=Batch.objects.get(pk=case_app.batch_id), actor=pm)

    studio_app, case_app = fresh(studio_app), fresh(case_app)
    assert (studio_app.status, studio_app.final_level) == (S.RECOGNISED, Level.PREMIUM)
    assert (case_app.status, case_app.final_level) == (S.NOT_RECOGNISED, "")
    assert moves(case_app)[-1] == (
        "notice",
        "not_recognised",
        "公示异议成立：经核实，合同金额有误。",
    )
    studio.refresh_from_db()
    case.refresh_from_db()
    assert (studio.recognition_level, studio.recognised_year) == (Level.PREMIUM, studio_batch.year)
    assert (case.recognition_level, case.recognised_year) == ("", None)
    batch = Batch.objects.get(pk=studio_batch.pk)
    assert batch.status == Batch.Status.FINAL and batch.published_at is not None
    assert AuditEvent.objects.filter(action=AuditAction.RECOGNITION_PUBLISH).count() == 2
    results = client_for(dora).get(f"/recognition/batches/{batch.pk}/results/")
    assert [(a.pk, a.final_level) for a, _ in results.context["rows"]] == [
        (studio_app.pk, "premium")
    ]
    assert OutboxMessage.objects.filter(recipient=lee, title__endswith="已获认定").count() == 1
    assert OutboxMessage.objects.filter(recipient=ed, title__endswith="未获认定").count() == 1


def test_scored_applications_without_a_proposed_level_are_not_recognised_at_notice(
    pm: User, lee: User, studio: Team, alice: User, bob: User
) -> None:
    application = studio_application(pm, lee, studio)
    through_city(application, alice, bob)
    batch = Batch.objects.get(pk=application.batch_id)
    batch_transition(batch=batch, to=Batch.Status.REVIEW, actor=pm)
    scored(application, pm, "", "60.00", 9)
    batch_notice_start(batch=Batch.objects.get(pk=batch.pk), actor=pm)
    assert fresh(application).status == S.NOT_RECOGNISED
    assert moves(application)[-1] == ("scored", "not_recognised", "未列入拟认定名单。")


def test_objections_are_filed_only_during_the_notice_and_are_rate_limited(
    on_notice: dict[str, Any], dora: User
) -> None:
    studio_app = fresh(on_notice["studio"])
    url = f"/recognition/batches/{studio_app.batch_id}/notice/"
    client = client_for(dora)
    empty = client.post(
        url, {"application": studio_app.pk, "contact_name": "", "contact": "", "body": ""}
    )
    assert empty.status_code == 400
    assert not Objection.objects.exists()
    form = {
        "application": studio_app.pk,
        "contact_name": "王",
        "contact": "13900001111",
        "body": "有异议",
    }
    for _ in range(4):  # five posts an hour from one address, refused ones included
        assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 429
    assert Objection.objects.count() == 4
    with (
        time_machine.travel(timezone.now() + timedelta(days=8), tick=False),
        pytest.raises(RecognitionError),
    ):
        objection_file(
            application=studio_app,
            data=ObjectionInput(contact_name="王", contact="1", body="晚了"),
            user=None,
        )
    assert Objection.objects.count() == 4


# --- The periodic job --------------------------------------------------------------------


def test_the_periodic_job_opens_closes_and_finalises_batches_and_is_idempotent(
    on_notice: dict[str, Any], pm: User
) -> None:
    today = timezone.localdate()
    draft = batch_create(
        actor=pm,
        data=BatchInput(
            programme=Programme.PROJECT,
            year=today.year,
            name="科创会项目征集",
            description="",
            eligibility="",
            opens_on=today,
            closes_on=today + timedelta(days=3),
        ),
    )
    incomplete = batch_create(
        actor=pm,
        data=BatchInput(
            programme=Programme.PROJECT,
            year=today.year,
            name="未设指标",
            description="",
            eligibility="",
            opens_on=today,
            closes_on=today + timedelta(days=3),
        ),
    )
    batch_criteria_replace(batch=draft, actor=pm, criteria=CRITERIA, version=None)
    assert advance() == 1
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.OPEN
    assert Batch.objects.get(pk=incomplete.pk).status == Batch.Status.DRAFT
    assert recognition_advance() == 0

    studio_app = fresh(on_notice["studio"])
    objection = objection_file(
        application=studio_app,
        data=ObjectionInput(contact_name="王", contact="13900001111", body="有异议"),
        user=None,
    )
    with time_machine.travel(today + timedelta(days=9), tick=False):
        # The project batch closed (to review); the notices ended; one objection is open.
        assert recognition_advance() == 3  # close, finalise the case batch, one reminder
        assert Batch.objects.get(pk=draft.pk).status == Batch.Status.REVIEW
        assert Batch.objects.get(pk=on_notice["case"].batch_id).status == Batch.Status.FINAL
        assert Batch.objects.get(pk=studio_app.batch_id).status == Batch.Status.NOTICE
        reminder = OutboxMessage.objects.get(recipient=pm, title__contains="尚有异议未答复")
        assert recognition_advance() == 0  # the reminder goes once
        assert OutboxMessage.objects.filter(recipient=pm, source="recognition").count() == 1
        assert reminder.body == "还有1条公示异议未答复，答复后系统将发布认定结果。"
        objection_answer(objection=objection, actor=pm, answer="不成立", upheld=False)
        assert recognition_advance() == 1
        assert recognition_advance() == 0
    assert Batch.objects.get(pk=studio_app.batch_id).status == Batch.Status.FINAL
    assert fresh(studio_app).status == S.RECOGNISED
    published = AuditEvent.objects.filter(action=AuditAction.RECOGNITION_PUBLISH)
    assert published.count() == 2 and all(e.user_id is None for e in published)


def test_the_job_is_on_the_beat_schedule() -> None:
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["recognition-advance"]["task"] == "recognition.advance"


# --- Pages and who may open them ---------------------------------------------------------


def test_a_province_manager_creates_and_edits_a_batch_through_the_pages(
    pm: User, rita: User
) -> None:
    from kejiyun.recognition.models import ReviewerProfile

    ReviewerProfile.objects.create(user=rita, fields="茶叶")
    client = client_for(pm)
    assert client.get("/recognition/manage/").status_code == 200
    assert client.get("/recognition/manage/new/").status_code == 200
    form = {
        "programme": Programme.WORKSTATION,
        "year": 2026,
        "name": "2026年度院士(专家)工作站",
        "description": "通知",
        "eligibility": "条件",
        "opens_on": "2026-03-01",
        "closes_on": "2026-02-01",
        "notice_days": 7,
        "reviewers_per_application": 3,
        "reviewer_load": 10,
        "exclude_same_county": "on",
        "min_studio_cases": 3,
        "min_case_rating": 4,
        "quota_premium": 0,
        "quota_typical": 0,
        "chair": rita.pk,
    }
    refused = client.post("/recognition/manage/new/", form)
    assert refused.status_code == 400
    assert "申报截止日期不能早于开始日期。" in refused.content.decode()
    assert not Batch.objects.exists()
    form["closes_on"] = "2026-04-30"
    assert client.post("/recognition/manage/new/", form).status_code == 302
    batch = Batch.objects.get()
    assert (batch.status, batch.chair, batch.created_by) == (Batch.Status.DRAFT, rita, pm)
    assert client.get(f"/recognition/manage/{batch.pk}/edit/").status_code == 200
    edited = client.post(
        f"/recognition/manage/{batch.pk}/edit/",
        form | {"name": "改名后的批次", "version": batch.version},
    )
    assert edited.status_code == 302
    batch.refresh_from_db()
    assert (batch.name, batch.version) == ("改名后的批次", 2)
    stale = client.post(
        f"/recognition/manage/{batch.pk}/edit/", form | {"name": "又改", "version": 1}
    )
    assert stale.status_code == 409
    assert Batch.objects.get().name == "改名后的批次"


def test_every_page_refuses_those_it_is_not_for(
    on_notice: dict[str, Any], pm: User, alice: User, charlie: User, dora: User
) -> None:
    application = fresh(on_notice["studio"])
    batch = application.batch
    objection = objection_file(
        application=application,
        data=ObjectionInput(contact_name="王", contact="13900001111", body="有异议"),
        user=None,
    )
    manager_only = [
        "/recognition/manage/",
        "/recognition/manage/new/",
        f"/recognition/manage/{batch.pk}/",
        f"/recognition/manage/{batch.pk}/edit/",
        f"/recognition/manage/{batch.pk}/criteria/",
        f"/recognition/manage/objections/{objection.pk}/",
    ]
    manager_posts = [
        f"/recognition/manage/{batch.pk}/move/",
        f"/recognition/manage/{batch.pk}/notice/",
        f"/recognition/manage/{batch.pk}/finalise/",
        f"/recognition/manage/objections/{objection.pk}/",
    ]
    before = (row(application), list(Batch.objects.values()), list(Objection.objects.values()))
    for user in (alice, charlie):
        client = client_for(user)
        for url in manager_only:
            assert client.get(url).status_code == 404, url
        for url in manager_posts:
            assert client.post(url, {"version": batch.version, "to": "review"}).status_code == 404
    citizen = client_for(dora)
    for url in manager_only:
        assert citizen.get(url).status_code == 404, url
    assert citizen.get("/recognition/queue/").status_code == 404
    for url in (
        f"/recognition/applications/{application.pk}/",
        f"/recognition/applications/{application.pk}/edit/",
    ):
        assert citizen.get(url).status_code == 404
    anonymous = client_for(dora)
    anonymous.logout()
    for url in (
        "/recognition/mine/",
        f"/recognition/batches/{batch.pk}/apply/",
        "/recognition/queue/",
    ):
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    for url in manager_only:
        assert anonymous.get(url).status_code in (302, 404)
    assert (
        anonymous.post(f"/recognition/applications/{application.pk}/move/", {}).status_code == 302
    )
    # The public pages are public.
    for url in (
        "/recognition/",
        f"/recognition/batches/{batch.pk}/",
        f"/recognition/batches/{batch.pk}/notice/",
    ):
        assert anonymous.get(url).status_code == 200
    assert anonymous.get(f"/recognition/batches/{batch.pk}/results/").status_code == 404  # not yet
    assert (
        row(application),
        list(Batch.objects.values()),
        list(Objection.objects.values()),
    ) == before


def test_a_workstation_is_applied_for_by_its_host_or_its_experts_and_a_project_by_a_worker(
    pm: User, lee: User, tea_company: Any, erin: User, dora: User
) -> None:
    from kejiyun.talent.models import Resource

    station = Resource.objects.create(
        kind=Resource.Kind.WORKSTATION,
        name="茶产业院士工作站",
        host_organisation=tea_company,
        region_id="510104",
    )
    batch = open_batch(pm, Programme.WORKSTATION)
    data = ApplicationInput(
        title="茶产业院士工作站",
        summary="s",
        answers={"expert": "院士", "host_conditions": "实验室", "plan": "三年计划"},
    )
    with pytest.raises(RecognitionError) as outsider:
        application_create(batch=batch, actor=lee, subject=Subject(resource=station), data=data)
    assert outsider.value.messages == ["只有工作站的依托单位或入驻专家可以申报。"]
    with pytest.raises(RecognitionError) as level:
        application_create(
            batch=batch,
            actor=erin,
            subject=Subject(resource=station),
            data=dataclasses.replace(data, level=Level.PREMIUM),
        )
    assert level.value.messages == ["该项目不分等级。"]
    made = application_create(batch=batch, actor=erin, subject=Subject(resource=station), data=data)
    assert (made.region_id, made.organisation_id, made.level) == ("510104", tea_company.pk, "")
    station.experts.add(lee.talent_profile)
    # One live application per workstation and batch, whoever files it (the host or an
    # expert): a second is refused until the first is withdrawn.
    with pytest.raises(RecognitionError) as twice:
        application_create(batch=batch, actor=lee, subject=Subject(resource=station), data=data)
    assert twice.value.messages == ["该工作站已在本批次申报。"]
    application_move(
        application=made, to=Application.Status.WITHDRAWN, actor=erin, version=made.version
    )
    application_create(batch=batch, actor=lee, subject=Subject(resource=station), data=data)

    projects = open_batch(pm, Programme.PROJECT)
    answers = {"maturity": "中试", "investment": "100万元", "benefit": "增收"}
    with pytest.raises(RecognitionError) as citizen:
        application_create(
            batch=projects,
            actor=dora,
            subject=Subject(),
            data=ApplicationInput(title="项目", summary="s", answers=answers),
        )
    assert citizen.value.messages == ["科创会项目只能由企业用户或科技工作者申报。"]
    project = application_create(
        batch=projects,
        actor=lee,
        subject=Subject(),
        data=ApplicationInput(title="项目", summary="s", answers=answers),
    )
    assert project.region_id == "510104"
