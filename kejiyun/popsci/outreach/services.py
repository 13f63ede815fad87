"""Writes for science activities (科普活动): create, sign up, cancel, check in, feedback.

Capacity is enforced in the database transaction that creates the sign-up: the activity
row is locked (`select_for_update`, a no-op on SQLite, whose writes are serialised by the
IMMEDIATE transaction mode), the sign-ups are counted, and the unique constraint
`signup_once` catches a double sign-up that races past the check.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kejiyun.common.errors import NotPermitted, record_check
from kejiyun.popsci.errors import PopsciError
from kejiyun.popsci.models import Activity, ActivitySignup, Segment
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.regions.selectors import centre_serving, region_in_jurisdiction

if TYPE_CHECKING:
    from kejiyun.accounts.models import User

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 6


def _centre_for(user: User, region: Region) -> ServiceCentre:
    if user.centre is not None:
        return user.centre
    centre = centre_serving(region)
    if centre is None:
        raise PopsciError("该地区没有服务中心。", code="no_centre")
    return centre


def activity_create(
    *,
    actor: User,
    title: str,
    region: Region,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    segments: Sequence[str] = (),
    resource: str = "",
    description: str = "",
) -> Activity:
    """Create an activity in the staff member's jurisdiction; refuse anything else."""
    if not region_in_jurisdiction(actor, region):
        raise NotPermitted("只能在本辖区内创建活动。")
    if ends_at <= starts_at:
        raise PopsciError("结束时间必须晚于开始时间。", code="ends_before_start")
    if capacity < 1:
        raise PopsciError("名额至少为1人。", code="capacity")
    unknown = set(segments) - set(Segment.values)
    if unknown:
        raise PopsciError("面向人群不正确。", code="segments")
    activity = Activity(
        title=title,
        description=description,
        region=region,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        segments=list(segments),
        resource=resource,
        centre=_centre_for(actor, region),
    )
    record_check(activity, error=PopsciError)
    activity.save()
    return activity


def activity_signup(
    *, activity: Activity, actor: User, now: datetime | None = None
) -> ActivitySignup:
    """Sign a citizen up; raises ValidationError when full, closed or already signed up."""
    now = now or timezone.now()
    if activity.starts_at <= now:
        raise PopsciError("活动已开始，报名已截止。", code="closed")
    try:
        with transaction.atomic():
            locked = Activity.objects.select_for_update().get(pk=activity.pk)
            if ActivitySignup.objects.filter(activity=locked, user=actor).exists():
                raise PopsciError("您已报名该活动。", code="duplicate")
            if ActivitySignup.objects.filter(activity=locked).count() >= locked.capacity:
                raise PopsciError("名额已满，报名未成功。", code="full")
            return ActivitySignup.objects.create(activity=locked, user=actor, created_at=now)
    except IntegrityError:
        raise PopsciError("您已报名该活动。", code="duplicate") from None


def activity_signup_cancel(*, activity: Activity, actor: User, now: datetime | None = None) -> bool:
    """Cancel a sign-up before the activity starts; True when one was removed."""
    now = now or timezone.now()
    if activity.starts_at <= now:
        raise PopsciError("活动已开始，不能取消报名。", code="closed")
    deleted, _ = ActivitySignup.objects.filter(
        activity=activity, user=actor, checked_in_at__isnull=True
    ).delete()
    return deleted > 0


def signup_code(signup: ActivitySignup) -> str:
    """A short check-in code for a sign-up, derived (HMAC) from its id: nothing stored,
    not guessable from the id."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"signup:{signup.pk}".encode(), hashlib.sha256
    ).digest()
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:CODE_LENGTH])


def activity_check_in(
    *, activity: Activity, actor: User, signup_id: int | None = None, code: str = ""
) -> ActivitySignup:
    """Check a sign-up in, by id (the list) or by the citizen's code. The caller has
    checked that `activity` is in the staff member's jurisdiction."""
    if not region_in_jurisdiction(actor, activity.region):
        raise NotPermitted("只能为本辖区的活动签到。")
    signups = ActivitySignup.objects.filter(activity=activity).select_related("user")
    signup: ActivitySignup | None
    if signup_id is not None:
        signup = signups.filter(pk=signup_id).first()
    else:
        wanted = code.strip().upper()
        signup = next((s for s in signups if hmac.compare_digest(signup_code(s), wanted)), None)
    if signup is None:
        raise PopsciError("没有找到该报名（签到码不正确）。", code="unknown")
    now = timezone.now()
    claimed = ActivitySignup.objects.filter(pk=signup.pk, checked_in_at__isnull=True).update(
        checked_in_at=now, checked_in_by=actor
    )
    if not claimed:
        raise PopsciError(f"{signup.user} 已签到。", code="already")
    signup.refresh_from_db()
    return signup


def activity_feedback(
    *,
    activity: Activity,
    actor: User,
    rating: int,
    comment: str = "",
    now: datetime | None = None,
) -> ActivitySignup:
    """Record a participant's rating (1-5) and comment once the activity has ended."""
    now = now or timezone.now()
    if now < activity.ends_at:
        raise PopsciError("活动结束后才能评价。", code="not_ended")
    if not 1 <= rating <= 5:
        raise PopsciError("评分应为1到5分。", code="rating")
    updated = ActivitySignup.objects.filter(activity=activity, user=actor).update(
        rating=rating, feedback=comment[:500]
    )
    if not updated:
        raise PopsciError("只有报名参加的人可以评价。", code="not_signed_up")
    return ActivitySignup.objects.get(activity=activity, user=actor)
