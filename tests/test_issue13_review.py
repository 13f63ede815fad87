# ruff: noqa: F811  (the fixtures imported from the feature tests are used as arguments)
"""Defects found reviewing issue 13 (recognition, case library, docking events), each
pinned by the test that failed before its fix."""

from __future__ import annotations

from typing import Any

import pytest

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.recognition.models import Application, ApplicationEvent, Batch
from kejiyun.talent.models import Team
from tests.builders import client_for
from tests.test_recognition_workflow import (  # noqa: F401  (fixtures)
    case,
    ed,
    fresh,
    gina,
    lee,
    on_notice,
    pm,
    post_move,
    studio,
    studio_application,
    through_city,
)

pytestmark = pytest.mark.django_db

S = Application.Status


def test_the_province_cannot_skip_the_batch_steps_through_the_application_move_page(
    on_notice: dict[str, Any], pm: User, lee: User, studio: Team, alice: User, bob: User
) -> None:
    """The province's moves (into review, scored, notice, final) belong to the batch services
    (assignment, closing scoring, notice, finalising after the notice and the objections);
    posting them on an application's move page would recognise an application while its
    notice runs, without its level on the studio, or send one to review with no reviewer."""
    on = fresh(on_notice["studio"])
    response = post_move(pm, on, S.RECOGNISED)
    assert response.status_code == 403
    assert fresh(on).status == S.NOTICE
    assert fresh(on).final_level == ""
    assert not ApplicationEvent.objects.filter(application=on, to_status=S.RECOGNISED).exists()

    # An endorsed application does not go to review without its reviewers either.
    Application.objects.filter(pk=on.pk).update(status=S.WITHDRAWN)
    endorsed = studio_application(pm, lee, studio)
    through_city(endorsed, alice, bob)
    Batch.objects.filter(pk=endorsed.batch_id).update(status=Batch.Status.REVIEW)
    assert post_move(pm, endorsed, S.REVIEWING).status_code == 403
    assert fresh(endorsed).status == S.ENDORSED
    assert AuditEvent.objects.filter(
        action=AuditAction.RECOGNITION_MOVE, object_id=str(endorsed.pk), outcome="refused"
    ).exists()


def test_the_panel_chair_is_never_a_reviewer_who_sees_the_others_scores_before_close(
    alice: User,
) -> None:
    """The chair sees every reviewer's scores while scoring runs; a chair who also reviewed
    would score knowing the others'. Assignment leaves the chair out, and a chair who was
    given an application anyway does not see its scores on the panel before scoring closes."""
    from kejiyun.recognition.models import ReviewAssignment
    from kejiyun.recognition.review.services import review_assign
    from tests.test_recognition_review import (
        _application,
        _batch,
        _manager,
        _reviewing,
        _submit,
        _tea_reviewer,
    )

    manager = _manager()
    chair = _tea_reviewer("chair", "赵主任", employer="省科协", county="510822")
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    he = _tea_reviewer("he", "何丽", employer="成都大学", county="510105")
    batch = _batch(manager, chair=chair, reviewers_per_application=3)
    applicant = User.objects.create_user(username="app1", password="x", display_name="申报人")
    endorsed = _application(batch, applicant)
    review_assign(batch=batch, actor=manager)
    assigned = ReviewAssignment.objects.filter(application=endorsed)
    assert set(assigned.values_list("reviewer_id", flat=True)) == {zhang.pk, he.pk}

    other = _reviewing(batch, manager, chair, zhang, title="另一个工作室")
    _submit(ReviewAssignment.objects.get(application=other, reviewer=zhang), 77, 78, 79)
    html = client_for(chair).get(f"/recognition/review/batches/{batch.pk}/panel/").content.decode()
    assert f'data-reviewer="{zhang.pk}"' not in html
    assert "另一个工作室" not in html


def test_opening_an_objection_with_its_contact_in_full_is_audited(
    on_notice: dict[str, Any], pm: User
) -> None:
    """SECURITY 17: unmasking personal data is audited. The objection page shows the
    objector's contact in full to the answering manager; each opening writes a row (without
    the contact in it)."""
    from kejiyun.recognition.services import ObjectionInput, objection_file

    objection = objection_file(
        application=fresh(on_notice["studio"]),
        data=ObjectionInput(contact_name="张三", contact="13812345678", body="成员有虚报"),
        user=None,
    )
    page = client_for(pm).get(f"/recognition/manage/objections/{objection.pk}/")
    assert "13812345678" in page.content.decode()
    rows = AuditEvent.objects.filter(
        action=AuditAction.RECOGNITION_OBJECTION,
        object_type="recognition.objection",
        object_id=str(objection.pk),
        user=pm,
    )
    assert [r.detail for r in rows] == [{"op": "contact_view"}]
    assert "13812345678" not in str(rows[0].detail)


def test_no_score_is_saved_after_the_batchs_review_deadline() -> None:
    """A batch's 评审截止 (`review_closes_on`) was stored and shown but never enforced: a
    reviewer could keep scoring after it."""
    from datetime import timedelta

    from django.utils import timezone

    from kejiyun.recognition.models import CriterionScore, ReviewAssignment
    from kejiyun.recognition.review.services import CriterionInput
    from kejiyun.recognition.services import RecognitionError
    from tests.test_recognition_review import _batch, _manager, _reviewing, _tea_reviewer

    manager = _manager()
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    today = timezone.localdate()
    batch = _batch(
        manager,
        opens_on=today - timedelta(days=30),
        closes_on=today - timedelta(days=20),
        review_closes_on=today - timedelta(days=1),
    )
    application = _reviewing(batch, manager, zhang)
    assignment = ReviewAssignment.objects.get(application=application)
    criteria = list(batch.criteria.order_by("order"))
    client = client_for(zhang)
    page = client.get(f"/recognition/review/mine/{assignment.pk}/").content.decode()
    assert 'value="submit"' not in page  # the page no longer offers the form
    response = client.post(
        f"/recognition/review/mine/{assignment.pk}/",
        {f"score_{c.pk}": "80" for c in criteria} | {"action": "submit"},
    )
    assert response.status_code == 400
    assert "评审已于" in response.content.decode()
    assert not CriterionScore.objects.exists()
    assert ReviewAssignment.objects.get(pk=assignment.pk).submitted_at is None

    from kejiyun.recognition.review.services import review_score_save

    with pytest.raises(RecognitionError):
        review_score_save(
            assignment=assignment,
            actor=zhang,
            scores={c.pk: CriterionInput(score=80) for c in criteria},
            submit=False,
        )
    assert not CriterionScore.objects.exists()


def test_a_quota_beyond_what_the_batch_stores_is_a_form_error_not_a_500(pm: User) -> None:
    """The quotas are small integers in the database; a larger number passed the form and
    failed the insert on PostgreSQL (500). It is refused with a Chinese message."""
    form = {
        "programme": "workstation",
        "year": 2026,
        "name": "2026年度院士(专家)工作站",
        "opens_on": "2026-03-01",
        "closes_on": "2026-04-30",
        "notice_days": 7,
        "reviewers_per_application": 3,
        "reviewer_load": 10,
        "min_studio_cases": 3,
        "min_case_rating": 4,
        "quota_premium": 0,
        "quota_typical": 0,
    }
    client = client_for(pm)
    for field in ("quota_premium", "quota_typical"):
        refused = client.post("/recognition/manage/new/", form | {field: 40000})
        assert refused.status_code == 400
        assert "名额不能超过" in refused.content.decode()
    assert not Batch.objects.exists()


def test_a_case_of_a_private_demand_cannot_apply_so_its_title_never_goes_on_the_public_notice(
    pm: User, case: Any, ed: User, lee: User
) -> None:
    """A 不公开 demand is shown nowhere in public (hall, library, events); an application
    about its case would put the demand's title on the public notice and the results, and the
    docked expert may apply without the enterprise. Such a case is not eligible."""
    from kejiyun.cases.models import DockingRequest
    from kejiyun.demands.models import Demand
    from kejiyun.recognition.eligibility import Subject
    from kejiyun.recognition.models import Programme
    from kejiyun.recognition.services import RecognitionError, application_create
    from tests.test_recognition_workflow import case_input, open_batch

    Demand.objects.filter(pk=case.demand_id).update(confidentiality=Demand.Confidentiality.PRIVATE)
    DockingRequest.objects.create(
        case=case, expert=lee.talent_profile, status=DockingRequest.Status.ACCEPTED
    )
    case.refresh_from_db()
    batch = open_batch(pm, Programme.CASE)
    for applicant in (ed, lee):
        with pytest.raises(RecognitionError) as refused:
            application_create(
                batch=batch, actor=applicant, subject=Subject(case=case), data=case_input()
            )
        assert "不公开" in " ".join(refused.value.messages)
    assert not Application.objects.exists()


def test_an_application_still_in_the_chain_cannot_be_stranded_by_closing_scoring(
    alice: User,
) -> None:
    """Once scoring closes no reviewer can be assigned, and the notice waits for every
    application in the chain: an application endorsed after the close (or resubmitted
    after a return) would hold the batch back for good. Closing waits for the chain, and a
    returned application is not resubmitted once scoring has closed."""
    from kejiyun.recognition.models import ReviewAssignment
    from kejiyun.recognition.review.services import review_scoring_close
    from kejiyun.recognition.services import (
        RecognitionError,
        application_submit,
        batch_notice_start,
    )
    from tests.test_recognition_review import (
        _application,
        _batch,
        _manager,
        _reviewing,
        _submit,
        _tea_reviewer,
    )

    manager = _manager()
    zhang = _tea_reviewer("zhang", "张建国", employer="四川大学", county="510822")
    batch = _batch(manager, reviewers_per_application=1)
    reviewed = _reviewing(batch, manager, zhang)
    _submit(ReviewAssignment.objects.get(application=reviewed), 90, 90, 90)
    applicant = User.objects.create_user(username="app2", password="x", display_name="申报人")
    waiting = _application(batch, applicant, title="待审核", status=S.RECOMMENDED)

    with pytest.raises(RecognitionError) as refused:
        review_scoring_close(batch=batch, actor=manager)
    assert "未完成" in " ".join(refused.value.messages)
    assert Batch.objects.get(pk=batch.pk).scoring_closed_at is None
    assert fresh(reviewed).status == S.REVIEWING

    Application.objects.filter(pk=waiting.pk).update(status=S.RETURNED)
    review_scoring_close(batch=Batch.objects.get(pk=batch.pk), actor=manager)
    with pytest.raises(RecognitionError) as late:
        application_submit(application=fresh(waiting), actor=applicant, version=None)
    assert "评分已截止" in " ".join(late.value.messages)
    assert fresh(waiting).status == S.RETURNED
    batch_notice_start(batch=Batch.objects.get(pk=batch.pk), actor=manager)
    assert fresh(reviewed).status == S.NOTICE


def test_a_nul_character_in_a_region_picker_is_a_form_error_not_a_500(pm: User, rita: User) -> None:
    """PostgreSQL refuses a NUL character in a query: a region picker (the reviewer pool's
    county) posted with one was a 500 there. It is an ordinary form error and nothing is
    written."""
    from kejiyun.recognition.models import ReviewerProfile

    client = client_for(pm)
    response = client.post(
        "/recognition/review/pool/",
        {"username": rita.username, "region": "\x00", "subject_fields": "茶叶", "load": 5},
    )
    assert response.status_code == 400
    assert not ReviewerProfile.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_managers_assigning_at_once_never_overload_a_reviewer_nor_fail() -> None:
    """Two runs of the assignment at the same moment each planned on the loads they had
    read: the same pair twice (an IntegrityError, a 500) or a reviewer over their load. The
    batch is locked for the run; the second finds nothing left to assign."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises all writers")
    from kejiyun.common.errors import ServiceError
    from kejiyun.recognition.models import ReviewAssignment
    from kejiyun.recognition.review.services import review_assign
    from kejiyun.regions.services import regions_load, service_centres_ensure
    from tests.test_recognition_review import _application, _batch, _manager, _tea_reviewer

    regions_load()
    service_centres_ensure(province_code="510000")
    manager = _manager()
    reviewers = [
        _tea_reviewer(f"r{i}", f"专家{i}号", employer=f"单位{i}", county="510822") for i in range(4)
    ]
    batch = _batch(manager, reviewers_per_application=2, reviewer_load=2)
    for i in range(4):
        applicant = User.objects.create_user(username=f"a{i}", password="x", display_name="人")
        _application(batch, applicant, title=f"工作室{i}")
    errors: list[BaseException] = []
    refused: list[str] = []
    start = threading.Barrier(2)

    def act() -> None:
        try:
            mine = Batch.objects.get(pk=batch.pk)
            start.wait()
            try:
                review_assign(batch=mine, actor=manager)
            except ServiceError as error:
                refused.append(str(error))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for reviewer in reviewers:
        assert ReviewAssignment.objects.filter(reviewer=reviewer).count() <= 2
    assert ReviewAssignment.objects.count() == 8
