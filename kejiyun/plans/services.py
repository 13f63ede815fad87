"""Writes for 一人一策 service plans.

Every write that changes a plan takes the `expected_version` the page was rendered with and
claims the plan with a conditional UPDATE (`version = expected` → `version + 1`). When another
edit got there first no row matches and `StalePlan` is raised: nothing is written and the view
answers 409. This behaves the same on SQLite and PostgreSQL (no `select_for_update`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.common.errors import NotPermitted, ServiceError, Stale
from kejiyun.common.versioning import claim_version
from kejiyun.common.workflow import Move, MoveTable
from kejiyun.notifications.services import OutboxDraft, outbox_enqueue, outbox_enqueue_many
from kejiyun.plans.models import PlanAction, PlanEvent, PlanFollowUp, PlanNeed, ServicePlan
from kejiyun.plans.selectors import owner_candidates, plans_for_staff
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.regions.selectors import centre_serving
from kejiyun.talent.models import TalentProfile
from kejiyun.talent.selectors import talent_for_staff
from kejiyun.talent.services import talent_verify

STALE_MESSAGE = "该计划已被他人修改，请刷新后再试。"


STAFF = "staff"

# A need is open until staff mark it met (docs/requirements/style.md rule 5).
NEED_MOVES = MoveTable(
    PlanNeed.Status.values,
    [Move(PlanNeed.Status.OPEN, PlanNeed.Status.MET, STAFF)],
)


class PlanError(ServiceError):
    """A refused change to a plan; nothing was written."""


class StalePlan(Stale, PlanError):
    """The plan changed since the page was rendered."""

    message_text = STALE_MESSAGE


def _require_plan_access(plan: ServicePlan, actor: User) -> None:
    if not plans_for_staff(user=actor).filter(pk=plan.pk).exists():
        raise NotPermitted("该计划不在您的辖区内。")


def _claim(plan: ServicePlan, expected_version: int, **changes: Any) -> None:
    """Bump the plan's version if it is still `expected_version`; otherwise StalePlan."""
    claim_version(plan, expected_version, stale=StalePlan, updated_at=timezone.now(), **changes)


def _event(
    plan: ServicePlan,
    *,
    kind: str,
    actor: User | None,
    reason: str = "",
    from_status: str = "",
    to_status: str = "",
) -> PlanEvent:
    return PlanEvent.objects.create(
        plan=plan,
        kind=kind,
        actor=actor,
        reason=reason,
        from_status=from_status,
        to_status=to_status,
    )


def _worker_name(plan: ServicePlan) -> str:
    return plan.profile.user.display_name or str(plan.profile.user)


def _notify_owner(plan: ServicePlan, *, reassigned: bool) -> None:
    if plan.owner is None:
        return
    worker = _worker_name(plan)
    title = f"一人一策：{worker}的服务计划" + ("已转交给您" if reassigned else "由您负责")
    outbox_enqueue(
        channel="inapp",
        recipient=plan.owner,
        title=title,
        body=f"请按计划跟进科技工作者{worker}的需求。",
        url=reverse("plans:detail", args=[plan.pk]),
        idempotency_key=f"plan-owner:{plan.pk}:{plan.version}",
        source="plan",
    )


def _default_owner(centre: ServiceCentre) -> User | None:
    """The centre's staff member with the fewest plans; ties go to the lowest id."""
    return (
        User.objects.filter(centre=centre, role=Role.STAFF, is_active=True)
        .annotate(plan_count=Count("service_plans"))
        .order_by("plan_count", "id")
        .first()
    )


@transaction.atomic
def plan_open(*, profile: TalentProfile, actor: User) -> ServicePlan:
    """The worker's plan, opened on first call at the centre of the worker's county and
    owned by its least-loaded staff member. Calling it again returns the same plan."""
    if not talent_for_staff(user=actor).filter(pk=profile.pk).exists():
        raise NotPermitted("该科技工作者不在您的辖区内。")
    existing = ServicePlan.objects.filter(profile=profile).first()
    if existing is not None:
        return existing
    centre = centre_serving(profile.region)
    if centre is None:
        raise PlanError("该科技工作者所在区县没有服务中心。", code="no_centre")
    owner = _default_owner(centre)
    try:
        with transaction.atomic():  # a savepoint: a lost race returns the winner's plan
            plan = ServicePlan.objects.create(profile=profile, centre=centre, owner=owner)
            _event(plan, kind=PlanEvent.Kind.OPENED, actor=actor, reason=centre.name)
    except IntegrityError:
        return ServicePlan.objects.get(profile=profile)
    _notify_owner(plan, reassigned=False)
    return plan


@transaction.atomic
def plans_open_many(*, profiles: Sequence[TalentProfile], actor: User) -> int:
    """`plan_open` for many workers at once, in a fixed number of queries: each plan at the
    centre serving the worker's county, owned by that centre's least-loaded staff member
    (counting the plans handed out in this call), with its opening event and the owner's
    notice. Workers who already have a plan keep it. A worker outside the actor's
    jurisdiction, or in a county no centre serves, refuses the whole call and nothing is
    written. Returns how many plans were opened."""
    ids = {p.pk for p in profiles}
    if not ids:
        return 0
    if talent_for_staff(user=actor).filter(pk__in=ids).count() != len(ids):
        raise NotPermitted("有科技工作者不在您的辖区内。")
    held = set(ServicePlan.objects.filter(profile_id__in=ids).values_list("profile_id", flat=True))
    todo = sorted(
        (p for p in {p.pk: p for p in profiles}.values() if p.pk not in held), key=lambda p: p.pk
    )
    if not todo:
        return 0
    regions = Region.objects.in_bulk({p.region_id for p in todo})
    codes = {code for region in regions.values() for code in region.ancestor_codes}
    centres = {
        c.region_id: c
        for c in ServiceCentre.objects.filter(region_id__in=codes).select_related("region")
    }
    serving: dict[int, ServiceCentre] = {}
    for profile in todo:
        # The nearest centre on the way up from the worker's region (as `centre_serving`).
        found = [centres[c] for c in regions[profile.region_id].ancestor_codes if c in centres]
        if not found:
            raise PlanError("该科技工作者所在区县没有服务中心。", code="no_centre")
        serving[profile.pk] = max(found, key=lambda c: len(c.region.path))
    members: dict[int, list[User]] = {}  # centre id → its staff
    load: dict[int, int] = {}  # staff id → plans they own
    staff = (
        User.objects.filter(
            centre_id__in={c.pk for c in serving.values()}, role=Role.STAFF, is_active=True
        )
        .annotate(plan_count=Count("service_plans"))
        .order_by("id")
    )
    for member in staff:
        members.setdefault(member.centre_id or 0, []).append(member)
        load[member.pk] = member.plan_count
    plans = []
    for profile in todo:
        centre = serving[profile.pk]
        owner = min(members.get(centre.pk, []), key=lambda m: (load[m.pk], m.pk), default=None)
        if owner is not None:
            load[owner.pk] += 1
        plans.append(ServicePlan(profile=profile, centre=centre, owner=owner))
    created = ServicePlan.objects.bulk_create(plans)
    PlanEvent.objects.bulk_create(
        PlanEvent(plan=plan, kind=PlanEvent.Kind.OPENED, actor=actor, reason=plan.centre.name)
        for plan in created
    )
    outbox_enqueue_many(
        drafts=[
            OutboxDraft(
                channel="inapp",
                recipient_id=plan.owner.pk,
                title=f"一人一策：{_worker_name(plan)}的服务计划由您负责",
                body=f"请按计划跟进科技工作者{_worker_name(plan)}的需求。",
                url=reverse("plans:detail", args=[plan.pk]),
                idempotency_key=f"plan-owner:{plan.pk}:{plan.version}",
                source="plan",
            )
            for plan in created
            if plan.owner is not None
        ]
    )
    return len(created)


@transaction.atomic
def worker_verify(*, profile: TalentProfile, actor: User) -> ServicePlan:
    """Staff verify a worker: the profile is marked verified and the worker's 一人一策 plan
    is opened, both or neither. Staff outside the worker's jurisdiction are refused."""
    talent_verify(profile=profile, actor=actor)
    return plan_open(profile=profile, actor=actor)


@transaction.atomic
def plan_need_add(
    *, plan: ServicePlan, actor: User, expected_version: int, kind: str, description: str
) -> PlanNeed:
    _require_plan_access(plan, actor)
    if kind not in PlanNeed.Kind.values:
        raise PlanError("需求类型不正确。", code="kind")
    if not description.strip():
        raise PlanError("请填写需求说明。", code="description")
    _claim(plan, expected_version)
    return PlanNeed.objects.create(
        plan=plan, kind=kind, description=description.strip(), created_by=actor
    )


@transaction.atomic
def plan_need_transition(
    *, need: PlanNeed, to_status: str, actor: User, expected_version: int, reason: str = ""
) -> PlanNeed:
    """Move a need to `to_status` if `NEED_MOVES` allows it; the plan's version is claimed,
    the status moved with a conditional UPDATE on the status read, and one event written."""
    plan = need.plan
    _require_plan_access(plan, actor)
    move = NEED_MOVES.find(need.status, to_status)
    if move is None:
        raise PlanError("该需求的状态不能这样更改。", code="illegal_transition")
    if move.needs_reason and not reason.strip():
        raise PlanError("请填写原因。", code="reason_required")
    _claim(plan, expected_version)
    moved = PlanNeed.objects.filter(pk=need.pk, status=need.status).update(status=to_status)
    if moved != 1:
        raise StalePlan()
    _event(
        plan,
        kind=PlanEvent.Kind.NEED_MOVED,
        actor=actor,
        from_status=need.status,
        to_status=to_status,
        reason=reason.strip() or need.description[:60],
    )
    need.status = to_status
    return need


def plan_need_meet(*, need: PlanNeed, actor: User, expected_version: int) -> PlanNeed:
    """Mark a need as met."""
    return plan_need_transition(
        need=need, to_status=PlanNeed.Status.MET, actor=actor, expected_version=expected_version
    )


@transaction.atomic
def plan_action_add(
    *,
    plan: ServicePlan,
    actor: User,
    expected_version: int,
    title: str,
    due_on: date,
    need: PlanNeed | None = None,
) -> PlanAction:
    _require_plan_access(plan, actor)
    if need is not None and need.plan_id != plan.pk:
        raise PlanError("所选需求不属于该计划。", code="need")
    if not title.strip():
        raise PlanError("请填写事项。", code="title")
    _claim(plan, expected_version)
    return PlanAction.objects.create(plan=plan, need=need, title=title.strip(), due_on=due_on)


@transaction.atomic
def plan_action_complete(*, action: PlanAction, actor: User, expected_version: int) -> PlanAction:
    """Mark an open action done; an action already done is refused."""
    plan = action.plan
    _require_plan_access(plan, actor)
    _claim(plan, expected_version)
    now = timezone.now()
    done = PlanAction.objects.filter(pk=action.pk, done_at__isnull=True).update(
        done_at=now, done_by=actor
    )
    if done == 0:
        raise StalePlan()
    action.done_at = now
    action.done_by = actor
    _event(plan, kind=PlanEvent.Kind.ACTION_DONE, actor=actor, reason=action.title)
    return action


@transaction.atomic
def plan_followup_add(
    *, plan: ServicePlan, actor: User, expected_version: int, happened_on: date, note: str
) -> PlanFollowUp:
    _require_plan_access(plan, actor)
    if not note.strip():
        raise PlanError("请填写跟进情况。", code="note")
    if happened_on > timezone.localdate():
        raise PlanError("跟进日期不能晚于今天。", code="happened_on")
    _claim(plan, expected_version)
    return PlanFollowUp.objects.create(
        plan=plan, author=actor, happened_on=happened_on, note=note.strip()
    )


def may_reassign(user: User) -> bool:
    """City and province staff (and administrators) may hand a plan to someone else."""
    if user.sees_everything:
        return True
    return (
        user.is_centre_staff
        and user.centre is not None
        and user.centre.region.level in (Region.Level.CITY, Region.Level.PROVINCE)
    )


@transaction.atomic
def plan_reassign(
    *, plan: ServicePlan, owner: User, actor: User, expected_version: int
) -> ServicePlan:
    """Give the plan to `owner`: a staff member whose centre lies in the actor's jurisdiction
    and covers the worker's county (so the new owner can see the plan)."""
    _require_plan_access(plan, actor)
    if not may_reassign(actor):
        raise NotPermitted("只有市级、省级服务中心可以转交计划。")
    if not owner_candidates(plan=plan, user=actor).filter(pk=owner.pk).exists():
        raise PlanError("所选负责人不在您的辖区内，或无法负责该科技工作者。", code="owner")
    before = plan.owner.display_name if plan.owner else "—"
    _claim(plan, expected_version, owner=owner, centre=owner.centre)
    _event(
        plan,
        kind=PlanEvent.Kind.REASSIGNED,
        actor=actor,
        reason=f"{before} → {owner.display_name}",
    )
    _notify_owner(plan, reassigned=True)
    return plan
