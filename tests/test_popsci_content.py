"""Science content: drafting by staff, science review, versions, uploads, staff and reviewer
pages. Unreviewed content is never shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import User
from kejiyun.common.errors import Stale
from kejiyun.popsci.content.selectors import content_for_staff, content_readable
from kejiyun.popsci.content.services import (
    LessonInput,
    QuestionInput,
    content_approve,
    content_archive,
    content_return,
    content_submit,
    content_transition,
    content_update,
    content_withdraw,
    lessons_replace,
    quiz_question_add,
    quiz_questions_replace,
)
from kejiyun.popsci.content.transitions import CONTENT_MOVES
from kejiyun.popsci.models import (
    Article,
    ContentEvent,
    ContentVersion,
    Lesson,
    QuizQuestion,
    Topic,
)
from kejiyun.regions.models import Region
from tests.builders import (
    JPEG,
    MP4,
    PNG,
    QUESTIONS,
    client_for,
    make_draft,
    make_published,
    png_upload,
)

pytestmark = pytest.mark.django_db

S = Article.Status


def row(article: Article) -> dict[str, Any]:
    return Article.objects.filter(pk=article.pk).values().get()


def everything() -> tuple[object, ...]:
    return (
        list(Article.objects.order_by("pk").values()),
        list(ContentVersion.objects.order_by("pk").values()),
        list(QuizQuestion.objects.order_by("pk").values()),
        list(Lesson.objects.order_by("pk").values()),
        list(ContentEvent.objects.order_by("pk").values()),
    )


def article_in(status: str, author: User) -> Article:
    article = make_draft(author)
    extra: dict[str, Any] = {"status": status}
    if status == S.PUBLISHED:
        extra["published_at"] = article.created_at
    Article.objects.filter(pk=article.pk).update(**extra)
    article.refresh_from_db()
    return article


# --- Drafting -----------------------------------------------------------------------------


def test_staff_create_a_draft_owned_by_their_centre(alice: User) -> None:
    article = make_draft(alice, segments=["farmer", "elderly"], seasons=["flood_season"])
    assert article.status == S.DRAFT
    assert article.centre == alice.centre
    assert article.author == alice
    assert article.segments == ["farmer", "elderly"]
    assert article.seasons == ["flood_season"]
    assert article.version == 0


def test_county_staff_cannot_target_a_region_outside_their_jurisdiction(alice: User) -> None:
    with pytest.raises(ValidationError) as exc:
        make_draft(alice, region=Region.objects.get(code="510822"))
    assert "辖区" in str(exc.value)
    assert Article.objects.count() == 0


def test_only_province_staff_may_leave_the_region_empty(alice: User, pat: User) -> None:
    with pytest.raises(ValidationError):
        make_draft(alice, region=None)
    assert Article.objects.count() == 0
    article = make_draft(pat, region=None)
    assert article.region is None


def test_people_who_are_not_staff_cannot_create_content(rita: User) -> None:
    with pytest.raises(PermissionDenied):
        make_draft(rita)
    assert Article.objects.count() == 0


def test_unknown_topic_segment_or_season_is_refused(alice: User) -> None:
    for bad in ({"topic": "astrology"}, {"segments": ["aliens"]}, {"seasons": ["monsoon"]}):
        with pytest.raises(ValidationError):
            make_draft(alice, **bad)
    assert Article.objects.count() == 0


# --- The transition table -----------------------------------------------------------------


ILLEGAL = [(a, b) for a in S.values for b in S.values if b not in CONTENT_MOVES[a]]


@pytest.mark.parametrize(("start", "target"), ILLEGAL)
def test_an_illegal_transition_is_refused_and_changes_nothing(
    alice: User, start: str, target: str
) -> None:
    article = article_in(start, alice)
    before = everything()
    with pytest.raises(ValidationError) as exc:
        content_transition(
            article=article, to=target, actor=alice, reason="试试", updates={"title": "被篡改"}
        )
    assert exc.value.code == "illegal_transition"
    assert everything() == before
    assert ContentEvent.objects.count() == 0
    assert article.status == start


def test_every_status_appears_in_the_transition_table() -> None:
    assert set(CONTENT_MOVES) == set(S.values)


def test_a_legal_move_writes_exactly_one_event_with_actor_from_to_and_reason(
    alice: User,
) -> None:
    article = article_in(S.PUBLISHED, alice)
    content_transition(article=article, to=S.ARCHIVED, actor=alice, reason=" 内容过时 ")
    assert row(article)["status"] == S.ARCHIVED
    assert list(
        ContentEvent.objects.values_list(
            "article_id", "actor_id", "from_status", "to_status", "reason"
        )
    ) == [(article.pk, alice.pk, S.PUBLISHED, S.ARCHIVED, "内容过时")]


def test_a_move_that_needs_a_reason_is_refused_without_one(alice: User, rita: User) -> None:
    assert CONTENT_MOVES.find(S.IN_REVIEW, S.RETURNED).needs_reason  # type: ignore[union-attr]
    article = article_in(S.IN_REVIEW, alice)
    before = everything()
    with pytest.raises(ValidationError) as exc:
        content_transition(article=article, to=S.RETURNED, actor=rita, reason="   ")
    assert exc.value.code == "reason_required"
    assert everything() == before


def test_a_move_is_refused_to_an_actor_the_table_does_not_name(alice: User, rita: User) -> None:
    in_review = article_in(S.IN_REVIEW, alice)
    published = article_in(S.PUBLISHED, alice)
    before = everything()
    with pytest.raises(PermissionDenied):
        content_transition(article=in_review, to=S.PUBLISHED, actor=alice, reason="")
    with pytest.raises(PermissionDenied):
        content_transition(article=published, to=S.ARCHIVED, actor=rita, reason="")
    assert everything() == before


def test_the_whole_review_cycle_leaves_one_event_per_move(alice: User, rita: User) -> None:
    article = make_draft(alice)
    content_submit(article=article, actor=alice)
    content_return(article=article, actor=rita, note="第二段数据有误")
    content_submit(article=article, actor=alice)
    content_approve(article=article, actor=rita, note="科学准确")
    content_withdraw(article=article, actor=alice)
    assert list(
        ContentEvent.objects.filter(article=article).values_list(
            "actor_id", "from_status", "to_status", "reason"
        )
    ) == [
        (alice.pk, S.DRAFT, S.IN_REVIEW, ""),
        (rita.pk, S.IN_REVIEW, S.RETURNED, "第二段数据有误"),
        (alice.pk, S.RETURNED, S.IN_REVIEW, ""),
        (rita.pk, S.IN_REVIEW, S.PUBLISHED, "科学准确"),
        (alice.pk, S.PUBLISHED, S.DRAFT, ""),
    ]


def test_a_stale_object_cannot_move_a_row_that_already_moved(alice: User) -> None:
    article = make_draft(alice)
    stale = Article.objects.get(pk=article.pk)
    content_submit(article=article, actor=alice)
    with pytest.raises(Stale) as exc:
        content_transition(article=stale, to=S.IN_REVIEW, actor=alice, reason="")
    assert exc.value.code == "stale"
    assert row(article)["status"] == S.IN_REVIEW
    assert ContentEvent.objects.filter(article=article).count() == 1


def test_submit_needs_a_title_and_a_body(alice: User) -> None:
    article = make_draft(alice, body="   ")
    before = everything()
    with pytest.raises(ValidationError) as exc:
        content_submit(article=article, actor=alice)
    assert "请填写正文。" in exc.value.messages
    assert everything() == before


def test_submit_refuses_a_broken_quiz_question(alice: User) -> None:
    article = make_draft(alice)
    QuizQuestion.objects.create(article=article, text="只有一个选项", options=["是"], answer=0)
    QuizQuestion.objects.create(article=article, text="答案越界", options=["是", "否"], answer=5)
    before = everything()
    with pytest.raises(ValidationError) as exc:
        content_submit(article=article, actor=alice)
    assert any("第1题" in m for m in exc.value.messages)
    assert any("第2题" in m for m in exc.value.messages)
    assert everything() == before


def test_a_video_needs_its_file_and_a_course_needs_a_lesson(alice: User) -> None:
    video = make_draft(alice, kind=Article.Kind.VIDEO)
    course = make_draft(alice, kind=Article.Kind.COURSE)
    with pytest.raises(ValidationError, match="视频文件"):
        content_submit(article=video, actor=alice)
    with pytest.raises(ValidationError, match="章节"):
        content_submit(article=course, actor=alice)
    lessons_replace(course=course, actor=alice, lessons=[LessonInput(title="第一课", body="内容")])
    content_submit(article=course, actor=alice)
    assert row(course)["status"] == S.IN_REVIEW
    assert row(video)["status"] == S.DRAFT


@pytest.mark.parametrize(
    "question",
    [
        QuestionInput(text="一个选项", options=("是",), answer=0),
        QuestionInput(text="七个选项", options=tuple("ABCDEFG"), answer=0),
        QuestionInput(text="空选项", options=("是", " "), answer=0),
        QuestionInput(text="答案越界", options=("是", "否"), answer=2),
        QuestionInput(text="负数答案", options=("是", "否"), answer=-1),
        QuestionInput(text=" ", options=("是", "否"), answer=0),
    ],
)
def test_a_quiz_question_needs_two_to_six_options_and_a_valid_answer(
    alice: User, question: QuestionInput
) -> None:
    article = make_draft(alice)
    quiz_questions_replace(article=article, actor=alice, questions=QUESTIONS[:1])
    before = everything()
    with pytest.raises(ValidationError):
        quiz_questions_replace(article=article, actor=alice, questions=[question])
    with pytest.raises(ValidationError):
        quiz_question_add(
            article=article,
            actor=alice,
            text=question.text,
            options=question.options,
            answer=question.answer,
        )
    assert everything() == before


def test_a_quiz_has_at_most_five_questions(alice: User) -> None:
    article = make_draft(alice)
    with pytest.raises(ValidationError):
        quiz_questions_replace(article=article, actor=alice, questions=QUESTIONS * 2)
    assert QuizQuestion.objects.count() == 0


# --- Review and versions ------------------------------------------------------------------


def test_approval_publishes_exactly_one_version_with_the_right_snapshot(
    alice: User, rita: User
) -> None:
    article = make_draft(alice, segments=["farmer"], seasons=["flood_season"], summary="避险要点")
    quiz_questions_replace(article=article, actor=alice, questions=QUESTIONS)
    content_submit(article=article, actor=alice)
    version = content_approve(article=article, actor=rita, note="科学准确")
    assert ContentVersion.objects.count() == 1
    assert version.number == 1
    assert version.reviewer == rita
    assert version.title == "汛期地质灾害避险指南"
    assert version.body == "遇到山体滑坡，要向两侧跑。"
    snap = version.snapshot
    assert snap["title"] == "汛期地质灾害避险指南"
    assert snap["topic"] == Topic.LANDSLIDE
    assert snap["segments"] == ["farmer"]
    assert snap["seasons"] == ["flood_season"]
    assert snap["region"] == "510104"
    assert snap["questions"] == [
        {
            "text": q.text,
            "options": list(q.options),
            "answer": q.answer,
            "explanation": q.explanation,
        }
        for q in QUESTIONS
    ]
    fresh = row(article)
    assert fresh["status"] == S.PUBLISHED
    assert fresh["version"] == 1
    assert fresh["reviewer_id"] == rita.pk
    assert fresh["review_note"] == "科学准确"
    assert fresh["published_at"] == version.published_at


def test_approving_twice_is_refused_and_makes_no_second_version(alice: User, rita: User) -> None:
    article = make_published(alice, rita)
    before = everything()
    with pytest.raises(ValidationError):
        content_approve(article=article, actor=rita)
    assert everything() == before


def test_withdrawn_and_reapproved_content_gets_version_two_and_keeps_version_one(
    alice: User, rita: User
) -> None:
    article = make_published(alice, rita)
    content_withdraw(article=article, actor=alice)
    assert row(article)["status"] == S.DRAFT
    assert not content_readable().filter(pk=article.pk).exists()
    content_update(
        article=article,
        actor=alice,
        kind=article.kind,
        title="汛期地质灾害避险指南（修订）",
        topic=article.topic,
        body="新的正文",
        region=article.region,
    )
    content_submit(article=article, actor=alice)
    v2 = content_approve(article=article, actor=rita)
    assert v2.number == 2
    assert row(article)["version"] == 2
    v1 = ContentVersion.objects.get(article=article, number=1)
    assert v1.title == "汛期地质灾害避险指南"
    assert v1.snapshot["body"] == "遇到山体滑坡，要向两侧跑。"
    assert v2.snapshot["title"] == "汛期地质灾害避险指南（修订）"


def test_a_reviewer_cannot_review_content_they_wrote(alice: User, rita: User) -> None:
    article = make_draft(alice)
    content_submit(article=article, actor=alice)
    Article.objects.filter(pk=article.pk).update(author=rita)
    article.refresh_from_db()
    before = everything()
    with pytest.raises(PermissionDenied, match="自己"):
        content_approve(article=article, actor=rita)
    with pytest.raises(PermissionDenied, match="自己"):
        content_return(article=article, actor=rita, note="不行")
    assert everything() == before


def test_only_reviewers_review(alice: User, bob: User) -> None:
    article = make_draft(alice)
    content_submit(article=article, actor=alice)
    before = everything()
    with pytest.raises(PermissionDenied):
        content_approve(article=article, actor=bob)
    assert everything() == before


def test_returning_needs_a_note_and_returned_content_can_be_fixed_and_resubmitted(
    alice: User, rita: User
) -> None:
    article = make_draft(alice)
    content_submit(article=article, actor=alice)
    before = everything()
    with pytest.raises(ValidationError, match="审核意见"):
        content_return(article=article, actor=rita, note="  ")
    assert everything() == before
    content_return(article=article, actor=rita, note="第二段数据有误")
    fresh = row(article)
    assert fresh["status"] == S.RETURNED
    assert fresh["review_note"] == "第二段数据有误"
    assert ContentVersion.objects.count() == 0
    content_submit(article=article, actor=alice)
    assert row(article)["status"] == S.IN_REVIEW


def test_staff_cannot_edit_content_under_review_or_published(alice: User, rita: User) -> None:
    in_review = make_draft(alice)
    content_submit(article=in_review, actor=alice)
    published = make_published(alice, rita, title="已发布")
    for article in (in_review, published):
        before = everything()
        with pytest.raises(ValidationError):
            content_update(
                article=article, actor=alice, kind="article", title="改", topic="health", body="x"
            )
        with pytest.raises(ValidationError):
            quiz_questions_replace(article=article, actor=alice, questions=QUESTIONS[:1])
        assert everything() == before


def test_archived_content_is_hidden_and_final(alice: User, rita: User) -> None:
    article = make_published(alice, rita)
    content_archive(article=article, actor=alice)
    assert row(article)["status"] == S.ARCHIVED
    assert not content_readable().filter(pk=article.pk).exists()
    with pytest.raises(ValidationError):
        content_withdraw(article=article, actor=alice)


def test_staff_of_another_county_cannot_manage_alices_content(
    alice: User, charlie: User, rita: User
) -> None:
    draft = make_draft(alice)
    published = make_published(alice, rita, title="已发布")
    before = everything()
    with pytest.raises(PermissionDenied):
        content_submit(article=draft, actor=charlie)
    with pytest.raises(PermissionDenied):
        content_update(article=draft, actor=charlie, kind="article", title="x", topic="health")
    with pytest.raises(PermissionDenied):
        content_archive(article=published, actor=charlie)
    with pytest.raises(PermissionDenied):
        content_withdraw(article=published, actor=charlie)
    assert everything() == before


def test_published_only_is_readable(alice: User, rita: User) -> None:
    published = make_published(alice, rita, title="已发布")
    others = [article_in(s, alice) for s in (S.DRAFT, S.IN_REVIEW, S.RETURNED, S.ARCHIVED)]
    readable = set(content_readable().values_list("pk", flat=True))
    assert readable == {published.pk}
    assert all(o.pk not in readable for o in others)


# --- Uploads ------------------------------------------------------------------------------


def files_in(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_an_image_that_is_not_jpeg_or_png_is_refused_and_nothing_is_saved(
    alice: User, media_root: Path
) -> None:
    fake = SimpleUploadedFile("pic.png", b"<script>alert(1)</script>", content_type="image/png")
    with pytest.raises(ValidationError) as exc:
        make_draft(alice, image=fake)
    assert "配图格式不正确" in str(exc.value)
    assert Article.objects.count() == 0
    assert files_in(media_root) == []


def test_a_video_without_an_mp4_header_is_refused(alice: User, media_root: Path) -> None:
    fake = SimpleUploadedFile("clip.mp4", PNG, content_type="video/mp4")
    with pytest.raises(ValidationError, match="MP4"):
        make_draft(alice, kind="video", video=fake, poster=png_upload())
    assert Article.objects.count() == 0
    assert files_in(media_root) == []


def test_an_oversized_image_is_refused(alice: User, settings: Any, media_root: Path) -> None:
    settings.POPSCI_MAX_IMAGE_BYTES = 10
    with pytest.raises(ValidationError, match="过大"):
        make_draft(alice, poster=png_upload())
    assert Article.objects.count() == 0
    assert files_in(media_root) == []


def test_a_bad_upload_on_edit_leaves_the_draft_unchanged(alice: User, media_root: Path) -> None:
    article = make_draft(alice, image=png_upload())
    before = everything()
    stored = files_in(media_root)
    bad = SimpleUploadedFile("x.jpg", b"GIF89a" + b"\x00" * 20)
    with pytest.raises(ValidationError):
        content_update(
            article=article,
            actor=alice,
            kind="article",
            title="新标题",
            topic="health",
            body="新正文",
            region=article.region,
            image=bad,
        )
    assert everything() == before
    assert files_in(media_root) == stored


def test_good_uploads_are_stored_under_a_generated_name_with_the_proved_type(
    alice: User, media_root: Path
) -> None:
    article = make_draft(
        alice,
        kind="video",
        image=SimpleUploadedFile("a.jpeg", JPEG),
        poster=png_upload("../../evil.png"),
        video=SimpleUploadedFile("clip.mp4", MP4),
    )
    assert article.image.name.startswith("popsci/image/")
    assert article.image.name.endswith(".jpg")
    assert article.poster.name.endswith(".png")
    assert article.video.name.startswith("popsci/video/")
    assert article.video.name.endswith(".mp4")
    assert len(files_in(media_root)) == 3
    content_submit(article=article, actor=alice)


def test_a_file_named_as_another_type_than_its_content_is_refused(
    alice: User, media_root: Path
) -> None:
    with pytest.raises(ValidationError) as refused:
        make_draft(alice, image=SimpleUploadedFile("a.png", JPEG), poster=png_upload("p.html"))
    assert refused.value.message_dict == {
        "image": [
            "配图格式不正确：请上传 JPEG 或 PNG 图片。"
            "文件内容是 JPEG，文件名的扩展名应为 .jpeg、.jpg。"
        ],
        "poster": [
            "封面图格式不正确：请上传 JPEG 或 PNG 图片。文件内容是 PNG，文件名的扩展名应为 .png。"
        ],
    }
    assert Article.objects.count() == 0
    assert files_in(media_root) == []


# --- Staff and reviewer pages -------------------------------------------------------------


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "article",
        "title": "春耕水稻育秧技术",
        "summary": "育秧要点",
        "topic": "agriculture",
        "body": "第一段。\n\n第二段。",
        "segments": ["farmer"],
        "seasons": ["spring_planting"],
        "region": "510104",
        "q-TOTAL_FORMS": "5",
        "q-INITIAL_FORMS": "5",
        "l-TOTAL_FORMS": "3",
        "l-INITIAL_FORMS": "3",
        "q-0-text": "育秧最适宜的温度是？",
        "q-0-options": "10度\n25度\n40度",
        "q-0-answer": "2",
        "q-0-explanation": "25度左右最好。",
        "q-1-text": "秧苗几叶期移栽？",
        "q-1-options": "1叶\n3-4叶",
        "q-1-answer": "2",
    }
    data.update(overrides)
    return data


def test_staff_create_content_with_a_quiz_through_the_form(alice: User) -> None:
    response = client_for(alice).post("/popsci/manage/new/", form_data())
    article = Article.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/popsci/manage/{article.pk}/"
    assert article.status == S.DRAFT
    assert article.body == "第一段。\n\n第二段。"
    assert article.segments == ["farmer"]
    questions = list(article.questions.order_by("order").values("text", "options", "answer"))
    assert questions == [
        {"text": "育秧最适宜的温度是？", "options": ["10度", "25度", "40度"], "answer": 1},
        {"text": "秧苗几叶期移栽？", "options": ["1叶", "3-4叶"], "answer": 1},
    ]
    page = client_for(alice).get(f"/popsci/manage/{article.pk}/").content.decode()
    assert "春耕水稻育秧技术" in page
    assert "提交审核" in page


def test_a_course_is_created_with_its_lessons_in_order(alice: User) -> None:
    data = form_data(
        kind="course",
        **{
            "l-0-title": "选种",
            "l-0-body": "选饱满的种子。",
            "l-1-title": "浸种",
            "l-1-body": "浸泡一天。",
        },
    )
    client_for(alice).post("/popsci/manage/new/", data)
    course = Article.objects.get()
    assert list(course.lessons.values_list("order", "title")) == [(1, "选种"), (2, "浸种")]


def test_a_quiz_question_with_one_option_is_shown_as_an_error_and_nothing_saved(
    alice: User,
) -> None:
    response = client_for(alice).post(
        "/popsci/manage/new/", form_data(**{"q-0-options": "只有一个"})
    )
    assert response.status_code == 400
    assert "需要 2 到 6 个选项。" in response.content.decode()
    assert everything() == ([], [], [], [], [])


def test_a_fake_image_upload_is_shown_as_an_error_and_nothing_saved(
    alice: User, media_root: Path
) -> None:
    fake = SimpleUploadedFile("a.jpg", b"MZ\x90\x00" + b"\x00" * 40, content_type="image/jpeg")
    response = client_for(alice).post("/popsci/manage/new/", form_data(image=fake))
    assert response.status_code == 400
    assert "配图格式不正确：请上传 JPEG 或 PNG 图片。" in response.content.decode()
    assert everything() == ([], [], [], [], [])
    assert files_in(media_root) == []


def test_county_staff_cannot_pick_a_region_outside_their_county_in_the_form(alice: User) -> None:
    response = client_for(alice).post("/popsci/manage/new/", form_data(region="510822"))
    assert response.status_code == 400
    assert Article.objects.count() == 0


def test_staff_of_another_county_get_404_on_alices_content_and_nothing_changes(
    alice: User, charlie: User, rita: User
) -> None:
    draft = make_draft(alice)
    published = make_published(alice, rita, title="已发布")
    client = client_for(charlie)
    before = everything()
    for article in (draft, published):
        base = f"/popsci/manage/{article.pk}/"
        assert client.get(base).status_code == 404
        assert client.get(base + "edit/").status_code == 404
        assert client.post(base + "edit/", form_data(region="510822")).status_code == 404
        for action in ("submit", "archive", "withdraw"):
            assert client.post(base + action + "/").status_code == 404
    assert everything() == before


def test_city_staff_manage_content_of_their_counties(alice: User, bob: User) -> None:
    draft = make_draft(alice)
    response = client_for(bob).post(f"/popsci/manage/{draft.pk}/submit/")
    assert response.status_code == 302
    assert row(draft)["status"] == S.IN_REVIEW


def test_staff_lists_show_only_content_of_their_jurisdiction(
    alice: User, bob: User, charlie: User
) -> None:
    make_draft(alice, title="锦江防汛")
    make_draft(charlie, title="青川防震", region=Region.objects.get(code="510822"))
    alice_page = client_for(alice).get("/popsci/manage/").content.decode()
    assert "锦江防汛" in alice_page
    assert "青川防震" not in alice_page
    assert "锦江防汛" in client_for(bob).get("/popsci/manage/").content.decode()
    assert "锦江防汛" not in client_for(charlie).get("/popsci/manage/").content.decode()
    assert {a.title for a in content_for_staff(user=charlie)} == {"青川防震"}


def test_the_staff_list_runs_a_fixed_number_of_queries(alice: User, bob: User) -> None:
    client = client_for(bob)
    make_draft(alice, title="第1篇", image=png_upload())
    client.get("/popsci/manage/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/popsci/manage/").status_code == 200
    for i in range(2, 8):
        make_draft(alice if i % 2 else bob, title=f"第{i}篇", image=png_upload())
    with CaptureQueriesContext(connection) as many:
        html = client.get("/popsci/manage/").content.decode()
    assert "第7篇" in html
    assert len(few) == len(many) == 4


def test_people_who_are_not_staff_cannot_open_the_staff_pages(rita: User, alice: User) -> None:
    draft = make_draft(alice)
    assert client_for(rita).get("/popsci/manage/").status_code == 404
    assert client_for(rita).post(f"/popsci/manage/{draft.pk}/submit/").status_code == 404
    assert Client().get("/popsci/manage/").status_code == 302
    assert row(draft)["status"] == S.DRAFT


def test_published_content_cannot_be_edited_until_withdrawn(alice: User, rita: User) -> None:
    article = make_published(alice, rita)
    client = client_for(alice)
    before = everything()
    response = client.post(f"/popsci/manage/{article.pk}/edit/", form_data())
    assert response.status_code == 302
    assert everything() == before
    client.post(f"/popsci/manage/{article.pk}/withdraw/")
    assert row(article)["status"] == S.DRAFT
    assert client.get(f"/popsci/manage/{article.pk}/edit/").status_code == 200


def test_the_staff_content_page_shows_the_status_history(alice: User, rita: User) -> None:
    article = make_draft(alice)
    content_submit(article=article, actor=alice)
    content_return(article=article, actor=rita, note="第二段数据有误")
    page = client_for(alice).get(f"/popsci/manage/{article.pk}/").content.decode()
    history = page[page.index("状态记录") :]
    assert f"草稿 → 待审核 · {alice.display_name}" in history
    assert f"待审核 → 退回修改 · {rita.display_name} · 第二段数据有误" in history


def test_an_illegal_action_through_the_page_changes_nothing(alice: User) -> None:
    draft = make_draft(alice)
    before = everything()
    response = client_for(alice).post(f"/popsci/manage/{draft.pk}/archive/", follow=True)
    assert "不能把“草稿”的内容改为“已下架”。" in response.content.decode()
    assert everything() == before


def test_the_reviewer_queue_lists_content_in_review_only(alice: User, rita: User) -> None:
    waiting = make_draft(alice, title="待审的文章")
    content_submit(article=waiting, actor=alice)
    make_draft(alice, title="还是草稿")
    page = client_for(rita).get("/popsci/review/").content.decode()
    assert "待审的文章" in page
    assert "还是草稿" not in page
    assert client_for(alice).get("/popsci/review/").status_code == 404
    assert Client().get("/popsci/review/").status_code == 302


def test_a_reviewer_approves_through_the_page(alice: User, rita: User) -> None:
    article = make_draft(alice)
    content_submit(article=article, actor=alice)
    client = client_for(rita)
    assert "遇到山体滑坡" in client.get(f"/popsci/review/{article.pk}/").content.decode()
    response = client.post(f"/popsci/review/{article.pk}/", {"decision": "approve", "note": ""})
    assert response.status_code == 302
    assert row(article)["status"] == S.PUBLISHED
    assert ContentVersion.objects.filter(article=article).count() == 1
    assert client.get(f"/popsci/review/{article.pk}/").status_code == 404


def test_returning_without_a_note_through_the_page_changes_nothing(alice: User, rita: User) -> None:
    article = make_draft(alice)
    content_submit(article=article, actor=alice)
    before = everything()
    response = client_for(rita).post(
        f"/popsci/review/{article.pk}/", {"decision": "return", "note": ""}
    )
    assert response.status_code == 400
    assert "退回修改时必须填写审核意见。" in response.content.decode()
    assert everything() == before


def test_a_reviewer_cannot_approve_their_own_content_through_the_page(
    alice: User, rita: User
) -> None:
    article = make_draft(alice)
    content_submit(article=article, actor=alice)
    Article.objects.filter(pk=article.pk).update(author=rita)
    before = everything()
    response = client_for(rita).post(
        f"/popsci/review/{article.pk}/", {"decision": "approve", "note": ""}
    )
    assert response.status_code == 403
    assert "不能审核自己撰写的内容。" in response.content.decode()
    assert everything() == before


def test_the_review_queue_runs_a_fixed_number_of_queries(alice: User, rita: User) -> None:
    client = client_for(rita)
    content_submit(article=make_draft(alice, title="待审1"), actor=alice)
    client.get("/popsci/review/")
    with CaptureQueriesContext(connection) as few:
        client.get("/popsci/review/")
    for i in range(2, 7):
        content_submit(article=make_draft(alice, title=f"待审{i}"), actor=alice)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/popsci/review/").content.decode()
    assert "待审6" in html
    assert len(few) == len(many) == 4
