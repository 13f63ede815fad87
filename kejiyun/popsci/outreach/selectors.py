"""Reads for outreach (精准科普 outreach): activities, and the outcomes of science
popularisation, measured by understanding and attendance, with bot-like reading left out.

Outcome figures (`outcomes_for`, `outcomes_by_article`, `outcomes_by_campaign`)
------------------------------------------------------------------------------
For a scope — one piece of content, one campaign, a region subtree (where the citizen
lives) or a service centre (content, campaigns and activities it runs):
- delivered: distinct citizens a campaign delivered to; readers: distinct accounts with an
  unflagged read (reach is both figures);
- read-to-end rate: readers who finished at least one unflagged read / readers;
- quiz accuracy before and after: only over (content, account) pairs that answered both
  the before and the after quiz; accuracy = questions right / questions asked;
- attendance: checked-in / signed-up (region and centre scopes; activities are not tied to
  content or campaigns);
- flagged reads: reads in the scope that the rule flagged, for staff review.

Every read, delivery, quiz answer and sign-up of a bot account (the bot rule in
`kejiyun.popsci.content.bots`) is left out; a read flagged only as too fast is left out on
its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kejiyun.popsci.content.selectors import bot_account_ids
from kejiyun.popsci.models import (
    Activity,
    ActivitySignup,
    Article,
    Campaign,
    Delivery,
    QuizAttempt,
    ReadEvent,
)
from kejiyun.popsci.targeting.selectors import citizen_profile_of
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.regions.selectors import jurisdiction_filter, user_jurisdiction

if TYPE_CHECKING:
    from kejiyun.accounts.models import User

# --- Activities --------------------------------------------------------------------------


def _citizen_activity_filter(region: Region) -> Q:
    """Activities held on the citizen's path up to the province, or anywhere in their
    county (a township resident sees the county's activities and their neighbours')."""
    codes = region.ancestor_codes
    county_path = "/".join(codes[:3]) + "/" if len(codes) >= 3 else region.path
    return Q(region_id__in=codes) | Q(region__path__startswith=county_path)


def activities_upcoming_for_citizen(
    *, region: Region, now: datetime | None = None
) -> QuerySet[Activity]:
    now = now or timezone.now()
    return (
        Activity.objects.filter(_citizen_activity_filter(region), ends_at__gt=now)
        .select_related("region", "centre")
        .order_by("starts_at", "id")
    )


def access_activity_for_citizen(*, user: User, activity_id: int) -> Activity:
    """An activity the citizen may see and sign up for, or 404."""
    profile = citizen_profile_of(user)
    region = profile.region if profile is not None else user.region
    if region is None:
        raise Http404("活动不存在")
    activity = (
        Activity.objects.filter(_citizen_activity_filter(region), pk=activity_id)
        .select_related("region", "centre")
        .first()
    )
    if activity is None:
        raise Http404("活动不存在")
    return activity


def activities_for_staff(*, user: User) -> QuerySet[Activity]:
    return jurisdiction_filter(
        Activity.objects.select_related("region", "centre"), user=user, region_field="region"
    ).order_by("-starts_at", "-id")


def access_activity_for_staff(*, user: User, activity_id: int) -> Activity:
    activity = activities_for_staff(user=user).filter(pk=activity_id).first()
    if activity is None:
        raise Http404("活动不存在")
    return activity


def activity_signups(*, activity: Activity) -> QuerySet[ActivitySignup]:
    return activity.signups.select_related("user").order_by("created_at", "id")


def regions_for_staff_activities(*, user: User) -> QuerySet[Region]:
    """Regions a staff member may hold an activity in: their jurisdiction, city and below."""
    qs = Region.objects.exclude(level=Region.Level.PROVINCE).order_by("path")
    if user.sees_everything:
        return qs
    region = user_jurisdiction(user) if user.is_centre_staff else None
    if region is None:
        return qs.none()
    return qs.filter(path__startswith=region.path)


# --- Outcomes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    delivered: int = 0
    readers: int = 0
    finished: int = 0
    quiz_pairs: int = 0
    quiz_before: float | None = None
    quiz_after: float | None = None
    signed_up: int = 0
    checked_in: int = 0
    flagged_reads: int = 0
    has_attendance: bool = False

    @property
    def read_to_end_rate(self) -> float | None:
        return self.finished / self.readers if self.readers else None

    @property
    def attendance_rate(self) -> float | None:
        return self.checked_in / self.signed_up if self.signed_up else None

    @property
    def quiz_gain(self) -> float | None:
        if self.quiz_before is None or self.quiz_after is None:
            return None
        return self.quiz_after - self.quiz_before


@dataclass(frozen=True)
class _Scope:
    reads: Q
    read_key: str | None
    deliveries: Q
    delivery_key: str | None
    attempts: Q
    attempt_key: str | None
    signups: Q | None = None
    signup_key: str | None = None


def _grouped(qs: QuerySet, key: str | None, **aggregates: Any) -> dict[Hashable, dict[str, Any]]:
    if key is None:
        return {None: qs.aggregate(**aggregates)}
    return {row.pop("_k"): row for row in qs.values(_k=F(key)).annotate(**aggregates)}


def _compute(scope: _Scope) -> dict[Hashable, dict[str, Any]]:
    bots = bot_account_ids()
    out: dict[Hashable, dict[str, Any]] = defaultdict(dict)
    reads = ReadEvent.objects.filter(scope.reads)
    for k, row in _grouped(
        reads.exclude(user_id__in=bots),
        scope.read_key,
        readers=Count("user_id", distinct=True, filter=Q(flagged=False)),
        finished=Count(
            "user_id", distinct=True, filter=Q(flagged=False, finished_at__isnull=False)
        ),
    ).items():
        out[k].update(row)
    for k, row in _grouped(
        reads, scope.read_key, flagged_reads=Count("id", filter=Q(flagged=True))
    ).items():
        out[k].update(row)
    deliveries = Delivery.objects.filter(scope.deliveries).exclude(citizen__user_id__in=bots)
    for k, row in _grouped(
        deliveries, scope.delivery_key, delivered=Count("citizen_id", distinct=True)
    ).items():
        out[k].update(row)
    attempts = (
        QuizAttempt.objects.filter(scope.attempts)
        .exclude(user_id__in=bots)
        .annotate(_k=F(scope.attempt_key) if scope.attempt_key else F("article_id"))
        .values_list("_k", "article_id", "user_id", "phase", "correct", "total")
    )
    pairs: dict[tuple[Any, int, int], dict[str, tuple[int, int]]] = defaultdict(dict)
    for k, article_id, user_id, phase, correct, total in attempts:
        pairs[(k if scope.attempt_key else None, article_id, user_id)][phase] = (correct, total)
    quiz: dict[Hashable, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for (k, _, _), phases in pairs.items():
        if QuizAttempt.Phase.BEFORE in phases and QuizAttempt.Phase.AFTER in phases:
            acc = quiz[k]
            acc[0] += 1
            acc[1] += phases[QuizAttempt.Phase.BEFORE][0]
            acc[2] += phases[QuizAttempt.Phase.BEFORE][1]
            acc[3] += phases[QuizAttempt.Phase.AFTER][0]
            acc[4] += phases[QuizAttempt.Phase.AFTER][1]
    for k, (n, bc, bt, ac, at) in quiz.items():
        out[k].update(
            quiz_pairs=n,
            quiz_before=bc / bt if bt else None,
            quiz_after=ac / at if at else None,
        )
    if scope.signups is not None:
        signups = ActivitySignup.objects.filter(scope.signups).exclude(user_id__in=bots)
        for k, row in _grouped(
            signups,
            scope.signup_key,
            signed_up=Count("id"),
            checked_in=Count("id", filter=Q(checked_in_at__isnull=False)),
        ).items():
            out[k].update(row)
    return out


def _outcome(row: dict[str, Any] | None, *, has_attendance: bool = False) -> Outcome:
    row = {k: v for k, v in (row or {}).items() if v is not None}
    return Outcome(has_attendance=has_attendance, **row)


def _article_scope(ids: list[int] | None) -> _Scope:
    def q(field: str) -> Q:
        return Q() if ids is None else Q(**{f"{field}__in": ids})

    return _Scope(
        reads=q("article_id"),
        read_key="article_id",
        deliveries=q("campaign__article_id"),
        delivery_key="campaign__article_id",
        attempts=q("article_id"),
        attempt_key="article_id",
    )


def outcomes_by_article(articles: Iterable[Article]) -> dict[int, Outcome]:
    """Outcome figures for each piece of content (a fixed number of queries)."""
    ids = [a.pk for a in articles]
    rows = _compute(_article_scope(ids)) if ids else {}
    return {pk: _outcome(rows.get(pk)) for pk in ids}


def outcomes_by_campaign(campaigns: Iterable[Campaign]) -> dict[int, Outcome]:
    """Outcome figures for each campaign: its deliveries, the reads it led to, and the
    quiz answers of its recipients on its content."""
    items = list(campaigns)
    ids = [c.pk for c in items]
    if not ids:
        return {}
    rows = _compute(
        _Scope(
            reads=Q(campaign_id__in=ids),
            read_key="campaign_id",
            deliveries=Q(campaign_id__in=ids),
            delivery_key="campaign_id",
            attempts=Q(
                user__citizen_profile__deliveries__campaign_id__in=ids,
                article_id=F("user__citizen_profile__deliveries__campaign__article_id"),
            ),
            attempt_key="user__citizen_profile__deliveries__campaign_id",
        )
    )
    return {pk: _outcome(rows.get(pk)) for pk in ids}


def outcomes_for(
    *,
    article: Article | None = None,
    campaign: Campaign | None = None,
    region: Region | None = None,
    centre: ServiceCentre | None = None,
) -> Outcome:
    """Outcome figures for exactly one scope: content, campaign, region subtree or centre."""
    given = [x for x in (article, campaign, region, centre) if x is not None]
    if len(given) != 1:
        raise ValueError("outcomes_for takes exactly one of article, campaign, region, centre")
    if article is not None:
        return outcomes_by_article([article])[article.pk]
    if campaign is not None:
        return outcomes_by_campaign([campaign])[campaign.pk]
    if region is not None:
        path = region.path
        scope = _Scope(
            reads=Q(user__citizen_profile__region__path__startswith=path),
            read_key=None,
            deliveries=Q(citizen__region__path__startswith=path),
            delivery_key=None,
            attempts=Q(user__citizen_profile__region__path__startswith=path),
            attempt_key=None,
            signups=Q(activity__region__path__startswith=path),
        )
    else:
        assert centre is not None
        scope = _Scope(
            reads=Q(article__centre=centre),
            read_key=None,
            deliveries=Q(campaign__centre=centre),
            delivery_key=None,
            attempts=Q(article__centre=centre),
            attempt_key=None,
            signups=Q(activity__centre=centre),
        )
    return _outcome(_compute(scope).get(None), has_attendance=True)


def articles_for_staff_outcomes(*, user: User) -> QuerySet[Article]:
    """Published content of centres in the staff member's jurisdiction, or targeted at a
    region in it."""
    base = Article.objects.filter(status=Article.Status.PUBLISHED)
    by_centre = jurisdiction_filter(base, user=user, region_field="centre__region")
    by_region = jurisdiction_filter(base, user=user, region_field="region")
    return (
        base.filter(Q(pk__in=by_centre.values("pk")) | Q(pk__in=by_region.values("pk")))
        .select_related("region")
        .order_by("-published_at", "-id")
    )


def flagged_reads_for_staff(*, user: User, articles: QuerySet[Article]) -> QuerySet[ReadEvent]:
    return (
        ReadEvent.objects.filter(flagged=True, article__in=articles.values("pk"))
        .select_related("article", "user")
        .order_by("-opened_at", "-id")
    )
