"""Writes for science content (科普内容): drafting by centre staff, science review (科学性审核)
by a reviewer, publication as an immutable version, archiving and withdrawal for edits; and
the reading of published content: reading sessions, read-to-end, quiz answers, and the
flagging of bot-like reads.

The workflow is the table `CONTENT_MOVES` (transitions.py); `content_transition` is the
only function that changes `Article.status`. It refuses any move the table does not list for
the actor, changing nothing, and writes a `ContentEvent` (actor, from, to, reason) with
every move it makes.

Staff edit only draft or returned content. To change published content they withdraw it
(hidden until reviewed again); the next approval publishes version + 1.

Reading only records. When the reader is a citizen who received the content through a
campaign, the delivery's `opened_at` / `read_to_end_at` are set once, by a conditional
update where still empty. Bot-like reading is judged by the rule in bots.py, over
`ReadEvent` (`reads_flag_bots`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.errors import NotPermitted
from kejiyun.common.uploads import JPEG, MIB, MP4, PNG, FileType, upload_check
from kejiyun.pagecache.services import POPSCI, content_changed
from kejiyun.popsci.content.bots import ReadRow, bot_reasons
from kejiyun.popsci.content.selectors import latest_delivery_campaign
from kejiyun.popsci.content.transitions import CONTENT_MOVES, REVIEWER
from kejiyun.popsci.errors import PopsciError, StaleContent
from kejiyun.popsci.models import (
    Article,
    Campaign,
    ContentEvent,
    ContentVersion,
    Delivery,
    Lesson,
    QuizAttempt,
    QuizQuestion,
    ReadEvent,
    Season,
    Segment,
    Topic,
)
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import region_in_jurisdiction, user_jurisdiction

Status = Article.Status

EDITABLE_STATUSES = frozenset({Status.DRAFT, Status.RETURNED})
DEVICE_MAX_LENGTH = 64
MAX_QUESTIONS = 5
MIN_OPTIONS = 2
MAX_OPTIONS = 6
MAX_LESSONS = 30


UploadKind = Literal["image", "video"]


@dataclass(frozen=True)
class QuestionInput:
    """One quiz question; `answer` is the 0-based index of the correct option."""

    text: str
    options: tuple[str, ...]
    answer: int
    explanation: str = ""


@dataclass(frozen=True)
class LessonInput:
    title: str
    body: str


# --- Checks -------------------------------------------------------------------------------


# What each kind of media may be, by the bytes of the file.
MEDIA_TYPES: dict[str, tuple[FileType, ...]] = {"image": (JPEG, PNG), "video": (MP4,)}


def media_check(*, file: UploadedFile, kind: UploadKind, label: str) -> str:
    """Check a media upload's size and, by parsing it, its type (`kejiyun.common.uploads`:
    Pillow for images, the box structure for MP4, no markup, an extension that agrees);
    return the extension to store it under. Images must be JPEG or PNG, videos MP4."""
    limit = settings.POPSCI_MAX_IMAGE_BYTES if kind == "image" else settings.POPSCI_MAX_VIDEO_BYTES
    wanted = "JPEG 或 PNG 图片" if kind == "image" else "MP4 视频"
    found = upload_check(
        file,
        allowed=MEDIA_TYPES[kind],
        max_bytes=limit,
        too_big=f"{label}过大：不能超过 {limit // MIB} MB。",
        bad_type=f"{label}格式不正确：请上传 {wanted}。",
        error=PopsciError,
    )
    return found.extension


def _jurisdiction_allows(user: User, region: Region | None) -> bool:
    """Content for a region needs that region in the jurisdiction; content for everyone
    (no region) needs the province."""
    if region is not None:
        return region_in_jurisdiction(user, region)
    if user.sees_everything:
        return True
    home = user_jurisdiction(user) if user.is_centre_staff else None
    return home is not None and home.level == Region.Level.PROVINCE


def content_check_editor(*, user: User, article: Article) -> None:
    """Refuse anyone but staff whose jurisdiction holds the content's centre (or an admin)."""
    if user.sees_everything:
        return
    home = user_jurisdiction(user) if user.is_centre_staff else None
    centre = article.centre
    if home is None or centre is None or not home.contains(centre.region):
        raise NotPermitted("您无权管理这条内容。")


def _check_reviewer(*, reviewer: User, article: Article) -> None:
    if reviewer.role != Role.REVIEWER:
        raise NotPermitted("只有评审专家可以进行科学性审核。")
    if article.author_id is not None and article.author_id == reviewer.pk:
        raise NotPermitted("不能审核自己撰写的内容。")


def _check_fields(
    *,
    kind: str,
    title: str,
    topic: str,
    summary: str,
    segments: Sequence[str],
    seasons: Sequence[str],
) -> None:
    errors: dict[str, str] = {}
    if kind not in Article.Kind.values:
        errors["kind"] = "请选择内容形式。"
    if not title.strip():
        errors["title"] = "请填写标题。"
    elif len(title) > 120:
        errors["title"] = "标题不能超过120个字。"
    if len(summary) > 300:
        errors["summary"] = "摘要不能超过300个字。"
    if topic not in Topic.values:
        errors["topic"] = "请选择主题。"
    if any(s not in Segment.values for s in segments):
        errors["segments"] = "受众人群不正确。"
    if any(s not in Season.values for s in seasons):
        errors["seasons"] = "适用季节不正确。"
    if errors:
        raise PopsciError(errors)


def _check_region(user: User, region: Region | None) -> None:
    if not _jurisdiction_allows(user, region):
        message = (
            "只有省级服务中心可以发布全省通用内容，请选择适用地区。"
            if region is None
            else "适用地区必须在您的辖区之内。"
        )
        raise PopsciError({"region": message})


def _check_question(q: QuestionInput, number: int) -> None:
    prefix = f"第{number}题："
    if not q.text.strip():
        raise PopsciError(prefix + "请填写题目。", code="quiz_no_text")
    if len(q.text) > 300 or len(q.explanation) > 300:
        raise PopsciError(prefix + "题目和解析不能超过300个字。", code="quiz_too_long")
    options = [o.strip() for o in q.options]
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS or not all(options):
        raise PopsciError(
            prefix + f"需要 {MIN_OPTIONS} 到 {MAX_OPTIONS} 个非空选项。", code="quiz_options"
        )
    if not 0 <= q.answer < len(options):
        raise PopsciError(prefix + "正确答案必须是其中一个选项。", code="quiz_answer")


def _check_editable(article: Article) -> None:
    if article.status not in EDITABLE_STATUSES:
        raise PopsciError(
            f"“{article.get_status_display()}”状态的内容不能修改；已发布的内容请先撤回修改。",
            code="not_editable",
        )


def _store_upload(article: Article, field: str, file: UploadedFile, ext: str) -> None:
    """Save under a generated name with the extension its bytes proved."""
    getattr(article, field).save(f"{uuid.uuid4().hex}.{ext}", file, save=False)


def _checked_uploads(
    *, image: UploadedFile | None, poster: UploadedFile | None, video: UploadedFile | None
) -> list[tuple[str, UploadedFile, str]]:
    """Check every upload before anything is written; all or nothing."""
    checked: list[tuple[str, UploadedFile, str]] = []
    errors: dict[str, list[ValidationError]] = {}
    uploads: tuple[tuple[str, UploadedFile | None, UploadKind, str], ...] = (
        ("image", image, "image", "配图"),
        ("poster", poster, "image", "封面图"),
        ("video", video, "video", "视频"),
    )
    for field, file, kind, label in uploads:
        if file is None:
            continue
        try:
            checked.append((field, file, media_check(file=file, kind=kind, label=label)))
        except ValidationError as exc:
            errors[field] = exc.error_list
    if errors:
        raise PopsciError(errors)
    return checked


# --- Content ------------------------------------------------------------------------------


def content_create(
    *,
    actor: User,
    kind: str,
    title: str,
    topic: str,
    body: str = "",
    summary: str = "",
    segments: Sequence[str] = (),
    seasons: Sequence[str] = (),
    region: Region | None = None,
    image: UploadedFile | None = None,
    poster: UploadedFile | None = None,
    video: UploadedFile | None = None,
) -> Article:
    """A draft by a centre staff member (or an administrator), owned by their centre."""
    if not (actor.is_centre_staff or actor.sees_everything):
        raise NotPermitted("只有服务中心工作人员可以创建科普内容。")
    _check_fields(
        kind=kind, title=title, topic=topic, summary=summary, segments=segments, seasons=seasons
    )
    _check_region(actor, region)
    uploads = _checked_uploads(image=image, poster=poster, video=video)
    article = Article(
        kind=kind,
        title=title.strip(),
        summary=summary.strip(),
        body=body,
        topic=topic,
        segments=list(dict.fromkeys(segments)),
        seasons=list(dict.fromkeys(seasons)),
        region=region,
        author=actor,
        centre=actor.centre if actor.is_centre_staff else None,
        status=Status.DRAFT,
    )
    for field, file, ext in uploads:
        _store_upload(article, field, file, ext)
    article.save()
    return article


def content_update(
    *,
    article: Article,
    actor: User,
    kind: str,
    title: str,
    topic: str,
    body: str = "",
    summary: str = "",
    segments: Sequence[str] = (),
    seasons: Sequence[str] = (),
    region: Region | None = None,
    image: UploadedFile | None = None,
    poster: UploadedFile | None = None,
    video: UploadedFile | None = None,
) -> Article:
    """Edit draft or returned content. A file left as None keeps the current one."""
    content_check_editor(user=actor, article=article)
    _check_fields(
        kind=kind, title=title, topic=topic, summary=summary, segments=segments, seasons=seasons
    )
    _check_region(actor, region)
    uploads = _checked_uploads(image=image, poster=poster, video=video)
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        _check_editable(locked)
        values: dict[str, Any] = {
            "kind": kind,
            "title": title.strip(),
            "summary": summary.strip(),
            "body": body,
            "topic": topic,
            "segments": list(dict.fromkeys(segments)),
            "seasons": list(dict.fromkeys(seasons)),
            "region": region,
        }
        for name, value in values.items():
            setattr(locked, name, value)
        for field, file, ext in uploads:
            _store_upload(locked, field, file, ext)
        locked.save(update_fields=[*values, *(field for field, _, _ in uploads)])
    article.refresh_from_db()
    return article


def lessons_replace(
    *, course: Article, actor: User, lessons: Sequence[LessonInput]
) -> list[Lesson]:
    """Set a course's lessons, in the given order."""
    content_check_editor(user=actor, article=course)
    if course.kind != Article.Kind.COURSE:
        raise PopsciError("只有课程可以设置章节。", code="not_course")
    if len(lessons) > MAX_LESSONS:
        raise PopsciError(f"课程最多 {MAX_LESSONS} 个章节。", code="too_many_lessons")
    for number, lesson in enumerate(lessons, start=1):
        if not lesson.title.strip() or not lesson.body.strip():
            raise PopsciError(f"第{number}节：请填写标题和内容。", code="lesson_empty")
        if len(lesson.title) > 120:
            raise PopsciError(f"第{number}节：标题不能超过120个字。", code="lesson_title")
    with transaction.atomic():
        _check_editable(Article.objects.select_for_update().get(pk=course.pk))
        Lesson.objects.filter(course=course).delete()
        return Lesson.objects.bulk_create(
            Lesson(course=course, order=i, title=lesson.title.strip(), body=lesson.body)
            for i, lesson in enumerate(lessons, start=1)
        )


def quiz_questions_replace(
    *, article: Article, actor: User, questions: Sequence[QuestionInput]
) -> list[QuizQuestion]:
    """Set the quiz of draft or returned content (at most five questions)."""
    content_check_editor(user=actor, article=article)
    if len(questions) > MAX_QUESTIONS:
        raise PopsciError(f"测验最多 {MAX_QUESTIONS} 道题。", code="too_many_questions")
    for number, q in enumerate(questions, start=1):
        _check_question(q, number)
    with transaction.atomic():
        _check_editable(Article.objects.select_for_update().get(pk=article.pk))
        QuizQuestion.objects.filter(article=article).delete()
        return QuizQuestion.objects.bulk_create(
            QuizQuestion(
                article=article,
                order=i,
                text=q.text.strip(),
                options=[o.strip() for o in q.options],
                answer=q.answer,
                explanation=q.explanation.strip(),
            )
            for i, q in enumerate(questions, start=1)
        )


def quiz_question_add(
    *,
    article: Article,
    actor: User,
    text: str,
    options: Sequence[str],
    answer: int,
    explanation: str = "",
) -> QuizQuestion:
    """Append one question to the quiz of draft or returned content."""
    content_check_editor(user=actor, article=article)
    q = QuestionInput(text=text, options=tuple(options), answer=answer, explanation=explanation)
    with transaction.atomic():
        _check_editable(Article.objects.select_for_update().get(pk=article.pk))
        count = QuizQuestion.objects.filter(article=article).count()
        if count >= MAX_QUESTIONS:
            raise PopsciError(f"测验最多 {MAX_QUESTIONS} 道题。", code="too_many_questions")
        _check_question(q, count + 1)
        return QuizQuestion.objects.create(
            article=article,
            order=count + 1,
            text=q.text.strip(),
            options=[o.strip() for o in q.options],
            answer=q.answer,
            explanation=q.explanation.strip(),
        )


# --- The workflow -------------------------------------------------------------------------


def content_transition(
    *,
    article: Article,
    to: str,
    actor: User,
    reason: str,
    updates: dict[str, Any] | None = None,
) -> Article:
    """Move `article` to status `to` if `CONTENT_MOVES` allows it for this actor, with
    `updates` applied in the same conditional UPDATE on the status read, and one
    `ContentEvent` written in the same transaction. A move that `needs_reason` needs a
    non-empty `reason`. A refused move raises PopsciError (NotPermitted when the actor may not
    make it) and changes nothing; two concurrent moves from the same status cannot both
    succeed."""
    current = article.status
    reason = reason.strip()
    move = CONTENT_MOVES.find(current, to)
    if move is None:
        raise PopsciError(
            f"不能把“{Status(current).label}”的内容改为“{Status(to).label}”。"
            if to in Status.values
            else "目标状态不存在。",
            code="illegal_transition",
        )
    if move.by == REVIEWER:
        _check_reviewer(reviewer=actor, article=article)
    else:
        content_check_editor(user=actor, article=article)
    if move.needs_reason and not reason:
        raise PopsciError("请填写原因。", code="reason_required")
    values = {"status": to, **(updates or {})}
    with transaction.atomic():
        moved = Article.objects.filter(pk=article.pk, status=current).update(**values)
        if moved != 1:
            raise StaleContent()
        ContentEvent.objects.create(
            article_id=article.pk, actor=actor, from_status=current, to_status=to, reason=reason
        )
        if Status.PUBLISHED in (current, to):
            content_changed(POPSCI)  # the public list, the article, the home page, the feeds
    for name, value in values.items():
        setattr(article, name, value)
    return article


def content_problems(article: Article) -> list[str]:
    """Why `article` cannot go to review yet (empty when it can)."""
    problems: list[str] = []
    if not article.title.strip():
        problems.append("请填写标题。")
    if not article.body.strip():
        problems.append("请填写正文。")
    if article.kind == Article.Kind.VIDEO and not article.video:
        problems.append("视频内容需要上传视频文件。")
    if article.kind == Article.Kind.COURSE and not article.lessons.exists():
        problems.append("课程至少需要一个章节。")
    for number, q in enumerate(article.questions.all(), start=1):
        try:
            _check_question(
                QuestionInput(
                    text=q.text,
                    options=tuple(str(o) for o in q.options) if isinstance(q.options, list) else (),
                    answer=q.answer,
                    explanation=q.explanation,
                ),
                number,
            )
        except ValidationError as exc:
            problems.extend(exc.messages)
    return problems


def content_submit(*, article: Article, actor: User) -> Article:
    """Send draft or returned content to science review."""
    content_check_editor(user=actor, article=article)
    problems = content_problems(article)
    if problems:
        raise PopsciError(problems, code="incomplete")
    return content_transition(article=article, to=Status.IN_REVIEW, actor=actor, reason="")


def content_snapshot(article: Article) -> dict[str, Any]:
    """Everything a published version froze, as plain JSON."""
    return {
        "kind": article.kind,
        "title": article.title,
        "summary": article.summary,
        "body": article.body,
        "topic": article.topic,
        "segments": list(article.segments),
        "seasons": list(article.seasons),
        "region": article.region_id,
        "image": article.image.name or "",
        "poster": article.poster.name or "",
        "video": article.video.name or "",
        "questions": [
            {
                "text": q.text,
                "options": list(q.options),
                "answer": q.answer,
                "explanation": q.explanation,
            }
            for q in article.questions.order_by("order", "id")
        ],
        "lessons": [
            {"title": lesson.title, "body": lesson.body}
            for lesson in article.lessons.order_by("order")
        ],
    }


def content_approve(
    *, article: Article, actor: User, note: str = "", now: datetime | None = None
) -> ContentVersion:
    """Publish content under review and freeze it as version `article.version + 1`, published
    at `now` (the current time unless given, as the demo seed does)."""
    _check_reviewer(reviewer=actor, article=article)
    if len(note) > 500:
        raise PopsciError("审核意见不能超过500个字。", code="note_too_long")
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        now = now or timezone.now()
        number = locked.version + 1
        content_transition(
            article=locked,
            to=Status.PUBLISHED,
            actor=actor,
            reason=note,
            updates={
                "version": number,
                "published_at": now,
                "reviewer": actor,
                "review_note": note.strip(),
            },
        )
        version = ContentVersion.objects.create(
            article=locked,
            number=number,
            title=locked.title,
            body=locked.body,
            snapshot=content_snapshot(locked),
            reviewer=actor,
            published_at=now,
        )
        audit_record(
            action=AuditAction.CONTENT_APPROVE,
            user=actor,
            object_type="article",
            object_id=str(locked.pk),
            detail={"version": number},
        )
    article.refresh_from_db()
    return version


def content_return(*, article: Article, actor: User, note: str) -> Article:
    """Send content under review back to its authors with a required note."""
    _check_reviewer(reviewer=actor, article=article)
    note = note.strip()
    if not note:
        raise PopsciError("退回修改时必须填写审核意见。", code="note_required")
    if len(note) > 500:
        raise PopsciError("审核意见不能超过500个字。", code="note_too_long")
    with transaction.atomic():
        content_transition(
            article=article,
            to=Status.RETURNED,
            actor=actor,
            reason=note,
            updates={"reviewer": actor, "review_note": note},
        )
        audit_record(
            action=AuditAction.CONTENT_RETURN,
            user=actor,
            object_type="article",
            object_id=str(article.pk),
        )
    return article


def content_archive(*, article: Article, actor: User) -> Article:
    """Take published content down (下架); it is hidden everywhere."""
    content_check_editor(user=actor, article=article)
    return content_transition(article=article, to=Status.ARCHIVED, actor=actor, reason="")


def content_withdraw(*, article: Article, actor: User) -> Article:
    """撤回修改: published content goes back to draft, hidden until it is reviewed again."""
    content_check_editor(user=actor, article=article)
    return content_transition(article=article, to=Status.DRAFT, actor=actor, reason="")


# --- Reading ------------------------------------------------------------------------------


def _check_published(article: Article) -> None:
    if article.status != Article.Status.PUBLISHED:
        raise PopsciError("内容不存在或尚未发布。", code="not_published")


def _deliveries(*, user: User, article: Article, campaign: Campaign | None) -> QuerySet[Delivery]:
    qs = Delivery.objects.filter(citizen__user_id=user.pk, campaign__article_id=article.pk)
    if campaign is not None:
        qs = qs.filter(campaign_id=campaign.pk)
    return qs


def read_open(
    *, article: Article, actor: User, device: str, campaign: Campaign | None = None
) -> ReadEvent:
    """Record that `actor` (the reader) opened published `article` on `device`.

    Without a campaign, the session is credited to the latest campaign that delivered this
    content to the reader, if any. Every delivery of it to the reader not yet opened is marked
    opened now.
    """
    _check_published(article)
    if not actor.is_authenticated:
        raise NotPermitted("请先登录。")
    if campaign is not None and campaign.article_id != article.pk:
        raise PopsciError("推送活动与内容不符。", code="campaign_mismatch")
    if campaign is None:
        campaign = latest_delivery_campaign(user=actor, article=article)
    now = timezone.now()
    event = ReadEvent.objects.create(
        article=article,
        user=actor,
        campaign=campaign,
        device=device[:DEVICE_MAX_LENGTH],
        opened_at=now,
    )
    _deliveries(user=actor, article=article, campaign=campaign).filter(
        opened_at__isnull=True
    ).update(opened_at=now)
    return event


def read_finish(*, read_event: ReadEvent, actor: User) -> ReadEvent:
    """Mark the actor's own reading session read to the end. Idempotent: the first finish
    time stands. Someone else's session is refused and left unchanged."""
    if read_event.user_id != actor.pk:
        raise NotPermitted("只能标记自己的阅读记录。")
    now = timezone.now()
    claimed = ReadEvent.objects.filter(
        pk=read_event.pk, user_id=actor.pk, finished_at__isnull=True
    ).update(finished_at=now)
    read_event.refresh_from_db(fields=["finished_at"])
    if claimed and read_event.campaign_id is not None:
        deliveries = Delivery.objects.filter(
            citizen__user_id=actor.pk, campaign_id=read_event.campaign_id
        )
        deliveries.filter(opened_at__isnull=True).update(opened_at=read_event.opened_at)
        deliveries.filter(read_to_end_at__isnull=True).update(read_to_end_at=now)
    return read_event


def quiz_score(*, correct_answers: Sequence[int], answers: Sequence[int]) -> int:
    """How many answers match, position by position."""
    return sum(1 for want, got in zip(correct_answers, answers, strict=True) if want == got)


def quiz_submit(
    *,
    article: Article,
    actor: User,
    answers: list[int],
    phase: str = QuizAttempt.Phase.AFTER,
) -> QuizAttempt:
    """Score and record the actor's answers (0-based option indexes, one per question, in
    question order). One attempt per phase per user; a second is refused."""
    _check_published(article)
    if not actor.is_authenticated:
        raise NotPermitted("请先登录。")
    if phase not in QuizAttempt.Phase.values:
        raise PopsciError("测验阶段不正确。", code="bad_phase")
    questions = list(article.questions.order_by("order", "id"))
    if not questions:
        raise PopsciError("这条内容没有测验。", code="no_quiz")
    if len(answers) != len(questions):
        raise PopsciError("请回答全部题目后再提交。", code="incomplete_answers")
    for q, a in zip(questions, answers, strict=True):
        if not isinstance(a, int) or isinstance(a, bool) or not 0 <= a < len(q.options):
            raise PopsciError("答案不正确，请重新选择。", code="bad_answer")
    duplicate = PopsciError(
        f"您已提交过{QuizAttempt.Phase(phase).label}测验，每个阶段只能作答一次。",
        code="already_submitted",
    )
    if QuizAttempt.objects.filter(article=article, user_id=actor.pk, phase=phase).exists():
        raise duplicate
    correct = quiz_score(correct_answers=[q.answer for q in questions], answers=answers)
    try:
        with transaction.atomic():
            return QuizAttempt.objects.create(
                article=article,
                user=actor,
                phase=phase,
                answers=list(answers),
                correct=correct,
                total=len(questions),
            )
    except IntegrityError:
        raise duplicate from None


# --- Bot-like reading ---------------------------------------------------------------------


def reads_flag_bots(*, since: datetime, now: datetime | None = None) -> int:
    """Apply the bot rule (bots.py) to reads opened in [since, now]; return how many reads were
    newly flagged or got a new reason."""
    now = now or timezone.now()
    rows = (
        ReadEvent.objects.filter(opened_at__gte=since, opened_at__lte=now)
        .annotate(body_chars=Length("article__body"))
        .values_list(
            "id",
            "user_id",
            "article_id",
            "device",
            "opened_at",
            "finished_at",
            "body_chars",
            "flag_reason",
        )
    )
    reads = [ReadRow(*row) for row in rows]
    reasons = bot_reasons(reads)
    changed = []
    for r in reads:
        if r.id not in reasons:
            continue
        existing = [p for p in r.reason.split("；") if p]
        merged = existing + [p for p in reasons[r.id] if p not in existing]
        if merged != existing or not existing:
            changed.append(ReadEvent(id=r.id, flagged=True, flag_reason="；".join(merged)[:120]))
    ReadEvent.objects.bulk_update(changed, ["flagged", "flag_reason"], batch_size=500)
    return len(changed)
