"""Writes of the case clock: pause, resume, escalate, give unowned cases an owner; and each
step's due time, counted in working hours on working days (`kejiyun.common.workdays`).

Like every case write, each one refuses what the case's state does not allow (`CaseError`,
nothing written), refuses a stale edit when the caller says which version it saw
(`StaleCase`), and adds one `CaseEvent` to the timeline.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.cases.errors import CaseError, StaleCase
from kejiyun.cases.events import case_event_add
from kejiyun.cases.models import TERMINAL, Case, CaseEvent, Step
from kejiyun.cases.notices import case_url, notice_send
from kejiyun.cases.rules import require_open, require_staff_actor, staffed_centre
from kejiyun.common.versioning import claim_version
from kejiyun.common.workdays import WorkCalendarUnknown, add_working_hours, working_time_between
from kejiyun.regions.models import ServiceCentre

logger = logging.getLogger(__name__)


def step_due_at(step: str, start: datetime) -> datetime | None:
    """When a step begun at `start` falls due: `CASE_STEP_DUE_HOURS[step]` working hours
    later (8 a working day; weekends and public holidays do not count, 调休 days do).
    Terminal steps have no due time. A due time past the years the working calendar knows
    is refused with a `CaseError` that says so."""
    if step in TERMINAL:
        return None
    try:
        return add_working_hours(start, settings.CASE_STEP_DUE_HOURS[step])
    except WorkCalendarUnknown as error:
        raise CaseError(str(error), code="calendar") from error


def case_pause(
    *,
    case: Case,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Stop the step's clock while waiting on the enterprise."""
    now = now or timezone.now()
    require_staff_actor(actor, case)
    require_open(case)
    reason = reason.strip()
    if not reason:
        raise CaseError("请说明在等待企业什么。", code="reason_required")
    if case.paused_at is not None:
        raise CaseError("该案例已在暂停计时中。", code="already_paused")
    with transaction.atomic():
        claim_version(
            case, expected_version, stale=StaleCase, paused_at=now, pause_reason=reason[:200]
        )
        case_event_add(case=case, kind=CaseEvent.Kind.PAUSED, actor=actor, reason=reason, now=now)
    return case


def case_resume(
    *,
    case: Case,
    actor: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Start the clock again; the due time moves on by the time spent paused."""
    now = now or timezone.now()
    require_staff_actor(actor, case)
    require_open(case)
    if case.paused_at is None:
        raise CaseError("该案例没有暂停计时。", code="not_paused")
    paused_for = now - case.paused_at
    # The due time moves on by the working time the clock stood still.
    try:
        stood = working_time_between(case.paused_at, now)
        due_at = (
            add_working_hours(case.due_at, stood.total_seconds() / 3600)
            if case.due_at is not None and stood
            else case.due_at
        )
    except WorkCalendarUnknown as error:
        raise CaseError(str(error), code="calendar") from error
    with transaction.atomic():
        claim_version(
            case, expected_version, stale=StaleCase, paused_at=None, pause_reason="", due_at=due_at
        )
        case_event_add(
            case=case,
            kind=CaseEvent.Kind.RESUMED,
            actor=actor,
            reason=f"暂停 {_duration_label(paused_for)}，时限顺延",
            now=now,
        )
    return case


def _duration_label(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 24:
        return f"{hours // 24} 天 {hours % 24} 小时"
    return f"{hours} 小时 {int(delta.total_seconds() // 60) % 60} 分钟"


def case_escalate(*, case: Case, now: datetime | None = None) -> bool:
    """Hand an overdue case to the centre one level up (county → city → province).

    The step's clock starts again at the new centre, its least-loaded staff member owns the
    case and is notified; when that centre has no staff the case goes on up to the nearest
    one that has (`staffed_centre`), so an escalated case always lands on someone's desk.
    Returns False (and writes nothing) when the case is not overdue, is paused, is already
    at the province, or someone else changed it first.
    """
    now = now or timezone.now()
    if not case.is_overdue(now):
        return False
    parent_region_id = case.centre.region.parent_id
    if parent_region_id is None:
        return False
    parent = ServiceCentre.objects.filter(region_id=parent_region_id).select_related("region")
    first = parent.first()
    if first is None:
        return False
    centre, owner = staffed_centre(first)
    from_centre = case.centre
    try:
        due_at = step_due_at(case.step, now)
    except CaseError as error:
        # The working calendar cannot count the new due time: say so, leave the case as it
        # is, and let the other overdue cases escalate.
        logger.error("case %s not escalated: %s", case.pk, error.messages[0])
        return False
    try:
        with transaction.atomic():
            claim_version(
                case,
                case.version,
                stale=StaleCase,
                centre=centre,
                owner=owner,
                due_at=due_at,
                step_started_at=now,
                escalations=case.escalations + 1,
                escalated_at=now,
            )
            case_event_add(
                case=case,
                kind=CaseEvent.Kind.ESCALATED,
                actor=None,
                from_step=case.step,
                to_step=case.step,
                reason=f"“{Step(case.step).label}”环节超时，由{from_centre}升级至{centre}",
                now=now,
            )
            recipients = (
                [owner]
                if owner is not None
                else list(User.objects.filter(centre=centre, role=Role.STAFF, is_active=True))
            )
            for user in recipients:
                notice_send(
                    user=user,
                    title="超时案例升级",
                    body=f"案例《{case.demand.title}》在{from_centre}超时，已升级由您办理。",
                    url=case_url(case),
                    key=f"case-escalated:{case.pk}:{case.version}:{user.pk}",
                )
    except StaleCase:
        return False
    return True


def cases_escalate_overdue(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Escalate every overdue, running case below the province; returns how many moved."""
    now = now or timezone.now()
    overdue = (
        Case.objects.filter(Case.overdue_q(now))
        .exclude(centre__region__parent__isnull=True)
        .exclude(centre__region__level="province")
        .select_related("centre__region", "demand")
        .order_by("due_at", "id")[:limit]
    )
    return sum(1 for case in overdue if case_escalate(case=case, now=now))


def case_owner_ensure(*, case: Case, now: datetime | None = None) -> bool:
    """Give an open case nobody owns an owner: the least-loaded staff member of its centre,
    or, when its centre has no staff, of the nearest centre above that has (the case moves
    there; its due time does not change). Returns False (writing nothing) when the case is
    owned or ended, no centre up the chain has staff, or someone changed it first."""
    now = now or timezone.now()
    if case.owner_id is not None or not case.is_open:
        return False
    centre, owner = staffed_centre(case.centre)
    if owner is None:
        return False
    moved = centre.pk != case.centre_id
    reason = (
        f"{case.centre}暂无工作人员，转由{centre}的{owner.display_name}承办"
        if moved
        else f"待指派案例由{owner.display_name}承办"
    )
    try:
        with transaction.atomic():
            claim_version(case, case.version, stale=StaleCase, owner=owner, centre=centre)
            case_event_add(
                case=case, kind=CaseEvent.Kind.ASSIGNED, actor=None, reason=reason, now=now
            )
            notice_send(
                user=owner,
                title="新的服务案例",
                body=f"案例《{case.demand.title}》由您负责办理。",
                url=case_url(case),
                key=f"case-owner:{case.pk}:{case.version}",
            )
    except StaleCase:
        return False
    return True


def cases_owner_ensure(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Give every open case nobody owns an owner (`case_owner_ensure`); how many got one."""
    unowned = (
        Case.objects.filter(Case.open_q(), owner__isnull=True)
        .select_related("centre__region", "demand")
        .order_by("opened_at", "id")[:limit]
    )
    return sum(1 for case in unowned if case_owner_ensure(case=case, now=now))
