"""Reading: sessions opened and finished, quiz answers, campaign deliveries, the read page."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kejiyun.accounts.models import User
from kejiyun.popsci.content.services import (
    LessonInput,
    content_approve,
    content_submit,
    lessons_replace,
    quiz_questions_replace,
    quiz_submit,
    read_finish,
    read_open,
)
from kejiyun.popsci.models import Article, Campaign, Delivery, QuizAttempt, ReadEvent
from tests.builders import (
    MP4,
    QUESTIONS,
    client_for,
    make_citizen,
    make_draft,
    make_published,
    png_upload,
)

pytestmark = pytest.mark.django_db

S = Article.Status


@pytest.fixture
def article(alice: User, rita: User) -> Article:
    return make_published(alice, rita)


@pytest.fixture
def evan(db: None) -> User:
    return make_citizen("evan", "510822", consent=False)


def make_sent_campaign(article: Article, staff: User, recipients: list[User]) -> Campaign:
    campaign = Campaign.objects.create(
        title="汛期避险",
        article=article,
        channel="in_app",
        region_id="510104",
        centre=staff.centre,
        created_by=staff,
        status=Campaign.Status.SENT,
    )
    for user in recipients:
        Delivery.objects.create(campaign=campaign, citizen=user.citizen_profile)
    return campaign


def unpublished(alice: User) -> list[Article]:
    articles = []
    for status in (S.DRAFT, S.IN_REVIEW, S.RETURNED, S.ARCHIVED):
        a = make_draft(alice, title=f"未发布-{status}")
        Article.objects.filter(pk=a.pk).update(status=status)
        a.refresh_from_db()
        articles.append(a)
    return articles


# --- Services -----------------------------------------------------------------------------


def test_opening_records_a_session_with_the_device(article: Article, dora: User) -> None:
    event = read_open(article=article, actor=dora, device="d" * 80)
    assert event.article == article
    assert event.user == dora
    assert event.device == "d" * 64
    assert event.finished_at is None
    assert event.campaign is None
    assert ReadEvent.objects.count() == 1


def test_unpublished_content_cannot_be_opened_or_answered(alice: User, dora: User) -> None:
    for a in unpublished(alice):
        with pytest.raises(ValidationError):
            read_open(article=a, actor=dora, device="x")
        with pytest.raises(ValidationError):
            quiz_submit(article=a, actor=dora, answers=[1, 1, 1])
    assert ReadEvent.objects.count() == 0
    assert QuizAttempt.objects.count() == 0


def test_finishing_is_idempotent_and_keeps_the_first_time(article: Article, dora: User) -> None:
    with time_machine.travel("2026-07-01 09:00:00+08:00", tick=False) as clock:
        event = read_open(article=article, actor=dora, device="dev1")
        clock.shift(120)
        read_finish(read_event=event, actor=dora)
        first = ReadEvent.objects.get(pk=event.pk).finished_at
        clock.shift(600)
        again = read_finish(read_event=event, actor=dora)
    assert first is not None
    assert again.finished_at == first
    assert ReadEvent.objects.get(pk=event.pk).finished_at == first
    assert str(first) == "2026-07-01 01:02:00+00:00"


def test_only_the_reader_can_finish_their_session(article: Article, dora: User, evan: User) -> None:
    event = read_open(article=article, actor=dora, device="dev1")
    with pytest.raises(PermissionDenied):
        read_finish(read_event=event, actor=evan)
    assert ReadEvent.objects.get(pk=event.pk).finished_at is None


def test_quiz_is_scored_and_taken_once_per_phase(article: Article, dora: User) -> None:
    attempt = quiz_submit(article=article, actor=dora, answers=[1, 0, 1], phase="after")
    assert (attempt.correct, attempt.total) == (2, 3)
    assert attempt.answers == [1, 0, 1]
    with pytest.raises(ValidationError, match="只能作答一次"):
        quiz_submit(article=article, actor=dora, answers=[1, 1, 1], phase="after")
    assert QuizAttempt.objects.get().correct == 2
    before = quiz_submit(article=article, actor=dora, answers=[0, 0, 0], phase="before")
    assert (before.correct, before.total) == (0, 3)
    assert QuizAttempt.objects.count() == 2


@pytest.mark.parametrize(
    ("answers", "phase"),
    [([1, 1], "after"), ([1, 1, 1, 1], "after"), ([1, 9, 1], "after"), ([1, 1, 1], "during")],
)
def test_incomplete_or_impossible_answers_are_refused(
    article: Article, dora: User, answers: list[int], phase: str
) -> None:
    with pytest.raises(ValidationError):
        quiz_submit(article=article, actor=dora, answers=answers, phase=phase)
    assert QuizAttempt.objects.count() == 0


def test_reading_marks_the_campaign_delivery_once(
    alice: User, article: Article, dora: User, evan: User
) -> None:
    campaign = make_sent_campaign(article, alice, [dora])
    with time_machine.travel("2026-07-01 09:00:00+08:00", tick=False) as clock:
        event = read_open(article=article, actor=dora, device="dev1")
        assert event.campaign == campaign
        opened = Delivery.objects.get(citizen__user=dora).opened_at
        clock.shift(300)
        second = read_open(article=article, actor=dora, device="dev1", campaign=campaign)
        read_finish(read_event=second, actor=dora)
        clock.shift(300)
        read_finish(read_event=event, actor=dora)
    delivery = Delivery.objects.get(citizen__user=dora)
    assert delivery.opened_at == opened
    assert str(delivery.opened_at) == "2026-07-01 01:00:00+00:00"
    assert str(delivery.read_to_end_at) == "2026-07-01 01:05:00+00:00"
    other = read_open(article=article, actor=evan, device="dev2")
    assert other.campaign is None
    assert Delivery.objects.count() == 1


def test_a_campaign_for_other_content_is_refused(alice: User, rita: User, dora: User) -> None:
    first = make_published(alice, rita, title="第一篇")
    second = make_published(alice, rita, title="第二篇")
    campaign = make_sent_campaign(first, alice, [dora])
    with pytest.raises(ValidationError):
        read_open(article=second, actor=dora, device="d", campaign=campaign)
    assert ReadEvent.objects.count() == 0
    assert Delivery.objects.get().opened_at is None


# --- The read page ------------------------------------------------------------------------


def test_the_read_page_never_shows_unpublished_content(alice: User, dora: User) -> None:
    drafts = unpublished(alice)
    for client in (Client(), client_for(dora), client_for(alice)):
        for a in drafts:
            assert client.get(f"/popsci/read/{a.pk}/").status_code == 404
            assert client.post(f"/popsci/read/{a.pk}/quiz/", {"phase": "after"}).status_code in (
                302,
                404,
            )
    assert ReadEvent.objects.count() == 0
    assert QuizAttempt.objects.count() == 0


def test_a_reader_gets_a_device_cookie_and_the_session_is_recorded_with_it(
    article: Article, dora: User
) -> None:
    client = client_for(dora)
    response = client.get(f"/popsci/read/{article.pk}/")
    assert response.status_code == 200
    device = response.cookies["kjy_device"].value
    assert re.fullmatch(r"[0-9a-f]{32}", device)
    assert response.cookies["kjy_device"]["httponly"]
    event = ReadEvent.objects.get()
    assert (event.user, event.device, event.finished_at) == (dora, device, None)
    html = response.content.decode()
    assert "遇到山体滑坡，要向两侧跑。" in html
    assert f'hx-post="/popsci/read/event/{event.pk}/finish/"' in html
    again = client.get(f"/popsci/read/{article.pk}/")
    assert "kjy_device" not in again.cookies
    assert list(ReadEvent.objects.values_list("device", flat=True)) == [device, device]


def test_anonymous_readers_see_published_content_and_nothing_is_recorded(
    article: Article,
) -> None:
    response = Client().get(f"/popsci/read/{article.pk}/")
    assert response.status_code == 200
    assert "kjy_device" in response.cookies
    assert "后可参加测验" in response.content.decode()
    assert ReadEvent.objects.count() == 0


def test_i_have_finished_reading_is_recorded_once_through_htmx(
    article: Article, dora: User
) -> None:
    client = client_for(dora)
    client.get(f"/popsci/read/{article.pk}/")
    event = ReadEvent.objects.get()
    url = f"/popsci/read/event/{event.pk}/finish/"
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "已记录：您已读完" in response.content.decode()
    first = ReadEvent.objects.get().finished_at
    assert first is not None
    client.post(url, headers={"HX-Request": "true"})
    assert ReadEvent.objects.get().finished_at == first


def test_nobody_can_finish_someone_elses_reading(article: Article, dora: User, evan: User) -> None:
    event = read_open(article=article, actor=dora, device="dev1")
    response = client_for(evan).post(f"/popsci/read/event/{event.pk}/finish/")
    assert response.status_code == 404
    assert Client().post(f"/popsci/read/event/{event.pk}/finish/").status_code == 302
    assert ReadEvent.objects.get().finished_at is None


def test_quiz_answers_get_per_question_feedback_and_only_one_try(
    article: Article, dora: User
) -> None:
    client = client_for(dora)
    q1, q2, q3 = article.questions.order_by("order")
    answers = {"phase": "after", f"q{q1.pk}": "1", f"q{q2.pk}": "0", f"q{q3.pk}": "1"}
    response = client.post(f"/popsci/read/{article.pk}/quiz/", answers)
    assert response.status_code == 302  # POST-redirect-GET: a reload sends nothing again
    assert response["Location"] == f"/popsci/read/{article.pk}/quiz/#quiz"
    html = client.get(response["Location"]).content.decode()
    assert "已提交学习后测验：答对 2/3 题。" in html  # the flashed message
    assert "学习后测验：答对 2/3 题。" in html
    assert html.count('data-correct="1"') == 2
    assert html.count('data-correct="0"') == 1
    assert "正确答案：立即撤离" in html
    assert "先撤离再核实。" in html
    again = client.post(f"/popsci/read/{article.pk}/quiz/", {**answers, f"q{q2.pk}": "1"})
    assert again.status_code == 400
    assert "每个阶段只能作答一次" in again.content.decode()
    attempt = QuizAttempt.objects.get()
    assert (attempt.correct, attempt.answers) == (2, [1, 0, 1])
    assert ReadEvent.objects.count() == 0


def test_an_unanswered_question_is_refused(article: Article, dora: User) -> None:
    q1 = article.questions.order_by("order").first()
    assert q1 is not None
    response = client_for(dora).post(
        f"/popsci/read/{article.pk}/quiz/", {"phase": "after", f"q{q1.pk}": "1"}
    )
    assert response.status_code == 400
    assert "请回答全部题目后再提交。" in response.content.decode()
    assert QuizAttempt.objects.count() == 0


def test_a_video_is_shown_with_its_poster(alice: User, rita: User, dora: User) -> None:
    video = make_published(
        alice,
        rita,
        kind="video",
        video=SimpleUploadedFile("v.mp4", MP4),
        poster=png_upload(),
        with_quiz=False,
    )
    html = client_for(dora).get(f"/popsci/read/{video.pk}/").content.decode()
    assert "<video" in html
    assert " controls " in html
    assert f'poster="{video.poster.url}"' in html
    assert f'src="{video.video.url}"' in html
    assert "小测验" not in html


def test_a_course_shows_its_lessons_and_a_pre_test(alice: User, rita: User, dora: User) -> None:
    course = make_draft(alice, kind="course", title="防汛课程")
    lessons_replace(
        course=course,
        actor=alice,
        lessons=[
            LessonInput(title="识别预警", body="看天看水"),
            LessonInput(title="撤离", body="往高处"),
        ],
    )
    quiz_questions_replace(article=course, actor=alice, questions=QUESTIONS)
    content_submit(article=course, actor=alice)
    content_approve(article=course, actor=rita)
    client = client_for(dora)
    html = client.get(f"/popsci/read/{course.pk}/").content.decode()
    assert "识别预警" in html
    assert "往高处" in html
    assert html.index("识别预警") < html.index("撤离</h3>")
    assert 'data-phase="before"' in html
    assert 'data-phase="after"' in html
    ids = list(course.questions.order_by("order").values_list("pk", flat=True))
    client.post(
        f"/popsci/read/{course.pk}/quiz/",
        {"phase": "before", **{f"q{pk}": "0" for pk in ids}},
    )
    html = client.get(f"/popsci/read/{course.pk}/").content.decode()
    assert "学习前测验：答对 0/3 题。" in html
    assert 'data-phase="before"' not in html
    assert 'data-phase="after"' in html
    # The pre-test result gives no answers away.
    assert "正确答案" not in html


def test_a_campaign_link_credits_the_campaign(alice: User, article: Article, dora: User) -> None:
    campaign = make_sent_campaign(article, alice, [dora])
    client_for(dora).get(f"/popsci/read/{article.pk}/?campaign={campaign.pk}")
    assert ReadEvent.objects.get().campaign == campaign
    assert Delivery.objects.get().opened_at is not None


# Bad input is a 4xx, never a 500.


@pytest.mark.parametrize("raw", ["²", "9" * 5000])
def test_a_campaign_id_that_int_refuses_on_the_reading_page_is_ignored(
    article: Article, dora: User, raw: str
) -> None:
    response = client_for(dora).get(f"/popsci/read/{article.pk}/", {"campaign": raw})

    assert response.status_code == 200
    assert ReadEvent.objects.get(user=dora).campaign_id is None


@pytest.mark.parametrize("raw", ["²", "9" * 5000])
def test_an_answer_or_event_that_int_refuses_in_the_quiz_is_a_400_not_a_500(
    article: Article, dora: User, raw: str
) -> None:
    data = {f"q{q.pk}": raw for q in article.questions.all()}
    data["event"] = raw

    response = client_for(dora).post(f"/popsci/read/{article.pk}/quiz/", data)

    assert response.status_code == 400
    assert not article.attempts.exists()
