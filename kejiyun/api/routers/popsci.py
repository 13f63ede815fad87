"""精准科普 over the API: published content (anyone), the signed-in citizen's feed and their
consent to targeted content, campaigns (staff, their jurisdiction), activities (the caller's
region; sign up and cancel) and quizzes (taken through `quiz_submit`, as on the reading
page). Only published content is ever shown; the consent services write the consent record
and the audit row, as from the preference page."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db.models import Count, Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kejiyun.accounts.models import Role, User
from kejiyun.api.auth import ANYONE, SIGNED_IN, require_scope, signed_in_user
from kejiyun.api.errors import ApiProblem
from kejiyun.api.etag import set_etag
from kejiyun.api.models import Scope
from kejiyun.api.pagination import paginate
from kejiyun.api.routers._readers import MAX_ID, PageQuery, require_staff
from kejiyun.api.schemas import Page
from kejiyun.common.errors import ServiceError
from kejiyun.popsci.content.selectors import (
    access_readable_content,
    article_published,
    articles_published,
    quiz_attempts_of,
    quiz_feedback,
)
from kejiyun.popsci.content.services import quiz_submit
from kejiyun.popsci.errors import PopsciError
from kejiyun.popsci.models import (
    Activity,
    AgeBand,
    Article,
    Campaign,
    CitizenProfile,
    ConsentRecord,
    QuizAttempt,
    QuizQuestion,
    Segment,
    Topic,
)
from kejiyun.popsci.outreach.selectors import (
    access_activity_for_citizen,
    activities_for_staff,
    activities_upcoming_for_citizen,
)
from kejiyun.popsci.outreach.services import (
    activity_signup,
    activity_signup_cancel,
    signup_code,
)
from kejiyun.popsci.targeting.selectors import (
    access_campaign,
    campaign_stats,
    campaigns_for_staff,
    citizen_profile_of,
    consent_is_current,
    current_consent_version,
    feed_for_citizen,
)
from kejiyun.popsci.targeting.services import (
    citizen_consent_grant,
    citizen_consent_withdraw,
    citizen_profile_for,
)
from kejiyun.regions.models import Region

router = Router(tags=["精准科普"])

TOPIC_LABELS = dict(Topic.choices)


def _conflicts(error: ServiceError) -> ApiProblem | None:
    """Refusals that are a conflict with what is already stored (409), not a bad request."""
    if error.code in ("already_submitted", "duplicate", "full", "closed"):
        return ApiProblem(409, error.messages[0], code=str(error.code))
    return None


def _region_name(region: Region | None) -> str:
    return region.name if region is not None else ""


# --- Published content ------------------------------------------------------------------------


class ArticleListQuery(PageQuery):
    topic: Topic | None = Field(None, description="科普主题")


class ArticleItemOut(Schema):
    id: int
    kind: str
    title: str
    topic: str
    topic_label: str
    summary: str
    region_code: str | None = Field(description="适用地区；为空表示全省通用")
    region_name: str
    published_at: datetime | None


def _article_item(a: Article) -> ArticleItemOut:
    return ArticleItemOut(
        id=a.pk,
        kind=a.kind,
        title=a.title,
        topic=a.topic,
        topic_label=TOPIC_LABELS.get(a.topic, ""),
        summary=a.summary,
        region_code=a.region_id,
        region_name=_region_name(a.region),
        published_at=a.published_at,
    )


@router.get(
    "/articles",
    response=Page[ArticleItemOut],
    auth=ANYONE,
    operation_id="popsci_articles_list",
    summary="已发布的科普内容",
)
def popsci_articles_list(request: HttpRequest, query: Query[ArticleListQuery]) -> dict[str, Any]:
    qs = articles_published()
    if query.topic:
        qs = qs.filter(topic=query.topic)
    return paginate(qs, cursor=query.cursor, limit=query.limit, out=_article_item)


class ArticleOut(Schema):
    article: ArticleItemOut
    body: str
    segments: list[str]
    seasons: list[str]
    has_quiz: bool


@router.get(
    "/articles/{article_id}",
    response=ArticleOut,
    auth=ANYONE,
    operation_id="popsci_articles_get",
    summary="科普内容正文（仅已发布）",
)
def popsci_articles_get(
    request: HttpRequest, response: HttpResponse, article_id: int = Path(..., ge=1, le=MAX_ID)
) -> ArticleOut:
    article = article_published(article_id)
    if article is None:
        raise Http404("文章不存在或尚未发布")
    set_etag(response, article)
    return ArticleOut(
        article=_article_item(article),
        body=article.body,
        segments=list(article.segments or []),
        seasons=list(article.seasons or []),
        has_quiz=article.questions.exists(),
    )


# --- The citizen's feed ---------------------------------------------------------------------


class FeedItemOut(Schema):
    article_id: int
    title: str
    topic: str
    topic_label: str
    published_at: datetime | None
    score: float
    reasons: list[str]


class FeedOut(Schema):
    has_profile: bool = Field(description="是否已有科普偏好（公众用户）")
    targeting_consent: bool = Field(description="是否同意按偏好精准推荐")
    items: list[FeedItemOut]


@router.get(
    "/feed",
    response=FeedOut,
    auth=SIGNED_IN,
    operation_id="popsci_feed",
    summary="我的科普推荐",
)
def popsci_feed(request: HttpRequest) -> FeedOut:
    user = require_scope(request, Scope.POPSCI_READ)
    profile = citizen_profile_of(user)
    if profile is None:
        return FeedOut(has_profile=False, targeting_consent=False, items=[])
    ranked = feed_for_citizen(profile=profile)
    return FeedOut(
        has_profile=True,
        targeting_consent=consent_is_current(profile),
        items=[
            FeedItemOut(
                article_id=r.item.id,
                title=r.item.title,
                topic=r.item.topic,
                topic_label=TOPIC_LABELS.get(r.item.topic, ""),
                published_at=r.item.published_at,
                score=round(r.total, 4),
                reasons=list(r.reasons),
            )
            for r in ranked
        ],
    )


# --- Consent to targeted content ---------------------------------------------------------------


def _own_citizen_profile(user: User) -> CitizenProfile:
    if user.role != Role.CITIZEN:
        raise ApiProblem(403, "只有公众用户可以设置精准科普授权。", code="not_citizen")
    try:
        return citizen_profile_for(user=user)
    except PopsciError as error:
        raise ApiProblem(403, error.messages[0], code="not_citizen") from None


class ConsentRecordOut(Schema):
    version: str
    granted: bool
    created_at: datetime


class ConsentOut(Schema):
    consented: bool = Field(description="已同意当前版本的精准推送政策")
    outdated: bool = Field(description="同意的是旧版本政策（视为未同意）")
    current_version: str
    records: list[ConsentRecordOut]


def _consent_out(profile: CitizenProfile) -> ConsentOut:
    records = ConsentRecord.objects.filter(citizen=profile).order_by("-created_at", "-id")[:10]
    return ConsentOut(
        consented=consent_is_current(profile),
        outdated=profile.targeting_consent and not consent_is_current(profile),
        current_version=current_consent_version(),
        records=[
            ConsentRecordOut(version=r.version, granted=r.granted, created_at=r.created_at)
            for r in records
        ],
    )


@router.get(
    "/consent",
    response=ConsentOut,
    auth=SIGNED_IN,
    operation_id="popsci_consent_get",
    summary="我的精准科普推送授权",
)
def popsci_consent_get(request: HttpRequest) -> ConsentOut:
    user = require_scope(request, Scope.POPSCI_READ)
    return _consent_out(_own_citizen_profile(user))


class ConsentIn(Schema):
    granted: bool = Field(description="true：同意当前版本政策；false：撤回同意")


@router.put(
    "/consent",
    response=ConsentOut,
    auth=SIGNED_IN,
    operation_id="popsci_consent_set",
    summary="同意或撤回精准科普推送",
)
def popsci_consent_set(request: HttpRequest, payload: ConsentIn) -> ConsentOut:
    user = require_scope(request, Scope.POPSCI_WRITE)
    profile = _own_citizen_profile(user)
    if payload.granted:
        citizen_consent_grant(profile=profile, actor=user)
    else:
        citizen_consent_withdraw(profile=profile, actor=user)
    profile.refresh_from_db()
    return _consent_out(profile)


# --- Campaigns (staff) -------------------------------------------------------------------------


class CampaignItemOut(Schema):
    id: int
    title: str
    status: str
    status_label: str
    channel: str
    article_id: int
    article_title: str
    region_code: str
    region_name: str
    centre: str
    scheduled_at: datetime | None
    sent_at: datetime | None
    audience_size: int
    delivered: int
    created_at: datetime


def _campaign_item(c: Any) -> CampaignItemOut:
    return CampaignItemOut(
        id=c.pk,
        title=c.title,
        status=c.status,
        status_label=c.get_status_display(),
        channel=c.channel,
        article_id=c.article_id,
        article_title=c.article.title,
        region_code=c.region_id,
        region_name=c.region.name,
        centre=c.centre.name,
        scheduled_at=c.scheduled_at,
        sent_at=c.sent_at,
        audience_size=c.audience_size,
        delivered=getattr(c, "delivered", 0),
        created_at=c.created_at,
    )


@router.get(
    "/campaigns",
    response=Page[CampaignItemOut],
    auth=SIGNED_IN,
    operation_id="popsci_campaigns_list",
    summary="辖区内的精准推送（工作人员）",
)
def popsci_campaigns_list(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    user = require_staff(require_scope(request, Scope.POPSCI_READ))
    return paginate(
        campaigns_for_staff(user=user), cursor=query.cursor, limit=query.limit, out=_campaign_item
    )


class CampaignOut(Schema):
    campaign: CampaignItemOut
    segments: list[str]
    age_bands: list[str]
    interests: list[str]
    deliveries: int
    opened: int
    read_to_end: int
    outbox: dict[str, int]


@router.get(
    "/campaigns/{campaign_id}",
    response=CampaignOut,
    auth=SIGNED_IN,
    operation_id="popsci_campaigns_get",
    summary="精准推送详情与效果（工作人员）",
)
def popsci_campaigns_get(
    request: HttpRequest, campaign_id: int = Path(..., ge=1, le=MAX_ID)
) -> CampaignOut:
    user = require_staff(require_scope(request, Scope.POPSCI_READ))
    campaign: Campaign = access_campaign(user, campaign_id)
    stats = campaign_stats(campaign)
    return CampaignOut(
        campaign=_campaign_item(campaign),
        segments=[Segment(v).label for v in campaign.segments if v in Segment.values],
        age_bands=[AgeBand(v).label for v in campaign.age_bands if v in AgeBand.values],
        interests=[Topic(v).label for v in campaign.interests if v in Topic.values],
        deliveries=stats.deliveries,
        opened=stats.opened,
        read_to_end=stats.read_to_end,
        outbox=stats.outbox,
    )


# --- Activities -----------------------------------------------------------------------------------


class ActivityItemOut(Schema):
    id: int
    title: str
    region_code: str
    region_name: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    centre: str


def _activity_item(a: Activity) -> ActivityItemOut:
    return ActivityItemOut(
        id=a.pk,
        title=a.title,
        region_code=a.region_id,
        region_name=a.region.name,
        place=a.place,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        capacity=a.capacity,
        centre=a.centre.name,
    )


def _caller_region(user: User) -> Region | None:
    profile = citizen_profile_of(user)
    return profile.region if profile is not None else user.region


@router.get(
    "/activities",
    response=Page[ActivityItemOut],
    auth=SIGNED_IN,
    operation_id="popsci_activities_list",
    summary="我所在地区即将举办的科普活动",
)
def popsci_activities_list(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    user = require_scope(request, Scope.POPSCI_READ)
    region = _caller_region(user)
    if region is None:
        return {"items": [], "next_cursor": None}
    return paginate(
        activities_upcoming_for_citizen(region=region),
        cursor=query.cursor,
        limit=query.limit,
        out=_activity_item,
    )


@router.get(
    "/activities/managed",
    response=Page[ActivityItemOut],
    auth=SIGNED_IN,
    operation_id="popsci_activities_managed",
    summary="辖区内的科普活动（工作人员）",
)
def popsci_activities_managed(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    user = require_staff(require_scope(request, Scope.POPSCI_READ))
    return paginate(
        activities_for_staff(user=user),
        cursor=query.cursor,
        limit=query.limit,
        out=_activity_item,
    )


class ActivityOut(Schema):
    activity: ActivityItemOut
    description: str
    taken: int
    open: bool = Field(description="尚未开始，可以报名或取消")
    ended: bool
    signed_up: bool
    signup_code: str = Field(description="本人报名的签到码")


def _activity_out(activity: Activity, user: User) -> ActivityOut:
    signup = activity.signups.filter(user=user).first()
    now = timezone.now()
    return ActivityOut(
        activity=_activity_item(activity),
        description=activity.description,
        taken=activity.signups.count(),
        open=activity.starts_at > now,
        ended=activity.ends_at <= now,
        signed_up=signup is not None,
        signup_code=signup_code(signup) if signup else "",
    )


@router.get(
    "/activities/{activity_id}",
    response=ActivityOut,
    auth=SIGNED_IN,
    operation_id="popsci_activities_get",
    summary="科普活动详情",
)
def popsci_activities_get(
    request: HttpRequest, activity_id: int = Path(..., ge=1, le=MAX_ID)
) -> ActivityOut:
    user = require_scope(request, Scope.POPSCI_READ)
    return _activity_out(access_activity_for_citizen(user=user, activity_id=activity_id), user)


@router.post(
    "/activities/{activity_id}/signup",
    response={201: ActivityOut},
    auth=SIGNED_IN,
    operation_id="popsci_activities_signup",
    summary="报名科普活动",
)
def popsci_activities_signup(
    request: HttpRequest, activity_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[ActivityOut]:
    user = require_scope(request, Scope.POPSCI_WRITE)
    activity = access_activity_for_citizen(user=user, activity_id=activity_id)
    try:
        activity_signup(activity=activity, actor=user)
    except PopsciError as error:
        raise _conflicts(error) or error from None
    return Status(201, _activity_out(activity, user))


@router.delete(
    "/activities/{activity_id}/signup",
    response=ActivityOut,
    auth=SIGNED_IN,
    operation_id="popsci_activities_cancel",
    summary="取消活动报名",
)
def popsci_activities_cancel(
    request: HttpRequest, activity_id: int = Path(..., ge=1, le=MAX_ID)
) -> ActivityOut:
    user = require_scope(request, Scope.POPSCI_WRITE)
    activity = access_activity_for_citizen(user=user, activity_id=activity_id)
    try:
        activity_signup_cancel(activity=activity, actor=user)
    except PopsciError as error:
        raise _conflicts(error) or error from None
    return _activity_out(activity, user)


# --- Quizzes ------------------------------------------------------------------------------------


class QuizItemOut(Schema):
    article_id: int
    title: str
    kind: str
    topic: str
    topic_label: str
    question_count: int


@router.get(
    "/quizzes",
    response=Page[QuizItemOut],
    auth=ANYONE,
    operation_id="popsci_quizzes_list",
    summary="带测验的已发布科普内容",
)
def popsci_quizzes_list(request: HttpRequest, query: Query[ArticleListQuery]) -> dict[str, Any]:
    qs = (
        articles_published()
        .filter(Exists(QuizQuestion.objects.filter(article=OuterRef("pk"))))
        .annotate(question_count=Count("questions"))
    )
    if query.topic:
        qs = qs.filter(topic=query.topic)
    return paginate(
        qs,
        cursor=query.cursor,
        limit=query.limit,
        out=_quiz_item,
    )


def _quiz_item(a: Any) -> QuizItemOut:
    return QuizItemOut(
        article_id=a.pk,
        title=a.title,
        kind=a.kind,
        topic=a.topic,
        topic_label=TOPIC_LABELS.get(a.topic, ""),
        question_count=a.question_count,
    )


class QuestionOut(Schema):
    number: int
    text: str
    options: list[str]


class FeedbackOut(Schema):
    number: int
    chosen: int | None
    answer: int
    correct: bool
    explanation: str


class AttemptOut(Schema):
    phase: Literal["before", "after"]
    phase_label: str
    correct: int
    total: int
    feedback: list[FeedbackOut] = Field(description="逐题解析；学前测验只给得分，不给答案")


class QuizOut(Schema):
    article_id: int
    title: str
    questions: list[QuestionOut]
    offer_before: bool = Field(description="可以做学前测验（课程，且两个阶段都未作答）")
    offer_after: bool = Field(description="可以做学后测验")
    attempts: list[AttemptOut] = Field(description="本人已提交的测验（登录后）")


def _attempt_out(article: Article, attempt: QuizAttempt) -> AttemptOut:
    # As on the reading page: the pre-test shows the score only, so the answers are not
    # given away before studying.
    feedback: list[FeedbackOut] = []
    if attempt.phase == QuizAttempt.Phase.AFTER:
        feedback = [
            FeedbackOut(
                number=i.number,
                chosen=i.chosen,
                answer=i.answer,
                correct=i.correct,
                explanation=i.explanation,
            )
            for i in quiz_feedback(article=article, attempt=attempt).items
        ]
    return AttemptOut(
        phase=attempt.phase,  # type: ignore[arg-type]
        phase_label=attempt.get_phase_display(),
        correct=attempt.correct,
        total=attempt.total,
        feedback=feedback,
    )


def _quiz_out(article: Article, user: User | None) -> QuizOut:
    questions = list(article.questions.all())
    attempts = quiz_attempts_of(user=user, article=article) if user is not None else {}
    before = attempts.get(QuizAttempt.Phase.BEFORE)
    after = attempts.get(QuizAttempt.Phase.AFTER)
    has_quiz = bool(questions)
    return QuizOut(
        article_id=article.pk,
        title=article.title,
        questions=[
            QuestionOut(number=n, text=q.text, options=[str(o) for o in q.options])
            for n, q in enumerate(questions, start=1)
        ],
        offer_before=has_quiz
        and article.kind == Article.Kind.COURSE
        and before is None
        and after is None,
        offer_after=has_quiz and after is None,
        attempts=[_attempt_out(article, a) for a in (before, after) if a is not None],
    )


@router.get(
    "/quizzes/{article_id}",
    response=QuizOut,
    auth=ANYONE,
    operation_id="popsci_quizzes_get",
    summary="测验题目（不含答案）与本人成绩",
)
def popsci_quizzes_get(
    request: HttpRequest, article_id: int = Path(..., ge=1, le=MAX_ID)
) -> QuizOut:
    article = access_readable_content(article_id)
    user = signed_in_user(request)
    if user is not None:
        require_scope(request, Scope.POPSCI_READ)
    return _quiz_out(article, user)


class AnswersIn(Schema):
    phase: Literal["before", "after"] = Field("after", description="学前或学后测验")
    answers: list[int] = Field(
        max_length=100, description="按题目顺序，每题所选选项的序号（从 0 开始）"
    )


@router.post(
    "/quizzes/{article_id}/attempts",
    response={201: AttemptOut},
    auth=SIGNED_IN,
    operation_id="popsci_quizzes_answer",
    summary="提交测验答案",
)
def popsci_quizzes_answer(
    request: HttpRequest, payload: AnswersIn, article_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[AttemptOut]:
    user = require_scope(request, Scope.POPSCI_WRITE)
    article = access_readable_content(article_id)
    try:
        attempt = quiz_submit(
            article=article, actor=user, answers=list(payload.answers), phase=payload.phase
        )
    except PopsciError as error:
        raise _conflicts(error) or error from None
    return Status(201, _attempt_out(article, attempt))
