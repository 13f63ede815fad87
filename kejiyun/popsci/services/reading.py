"""Writes for reading: a reading session opened and finished, and quiz answers.

These only record. Bot-like reading is judged elsewhere (outcomes), over `ReadEvent`.
When the reader is a citizen who received the content through a campaign, the delivery's
`opened_at` / `read_to_end_at` are set once, by a conditional update where still empty.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.common.errors import NotPermitted
from kejiyun.popsci.errors import PopsciError
from kejiyun.popsci.models import Article, Campaign, Delivery, QuizAttempt, ReadEvent
from kejiyun.popsci.selectors_content import latest_delivery_campaign

DEVICE_MAX_LENGTH = 64


def _check_published(article: Article) -> None:
    if article.status != Article.Status.PUBLISHED:
        raise PopsciError("内容不存在或尚未发布。", code="not_published")


def _deliveries(*, user: User, article: Article, campaign: Campaign | None) -> QuerySet[Delivery]:
    qs = Delivery.objects.filter(citizen__user_id=user.pk, campaign__article_id=article.pk)
    if campaign is not None:
        qs = qs.filter(campaign_id=campaign.pk)
    return qs


def read_open(
    *, article: Article, user: User, device: str, campaign: Campaign | None = None
) -> ReadEvent:
    """Record that `user` opened published `article` on `device`.

    Without a campaign, the session is credited to the latest campaign that delivered this
    content to the user, if any. Every delivery of it to the user not yet opened is marked
    opened now.
    """
    _check_published(article)
    if not user.is_authenticated:
        raise NotPermitted("请先登录。")
    if campaign is not None and campaign.article_id != article.pk:
        raise PopsciError("推送活动与内容不符。", code="campaign_mismatch")
    if campaign is None:
        campaign = latest_delivery_campaign(user=user, article=article)
    now = timezone.now()
    event = ReadEvent.objects.create(
        article=article,
        user=user,
        campaign=campaign,
        device=device[:DEVICE_MAX_LENGTH],
        opened_at=now,
    )
    _deliveries(user=user, article=article, campaign=campaign).filter(
        opened_at__isnull=True
    ).update(opened_at=now)
    return event


def read_finish(*, read_event: ReadEvent, user: User) -> ReadEvent:
    """Mark the user's own reading session read to the end. Idempotent: the first finish
    time stands. Someone else's session is refused and left unchanged."""
    if read_event.user_id != user.pk:
        raise NotPermitted("只能标记自己的阅读记录。")
    now = timezone.now()
    claimed = ReadEvent.objects.filter(
        pk=read_event.pk, user_id=user.pk, finished_at__isnull=True
    ).update(finished_at=now)
    read_event.refresh_from_db(fields=["finished_at"])
    if claimed and read_event.campaign_id is not None:
        deliveries = Delivery.objects.filter(
            citizen__user_id=user.pk, campaign_id=read_event.campaign_id
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
    user: User,
    answers: list[int],
    phase: str = QuizAttempt.Phase.AFTER,
) -> QuizAttempt:
    """Score and record the user's answers (0-based option indexes, one per question, in
    question order). One attempt per phase per user; a second is refused."""
    _check_published(article)
    if not user.is_authenticated:
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
    duplicate = ValidationError(
        f"您已提交过{QuizAttempt.Phase(phase).label}测验，每个阶段只能作答一次。",
        code="already_submitted",
    )
    if QuizAttempt.objects.filter(article=article, user_id=user.pk, phase=phase).exists():
        raise duplicate
    correct = quiz_score(correct_answers=[q.answer for q in questions], answers=answers)
    try:
        with transaction.atomic():
            return QuizAttempt.objects.create(
                article=article,
                user=user,
                phase=phase,
                answers=list(answers),
                correct=correct,
                total=len(questions),
            )
    except IntegrityError:
        raise duplicate from None
