"""Writes for a citizen's targeting profile and their separate, versioned consent.

Consent to targeted content (精准推送) is separate from the account's privacy consent
(docs/requirements/security.md item 18, PIPL §§15, 24): granting and withdrawing are one action
each, each writes an immutable `ConsentRecord` and updates the profile in the same
transaction, and consent to an older policy version counts as no consent. Withdrawal takes
effect at the next send, because every audience is selected at send time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.notifications.services import outbox_cancel_pending
from kejiyun.popsci.errors import PopsciError
from kejiyun.popsci.models import AgeBand, CitizenProfile, ConsentRecord, Segment, Topic
from kejiyun.popsci.selectors_campaigns import current_consent_version, interest_mask
from kejiyun.regions.models import Region


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


def citizen_profile_update(
    *,
    profile: CitizenProfile,
    region: Region,
    occupation: str,
    age_band: str,
    interests: Sequence[str],
    crops: str = "",
    now: datetime | None = None,
) -> CitizenProfile:
    """Change what a citizen is targeted by. Consent is not touched here."""
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
                recipient_id=locked.user_id, key_prefix="campaign:", reason="consent withdrawn"
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


def citizen_consent_grant(*, profile: CitizenProfile, now: datetime | None = None) -> ConsentRecord:
    """Consent to targeted content under the current policy version."""
    return _consent_set(profile=profile, granted=True, now=now)


def citizen_consent_withdraw(
    *, profile: CitizenProfile, now: datetime | None = None
) -> ConsentRecord:
    """Withdraw consent; the citizen is left out of every later send."""
    return _consent_set(profile=profile, granted=False, now=now)
