"""Reads for targeting: citizen profiles and consent, audiences, campaign lists, the region
picker, and the personal feed.

An audience is a set of citizen profiles chosen by region subtree, segment (occupation), age
band and interest, and ALWAYS limited to citizens whose targeting consent is for the current
policy version (docs/requirements/security.md item 18). The region test is a prefix of
`region_code` (GB/T 2260 codes nest: 51 province, 5101 city, 510104 county, 510104017
township), so a count over ten million profiles is one indexed range scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.notifications.models import OutboxMessage
from kejiyun.pagecache.fragments import fragment
from kejiyun.pagecache.services import POPSCI
from kejiyun.popsci.content.selectors import articles_published
from kejiyun.popsci.models import (
    SEASON_MONTHS,
    TOPIC_BITS,
    Article,
    Campaign,
    CitizenProfile,
)
from kejiyun.popsci.targeting.feed import FeedContext, FeedItem, RankedItem, rank_feed
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import (
    jurisdiction_filter,
    province_regions,
    region_subtree,
    user_jurisdiction,
)
from kejiyun.regions.selectors import region_in_jurisdiction as staff_may_see_region

# The feed ranks at most this many of the newest candidates.
FEED_CANDIDATES = 300

_PREFIX_LENGTH: dict[str, int] = {
    Region.Level.PROVINCE: 2,
    Region.Level.CITY: 4,
    Region.Level.COUNTY: 6,
}


def current_consent_version() -> str:
    return str(settings.POPSCI_CONSENT_VERSION)


def consent_is_current(profile: CitizenProfile) -> bool:
    """Consent counts only for the current policy version."""
    return profile.targeting_consent and profile.consent_version == current_consent_version()


def citizen_profile_of(user: User) -> CitizenProfile | None:
    if not user.is_authenticated:
        return None
    return CitizenProfile.objects.select_related("region").filter(user=user).first()


def citizen_profile_stamp(user: User) -> tuple[object, ...] | None:
    """Everything of the user's citizen profile that their feed reads (region, occupation,
    age band, interests, consent and its version, last change), as plain values; None for
    anyone without a profile. One indexed lookup, for keying the page cache."""
    if not user.is_authenticated:
        return None
    with connection.cursor() as cursor:  # a plain cursor: the ORM costs several times more
        cursor.execute(
            "SELECT id, region_id, occupation, age_band, interests, targeting_consent,"
            " consent_version, updated_at FROM popsci_citizenprofile WHERE user_id = %s",
            [user.pk],
        )
        row = cursor.fetchone()
    return tuple(row) if row else None


def interest_mask(interests: Iterable[str]) -> int:
    """The `interest_bits` of a list of topics; unknown topics add nothing."""
    mask = 0
    for topic in interests:
        mask |= TOPIC_BITS.get(topic, 0)
    return mask


def region_code_prefix(region: Region) -> str:
    """The prefix every region code in `region`'s subtree starts with."""
    length = _PREFIX_LENGTH.get(region.level)
    return region.code[:length] if length else region.code


def audience_queryset(
    *,
    region: Region,
    segments: Iterable[str] = (),
    age_bands: Iterable[str] = (),
    interests: Iterable[str] = (),
) -> QuerySet[CitizenProfile]:
    """Consenting citizens in `region`'s subtree matching every non-empty criterion.

    An empty list means "any": no segments → every occupation; interests match when the
    citizen shares at least one of them.
    """
    qs = CitizenProfile.objects.filter(
        targeting_consent=True,
        consent_version=current_consent_version(),
        region_code__startswith=region_code_prefix(region),
    )
    segments, age_bands = list(segments), list(age_bands)
    if segments:
        qs = qs.filter(occupation__in=segments)
    if age_bands:
        qs = qs.filter(age_band__in=age_bands)
    interest_list = list(interests)
    if interest_list:
        mask = interest_mask(interest_list)
        qs = qs.alias(shared_interests=F("interest_bits").bitand(mask)).filter(
            ~Q(shared_interests=0)
        )
    return qs


def audience_count(
    *,
    region: Region,
    segments: Iterable[str] = (),
    age_bands: Iterable[str] = (),
    interests: Iterable[str] = (),
) -> int:
    return audience_queryset(
        region=region, segments=segments, age_bands=age_bands, interests=interests
    ).count()


def campaign_audience(campaign: Campaign) -> QuerySet[CitizenProfile]:
    return audience_queryset(
        region=campaign.region,
        segments=campaign.segments,
        age_bands=campaign.age_bands,
        interests=campaign.interests,
    )


# --- Staff views --------------------------------------------------------------------------


def campaigns_for_staff(*, user: User) -> QuerySet[Campaign]:
    """Campaigns started by a centre in the user's jurisdiction, with delivery counts."""
    qs = Campaign.objects.select_related("article", "region", "centre", "created_by").annotate(
        delivered=Count("deliveries")
    )
    return jurisdiction_filter(qs, user=user, region_field="centre__region").order_by(
        "-created_at", "-id"
    )


def access_campaign(user: User, campaign_id: int) -> Campaign:
    """The campaign if it lies in the user's jurisdiction; otherwise 404."""
    campaign = campaigns_for_staff(user=user).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404("推送不存在")
    return campaign


def region_in_jurisdiction(*, user: User, region: Region) -> bool:
    """Campaigns stay inside the deployment province, even for administrators."""
    if user.sees_everything:
        return region.path.startswith(f"{settings.DEPLOYMENT_PROVINCE}/")
    return staff_may_see_region(user, region)


def campaign_regions_for_staff(*, user: User) -> QuerySet[Region]:
    """Regions offered in the campaign form: the jurisdiction itself, its cities and
    counties, and its townships when the staff member works at a county centre."""
    levels = [Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY]
    if user.sees_everything:
        qs = province_regions(settings.DEPLOYMENT_PROVINCE)
    else:
        root = user_jurisdiction(user) if user.is_centre_staff else None
        if root is None:
            return Region.objects.none()
        qs = region_subtree(root)
        if root.level in (Region.Level.COUNTY, Region.Level.TOWNSHIP):
            levels.append(Region.Level.TOWNSHIP)
    return qs.filter(level__in=levels).select_related("parent").order_by("path")


@dataclass(frozen=True)
class CampaignStats:
    """Per-campaign figures for the detail page."""

    deliveries: int
    opened: int
    read_to_end: int
    outbox: dict[str, int]


def campaign_stats(campaign: Campaign) -> CampaignStats:
    deliveries = campaign.deliveries.aggregate(
        total=Count("id"),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        read=Count("id", filter=Q(read_to_end_at__isnull=False)),
    )
    outbox = dict(
        OutboxMessage.objects.filter(idempotency_key__startswith=f"campaign:{campaign.pk}:")
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return CampaignStats(
        deliveries=deliveries["total"],
        opened=deliveries["opened"],
        read_to_end=deliveries["read"],
        outbox={status: outbox.get(status, 0) for status in OutboxMessage.Status.values},
    )


# --- The personal feed ----------------------------------------------------------------------


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


def citizen_read_ids(*, user_id: int | None) -> frozenset[int]:
    """The articles the user has read to the end (one query; none without a user)."""
    if user_id is None:
        return frozenset()
    with connection.cursor() as cursor:  # a plain cursor: the ORM costs several times more
        cursor.execute(
            "SELECT DISTINCT article_id FROM popsci_readevent"
            " WHERE user_id = %s AND finished_at IS NOT NULL",
            [user_id],
        )
        return frozenset(int(row[0]) for row in cursor.fetchall())


def feed_for_citizen(
    *,
    profile: CitizenProfile,
    now: datetime | None = None,
    limit: int = 30,
    read_ids: frozenset[int] | None = None,
) -> list[RankedItem]:
    """The citizen's ranked feed. "Already read" means read to the end (`read_ids`, asked
    here when not given).

    The newest candidates of the citizen's region are the same for everyone there and come
    from the page cache (until science content is published or taken down); what the
    citizen has read is asked each time (one query), and so is the profile."""
    now = now or timezone.now()
    if read_ids is None:
        read_ids = citizen_read_ids(user_id=profile.user_id)
    region_path = tuple(profile.region.ancestor_codes)
    kept = fragment(
        "popsci:feed-candidates",
        topics=(POPSCI,),
        parts=region_path,
        build=lambda: _candidates(profile.region, limit=FEED_CANDIDATES_KEPT),
    )
    candidates = [
        item
        for item in kept
        if item.published_at is not None and item.published_at <= now and item.id not in read_ids
    ][:FEED_CANDIDATES]
    if len(candidates) < FEED_CANDIDATES and len(kept) == FEED_CANDIDATES_KEPT:
        # A reader of many of the newest: the kept list may be short of unread ones.
        candidates = _candidates(profile.region, now=now, exclude=read_ids)
    ctx = feed_context(profile=profile, now=now, read_ids=read_ids)
    return rank_feed(ctx, candidates, limit=limit)


# The candidates kept per region: more than the feed ranks, so that a citizen who has read
# some of the newest still finds FEED_CANDIDATES unread ones among them.
FEED_CANDIDATES_KEPT = FEED_CANDIDATES + 200


def _candidates(
    region: Region,
    *,
    now: datetime | None = None,
    exclude: frozenset[int] = frozenset(),
    limit: int = FEED_CANDIDATES,
) -> list[FeedItem]:
    """The newest published content for `region` (published by `now`, when given, and not
    in `exclude`), as the ranking reads it; without the text."""
    qs = articles_published(region=region).only(
        "id",
        "topic",
        "segments",
        "seasons",
        "region__level",
        "published_at",
        "status",
        "title",
    )
    if now is not None:
        qs = qs.filter(published_at__lte=now)
    if exclude:
        qs = qs.exclude(pk__in=exclude)
    return [feed_item_of(a) for a in qs.order_by("-published_at", "-id")[:limit]]
