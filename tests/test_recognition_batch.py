"""A full recognition batch from application to published result, through the real services
only, for a studio and for a case: the province opens the batch with its criteria, the
applicant applies with a PDF and submits, the county (or the city) returns it with a reason,
the applicant fixes it and submits again, the county recommends, the city endorses, the
province builds the reviewer pool and assigns reviewers (no conflict, no reviewer over their
load), the reviewers score and submit, scoring closes with the ranking and the proposed
levels, the notice (公示) starts, an objection is filed and answered (not upheld), the result
cannot be published before the notice ends, and afterwards it is: the studio or case carries
its level, the public results page lists it, the studio's lead shows the badge in the
directory, the case enters the library once its enterprise consents. Every move is on the
timeline and in the audit log.

The fixtures alone write rows directly (people, studios, closed cases, an accepted docking);
everything after them goes through the services. Alice is staff of 锦江区 (510104), Quinn of
青羊区 (510105), Bob of 成都市 (510100); Pat is province staff given the recognition role.
Lee leads 茶科创工作室 and Mia 青羊蔬菜科创工作室 (both employed by 四川农业大学); Ed speaks
for the enterprise of a closed, solved, confirmed case in 锦江区.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.cases.models import Case, DockingRequest, Outcome, Step
from kejiyun.cases.workflow.services import case_library_consent
from kejiyun.common.errors import NotPermitted
from kejiyun.common.levels import Level
from kejiyun.notifications.models import OutboxMessage
from kejiyun.recognition.eligibility import Subject
from kejiyun.recognition.models import (
    Application,
    ApplicationEvent,
    Batch,
    Programme,
    ReviewAssignment,
    ReviewerProfile,
)
from kejiyun.recognition.review.conflicts import conflict_reason
from kejiyun.recognition.review.selectors import (
    application_facts,
    endorsed_applications,
    reviewer_facts,
)
from kejiyun.recognition.review.services import (
    CriterionInput as ScoreInput,
)
from kejiyun.recognition.review.services import (
    ReviewerDetails,
    review_assign,
    review_score_save,
    review_scoring_close,
    reviewer_profile_create,
)
from kejiyun.recognition.services import (
    ApplicationInput,
    BatchInput,
    CriterionInput,
    ObjectionInput,
    RecognitionError,
    application_attachment_add,
    application_create,
    application_move,
    application_submit,
    application_update,
    batch_create,
    batch_criteria_replace,
    batch_finalise,
    batch_notice_start,
    batch_transition,
    objection_answer,
    objection_file,
    recognition_advance,
)
from kejiyun.regions.models import Region
from kejiyun.talent.models import TalentProfile, Team
from tests.builders import (
    PASSWORD,
    make_case,
    make_enterprise_user,
    make_staff,
    make_worker,
    pdf_upload,
)

pytestmark = pytest.mark.django_db

S = Application.Status
CRITERIA = [
    CriterionInput(name="服务成效", weight=50, description="解决问题的实效"),
    CriterionInput(name="创新性", weight=30, description="技术和模式的创新"),
    CriterionInput(name="示范带动", weight=20, description="可复制、可推广"),
]
STUDIO_ANSWERS = {
    "members_roles": "负责人统筹茶园技术服务，成员分管植保和加工。",
    "services": "三年为二十家茶企提供茶叶病虫害绿色防控服务。",
    "effect": "茶园农药用量下降三成，茶农增收两成。",
}
CASE_ANSWERS = {
    "problem": "茶园茶小绿叶蝉危害严重。",
    "solution": "专家制定绿色防控方案并现场指导。",
    "benefit": "农药减量三成，每亩增收八百元。",
}
TEA = {
    "fields": "茶学、植物保护",
    "keywords": "茶叶、绿色防控、茶园管理",
    "expertise": "长期从事茶叶病虫害绿色防控和茶园管理技术推广。",
}


# --- Fixtures: people, studios and cases (the only direct writes) -----------------------


@pytest.fixture
def pm(pat: User) -> User:
    """Pat with the recognition role."""
    pat.user_permissions.add(
        Permission.objects.get(content_type__app_label="recognition", codename="manage_recognition")
    )
    return User.objects.get(pk=pat.pk)


@pytest.fixture
def quinn(db: None) -> User:
    return make_staff("quinn", "510105")


def _closed_case(serial: str, county: str = "510104") -> Case:
    """A case closed as solved, with evidence, confirmed by the enterprise and rated 5."""
    case = make_case(None, county=county, serial=serial)
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
    return Case.objects.select_related("demand__organisation").get(pk=case.pk)


def _studio(lead: TalentProfile, name: str, serials: tuple[str, ...]) -> Team:
    team = Team.objects.create(
        kind=Team.Kind.STUDIO, name=name, lead=lead, region_id=lead.region_id
    )
    for serial in serials:
        DockingRequest.objects.create(
            case=_closed_case(serial, lead.region_id),
            expert=lead,
            status=DockingRequest.Status.ACCEPTED,
        )
    return team


@pytest.fixture
def lee(db: None) -> User:
    return make_worker("lee", "510104", "13700002001").user


@pytest.fixture
def studio(lee: User) -> Team:
    return _studio(lee.talent_profile, "茶科创工作室", ("71", "72"))


@pytest.fixture
def mia_studio(db: None) -> Team:
    return _studio(make_worker("mia", "510105", "13700002002"), "青羊蔬菜科创工作室", ("73", "74"))


@pytest.fixture
def case(db: None) -> Case:
    return _closed_case("81")


@pytest.fixture
def ed(case: Case) -> User:
    return make_enterprise_user(case.demand.organisation, "ed")


_mobiles = iter(range(13900003001, 13900003999))


def _reviewer_user(username: str, name: str) -> User:
    return User.objects.create_user(
        username=username,
        password=PASSWORD,
        display_name=name,
        role=Role.REVIEWER,
        mobile=str(next(_mobiles)),
    )


@pytest.fixture
def reviewers(case: Case) -> dict[str, User]:
    """Reviewer accounts (the pool itself is built by the province through the service).
    Yang was the accepted expert on Ed's case: he may never review it."""
    people = {
        "zhang": _reviewer_user("zhang", "张建国"),  # 四川大学, 青川县
        "chen": _reviewer_user("chen", "陈明"),  # 西华大学, 青川县
        "zhou": _reviewer_user("zhou", "周丽"),  # 成都大学, 金牛区, load 1
        "xu": _reviewer_user("xu", "徐峰"),  # 西南交通大学, 金牛区
        "li": _reviewer_user("li", "李秀英"),  # 四川农业大学: the studios' employer
        "wang": _reviewer_user(
            "wang", "王志强"
        ),  # 锦江区: the county of Lee's studio and Ed's case
        "yang": _reviewer_user("yang", "杨帆"),  # worked Ed's case
    }
    DockingRequest.objects.create(
        case=case,
        expert=TalentProfile.objects.create(
            user=people["yang"], region_id="510106", employer="成都大学"
        ),
        status=DockingRequest.Status.ACCEPTED,
    )
    return people


POOL = {
    "zhang": ("四川大学", "510822", 10),
    "chen": ("西华大学", "510822", 10),
    "zhou": ("成都大学", "510106", 1),
    "xu": ("西南交通大学", "510106", 10),
    "li": ("四川农业大学", "510822", 10),
    "wang": ("四川师范大学", "510104", 10),
    "yang": ("电子科技大学", "510822", 10),
}


# --- Steps ------------------------------------------------------------------------------


def fresh(application: Application) -> Application:
    return Application.objects.select_related("batch").get(pk=application.pk)


def open_batch(pm: User, programme: str, *, reviewers: int) -> Batch:
    today = timezone.localdate()
    batch = batch_create(
        actor=pm,
        data=BatchInput(
            programme=programme,
            year=today.year,
            name=f"{today.year}年度{Programme(programme).label}",
            description="各区县科技服务中心组织申报。",
            eligibility="办结并经企业确认的案例；有服务业绩的工作室。",
            opens_on=today - timedelta(days=1),
            closes_on=today + timedelta(days=10),
            notice_days=7,
            reviewers_per_application=reviewers,
            reviewer_load=5,
            min_studio_cases=2,
        ),
    )
    with pytest.raises(RecognitionError) as refused:  # no criteria yet: it cannot open
        batch_transition(batch=batch, to=Batch.Status.OPEN, actor=pm)
    assert refused.value.messages == ["请至少设置一项评审指标。"]
    batch_criteria_replace(batch=batch, actor=pm, criteria=CRITERIA, version=batch.version)
    batch_transition(batch=batch, to=Batch.Status.OPEN, actor=pm, version=batch.version)
    assert batch.status == Batch.Status.OPEN
    assert sum(c.weight for c in batch.criteria.all()) == 100
    return batch


def apply(batch: Batch, applicant: User, subject: Subject, data: ApplicationInput) -> Application:
    application = application_create(batch=batch, actor=applicant, subject=subject, data=data)
    application_attachment_add(
        application=application, actor=applicant, upload=pdf_upload("申报书.pdf")
    )
    application_submit(application=application, actor=applicant, version=application.version)
    assert fresh(application).status == S.SUBMITTED
    return fresh(application)


def move(application: Application, to: str, actor: User, reason: str = "") -> Application:
    application = fresh(application)
    application_move(
        application=application, to=to, actor=actor, version=application.version, reason=reason
    )
    return fresh(application)


def build_pool(pm: User, reviewers: dict[str, User]) -> None:
    for key, (employer, county, load) in POOL.items():
        reviewer_profile_create(
            actor=pm,
            user=reviewers[key],
            details=ReviewerDetails(
                employer=employer,
                organisation=None,
                region=Region.objects.get(code=county),
                title="研究员",
                load=load,
                **TEA,
            ),
        )


def assign_and_check(pm: User, batch: Batch) -> dict[int, set[int]]:
    """Assign the batch's endorsed applications; check that no assignment conflicts and
    that no reviewer is over their own load or the batch's. Application id → reviewer ids."""
    facts = {a.pk: application_facts(a) for a in endorsed_applications(batch)}
    outcome = review_assign(batch=batch, actor=pm)
    assert outcome.short == []
    assert {a.pk for a in outcome.moved} == set(facts)
    profiles = list(ReviewerProfile.objects.select_related("user", "region", "organisation"))
    reviewers = {int(f.id): f for f in reviewer_facts(profiles)}
    loads = {p.user_id: min(p.load, batch.reviewer_load) for p in profiles}
    given: dict[int, set[int]] = {}
    for assignment in ReviewAssignment.objects.filter(application__batch=batch):
        given.setdefault(assignment.application_id, set()).add(assignment.reviewer_id)
        reason = conflict_reason(
            reviewers[assignment.reviewer_id],
            facts[assignment.application_id],
            exclude_same_county=batch.exclude_same_county,
        )
        assert reason == "", (assignment.reviewer, reason)
    for application_id, ids in given.items():
        assert len(ids) == batch.reviewers_per_application, application_id
    for reviewer_id, load in loads.items():
        taken = sum(reviewer_id in ids for ids in given.values())
        assert taken <= load, (reviewer_id, taken, load)
    return given


def score_all(application: Application, marks: list[int]) -> None:
    """Every reviewer of `application` scores each criterion `marks` and submits."""
    criteria = list(application.batch.criteria.order_by("order"))
    for assignment in ReviewAssignment.objects.filter(application=application):
        review_score_save(
            assignment=assignment,
            actor=assignment.reviewer,
            scores={
                c.pk: ScoreInput(score=m, comment="材料翔实，成效可核实。")
                for c, m in zip(criteria, marks, strict=True)
            },
            submit=True,
        )


def finish_notice(pm: User, batch: Batch, application: Application, *, via_job: bool) -> None:
    """The notice: an objection is filed and answered (not upheld); publishing before the
    notice ends, or with the objection unanswered, is refused; afterwards the result is
    published (by the manager, or by the periodic job)."""
    batch.refresh_from_db()
    assert batch.status == Batch.Status.NOTICE
    assert batch.notice_ends_at is not None and batch.notice_starts_at is not None
    assert batch.notice_ends_at - batch.notice_starts_at == timedelta(days=7)
    objection = objection_file(
        application=fresh(application),
        data=ObjectionInput(
            contact_name="匿名群众", contact="13812345678", body="该申报的增收数据是否属实？"
        ),
        user=None,
    )
    with pytest.raises(RecognitionError) as early:
        batch_finalise(batch=batch, actor=pm)
    assert early.value.code == "notice_running"
    after = batch.notice_ends_at + timedelta(hours=1)
    with pytest.raises(RecognitionError) as unanswered:
        batch_finalise(batch=batch, actor=pm, now=after)
    assert unanswered.value.code == "objections_open"
    if via_job:
        # The job does not publish while an objection waits; it tells the managers once.
        assert recognition_advance(now=after) == 1
        assert recognition_advance(now=after) == 0
        batch.refresh_from_db()
        assert batch.status == Batch.Status.NOTICE
        assert (
            OutboxMessage.objects.filter(
                recipient=pm, title=f"{batch.name}公示已结束，尚有异议未答复"
            ).count()
            == 1
        )
    objection_answer(
        objection=objection, actor=pm, answer="经核实，增收数据有财务凭证佐证。", upheld=False
    )
    objection.refresh_from_db()
    assert objection.upheld is False and objection.answered_by == pm
    assert batch.status == Batch.Status.NOTICE  # answering alone publishes nothing
    if via_job:
        assert recognition_advance(now=after) == 1
    else:
        batch_finalise(batch=Batch.objects.get(pk=batch.pk), actor=pm, now=after)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.FINAL
    assert batch.published_at == after


def timeline(application: Application) -> list[tuple[str, str, str]]:
    return [
        (e.kind, e.from_status, e.to_status)
        for e in ApplicationEvent.objects.filter(application=application).order_by("id")
        if e.kind != ApplicationEvent.Kind.EDIT
    ]


def audited_moves(application: Application) -> list[tuple[str, str]]:
    rows = AuditEvent.objects.filter(
        action=AuditAction.RECOGNITION_MOVE,
        object_type="recognition.application",
        object_id=str(application.pk),
        outcome="ok",
    ).order_by("id")
    return [(r.detail["from"], r.detail["to"]) for r in rows]


BY_COUNTY = [("submitted", "returned")]
BY_CITY = [("submitted", "recommended"), ("recommended", "returned")]


def check_trail(
    application: Application, *, returned: list[tuple[str, str]], reviewers: int
) -> None:
    """Every move on the timeline, in order, each with its audit row; the assignment, each
    reviewer's submission, the objection and its answer on the timeline too."""
    M, A = ApplicationEvent.Kind.MOVE, ApplicationEvent.Kind
    chain = [
        ("draft", "submitted"),
        *returned,
        ("returned", "submitted"),
        ("submitted", "recommended"),
        ("recommended", "endorsed"),
        ("endorsed", "reviewing"),
        ("reviewing", "scored"),
        ("scored", "notice"),
        ("notice", "recognised"),
    ]
    expected = [(M, f, t) for f, t in chain[: 4 + len(returned)]]
    expected += [(A.ASSIGN, "", ""), (M, "endorsed", "reviewing")]
    expected += [(A.SCORE, "", "")] * reviewers
    expected += [(M, "reviewing", "scored"), (M, "scored", "notice")]
    expected += [(A.OBJECTION, "", ""), (A.ANSWER, "", ""), (M, "notice", "recognised")]
    assert timeline(application) == expected
    assert audited_moves(application) == chain
    assessed = AuditEvent.objects.filter(
        action=AuditAction.RECOGNITION_SCORE,
        object_id__in=[
            str(pk)
            for pk in ReviewAssignment.objects.filter(application=application).values_list(
                "pk", flat=True
            )
        ],
    )
    assert assessed.count() == reviewers
    assert AuditEvent.objects.filter(
        action=AuditAction.RECOGNITION_OBJECTION, detail__application=application.pk
    ).exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.RECOGNITION_PUBLISH, object_id=str(application.batch_id)
    ).exists()
    batch_moves = [
        (r.detail.get("from"), r.detail.get("to"))
        for r in AuditEvent.objects.filter(
            action=AuditAction.RECOGNITION_BATCH,
            object_id=str(application.batch_id),
            object_type="recognition.batch",
            detail__has_key="to",
        ).order_by("id")
    ]
    assert batch_moves == [
        ("draft", "open"),
        ("open", "review"),
        ("review", "notice"),
        ("notice", "final"),
    ]


def results_page(batch: Batch) -> str:
    response = Client().get(f"/recognition/batches/{batch.pk}/results/")
    assert response.status_code == 200
    return response.content.decode()


# --- The studio -------------------------------------------------------------------------


def test_a_studio_batch_runs_from_application_to_the_published_result_and_the_badge(
    pm: User,
    lee: User,
    studio: Team,
    mia_studio: Team,
    alice: User,
    quinn: User,
    bob: User,
    reviewers: dict[str, User],
) -> None:
    batch = open_batch(pm, Programme.STUDIO, reviewers=2)
    mia = mia_studio.lead.user
    lee_app = apply(
        batch,
        lee,
        Subject(studio=studio),
        ApplicationInput(
            title="茶科创工作室申报精品",
            summary="三年服务茶企二十家，推广茶叶病虫害绿色防控。",
            fields="茶叶、绿色防控",
            level=Level.TYPICAL,
            answers=STUDIO_ANSWERS,
        ),
    )
    mia_app = apply(
        batch,
        mia,
        Subject(studio=mia_studio),
        ApplicationInput(
            title="青羊蔬菜科创工作室申报典型",
            summary="为蔬菜合作社提供设施栽培服务。",
            fields="蔬菜、茶园管理",
            level=Level.TYPICAL,
            answers={k: "见附件" for k in STUDIO_ANSWERS},
        ),
    )

    # The county returns Lee's with a reason; Lee fixes it (asks for 精品) and resubmits.
    returned = move(lee_app, S.RETURNED, alice, "请补充服务成效的量化数据。")
    assert returned.status == S.RETURNED
    assert returned.return_reason == "请补充服务成效的量化数据。"
    assert OutboxMessage.objects.filter(
        recipient=lee, body="退回原因：请补充服务成效的量化数据。"
    ).exists()
    application_update(
        application=returned,
        actor=lee,
        data=ApplicationInput(
            title=returned.title,
            summary="三年服务茶企二十家，茶园农药用量下降三成，茶农增收两成。",
            fields=returned.fields,
            level=Level.PREMIUM,
            answers=STUDIO_ANSWERS,
        ),
        version=returned.version,
    )
    application_submit(application=fresh(lee_app), actor=lee, version=fresh(lee_app).version)
    assert fresh(lee_app).return_reason == ""

    # Another county's staff cannot recommend it; its own county does, then the city.
    with pytest.raises(NotPermitted):
        move(lee_app, S.RECOMMENDED, quinn)
    move(lee_app, S.RECOMMENDED, alice)
    move(mia_app, S.RECOMMENDED, quinn)
    for application in (lee_app, mia_app):
        assert move(application, S.ENDORSED, bob).status == S.ENDORSED

    # The province closes the call, builds the pool and assigns.
    batch_transition(batch=batch, to=Batch.Status.REVIEW, actor=pm, version=batch.version)
    build_pool(pm, reviewers)
    given = assign_and_check(pm, batch)
    # Li shares the leads' employer, Wang is in Lee's county: never on Lee's studio.
    ids = {k: u.pk for k, u in reviewers.items()}
    assert not {ids["li"], ids["wang"]} & given[lee_app.pk]
    assert ids["li"] not in given[mia_app.pk]
    assert sum(ids["zhou"] in g for g in given.values()) <= 1

    score_all(fresh(lee_app), [92, 90, 88])
    with pytest.raises(RecognitionError):
        review_scoring_close(batch=batch, actor=pm)  # Mia's reviewers have not submitted
    score_all(fresh(mia_app), [55, 50, 50])
    review_scoring_close(batch=Batch.objects.get(pk=batch.pk), actor=pm)
    lee_app, mia_app = fresh(lee_app), fresh(mia_app)
    assert (lee_app.status, lee_app.rank, lee_app.proposed_level) == (S.SCORED, 1, Level.PREMIUM)
    assert str(lee_app.score) == "90.60"
    assert (mia_app.status, mia_app.rank, mia_app.proposed_level) == (S.SCORED, 2, Level.NONE)

    batch_notice_start(batch=Batch.objects.get(pk=batch.pk), actor=pm)
    assert fresh(lee_app).status == S.NOTICE
    assert fresh(mia_app).status == S.NOT_RECOGNISED
    notice = Client().get(f"/recognition/batches/{batch.pk}/notice/").content.decode()
    assert lee_app.title in notice and mia_app.title not in notice

    finish_notice(pm, Batch.objects.get(pk=batch.pk), lee_app, via_job=True)

    lee_app = fresh(lee_app)
    assert (lee_app.status, lee_app.final_level) == (S.RECOGNISED, Level.PREMIUM)
    studio.refresh_from_db()
    mia_studio.refresh_from_db()
    assert (studio.recognition_level, studio.recognised_year) == (Level.PREMIUM, batch.year)
    assert mia_studio.recognition_level == Level.NONE
    assert OutboxMessage.objects.filter(recipient=lee, title=f"{batch.name}：已获认定").exists()
    html = results_page(batch)
    assert f'data-application="{lee_app.pk}"' in html
    assert f'data-application="{mia_app.pk}"' not in html
    directory = Client().get("/talent/?level=premium").content.decode()
    assert f'data-profile="{lee.talent_profile.pk}"' in directory
    assert f"精品工作室（{batch.year}年度）" in directory
    assert f'data-profile="{mia_studio.lead.pk}"' not in directory
    check_trail(lee_app, returned=BY_COUNTY, reviewers=2)


# --- The case ---------------------------------------------------------------------------


def test_a_case_batch_runs_to_the_published_result_and_the_case_enters_the_library(
    pm: User,
    ed: User,
    case: Case,
    alice: User,
    bob: User,
    reviewers: dict[str, User],
) -> None:
    batch = open_batch(pm, Programme.CASE, reviewers=3)
    application = apply(
        batch,
        ed,
        Subject(case=case),
        ApplicationInput(
            title="茶园绿色防控服务案例",
            summary="专家上门指导茶园病虫害绿色防控，农药减量三成。",
            fields="茶叶、绿色防控",
            level=Level.TYPICAL,
            answers=CASE_ANSWERS,
        ),
    )
    # The county recommends; the city returns it with a reason; Ed resubmits.
    move(application, S.RECOMMENDED, alice)
    returned = move(application, S.RETURNED, bob, "请补充企业出具的效益证明。")
    assert returned.return_reason == "请补充企业出具的效益证明。"
    application_attachment_add(application=returned, actor=ed, upload=pdf_upload("效益证明.pdf"))
    application_submit(application=fresh(application), actor=ed, version=returned.version)
    # The call closes (the periodic job, after closes_on) while it is back with the county.
    closed_on = batch.closes_on + timedelta(days=1)
    assert recognition_advance(now=timezone.make_aware(datetime.combine(closed_on, time(9)))) == 1
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.REVIEW
    move(application, S.RECOMMENDED, alice)
    move(application, S.ENDORSED, bob)
    assert fresh(application).attachments.count() == 2

    build_pool(pm, reviewers)
    given = assign_and_check(pm, Batch.objects.get(pk=batch.pk))
    ids = {k: u.pk for k, u in reviewers.items()}
    # Wang is in the case's county, Yang worked the case: neither reviews it.
    assert not {ids["wang"], ids["yang"]} & given[application.pk]

    score_all(fresh(application), [80, 78, 75])
    review_scoring_close(batch=Batch.objects.get(pk=batch.pk), actor=pm)
    scored = fresh(application)
    assert (scored.status, scored.rank, scored.proposed_level) == (S.SCORED, 1, Level.TYPICAL)

    batch_notice_start(batch=Batch.objects.get(pk=batch.pk), actor=pm)
    finish_notice(pm, Batch.objects.get(pk=batch.pk), application, via_job=False)

    application = fresh(application)
    assert (application.status, application.final_level) == (S.RECOGNISED, Level.TYPICAL)
    case.refresh_from_db()
    assert (case.recognition_level, case.recognised_year) == (Level.TYPICAL, batch.year)
    assert f'data-application="{application.pk}"' in results_page(batch)
    check_trail(application, returned=BY_CITY, reviewers=3)

    # The library lists it only once the enterprise consents, with its badge.
    assert f'data-case="{case.pk}"' not in Client().get("/recognition/library/").content.decode()
    assert Client().get(f"/recognition/library/{case.pk}/").status_code == 404
    case_library_consent(case=case, actor=ed, granted=True)
    library = Client().get("/recognition/library/?level=typical").content.decode()
    assert f'data-case="{case.pk}"' in library
    assert f"典型案例（{batch.year}年度）" in library
    detail = Client().get(f"/recognition/library/{case.pk}/").content.decode()
    assert f"典型案例（{batch.year}年度）" in detail
    assert case.contract_number not in detail
