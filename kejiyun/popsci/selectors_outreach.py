"""Reads for the personal feed, outcomes and activities (精准科普 outreach)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kejiyun.popsci.feed import FeedContext, FeedItem, RankedItem, rank_feed
from kejiyun.popsci.models import (
    SEASON_MONTHS,
    Activity,
    ActivitySignup,
    Article,
    CitizenProfile,
    ReadEvent,
)
from kejiyun.popsci.selectors import articles_published
from kejiyun.popsci.selectors_campaigns import consent_is_current
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import jurisdiction_filter, user_jurisdiction

if TYPE_CHECKING:
    from kejiyun.accounts.models import User

# The feed ranks at most this many of the newest candidates.
FEED_CANDIDATES = 300


def citizen_profile_of(user: User) -> CitizenProfile | None:
    if not user.is_authenticated:
        return None
    return CitizenProfile.objects.select_related("region").filter(user=user).first()


def feed_context(
    *, profile: CitizenProfile, now: datetime, read_ids: frozenset[int] = frozenset()
) -> FeedContext:
    return FeedContext(
        region_path=tuple(profile.region.ancestor_codes),
        occupation=profile.occupation,
        age_band=profile.age_band,
        interests=frozenset(profile.interests or ()),
        month=timezone.localtime(now).month,
        now=now,
        season_months={str(k): v for k, v in SEASON_MONTHS.items()},
        read_ids=read_ids,
        consent=consent_is_current(profile),  # consent to an older policy version is none
    )


def feed_item_of(article: Article) -> FeedItem:
    return FeedItem(
        id=article.pk,
        topic=article.topic,
        segments=tuple(article.segments or ()),
        seasons=tuple(article.seasons or ()),
        region_code=article.region_id,
        region_level=article.region.level if article.region is not None else None,
        published_at=article.published_at,
        status=article.status,
        title=article.title,
    )


def feed_for_citizen(
    *, profile: CitizenProfile, now: datetime | None = None, limit: int = 30
) -> list[RankedItem]:
    """The citizen's ranked feed (2 queries). "Already read" means read to the end."""
    now = now or timezone.now()
    read_ids: frozenset[int] = frozenset()
    if profile.user_id is not None:
        read_ids = frozenset(
            ReadEvent.objects.filter(user_id=profile.user_id, finished_at__isnull=False)
            .values_list("article_id", flat=True)
            .distinct()
        )
    candidates = (
        articles_published(region=profile.region)
        .filter(published_at__lte=now)
        .exclude(pk__in=read_ids)
        .order_by("-published_at", "-id")[:FEED_CANDIDATES]
    )
    ctx = feed_context(profile=profile, now=now, read_ids=read_ids)
    return rank_feed(ctx, (feed_item_of(a) for a in candidates), limit=limit)


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
