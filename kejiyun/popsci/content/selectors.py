"""Reads for science content: the public list, content management, science review, the
reading page, and the accounts the bot rule marked.

Only `articles_published`, `content_readable` and their `access_*`/single-item helpers feed
public pages, and they return published content only: draft, in-review, returned and
archived content is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from kejiyun.accounts.models import Role, User
from kejiyun.popsci.content.bots import ACCOUNT_REASONS
from kejiyun.popsci.models import (
    Article,
    Campaign,
    ContentEvent,
    Delivery,
    Lesson,
    QuizAttempt,
    QuizQuestion,
    ReadEvent,
    Season,
    Segment,
)
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import jurisdiction_filter


def articles_published(*, region: Region | None = None) -> QuerySet[Article]:
    """Published articles; with a region, those for the whole province or for a region
    that contains it (a township resident sees the county's and the city's articles)."""
    qs = Article.objects.filter(status=Article.Status.PUBLISHED).select_related("region")
    if region is not None:
        ancestor_codes = region.ancestor_codes
        qs = qs.filter(Q(region__isnull=True) | Q(region_id__in=ancestor_codes))
    return qs


def article_published(article_id: int) -> Article | None:
    return articles_published().filter(pk=article_id).first()


def content_for_staff(*, user: User) -> QuerySet[Article]:
    """Content whose centre lies in the staff member's jurisdiction (all for admins)."""
    qs = Article.objects.select_related("centre", "centre__region", "region", "author").order_by(
        "-created_at", "-id"
    )
    return jurisdiction_filter(qs, user=user, region_field="centre__region")


def access_content(user: User, article_id: int) -> Article:
    """Content the staff member may manage, or 404."""
    try:
        return content_for_staff(user=user).get(pk=article_id)
    except Article.DoesNotExist:
        raise Http404("内容不存在或不在您的辖区内") from None


def content_review_queue() -> QuerySet[Article]:
    """Content waiting for science review, oldest first."""
    return (
        Article.objects.filter(status=Article.Status.IN_REVIEW)
        .select_related("centre", "region", "author")
        .order_by("created_at", "id")
    )


def access_review(user: User, article_id: int) -> Article:
    """Content under review, for a reviewer; anyone else (or other content) gets 404."""
    if user.role != Role.REVIEWER:
        raise Http404("页面不存在")
    try:
        return content_review_queue().get(pk=article_id)
    except Article.DoesNotExist:
        raise Http404("内容不存在或不在待审核状态") from None


def _with_parts(qs: QuerySet[Article]) -> QuerySet[Article]:
    return qs.prefetch_related(
        Prefetch("lessons", queryset=Lesson.objects.order_by("order")),
        Prefetch("questions", queryset=QuizQuestion.objects.order_by("order", "id")),
    )


def content_readable() -> QuerySet[Article]:
    """Published content with its lessons and questions; nothing else is ever readable."""
    return _with_parts(articles_published().select_related("region", "centre"))


def access_readable_content(article_id: int) -> Article:
    try:
        return content_readable().get(pk=article_id)
    except Article.DoesNotExist:
        raise Http404("内容不存在或尚未发布") from None


def content_with_parts(article_id: int) -> Article:
    """One piece of content with lessons and questions, whatever its status; callers must
    already have checked access (staff preview, reviewer page)."""
    return _with_parts(Article.objects.select_related("region", "centre", "author")).get(
        pk=article_id
    )


def content_events(article: Article) -> QuerySet[ContentEvent]:
    """The content's status history, oldest first, with who made each move."""
    return (
        ContentEvent.objects.filter(article=article)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def access_read_event(user: User, read_event_id: int) -> ReadEvent:
    """The user's own reading session, or 404."""
    try:
        return ReadEvent.objects.select_related("article").get(pk=read_event_id, user_id=user.pk)
    except ReadEvent.DoesNotExist:
        raise Http404("阅读记录不存在") from None


def campaign_delivered_to(*, user: User, article: Article, campaign_id: int) -> Campaign | None:
    """The campaign if it sent this content to this user, else None."""
    return Campaign.objects.filter(
        pk=campaign_id,
        article=article,
        deliveries__citizen__user=user,
    ).first()


def latest_delivery_campaign(*, user: User, article: Article) -> Campaign | None:
    """The most recent campaign that delivered this content to this user, if any."""
    delivery = (
        Delivery.objects.filter(campaign__article=article, citizen__user=user)
        .select_related("campaign")
        .order_by("-created_at", "-id")
        .first()
    )
    return delivery.campaign if delivery else None


@dataclass(frozen=True)
class QuestionFeedback:
    number: int
    text: str
    options: list[str]
    chosen: int | None
    answer: int
    correct: bool
    explanation: str

    @property
    def chosen_label(self) -> str:
        if self.chosen is None or not 0 <= self.chosen < len(self.options):
            return "未作答"
        return self.options[self.chosen]

    @property
    def answer_label(self) -> str:
        return self.options[self.answer] if 0 <= self.answer < len(self.options) else ""


@dataclass(frozen=True)
class AttemptFeedback:
    phase: str
    phase_label: str
    correct: int
    total: int
    items: list[QuestionFeedback]


def quiz_feedback(*, article: Article, attempt: QuizAttempt) -> AttemptFeedback:
    """Per-question feedback for an attempt, against the content's current questions."""
    answers = list(attempt.answers) if isinstance(attempt.answers, list) else []
    items = []
    for i, q in enumerate(article.questions.all()):
        chosen = answers[i] if i < len(answers) and isinstance(answers[i], int) else None
        items.append(
            QuestionFeedback(
                number=i + 1,
                text=q.text,
                options=[str(o) for o in q.options],
                chosen=chosen,
                answer=q.answer,
                correct=chosen == q.answer,
                explanation=q.explanation,
            )
        )
    return AttemptFeedback(
        phase=attempt.phase,
        phase_label=attempt.get_phase_display(),
        correct=attempt.correct,
        total=attempt.total,
        items=items,
    )


def quiz_attempts_of(*, user: User, article: Article) -> dict[str, QuizAttempt]:
    """The user's attempts at this content's quiz, by phase."""
    return {a.phase: a for a in QuizAttempt.objects.filter(user_id=user.pk, article=article)}


@dataclass(frozen=True)
class ContentLabels:
    segments: list[str]
    seasons: list[str]


def content_labels(article: Article) -> ContentLabels:
    """Chinese labels of the content's audience segments and season windows."""
    segment_names = dict(Segment.choices)
    season_names = dict(Season.choices)
    return ContentLabels(
        segments=[segment_names.get(s, s) for s in article.segments],
        seasons=[season_names.get(s, s) for s in article.seasons],
    )


def bot_account_ids() -> QuerySet[ReadEvent, Any]:
    """Subquery of user ids flagged as bot accounts (reasons (b) and (c) of bots.py)."""
    q = Q()
    for reason in ACCOUNT_REASONS:
        q |= Q(flag_reason__contains=reason)
    return ReadEvent.objects.filter(q, flagged=True).values("user_id")
