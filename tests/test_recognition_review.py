"""The province panel's review with real rows: the pool, assignment through the matching
engine with conflicts excluded, scoring, closing with ranking, the chair's outliers, and
who may see what (404 for everyone else)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.cases.models import DockingRequest
from kejiyun.common.errors import NotPermitted
from kejiyun.common.levels import Level
from kejiyun.recognition.models import (
    Application,
    ApplicationEvent,
    Batch,
    Criterion,
    CriterionScore,
    Programme,
    ReviewAssignment,
    ReviewerProfile,
)
from kejiyun.recognition.review.assignment import NO_ELIGIBLE
from kejiyun.recognition.review.services import (
    CriterionInput,
    review_assign,
    review_score_save,
    review_scoring_close,
)
from kejiyun.recognition.services import RecognitionError
from kejiyun.talent.models import TalentProfile
from tests.builders import PASSWORD, client_for, make_case, make_enterprise, make_staff, make_worker

pytestmark = pytest.mark.django_db

S = Application.Status
TEA_FIELDS = "茶学、植物保护"


# --- Builders (this module's own) -----------------------------------------------------------


def _manager() -> User:
    """Pat, province staff with the recognition role."""
    pat = make_staff("pat", "510000")
    pat.user_permissions.add(
        Permission.objects.get(content_type__app_label="recognition", codename="manage_recognition")
    )
    return User.objects.get(pk=pat.pk)


def _batch(creator: User, **fields: object) -> Batch:
    values: dict[str, object] = {
        "programme": Programme.STUDIO,
        "year": 2026,
        "name": "2026年度典型/精品科创工作室",
        "opens_on": date(2026, 3, 1),
        "closes_on": date(2026, 4, 30),
        "reviewers_per_application": 2,
        "reviewer_load": 5,
        "created_by": creator,
        "status": Batch.Status.REVIEW,
        **fields,
    }
    batch = Batch.objects.create(**values)
    for order, (name, weight) in enumerate([("创新性", 40), ("服务成效", 35), ("示范带动", 25)]):
        Criterion.objects.create(batch=batch, name=name, weight=weight, order=order)
    return batch


_mobiles = iter(range(13800000001, 13800009999))


def _reviewer(
    username: str,
    name: str,
    *,
    employer: str,
    county: str,
    fields: str,
    keywords: str,
    expertise: str,
    load: int = 10,
) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        display_name=name,
        role=Role.REVIEWER,
        mobile=str(next(_mobiles)),
    )
    ReviewerProfile.objects.create(
        user=user,
        employer=employer,
        region_id=county,
        title="研究员",
        fields=fields,
        keywords=keywords,
        expertise=expertise,
        load=load,
    )
    return user


def _tea_reviewer(username: str, name: str, *, employer: str, county: str) -> User:
    return _reviewer(
        username,
        name,
        employer=employer,
        county=county,
        fields=TEA_FIELDS,
        keywords="茶叶、绿色防控、茶园管理",
        expertise="长期从事茶叶病虫害绿色防控和茶园土壤改良技术推广，2019年起指导30个茶园。",
    )


def _pig_reviewer(username: str, name: str, *, employer: str, county: str) -> User:
    return _reviewer(
        username,
        name,
        employer=employer,
        county=county,
        fields="畜牧兽医",
        keywords="生猪养殖、非洲猪瘟、疫病防控",
        expertise="从事生猪健康养殖和疫病防控20年。",
    )


def _application(
    batch: Batch,
    applicant: User,
    *,
    title: str = "雅安茶叶绿色防控科创工作室",
    summary: str = "工作室2024年服务茶园30个，推广茶叶病虫害绿色防控技术，茶园农药用量下降四成。",
    county: str = "510104",
    level: str = Level.TYPICAL,
    **fields: object,
) -> Application:
    values: dict[str, object] = {
        "fields": TEA_FIELDS,
        "answers": {"成效": "带动茶农增收", "团队": "研究员3人"},
        "status": S.ENDORSED,
        **fields,
    }
    return Application.objects.create(
        batch=batch,
        applicant=applicant,
        region_id=county,
        title=title,
        summary=summary,
        level=level,
        **values,
    )


@pytest.fixture
def manager(db: None) -> User:
    return _manager()


def _reviewing(batch: Batch, manager: User, *reviewers: User, **app_fields: object) -> Application:
    """An application in review with exactly these reviewers (assigned by the manager)."""
    applicant = make_worker(f"w{Application.objects.count()}", "510104", str(next(_mobiles))).user
    application = _application(batch, applicant, status=S.REVIEWING, **app_fields)
    for reviewer in reviewers:
        ReviewAssignment.objects.create(
            application=application, reviewer=reviewer, assigned_by=manager
        )
    return application


def _submit(assignment: ReviewAssignment, *scores: int, comment: str = "理由充分") -> None:
    criteria = list(assignment.application.batch.criteria.order_by("order"))
    review_score_save(
        assignment=assignment,
        actor=assignment.reviewer,
        scores={
            c.pk: CriterionInput(score=s, comment=comment)
            for c, s in zip(criteria, scores, strict=True)
        },
        submit=True,
    )


def _snapshot() -> tuple[object, ...]:
    return (
        list(Application.objects.order_by("pk").values()),
        list(ReviewAssignment.objects.order_by("pk").values()),
        list(CriterionScore.objects.order_by("pk").values()),
        list(ApplicationEvent.objects.order_by("pk").values()),
        list(Batch.objects.order_by("pk").values()),
    )


# --- Assignment ---------------------------------------------------------------------------


def test_assignment_excludes_every_conflict_and_records_fit_reasons_events_and_audit(
    manager: User, alice: User
) -> None:
    batch = _batch(manager)
    tea_worker = make_worker("tian", "510104", "13911110001")  # employer 四川农业大学
    case = make_case(alice, title="茶园病虫害绿色防控")
    enterprise = case.demand.organisation
    application = _application(
        batch,
        tea_worker.user,
        organisation=enterprise,
        named_people="刘海燕（合作专家）",
    )
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    li = _tea_reviewer("li", "李秀英", employer="四川农业大学", county="510822")  # same employer
    wang = _tea_reviewer("wang", "王志强", employer="西南交通大学", county="510104")  # county
    liu = _tea_reviewer("liu", "刘海燕", employer="省农科院", county="510105")  # named
    yang = _tea_reviewer("yang", "杨帆", employer="成都大学", county="510105")  # past case
    chen = _pig_reviewer("chen", "陈明", employer="西华大学", county="510822")
    DockingRequest.objects.create(
        case=case,
        expert=TalentProfile.objects.create(user=yang, region_id="510105", employer="成都大学"),
        status=DockingRequest.Status.ACCEPTED,
    )

    outcome = review_assign(batch=batch, actor=manager)

    assignments = {a.reviewer_id: a for a in ReviewAssignment.objects.all()}
    assert set(assignments) == {zhang.pk, chen.pk}
    assert not {li.pk, wang.pk, liu.pk, yang.pk} & set(assignments)
    assert assignments[zhang.pk].fit > assignments[chen.pk].fit
    assert "茶叶" in assignments[zhang.pk].reasons.split("、")
    assert assignments[zhang.pk].assigned_by == manager
    application.refresh_from_db()
    assert application.status == S.REVIEWING
    assert [a.pk for a in outcome.moved] == [application.pk]
    assign_event = ApplicationEvent.objects.get(
        application=application, kind=ApplicationEvent.Kind.ASSIGN
    )
    assert assign_event.reason == "已分配2位评审专家"
    assert "张建国" not in assign_event.reason and "陈明" not in assign_event.reason
    assert ApplicationEvent.objects.filter(
        application=application, kind=ApplicationEvent.Kind.MOVE, to_status=S.REVIEWING
    ).exists()
    audit = AuditEvent.objects.get(action=AuditAction.RECOGNITION_ASSIGN)
    assert (audit.user_id, audit.object_id) == (manager.pk, str(batch.pk))
    assert audit.detail == {"assignments": 2, "reviewing": 1, "short": 0}


def test_an_application_short_of_reviewers_stays_endorsed_and_a_second_run_fills_only_the_gap(
    manager: User,
) -> None:
    batch = _batch(manager, reviewers_per_application=3)
    applicant = make_worker("tian", "510104", "13911110001").user
    application = _application(batch, applicant)
    _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    _pig_reviewer("chen", "陈明", employer="西华大学", county="510822")
    _tea_reviewer("wang", "王志强", employer="西南交通大学", county="510104")  # same county

    client = client_for(manager)
    response = client.post(f"/recognition/review/batches/{batch.pk}/assign/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{application.title}：{NO_ELIGIBLE}" in page
    application.refresh_from_db()
    assert application.status == S.ENDORSED
    assert ReviewAssignment.objects.filter(application=application).count() == 2
    assert ApplicationEvent.objects.get(kind=ApplicationEvent.Kind.ASSIGN).reason == (
        "已分配2位评审专家"
    )

    newcomer = _tea_reviewer("he", "何丽", employer="成都大学", county="510105")
    outcome = review_assign(batch=batch, actor=manager)
    assert outcome.created == 1
    assert set(
        ReviewAssignment.objects.filter(application=application).values_list(
            "reviewer__username", flat=True
        )
    ) == {"zhang", "chen", "he"}
    assert ReviewAssignment.objects.filter(reviewer=newcomer).count() == 1
    application.refresh_from_db()
    assert application.status == S.REVIEWING
    assert list(
        ApplicationEvent.objects.filter(kind=ApplicationEvent.Kind.ASSIGN).values_list(
            "reason", flat=True
        )
    ) == ["已分配2位评审专家", "已分配3位评审专家"]
    # Nothing left to assign: refused, nothing changes.
    before = _snapshot()
    with pytest.raises(RecognitionError):
        review_assign(batch=batch, actor=manager)
    assert _snapshot() == before


def test_assignment_respects_each_reviewers_load_counting_earlier_assignments_in_the_batch(
    manager: User,
) -> None:
    batch = _batch(manager, reviewers_per_application=1, reviewer_load=2)
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    chen = _reviewer(
        "chen",
        "陈明",
        employer="西华大学",
        county="510822",
        fields="茶学",
        keywords="茶叶",
        expertise="茶叶加工",
        load=1,
    )
    earlier = _reviewing(batch, manager, zhang)  # zhang already has one in this batch
    applicants = [make_worker(f"t{i}", "510104", f"1391111000{i}").user for i in range(4)]
    fresh = [
        _application(batch, a, title=f"茶叶绿色防控工作室{i}") for i, a in enumerate(applicants)
    ]

    outcome = review_assign(batch=batch, actor=manager)

    counts = {
        u.username: ReviewAssignment.objects.filter(reviewer=u, application__batch=batch).count()
        for u in (zhang, chen)
    }
    assert counts == {"zhang": 2, "chen": 1}
    assert outcome.created == 2 and len(outcome.short) == 2
    assert earlier.assignments.count() == 1
    assert sorted(a.status for a in Application.objects.filter(pk__in=[a.pk for a in fresh])) == [
        S.ENDORSED,
        S.ENDORSED,
        S.REVIEWING,
        S.REVIEWING,
    ]


def test_the_assignment_page_shows_reasons_that_are_real_words(manager: User) -> None:
    batch = _batch(manager, reviewers_per_application=1)
    applicant = make_worker("tian", "510104", "13911110001").user
    tea = _application(batch, applicant)
    pig_applicant = make_worker("zhu", "510104", "13911110002").user
    pig = _application(
        batch,
        pig_applicant,
        title="生猪疫病防控服务案例",
        summary="2023年帮助3家养殖场建立非洲猪瘟防控体系，生猪存栏恢复到2万头。",
        fields="畜牧兽医",
        answers={"成效": "生猪养殖场复产"},
    )
    _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    _pig_reviewer("chen", "陈明", employer="西华大学", county="510822")
    client = client_for(manager)
    client.post(f"/recognition/review/batches/{batch.pk}/assign/")
    page = client.get(f"/recognition/review/batches/{batch.pk}/assign/").content.decode()
    assert "张建国" in page and "陈明" in page
    tea_reasons = ReviewAssignment.objects.get(application=tea).reasons.split("、")
    pig_reasons = ReviewAssignment.objects.get(application=pig).reasons.split("、")
    assert ReviewAssignment.objects.get(application=tea).reviewer.username == "zhang"
    assert {"茶叶", "绿色防控"} <= set(tea_reasons)
    assert "非洲猪瘟" in pig_reasons
    for term in tea_reasons + pig_reasons:
        assert len(term) >= 2 and not any(ch.isdigit() for ch in term), term
        assert term in page


def test_only_province_managers_reach_the_pool_and_assignment_and_a_refusal_changes_nothing(
    manager: User, alice: User, bob: User, charlie: User
) -> None:
    batch = _batch(manager)
    _application(batch, make_worker("tian", "510104", "13911110001").user)
    _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    plain_pat = make_staff("pat2", "510000")  # province staff without the recognition role
    reviewer = User.objects.get(username="zhang")
    profile = ReviewerProfile.objects.get(user=reviewer)
    before = _snapshot()
    for user in (alice, bob, charlie, plain_pat, reviewer):
        client = client_for(user)
        for url in (
            "/recognition/review/pool/",
            f"/recognition/review/pool/{profile.pk}/edit/",
            f"/recognition/review/batches/{batch.pk}/assign/",
        ):
            assert client.get(url).status_code == 404, (user, url)
            assert client.post(url).status_code == 404, (user, url)
        assert client.post(f"/recognition/review/pool/{profile.pk}/deactivate/").status_code == 404
        assert client.post(f"/recognition/review/batches/{batch.pk}/close/").status_code == 404
        assert client.get(f"/recognition/review/batches/{batch.pk}/panel/").status_code == 404
    assert _snapshot() == before
    assert ReviewerProfile.objects.get(pk=profile.pk).active


# --- The pool -----------------------------------------------------------------------------


def test_a_manager_adds_edits_and_removes_a_pool_member_with_mobiles_masked(
    manager: User,
) -> None:
    newcomer = User.objects.create_user(
        username="he",
        password=PASSWORD,
        display_name="何丽",
        role=Role.REVIEWER,
        mobile="13912345678",
    )
    host = make_enterprise("成都茶研所", "510104", "MA6100009")
    client = client_for(manager)
    bad = client.post(
        "/recognition/review/pool/", {"username": "he", "load": "0", "subject_fields": "茶学"}
    )
    assert bad.status_code == 400 and not ReviewerProfile.objects.exists()
    worker = make_worker("wk", "510104", "13911110009").user
    not_reviewer = client.post(
        "/recognition/review/pool/", {"username": worker.username, "load": "5", "keywords": "茶"}
    )
    assert (
        not_reviewer.status_code == 400 and "没有这个评审专家账号" in not_reviewer.content.decode()
    )
    response = client.post(
        "/recognition/review/pool/",
        {
            "username": "he",
            "employer": "成都大学",
            "organisation": host.uscc,
            "region": "510105",
            "title": "教授",
            "subject_fields": "茶学",
            "keywords": "茶叶加工",
            "expertise": "茶叶深加工",
            "load": "6",
        },
    )
    assert response.status_code == 302
    profile = ReviewerProfile.objects.get(user=newcomer)
    assert (profile.employer, profile.organisation, profile.region_id, profile.load) == (
        "成都大学",
        host,
        "510105",
        6,
    )
    page = client.get("/recognition/review/pool/").content.decode()
    assert "何丽" in page and "13912345678" not in page and "139****5678" in page
    assert (
        client.post(
            f"/recognition/review/pool/{profile.pk}/edit/",
            {"employer": "四川大学", "subject_fields": "茶学", "load": "3"},
        ).status_code
        == 302
    )
    profile.refresh_from_db()
    assert (profile.employer, profile.load, profile.organisation) == ("四川大学", 3, None)
    client.post(f"/recognition/review/pool/{profile.pk}/deactivate/")
    profile.refresh_from_db()
    assert not profile.active
    assert "何丽" not in client.get("/recognition/review/pool/").content.decode()
    pool_rows = AuditEvent.objects.filter(object_type="recognition.reviewer").order_by("id")
    assert [(r.action, r.detail["op"]) for r in pool_rows] == [
        (AuditAction.RECOGNITION_POOL, "pool_add"),
        (AuditAction.RECOGNITION_POOL, "pool_edit"),
        (AuditAction.RECOGNITION_POOL, "pool_remove"),
    ]
    assert Organisation.objects.filter(pk=host.pk).exists()


def test_the_pool_page_uses_a_fixed_number_of_queries(manager: User) -> None:
    client = client_for(manager)
    _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    client.get("/recognition/review/pool/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/recognition/review/pool/").status_code == 200
    for i in range(4):
        _tea_reviewer(f"r{i}", f"专家{i}号", employer="四川大学", county="510822")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/recognition/review/pool/").status_code == 200
    assert len(many) == len(few)


# --- Scoring ------------------------------------------------------------------------------


def test_a_reviewer_gets_404_on_assignments_that_are_not_theirs_and_nothing_changes(
    manager: User, alice: User
) -> None:
    batch = _batch(manager)
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    chen = _pig_reviewer("chen", "陈明", employer="西华大学", county="510822")
    outsider = _tea_reviewer("he", "何丽", employer="成都大学", county="510105")
    application = _reviewing(batch, manager, zhang, chen)
    theirs = ReviewAssignment.objects.get(application=application, reviewer=chen)
    criterion = batch.criteria.first()
    assert criterion is not None
    before = _snapshot()
    for user in (zhang, outsider):
        client = client_for(user)
        assert client.get(f"/recognition/review/mine/{theirs.pk}/").status_code == 404
        response = client.post(
            f"/recognition/review/mine/{theirs.pk}/",
            {"action": "submit", f"score_{criterion.pk}": "80"},
        )
        assert response.status_code == 404
        assert client.get("/recognition/review/mine/999999/").status_code == 404
    assert client_for(alice).get(f"/recognition/review/mine/{theirs.pk}/").status_code == 404
    assert client_for(alice).get("/recognition/review/mine/").status_code == 404
    assert _snapshot() == before
    mine = client_for(zhang).get("/recognition/review/mine/").content.decode()
    own = ReviewAssignment.objects.get(reviewer=zhang)
    assert f'data-assignment="{own.pk}"' in mine and f'data-assignment="{theirs.pk}"' not in mine
    with pytest.raises(NotPermitted):
        review_score_save(
            assignment=theirs,
            actor=zhang,
            scores={criterion.pk: CriterionInput(80)},
            submit=False,
        )


def test_scoring_validates_ranges_comments_and_completeness_and_is_read_only_after_submit(
    manager: User,
) -> None:
    batch = _batch(manager)
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    application = _reviewing(batch, manager, zhang)
    assignment = ReviewAssignment.objects.get(reviewer=zhang)
    c1, c2, c3 = batch.criteria.order_by("order")
    client = client_for(zhang)
    url = f"/recognition/review/mine/{assignment.pk}/"
    assert "创新性（权重40）" in client.get(url).content.decode()

    before = _snapshot()
    out_of_range = client.post(url, {"action": "draft", f"score_{c1.pk}": "101"})
    assert out_of_range.status_code == 400
    assert "分数应在0到100之间" in out_of_range.content.decode()
    low_without_comment = client.post(url, {"action": "draft", f"score_{c1.pk}": "55"})
    assert low_without_comment.status_code == 400
    assert "须填写评语" in low_without_comment.content.decode()
    high_without_comment = client.post(url, {"action": "draft", f"score_{c1.pk}": "96"})
    assert high_without_comment.status_code == 400
    incomplete = client.post(url, {"action": "submit", f"score_{c1.pk}": "80"})
    assert (
        incomplete.status_code == 400
        and "请为“服务成效”打分后再提交" in incomplete.content.decode()
    )
    assert _snapshot() == before

    draft = client.post(
        url, {"action": "draft", f"score_{c1.pk}": "55", f"comment_{c1.pk}": "创新点不足"}
    )
    assert draft.status_code == 302
    assert list(CriterionScore.objects.values_list("criterion_id", "score", "comment")) == [
        (c1.pk, 55, "创新点不足")
    ]
    assignment.refresh_from_db()
    assert assignment.submitted_at is None
    assert not ApplicationEvent.objects.filter(kind=ApplicationEvent.Kind.SCORE).exists()

    submitted = client.post(
        url,
        {
            "action": "submit",
            f"score_{c1.pk}": "82",
            f"score_{c2.pk}": "78",
            f"score_{c3.pk}": "90",
        },
    )
    assert submitted.status_code == 302
    assignment.refresh_from_db()
    assert assignment.submitted_at is not None
    assert sorted(CriterionScore.objects.values_list("score", flat=True)) == [78, 82, 90]
    event = ApplicationEvent.objects.get(application=application, kind=ApplicationEvent.Kind.SCORE)
    assert event.actor is None and "张建国" not in event.reason
    assert AuditEvent.objects.filter(
        action=AuditAction.RECOGNITION_SCORE, user_id=zhang.pk, object_id=str(assignment.pk)
    ).exists()

    before = _snapshot()
    again = client.post(
        url,
        {
            "action": "submit",
            f"score_{c1.pk}": "10",
            f"comment_{c1.pk}": "x",
            f"score_{c2.pk}": "10",
            f"comment_{c2.pk}": "x",
            f"score_{c3.pk}": "10",
            f"comment_{c3.pk}": "x",
        },
    )
    assert again.status_code == 400 and "评分已提交，不能再修改" in again.content.decode()
    assert _snapshot() == before
    page = client.get(url).content.decode()
    assert 'name="action"' not in page and "评分已提交" in page


def test_a_reviewer_sees_no_other_scores_before_close_and_the_panel_means_after(
    manager: User,
) -> None:
    batch = _batch(manager)
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    chen = _pig_reviewer("chen", "陈明", employer="西华大学", county="510822")
    application = _reviewing(batch, manager, zhang, chen)
    _submit(ReviewAssignment.objects.get(reviewer=chen), 67, 67, 67, comment="陈明的独特评语")
    client = client_for(zhang)
    url = f"/recognition/review/mine/{ReviewAssignment.objects.get(reviewer=zhang).pk}/"
    page = client.get(url).content.decode()
    assert "陈明的独特评语" not in page and ">67<" not in page and "陈明" not in page
    _submit(ReviewAssignment.objects.get(reviewer=zhang), 81, 81, 81)
    page = client.get(url).content.decode()
    assert ">67<" not in page and "专家组平均" not in page

    review_scoring_close(batch=batch, actor=manager)

    page = client.get(url).content.decode()
    assert "专家组平均" in page and "74.00" in page
    assert "陈明的独特评语" not in page and "陈明" not in page
    application.refresh_from_db()
    assert (application.status, application.score) == (S.SCORED, Decimal("74.00"))


# --- Closing and ranking --------------------------------------------------------------------


def test_closing_is_refused_while_a_score_is_missing_and_then_ranks_with_ties_and_quotas(
    manager: User,
) -> None:
    batch = _batch(manager, quota_premium=1, quota_typical=1)
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    chen = _pig_reviewer("chen", "陈明", employer="西华大学", county="510822")
    first = _reviewing(batch, manager, zhang, chen, title="甲工作室", level=Level.PREMIUM)
    second = _reviewing(batch, manager, zhang, chen, title="乙工作室", level=Level.PREMIUM)
    third = _reviewing(batch, manager, zhang, chen, title="丙工作室", level=Level.TYPICAL)
    fourth = _reviewing(batch, manager, zhang, chen, title="丁工作室", level=Level.TYPICAL)
    Application.objects.filter(pk=third.pk).update(submitted_at="2026-04-01T09:00:00+08:00")
    Application.objects.filter(pk=fourth.pk).update(submitted_at="2026-04-02T09:00:00+08:00")
    for assignment in ReviewAssignment.objects.exclude(application=fourth, reviewer=chen):
        scores = {
            first.pk: (90, 90, 90),  # 90.00
            second.pk: (88, 88, 88),  # 88.00: premium quota used up → 典型
            third.pk: (75, 75, 75),  # 75.00, ties with fourth; typical quota used up
            fourth.pk: (75, 75, 75),
        }[assignment.application_id]
        _submit(assignment, *scores)

    client = client_for(manager)
    before = _snapshot()
    response = client.post(f"/recognition/review/batches/{batch.pk}/close/", follow=True)
    assert "还有1份评分未提交，不能截止评分：《丁工作室》" in response.content.decode()
    assert _snapshot() == before

    _submit(ReviewAssignment.objects.get(application=fourth, reviewer=chen), 75, 75, 75)
    response = client.post(
        f"/recognition/review/batches/{batch.pk}/close/", {"version": batch.version}
    )
    assert response.status_code == 302
    rows = {
        a.title: (a.status, a.score, a.rank, a.proposed_level)
        for a in Application.objects.filter(batch=batch)
    }
    assert rows == {
        "甲工作室": (S.SCORED, Decimal("90.00"), 1, Level.PREMIUM),
        "乙工作室": (S.SCORED, Decimal("88.00"), 2, Level.TYPICAL),
        "丙工作室": (S.SCORED, Decimal("75.00"), 3, ""),
        "丁工作室": (S.SCORED, Decimal("75.00"), 3, ""),
    }
    batch.refresh_from_db()
    assert batch.scoring_closed_at is not None
    panel = client.get(f"/recognition/review/batches/{batch.pk}/panel/").content.decode()
    assert panel.index("丙工作室") < panel.index("丁工作室")
    assert "拟认定等级" in panel and "精品" in panel
    with pytest.raises(RecognitionError):
        review_scoring_close(batch=batch, actor=manager)


def test_a_programme_without_levels_lists_on_the_typical_mark(manager: User) -> None:
    batch = _batch(manager, programme=Programme.WORKSTATION, pass_mark_typical=Decimal("80"))
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    passes = _reviewing(batch, manager, zhang, title="院士工作站甲", level="")
    fails = _reviewing(batch, manager, zhang, title="院士工作站乙", level="")
    _submit(ReviewAssignment.objects.get(application=passes), 80, 80, 80)
    _submit(ReviewAssignment.objects.get(application=fails), 79, 80, 80)  # 79.60
    review_scoring_close(batch=batch, actor=manager)
    passes.refresh_from_db()
    fails.refresh_from_db()
    assert (passes.proposed_level, fails.proposed_level) == (Level.LISTED, "")
    assert fails.score == Decimal("79.60")


# --- The chair's panel ----------------------------------------------------------------------


def test_the_chair_sees_names_and_outliers_during_scoring_and_others_get_404(
    manager: User, alice: User
) -> None:
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    chen = _pig_reviewer("chen", "陈明", employer="西华大学", county="510822")
    he = _tea_reviewer("he", "何丽", employer="成都大学", county="510105")
    chair = _tea_reviewer("chair", "赵主任", employer="省科协", county="510104")
    batch = _batch(manager, chair=chair, reviewers_per_application=3)
    application = _reviewing(batch, manager, zhang, chen, he)
    _submit(ReviewAssignment.objects.get(reviewer=zhang), 85, 84, 86)  # 84.90
    _submit(ReviewAssignment.objects.get(reviewer=chen), 83, 85, 84)  # 84.00
    _submit(ReviewAssignment.objects.get(reviewer=he), 50, 70, 70, comment="材料不足")  # 61.00

    page = client_for(chair).get(f"/recognition/review/batches/{batch.pk}/panel/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "张建国" in html and "陈明" in html and "何丽" in html
    assert f'data-reviewer="{he.pk}"' in html
    he_row = html.split(f'data-reviewer="{he.pk}"')[1].split("</tr>")[0]
    zhang_row = html.split(f'data-reviewer="{zhang.pk}"')[1].split("</tr>")[0]
    assert "data-outlier-total" in he_row and "data-outlier " in he_row.replace(
        "data-outlier>", "data-outlier >"
    )
    assert "data-outlier" not in zhang_row
    assert "有偏离评分" in html
    assert application.title in html
    assert (
        client_for(manager).get(f"/recognition/review/batches/{batch.pk}/panel/").status_code == 200
    )
    for outsider in (zhang, alice):
        assert (
            client_for(outsider).get(f"/recognition/review/batches/{batch.pk}/panel/").status_code
            == 404
        )


# --- The reviewer's dashboard ------------------------------------------------------------------


def test_the_reviewer_dashboard_lists_pending_and_done_assignments(manager: User) -> None:
    batch = _batch(manager)
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    pending = _reviewing(batch, manager, zhang, title="待评工作室")
    done = _reviewing(batch, manager, zhang, title="已评工作室")
    _submit(ReviewAssignment.objects.get(application=done), 80, 80, 80)
    html = client_for(zhang).get("/dashboard/").content.decode()
    pending_part = html.split('data-testid="pending"')[1].split('data-testid="done"')[0]
    done_part = html.split('data-testid="done"')[1]
    assert pending.title in pending_part and done.title not in pending_part
    assert done.title in done_part
    assert "评审功能上线后" not in html


def test_the_queue_assignment_and_panel_pages_use_a_fixed_number_of_queries(
    manager: User,
) -> None:
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    chen = _pig_reviewer("chen", "陈明", employer="西华大学", county="510822")
    batch = _batch(manager, chair=manager)
    reviewer_client, manager_client = client_for(zhang), client_for(manager)
    urls = [
        (reviewer_client, "/recognition/review/mine/"),
        (manager_client, f"/recognition/review/batches/{batch.pk}/assign/"),
        (manager_client, f"/recognition/review/batches/{batch.pk}/panel/"),
    ]

    def counts() -> list[int]:
        out = []
        for client, url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            out.append(len(queries))
        return out

    _submit(
        ReviewAssignment.objects.get(
            application=_reviewing(batch, manager, zhang, chen), reviewer=zhang
        ),
        80,
        80,
        80,
    )
    counts()  # warm up: the first request of a session loads it
    few = counts()
    for _ in range(3):
        application = _reviewing(batch, manager, zhang, chen)
        _submit(ReviewAssignment.objects.get(application=application, reviewer=chen), 70, 90, 60)
    assert counts() == few


def test_a_reviewer_of_an_application_still_short_of_reviewers_cannot_score_it_yet(
    manager: User,
) -> None:
    batch = _batch(manager, reviewers_per_application=2)
    applicant = make_worker("tian", "510104", "13911110001").user
    application = _application(batch, applicant)
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    review_assign(batch=batch, actor=manager)
    assignment = ReviewAssignment.objects.get(application=application, reviewer=zhang)
    criterion = batch.criteria.order_by("order").first()
    assert criterion is not None
    client = client_for(zhang)
    url = f"/recognition/review/mine/{assignment.pk}/"
    assert "尚未分配齐" in client.get(url).content.decode()
    before = _snapshot()
    response = client.post(url, {"action": "draft", f"score_{criterion.pk}": "80"})
    assert response.status_code == 400 and "暂不能评分" in response.content.decode()
    assert _snapshot() == before
    dashboard = client.get("/dashboard/").content.decode()
    assert (
        application.title
        not in dashboard.split('data-testid="pending"')[1].split('data-testid="done"')[0]
    )
