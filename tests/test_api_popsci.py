"""精准科普 over the API: published content for anyone, the citizen's feed and consent
(changed through the consent services, so recorded and audited as from the preference page),
campaigns for staff of the jurisdiction, activities of the caller's region with sign-up and
cancel, and quizzes answered through `quiz_submit`.

Alice is county staff at 锦江区 (510104), Charlie at 青川县 (510822); Dora is a citizen in
锦江区 who has not consented to targeted content.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.api.models import ApiToken, Scope
from kejiyun.api.tokens import token_issue
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.popsci.models import (
    Activity,
    ActivitySignup,
    Article,
    CitizenProfile,
    ConsentRecord,
    QuizAttempt,
)
from kejiyun.popsci.outreach.services import activity_create, activity_signup
from kejiyun.regions.models import Region
from tests.builders import (
    make_campaign,
    make_citizen,
    make_draft,
    make_published,
    make_reviewer,
)

pytestmark = pytest.mark.django_db

COVERED_FOREIGN: set[str] = {
    "popsci_articles_get",
    "popsci_campaigns_get",
    "popsci_activities_get",
    "popsci_activities_signup",
    "popsci_activities_cancel",
    "popsci_quizzes_get",
    "popsci_quizzes_answer",
}

V1 = "/api/v1/popsci"
BOTH = (Scope.POPSCI_READ, Scope.POPSCI_WRITE)


def bearer(user: User, scopes: tuple[str, ...] = BOTH) -> dict[str, str]:
    raw, _ = token_issue(
        user=user, kind=ApiToken.Kind.PERSONAL, lifetime=timedelta(days=1), scopes=list(scopes)
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def call(
    method: str,
    url: str,
    user: User | None = None,
    body: dict[str, Any] | None = None,
    scopes: tuple[str, ...] = BOTH,
    **params: Any,
) -> Any:
    headers = bearer(user, scopes) if user is not None else {}
    client = Client()
    if method == "get":
        return client.get(f"{V1}{url}", params, **headers)
    return getattr(client, method)(
        f"{V1}{url}", body or {}, content_type="application/json", **headers
    )


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


# --- Published content ---------------------------------------------------------------------------


def test_only_published_content_is_listed_and_readable(alice: User) -> None:
    reviewer = make_reviewer()
    published = make_published(alice, reviewer, title="汛期避险")
    draft = make_draft(alice, title="草稿不可见")
    body = call("get", "/articles").json()
    assert [a["id"] for a in body["items"]] == [published.pk]
    assert body["items"][0]["topic_label"] and body["items"][0]["region_code"] == "510104"
    assert call("get", "/articles", topic="agriculture").json()["items"] == []

    response = call("get", f"/articles/{published.pk}")
    detail = response.json()
    assert detail["body"] == published.body and detail["has_quiz"] is True
    assert response["ETag"] == f'"article-{published.pk}-v{published.version}"'
    # Unpublished content is a 404 for anyone, its author included.
    assert_problem(call("get", f"/articles/{draft.pk}"), 404)
    assert_problem(call("get", f"/articles/{draft.pk}", alice), 404)
    assert_problem(call("get", "/articles", topic="<script>"), 422)


# --- Feed and consent ----------------------------------------------------------------------------


def test_the_citizen_feed_and_a_non_citizen_without_one(alice: User, dora: User) -> None:
    make_published(alice, make_reviewer(), title="汛期避险")
    body = call("get", "/feed", dora).json()
    assert body["has_profile"] is True and body["targeting_consent"] is False
    assert [i["title"] for i in body["items"]] == ["汛期避险"]
    assert call("get", "/feed", alice).json() == {
        "has_profile": False,
        "targeting_consent": False,
        "items": [],
    }
    assert_problem(call("get", "/feed"), 401)


def test_consent_is_granted_and_withdrawn_through_the_service_and_audited(dora: User) -> None:
    assert call("get", "/consent", dora).json()["consented"] is False
    audits = AuditEvent.objects.filter(user_id=dora.pk)
    before = audits.count()

    # Fields the citizen may not set are not part of the input: they change nothing.
    response = call(
        "put",
        "/consent",
        dora,
        {"granted": True, "current_version": "v0", "version": "v0", "citizen": 1},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["consented"] is True and body["records"][0]["granted"] is True
    profile = CitizenProfile.objects.get(user=dora)
    assert profile.targeting_consent is True
    assert profile.consent_version == body["current_version"] != "v0"
    grants = audits.filter(action=AuditAction.CONSENT_GRANT)
    assert audits.count() == before + 1 and grants.count() == 1
    assert grants.get().object_id == str(profile.pk)

    response = call("put", "/consent", dora, {"granted": False})
    assert response.json()["consented"] is False
    assert CitizenProfile.objects.get(user=dora).targeting_consent is False
    assert audits.filter(action=AuditAction.CONSENT_WITHDRAW).count() == 1
    assert ConsentRecord.objects.filter(citizen=profile).count() == 2


def test_consent_is_the_citizens_own_and_needs_the_write_scope(alice: User, dora: User) -> None:
    assert_problem(call("put", "/consent", alice, {"granted": True}), 403)
    assert_problem(call("get", "/consent", alice), 403)
    body = assert_problem(
        call("put", "/consent", dora, {"granted": True}, scopes=(Scope.POPSCI_READ,)), 403
    )
    assert body["code"] == "insufficient_scope"
    assert_problem(call("put", "/consent", dora, {"granted": "maybe"}), 422)
    assert CitizenProfile.objects.get(user=dora).targeting_consent is False
    assert not ConsentRecord.objects.filter(citizen__user=dora).exists()


# --- Campaigns -----------------------------------------------------------------------------------


def test_campaigns_of_the_jurisdiction_and_404_outside(
    alice: User, charlie: User, dora: User
) -> None:
    campaign = make_campaign(alice)
    body = call("get", "/campaigns", alice).json()
    assert [c["id"] for c in body["items"]] == [campaign.pk]
    detail = call("get", f"/campaigns/{campaign.pk}", alice).json()
    assert detail["campaign"]["title"] == "汛期避险" and detail["deliveries"] == 0
    assert call("get", "/campaigns", charlie).json()["items"] == []
    assert_problem(call("get", f"/campaigns/{campaign.pk}", charlie), 404)
    assert_problem(call("get", "/campaigns", dora), 403)
    assert_problem(call("get", f"/campaigns/{campaign.pk}", dora), 403)


# --- Activities ----------------------------------------------------------------------------------


def activity(staff: User, region_code: str, capacity: int = 2) -> Activity:
    starts = timezone.now() + timedelta(days=3)
    return activity_create(
        actor=staff,
        title="暑期防溺水安全课",
        region=Region.objects.get(code=region_code),
        place="假日学校",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        capacity=capacity,
        segments=["left_behind_child"],
        resource="科普共享基地",
    )


def test_activities_of_the_callers_region_and_the_staff_list(
    alice: User, charlie: User, dora: User
) -> None:
    here = activity(alice, "510104")
    far = activity(charlie, "510822")
    assert [a["id"] for a in call("get", "/activities", dora).json()["items"]] == [here.pk]
    assert [a["id"] for a in call("get", "/activities/managed", alice).json()["items"]] == [here.pk]
    assert [a["id"] for a in call("get", "/activities/managed", charlie).json()["items"]] == [
        far.pk
    ]
    assert_problem(call("get", "/activities/managed", dora), 403)
    detail = call("get", f"/activities/{here.pk}", dora).json()
    assert detail["open"] is True and detail["signed_up"] is False and detail["taken"] == 0
    assert_problem(call("get", f"/activities/{far.pk}", dora), 404)


def test_sign_up_and_cancel_and_refusals(alice: User, charlie: User, dora: User) -> None:
    here = activity(alice, "510104", capacity=1)
    far = activity(charlie, "510822")
    local = make_citizen("qin", "510822")
    activity_signup(activity=far, actor=local)

    response = call("post", f"/activities/{here.pk}/signup", dora, {"user_id": local.pk})
    assert response.status_code == 201, response.content
    assert response.json()["signed_up"] is True and response.json()["signup_code"]
    assert list(ActivitySignup.objects.filter(activity=here).values_list("user", flat=True)) == [
        dora.pk
    ]
    body = assert_problem(call("post", f"/activities/{here.pk}/signup", dora), 409)
    assert body["code"] == "duplicate"

    # Another region's activity: 404, no sign-up, and its existing sign-up is left alone.
    assert_problem(call("post", f"/activities/{far.pk}/signup", dora), 404)
    assert_problem(call("delete", f"/activities/{far.pk}/signup", dora), 404)
    assert list(ActivitySignup.objects.filter(activity=far).values_list("user", flat=True)) == [
        local.pk
    ]

    response = call("delete", f"/activities/{here.pk}/signup", dora)
    assert response.status_code == 200 and response.json()["signed_up"] is False
    assert not ActivitySignup.objects.filter(activity=here).exists()


# --- Quizzes -------------------------------------------------------------------------------------


def test_quiz_questions_without_answers_then_an_attempt_scored_by_the_service(
    alice: User, dora: User
) -> None:
    article = make_published(alice, make_reviewer())
    listed = call("get", "/quizzes").json()["items"]
    assert [(q["article_id"], q["question_count"]) for q in listed] == [(article.pk, 3)]
    quiz = call("get", f"/quizzes/{article.pk}").json()
    assert len(quiz["questions"]) == 3 and quiz["offer_after"] is True
    assert all(set(q) == {"number", "text", "options"} for q in quiz["questions"])

    # `correct` and `user` are not inputs: the service scores the answers.
    response = call(
        "post",
        f"/quizzes/{article.pk}/attempts",
        dora,
        {"phase": "after", "answers": [1, 0, 1], "correct": 99, "user": alice.pk},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["correct"], body["total"]) == (2, 3)
    assert [f["correct"] for f in body["feedback"]] == [True, False, True]
    attempt = QuizAttempt.objects.get(article=article)
    assert (attempt.user_id, attempt.correct) == (dora.pk, 2)

    again = call("post", f"/quizzes/{article.pk}/attempts", dora, {"answers": [1, 1, 1]})
    assert_problem(again, 409)
    assert QuizAttempt.objects.filter(article=article).count() == 1
    mine = call("get", f"/quizzes/{article.pk}", dora).json()
    assert mine["offer_after"] is False and mine["attempts"][0]["correct"] == 2


def test_quiz_refusals_change_nothing(alice: User, dora: User) -> None:
    article = make_published(alice, make_reviewer())
    draft = make_draft(alice, title="未发布")
    url = f"/quizzes/{article.pk}/attempts"
    assert_problem(call("post", url, dora, {"answers": [1]}), 400)
    assert_problem(call("post", url, dora, {"answers": [9, 9, 9]}), 400)
    assert_problem(call("post", url, dora, {"answers": "abc"}), 422)
    assert_problem(call("post", url, dora, {"phase": "during", "answers": [1, 1, 1]}), 422)
    assert_problem(call("post", url, None, {"answers": [1, 1, 1]}), 401)
    # Content that is not published is a 404 for reading and answering.
    assert_problem(call("get", f"/quizzes/{draft.pk}"), 404)
    assert_problem(call("post", f"/quizzes/{draft.pk}/attempts", dora, {"answers": []}), 404)
    assert not QuizAttempt.objects.exists()
    assert Article.objects.get(pk=draft.pk).status == Article.Status.DRAFT
