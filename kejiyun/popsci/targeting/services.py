"""Writes for targeting (精准推送): a citizen's targeting profile and their separate,
versioned consent; campaigns (create, send, send the scheduled ones).

Consent to targeted content is separate from the account's privacy consent
(docs/requirements/security.md item 18, PIPL §§15, 24): granting and withdrawing are one action
each, each writes an immutable `ConsentRecord` and updates the profile in the same
transaction, and consent to an older policy version counts as no consent. Withdrawal takes
effect at the next send, because every audience is selected at send time.

Sending is idempotent: each recipient gets one `Delivery` row (unique per campaign and
citizen) and one outbox message whose idempotency key names the campaign and the citizen, so
sending twice — or two cron runs at once — delivers nothing twice. The audience is selected
at send time, so a citizen who withdrew consent before the send is not a recipient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.errors import NotPermitted
from kejiyun.notifications.models import Channel
from kejiyun.notifications.services import OutboxDraft, outbox_cancel_pending, outbox_enqueue_many
from kejiyun.popsci.errors import PopsciError
from kejiyun.popsci.models import (
    AgeBand,
    Article,
    Campaign,
    CitizenProfile,
    ConsentRecord,
    Delivery,
    Segment,
    Topic,
)
from kejiyun.popsci.targeting.selectors import (
    campaign_audience,
    current_consent_version,
    interest_mask,
    region_in_jurisdiction,
)
from kejiyun.regions.models import Region, ServiceCentre

# --- Targeting profile and consent ----------------------------------------------------------


def citizen_profile_for(*, user: User) -> CitizenProfile:
    """The citizen's profile, created with defaults for a citizen who has none yet."""
    profile = CitizenProfile.objects.filter(user=user).select_related("region").first()
    if profile is not None:
        return profile
    if user.role != Role.CITIZEN or user.region is None:
        raise PopsciError("只有公众用户可以设置科普偏好。", code="not_citizen")
    return CitizenProfile.objects.create(
        user=user,
        region=user.region,
        region_code=user.region.code,
        occupation=Segment.OTHER,
        age_band=AgeBand.AGE_18_35,
    )


def _require_own(profile: CitizenProfile, actor: User) -> None:
    """A citizen's targeting profile and consent are theirs alone to change (PIPL)."""
    if actor.pk != profile.user_id:
        raise NotPermitted("只能修改自己的科普偏好和授权。")


def citizen_profile_update(
    *,
    profile: CitizenProfile,
    actor: User,
    region: Region,
    occupation: str,
    age_band: str,
    interests: Sequence[str],
    crops: str = "",
    now: datetime | None = None,
) -> CitizenProfile:
    """Change what a citizen is targeted by. Consent is not touched here."""
    _require_own(profile, actor)
    in_province = region.path.startswith(f"{settings.DEPLOYMENT_PROVINCE}/")
    if region.level not in (Region.Level.COUNTY, Region.Level.TOWNSHIP) or not in_province:
        raise PopsciError("请选择本省的区县或乡镇（街道）。", code="region_level")
    if occupation not in Segment.values:
        raise PopsciError("职业不正确。", code="bad_occupation")
    if age_band not in AgeBand.values:
        raise PopsciError("年龄段不正确。", code="bad_age_band")
    unknown = [t for t in interests if t not in Topic.values]
    if unknown:
        raise PopsciError("兴趣主题不正确。", code="bad_interest")
    chosen = [t for t in Topic.values if t in set(interests)]  # canonical order, no duplicates
    profile.region = region
    profile.region_code = region.code
    profile.occupation = occupation
    profile.age_band = age_band
    profile.interests = chosen
    profile.interest_bits = interest_mask(chosen)
    profile.crops = crops.strip()[:100]
    profile.updated_at = now or timezone.now()
    profile.save(
        update_fields=[
            "region",
            "region_code",
            "occupation",
            "age_band",
            "interests",
            "interest_bits",
            "crops",
            "updated_at",
        ]
    )
    return profile


def _consent_set(*, profile: CitizenProfile, granted: bool, now: datetime | None) -> ConsentRecord:
    moment = now or timezone.now()
    version = current_consent_version()
    with transaction.atomic():
        locked = CitizenProfile.objects.select_for_update().get(pk=profile.pk)
        record = ConsentRecord.objects.create(
            citizen=locked, version=version, granted=granted, created_at=moment
        )
        CitizenProfile.objects.filter(pk=locked.pk).update(
            targeting_consent=granted,
            consent_version=version if granted else "",
            updated_at=moment,
        )
        if not granted and locked.user_id is not None:
            # Campaign messages still waiting in the outbox are not sent after withdrawal.
            outbox_cancel_pending(
                recipient_id=locked.user_id, source=CAMPAIGN_SOURCE, reason="consent withdrawn"
            )
        audit_record(
            action=AuditAction.CONSENT_GRANT if granted else AuditAction.CONSENT_WITHDRAW,
            user=locked.user,
            object_type="citizen_profile",
            object_id=str(locked.pk),
            detail={"version": version},
        )
    profile.targeting_consent = granted
    profile.consent_version = version if granted else ""
    profile.updated_at = moment
    return record


def citizen_consent_grant(
    *, profile: CitizenProfile, actor: User, now: datetime | None = None
) -> ConsentRecord:
    """The citizen consents to targeted content under the current policy version."""
    _require_own(profile, actor)
    return _consent_set(profile=profile, granted=True, now=now)


def citizen_consent_withdraw(
    *, profile: CitizenProfile, actor: User, now: datetime | None = None
) -> ConsentRecord:
    """The citizen withdraws consent; they are left out of every later send."""
    _require_own(profile, actor)
    return _consent_set(profile=profile, granted=False, now=now)


# --- Campaigns ------------------------------------------------------------------------------

BATCH_SIZE = 2000


@dataclass(frozen=True)
class CampaignSendResult:
    audience: int  # consenting citizens matching the targeting at send time
    new_deliveries: int  # recipients reached by this call (0 when sent before)
    unreachable: int  # in the audience but without an account / mobile / openid for the channel


# The outbox source of campaign messages (withdrawing consent cancels those still pending).
CAMPAIGN_SOURCE = "campaign"


def campaign_idempotency_key(*, campaign_id: int, citizen_id: int) -> str:
    return f"campaign:{campaign_id}:citizen:{citizen_id}"


def _check_choices(values: Sequence[str], allowed: Sequence[str], label: str) -> list[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise PopsciError(f"{label}选项不正确。", code="bad_choice")
    return [v for v in allowed if v in set(values)]


def _centre_for(user: User) -> ServiceCentre:
    """The centre a campaign belongs to: the sender's own; an administrator's is the
    province's."""
    if user.centre is not None:
        return user.centre
    return ServiceCentre.objects.get(region_id=settings.DEPLOYMENT_PROVINCE)


def campaign_create(
    *,
    actor: User,
    title: str,
    article: Article,
    channel: str,
    region: Region,
    segments: Sequence[str] = (),
    age_bands: Sequence[str] = (),
    interests: Sequence[str] = (),
    scheduled_at: datetime | None = None,
    now: datetime | None = None,
) -> Campaign:
    """Create a campaign for centre staff; the target region must lie in their jurisdiction
    and the content must be published. Nothing is saved when a check fails."""
    if not (actor.is_centre_staff or actor.sees_everything):
        raise PopsciError("只有服务中心工作人员可以创建推送。", code="not_staff")
    if not region_in_jurisdiction(user=actor, region=region):
        raise PopsciError("目标地区不在您的辖区内。", code="region_outside_jurisdiction")
    if article.status != Article.Status.PUBLISHED:
        raise PopsciError("只能推送已审核发布的内容。", code="article_not_published")
    if channel not in Channel.values:
        raise PopsciError("推送渠道不正确。", code="bad_channel")
    moment = now or timezone.now()
    if scheduled_at is not None and scheduled_at <= moment:
        raise PopsciError("计划发送时间必须晚于现在。", code="schedule_in_past")
    title = title.strip()
    if not title:
        raise PopsciError("请填写推送名称。", code="title_required")
    return Campaign.objects.create(
        title=title[:120],
        article=article,
        channel=channel,
        region=region,
        segments=_check_choices(segments, Segment.values, "人群"),
        age_bands=_check_choices(age_bands, AgeBand.values, "年龄段"),
        interests=_check_choices(interests, Topic.values, "兴趣"),
        centre=_centre_for(actor),
        created_by=actor,
        status=Campaign.Status.SCHEDULED if scheduled_at else Campaign.Status.DRAFT,
        scheduled_at=scheduled_at,
        created_at=moment,
    )


def _address(channel: str, profile: CitizenProfile) -> tuple[bool, str]:
    """(reachable, address) of a citizen on a channel."""
    user = profile.user
    if user is None or not user.is_active:
        return False, ""
    if channel == Channel.IN_APP:
        return True, ""
    if channel == Channel.SMS:
        return bool(user.mobile), user.mobile or ""
    # WeChat needs an openid; accounts do not hold one yet, so nobody is reachable there.
    return False, ""


class SendProgress(Protocol):
    """Where a long send reports how far it got (`kejiyun.background.progress.Progress`)."""

    def start(self, total: int, message: str = "") -> None: ...

    def advance(self, steps: int = 1, message: str | None = None) -> None: ...


def campaign_send(
    *,
    campaign: Campaign,
    actor: User | None,
    now: datetime | None = None,
    progress: SendProgress | None = None,
) -> CampaignSendResult:
    """Deliver the campaign to its current audience; recipients already delivered are skipped.
    Refused (ValidationError, nothing sent) when its content is no longer published.
    `progress` hears of every batch of recipients (a send from the page runs in the
    background: kejiyun/popsci/targeting/runs.py).

    `actor` is the person who pressed send, named in the audit row; None means the system
    (the scheduled sender), and the audit row then has no user and says it was scheduled."""
    moment = now or timezone.now()
    with transaction.atomic():
        locked = (
            Campaign.objects.select_for_update()
            .select_related("article", "region")
            .get(pk=campaign.pk)
        )
        article = locked.article
        if article.status != Article.Status.PUBLISHED:
            # Content archived or withdrawn for edits after the campaign was created.
            raise PopsciError(
                "推送内容已下架或撤回修改，重新审核发布后才能发送。", code="article_not_published"
            )
        url = reverse("popsci:detail", args=[article.pk]) + f"?campaign={locked.pk}"
        body = article.summary or article.body[:140]
        audience_ids = list(campaign_audience(locked).order_by("pk").values_list("pk", flat=True))
        new_deliveries = unreachable = 0
        if progress is not None:
            progress.start(len(audience_ids), "正在投递……")
        for start in range(0, len(audience_ids), BATCH_SIZE):
            batch = audience_ids[start : start + BATCH_SIZE]
            delivered = set(
                Delivery.objects.filter(campaign=locked, citizen_id__in=batch).values_list(
                    "citizen_id", flat=True
                )
            )
            fresh = [pk for pk in batch if pk not in delivered]
            profiles = (
                CitizenProfile.objects.filter(pk__in=fresh)
                .select_related("user")
                .only("pk", "user__id", "user__mobile_sealed", "user__is_active")
                .order_by("pk")
            )
            deliveries: list[Delivery] = []
            drafts: list[OutboxDraft] = []
            for profile in profiles:
                reachable, address = _address(locked.channel, profile)
                if not reachable:
                    unreachable += 1
                    continue
                deliveries.append(Delivery(campaign=locked, citizen=profile, created_at=moment))
                drafts.append(
                    OutboxDraft(
                        channel=locked.channel,
                        title=article.title,
                        body=body,
                        url=url,
                        idempotency_key=campaign_idempotency_key(
                            campaign_id=locked.pk, citizen_id=profile.pk
                        ),
                        source=CAMPAIGN_SOURCE,
                        recipient_id=profile.user_id,
                        address=address,
                    )
                )
            Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            outbox_enqueue_many(drafts=drafts)
            new_deliveries += len(deliveries)
            if progress is not None:
                progress.advance(len(batch))
        locked.status = Campaign.Status.SENT
        locked.sent_at = locked.sent_at or moment
        locked.audience_size = len(audience_ids)
        locked.save(update_fields=["status", "sent_at", "audience_size"])
        detail: dict[str, object] = {"new_deliveries": new_deliveries}
        if actor is None:
            detail["scheduled"] = True
        audit_record(
            action=AuditAction.CAMPAIGN_SEND,
            user=actor,
            object_type="campaign",
            object_id=str(locked.pk),
            detail=detail,
        )
    campaign.status, campaign.sent_at = locked.status, locked.sent_at
    campaign.audience_size = locked.audience_size
    return CampaignSendResult(
        audience=len(audience_ids), new_deliveries=new_deliveries, unreachable=unreachable
    )


def campaigns_send_due(*, now: datetime | None = None) -> list[CampaignSendResult]:
    """Send every scheduled campaign whose time has come, as the system (no actor); run by
    the `send_due_campaigns` command and the `popsci.send_due_campaigns` task."""
    moment = now or timezone.now()
    due = Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED,
        scheduled_at__lte=moment,
        article__status=Article.Status.PUBLISHED,
    ).order_by("scheduled_at", "id")
    results = []
    for campaign in due:
        try:
            results.append(campaign_send(campaign=campaign, actor=None, now=moment))
        except ValidationError:  # content taken down since the query; stays scheduled
            continue
    return results
