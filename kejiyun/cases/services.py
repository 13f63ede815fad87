"""Writes for 一单一策 cases.

Every change to a case goes through one of these functions. Each one:
- refuses what the transition table (`transitions.py`) or the case's state does not allow,
  raising `CaseError` with a Chinese message and writing nothing;
- when the caller says which version of the case it saw (`expected_version`), refuses a stale
  edit with `StaleCase` (the view answers 409) — the version moves with a conditional UPDATE,
  so two people editing one case cannot overwrite each other;
- writes one immutable `CaseEvent` (actor, from, to, when, why) for the timeline;
- queues notifications through the transactional outbox, so a rolled-back change sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.cases.models import (
    TERMINAL,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseNote,
    CaseVisit,
    DockingRequest,
    Outcome,
    Step,
)
from kejiyun.cases.transitions import CASE_MOVES, ENTERPRISE, STAFF
from kejiyun.common.errors import ServiceError, Stale
from kejiyun.common.uploads import JPEG, MIB, OFFICE_ZIP, PDF, PNG, upload_check
from kejiyun.common.versioning import claim_version
from kejiyun.demands.models import Demand
from kejiyun.demands.services import DemandError, demand_publish, demand_transition
from kejiyun.matchlog.services import DEMANDS, EXPERTS, index_change_record
from kejiyun.notifications.models import Channel
from kejiyun.notifications.services import outbox_enqueue
from kejiyun.regions.models import ServiceCentre
from kejiyun.regions.selectors import centre_serving, region_in_jurisdiction
from kejiyun.talent.models import TalentProfile

MAX_ATTACHMENT_BYTES = 10 * MIB
ATTACHMENT_TYPES = (PDF, PNG, JPEG, OFFICE_ZIP)


class CaseError(ServiceError):
    """A move or edit the case's state does not allow; nothing was written."""


class StaleCase(Stale, CaseError):
    """Someone changed the case after this page was loaded."""

    message_text = "该案例已被他人修改，请刷新页面后再操作。"


@dataclass(frozen=True)
class OutcomeInput:
    solved: bool
    contract_number: str = ""
    contract_amount: Decimal | None = None
    evidence: UploadedFile | None = None
    reason: str = ""


# --- helpers -----------------------------------------------------------------------------


def step_due_at(step: str, start: datetime) -> datetime | None:
    """When a step begun at `start` falls due; terminal steps have no due time."""
    if step in TERMINAL:
        return None
    hours = settings.CASE_STEP_DUE_HOURS[step]
    return start + timedelta(hours=hours)


def _case_url(case: Case) -> str:
    return reverse("cases:detail", args=[case.pk])


def _event(
    case: Case,
    *,
    kind: str,
    actor: User | None,
    from_step: str = "",
    to_step: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=kind,
        from_step=from_step,
        to_step=to_step,
        reason=reason,
        created_at=now or timezone.now(),
    )


def _notify(user: User | None, *, title: str, body: str, url: str, key: str) -> None:
    """In-app message, plus an SMS when the user has a mobile number."""
    if user is None:
        return
    outbox_enqueue(
        channel=Channel.IN_APP,
        recipient=user,
        title=title,
        body=body,
        url=url,
        idempotency_key=f"{key}:inapp",
    )
    if user.mobile:
        outbox_enqueue(
            channel=Channel.SMS,
            recipient=user,
            address=user.mobile,
            title=title,
            body=body,
            idempotency_key=f"{key}:sms",
        )


def _enterprise_users(case: Case) -> list[User]:
    demand = case.demand
    if demand.created_by_id is not None and demand.created_by.role == Role.ENTERPRISE:  # type: ignore[union-attr]
        return [demand.created_by]  # type: ignore[list-item]
    return list(
        User.objects.filter(
            organisation_id=demand.organisation_id, role=Role.ENTERPRISE, is_active=True
        ).order_by("id")[:3]
    )


def least_loaded_staff(centre: ServiceCentre) -> User | None:
    """The active staff member of `centre` with the fewest open cases (ties: lowest id)."""
    return (
        User.objects.filter(centre=centre, role=Role.STAFF, is_active=True)
        .annotate(open_cases=Count("owned_cases", filter=~Q(owned_cases__step__in=list(TERMINAL))))
        .order_by("open_cases", "id")
        .first()
    )


def may_act(user: User, case: Case) -> bool:
    """Staff may act on a case their jurisdiction holds the handling centre of.

    County staff lose the right to act (but may still read) once their case has escalated
    to the city; city and province staff act on everything handled below them.
    """
    return region_in_jurisdiction(user, case.centre.region)


def _require_staff_actor(user: User, case: Case) -> None:
    if not may_act(user, case):
        raise CaseError("该案例已由上级中心承办，您只能查看。", code="not_handler")


def _require_enterprise_actor(user: User, case: Case) -> None:
    if user.role != Role.ENTERPRISE or user.organisation_id != case.demand.organisation_id:
        raise CaseError("这一步只能由需求企业确认。", code="enterprise_only")


def _require_open(case: Case) -> None:
    if case.step in TERMINAL:
        raise CaseError("该案例已结束，不能再修改。", code="closed")


# --- opening and owning ---------------------------------------------------------------------


def case_open(*, demand: Demand, actor: User | None, now: datetime | None = None) -> Case:
    """Open the case of an accepted demand, routed to the county centre of the enterprise.

    The owner is the accepting staff member when they work at that centre, otherwise the
    centre's least-loaded staff member. Idempotent: a demand has at most one case.
    """
    now = now or timezone.now()
    existing = Case.objects.filter(demand=demand).first()
    if existing is not None:
        return existing
    centre = centre_serving(demand.region)
    if centre is None:
        raise CaseError("该需求所在区县没有服务中心，无法立案。", code="no_centre")
    owner = actor if actor is not None and actor.centre_id == centre.pk else None
    if owner is None:
        owner = least_loaded_staff(centre)
    with transaction.atomic():
        case = Case.objects.create(
            demand=demand,
            region=centre.region,
            centre=centre,
            owner=owner,
            step=Step.INTAKE,
            step_started_at=now,
            due_at=step_due_at(Step.INTAKE, now),
            opened_at=now,
        )
        _event(case, kind=CaseEvent.Kind.OPENED, actor=actor, to_step=Step.INTAKE, now=now)
        if owner is not None and owner != actor:
            _notify(
                owner,
                title="新的服务案例",
                body=f"需求《{demand.title}》已受理立案，由您负责办理。",
                url=_case_url(case),
                key=f"case-owner:{case.pk}:{case.version}",
            )
    return case


def case_open_from_demand(*, demand: Demand, actor: User) -> Case:
    """Staff accept a submitted demand: it is published and its case opened, routed to the
    enterprise's county centre with an owner, both or neither. This is the one place that
    ties the two together; ending the case closes the demand (`case_transition`)."""
    with transaction.atomic():
        try:
            demand_publish(demand=demand, actor=actor)
        except DemandError as error:
            raise CaseError(error.messages[0], code="demand_state") from error
        # Leaving the block with a CaseError rolls the acceptance back as well.
        return case_open(demand=demand, actor=actor)


def case_assign(
    *, case: Case, owner: User, actor: User, expected_version: int | None = None
) -> Case:
    """Give the case to another staff member of a centre the actor's jurisdiction holds."""
    _require_staff_actor(actor, case)
    _require_open(case)
    if owner.role != Role.STAFF or owner.centre_id is None or not owner.is_active:
        raise CaseError("只能指派给服务中心工作人员。", code="owner_not_staff")
    if not region_in_jurisdiction(actor, owner.centre.region):  # type: ignore[union-attr]
        raise CaseError("只能指派给本辖区的工作人员。", code="owner_outside")
    # The new owner must be able to see the case: their centre's region holds its county.
    if not owner.centre.region.contains(case.region):  # type: ignore[union-attr]
        raise CaseError(
            "只能转交给该案例所在区县、所属市或省级服务中心的工作人员。", code="owner_cannot_see"
        )
    if owner.pk == case.owner_id and owner.centre_id == case.centre_id:
        raise CaseError("该案例已由此人负责。", code="same_owner")
    with transaction.atomic():
        claim_version(case, expected_version, stale=StaleCase, owner=owner, centre=owner.centre)
        _event(
            case,
            kind=CaseEvent.Kind.ASSIGNED,
            actor=actor,
            reason=f"转交 {owner.display_name}（{owner.centre}）",
        )
        audit_record(
            action=AuditAction.CASE_ASSIGN,
            user=actor,
            object_type="case",
            object_id=str(case.pk),
            detail={"owner": owner.pk, "centre": owner.centre_id},
        )
        _notify(
            owner,
            title="案例转交给您",
            body=f"案例《{case.demand.title}》已转交给您办理。",
            url=_case_url(case),
            key=f"case-owner:{case.pk}:{case.version}",
        )
    return case


def cases_reassign(*, case_ids: list[int], owner: User, actor: User) -> int:
    """Bulk reassignment (city and province staff): every case or none. Returns how many
    changed hands (cases the owner already has are left as they are)."""
    if not actor.sees_everything and (
        actor.centre is None or actor.centre.region.level == "county"
    ):
        raise CaseError("只有市级、省级服务中心可以批量转交。", code="bulk_not_allowed")
    from kejiyun.cases.selectors import cases_for_staff  # read helper, no cycle at import

    cases = list(
        cases_for_staff(user=actor)
        .filter(pk__in=case_ids)
        .select_related("centre__region", "region")
    )
    if len(cases) != len(set(case_ids)):
        raise CaseError("所选案例中有不存在或不在您辖区内的案例。", code="bulk_outside")
    moved = 0
    with transaction.atomic():
        for case in cases:
            if case.owner_id == owner.pk or case.step in TERMINAL:
                continue
            case_assign(case=case, owner=owner, actor=actor)
            moved += 1
    return moved


# --- moving through the steps ----------------------------------------------------------------


def case_transition(
    *,
    case: Case,
    to_step: str,
    actor: User,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Move a case to `to_step` if the transition table allows it for this actor."""
    return _case_move(
        case=case,
        to_step=to_step,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
        now=now or timezone.now(),
    )


def _case_move(
    *,
    case: Case,
    to_step: str,
    actor: User,
    reason: str,
    expected_version: int | None,
    now: datetime,
    changes: dict[str, object] | None = None,
    event_kind: str = CaseEvent.Kind.TRANSITION,
    event_reason: str = "",
) -> Case:
    """The one write of a case's step: the move must be in `CASE_MOVES` for this actor, the
    version claimed, `changes` written with the step, and one event row added (of
    `event_kind`, with `event_reason` or else the reason). Refused moves change nothing."""
    reason = reason.strip()
    changes = changes or {}
    move = CASE_MOVES.find(case.step, to_step)
    if move is None:
        target = Step(to_step).label if to_step in Step.values else to_step
        raise CaseError(
            f"不能从“{Step(case.step).label}”转到“{target}”。", code="illegal_transition"
        )
    if move.by == STAFF:
        _require_staff_actor(actor, case)
    else:
        _require_enterprise_actor(actor, case)
    if move.needs_reason and not reason:
        raise CaseError("请填写原因。", code="reason_required")
    outcome = changes.get("outcome", case.outcome)
    if to_step == Step.ACCEPTANCE and outcome == Outcome.NONE:
        raise CaseError("请先登记办理结果再提交验收。", code="outcome_required")
    if to_step == Step.CLOSED and outcome == Outcome.NONE:
        raise CaseError("案例须有办理结果才能结案。", code="outcome_required")
    fields: dict[str, object] = {
        **changes,
        "step": to_step,
        "step_started_at": now,
        "due_at": step_due_at(to_step, now),
        "paused_at": None,
        "pause_reason": "",
    }
    if to_step in TERMINAL:
        fields["closed_at"] = now
    if to_step == Step.UNSOLVABLE:
        fields["outcome"] = Outcome.NOT_SOLVED
        fields["outcome_reason"] = reason
    from_step = case.step
    with transaction.atomic():
        claim_version(case, expected_version, stale=StaleCase, **fields)
        _event(
            case,
            kind=event_kind,
            actor=actor,
            from_step=from_step,
            to_step=to_step,
            reason=event_reason or reason,
            now=now,
        )
        if to_step in TERMINAL:
            # Load and track record of the experts who took the case on have changed.
            index_change_record(
                kind=EXPERTS,
                object_ids=case.dockings.filter(status=DockingRequest.Status.ACCEPTED)
                .values_list("expert_id", flat=True)
                .order_by("expert_id"),
            )
            index_change_record(kind=DEMANDS, object_ids=[case.demand_id])
            # The demand follows its case through its own transition table.
            try:
                demand_transition(
                    demand=case.demand,
                    to_status=Demand.Status.WITHDRAWN
                    if to_step == Step.WITHDRAWN
                    else Demand.Status.CLOSED,
                    actor=actor,
                    reason=f"服务案例：{Step(to_step).label}",
                )
            except DemandError as exc:
                raise CaseError(exc.messages[0], code="demand_state") from exc
        if move.by == ENTERPRISE and case.owner is not None:
            _notify(
                case.owner,
                title="企业已确认结果" if to_step == Step.CLOSED else "企业对结果有异议",
                body=f"案例《{case.demand.title}》：{Step(to_step).label}。{reason}",
                url=_case_url(case),
                key=f"case-step:{case.pk}:{case.version}",
            )
    return case


def case_outcome_record(
    *,
    case: Case,
    outcome: OutcomeInput,
    actor: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Record the outcome at the end of delivery and send the case to acceptance.

    Solved needs evidence: a contract number, the amount and an attachment. Not solved needs a
    reason. The enterprise is then asked to confirm it and rate the service.
    """
    now = now or timezone.now()
    _require_staff_actor(actor, case)
    if case.step != Step.DELIVERY:
        raise CaseError("只有“实施”环节可以登记办理结果。", code="wrong_step")
    fields: dict[str, object]
    if outcome.solved:
        number = outcome.contract_number.strip()
        if not number:
            raise CaseError("已解决的案例须填写合同编号。", code="contract_required")
        if outcome.contract_amount is None or outcome.contract_amount <= 0:
            raise CaseError("请填写大于零的合同金额（万元）。", code="amount_required")
        if outcome.evidence is None:
            raise CaseError("请上传合同或验收材料作为佐证。", code="evidence_required")
        check_upload(outcome.evidence)
        fields = {
            "outcome": Outcome.SOLVED,
            "contract_number": number[:64],
            "contract_amount": outcome.contract_amount,
            "outcome_reason": "",
        }
    else:
        reason = outcome.reason.strip()
        if not reason:
            raise CaseError("未解决的案例须说明原因。", code="reason_required")
        fields = {"outcome": Outcome.NOT_SOLVED, "outcome_reason": reason}
    fields["outcome_recorded_at"] = now
    label = Outcome(str(fields["outcome"])).label
    detail = (
        f"{label}：合同 {fields['contract_number']}，{fields['contract_amount']} 万元"
        if outcome.solved
        else f"{label}：{fields['outcome_reason']}"
    )
    with transaction.atomic():
        # Recording the outcome is the move delivery → acceptance, through the table.
        _case_move(
            case=case,
            to_step=Step.ACCEPTANCE,
            actor=actor,
            reason="",
            expected_version=expected_version,
            now=now,
            changes=fields,
            event_kind=CaseEvent.Kind.OUTCOME,
            event_reason=detail,
        )
        if outcome.solved and outcome.evidence is not None:
            case.evidence.save(outcome.evidence.name or "evidence", outcome.evidence, save=False)
            Case.objects.filter(pk=case.pk).update(evidence=case.evidence.name)
        for user in _enterprise_users(case):
            _notify(
                user,
                title="请确认服务结果并评价",
                body=f"您的需求《{case.demand.title}》已登记办理结果，请确认并评价。",
                url=reverse("cases:enterprise_detail", args=[case.pk]),
                key=f"case-confirm:{case.pk}:{case.version}:{user.pk}",
            )
    return case


def case_confirm(
    *,
    case: Case,
    actor: User,
    rating: int,
    comment: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """The enterprise confirms the recorded outcome and rates the service (1-5): case closed."""
    now = now or timezone.now()
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise CaseError("请给出 1 到 5 分的评分。", code="rating_range")
    if case.step != Step.ACCEPTANCE:
        raise CaseError("该案例不在待确认状态。", code="wrong_step")
    _require_enterprise_actor(actor, case)
    with transaction.atomic():
        claim_version(
            case,
            expected_version,
            stale=StaleCase,
            rating=rating,
            rating_comment=comment.strip()[:1000],
            confirmed_at=now,
        )
        _event(
            case,
            kind=CaseEvent.Kind.CONFIRMED,
            actor=actor,
            reason=f"评分 {rating}/5。{comment.strip()[:200]}",
            now=now,
        )
        case_transition(case=case, to_step=Step.CLOSED, actor=actor, now=now)
    return case


def case_dispute(
    *,
    case: Case,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """The enterprise does not accept the outcome: back to delivery, the outcome cleared."""
    reason = reason.strip()
    if not reason:
        raise CaseError("请说明对结果的异议。", code="reason_required")
    if case.step != Step.ACCEPTANCE:
        raise CaseError("该案例不在待确认状态。", code="wrong_step")
    _require_enterprise_actor(actor, case)
    with transaction.atomic():
        _event(case, kind=CaseEvent.Kind.DISPUTED, actor=actor, reason=reason, now=now)
        claim_version(
            case,
            expected_version,
            stale=StaleCase,
            outcome=Outcome.NONE,
            outcome_reason="",
            contract_number="",
            contract_amount=None,
            evidence="",
            outcome_recorded_at=None,
        )
        case_transition(case=case, to_step=Step.DELIVERY, actor=actor, reason=reason, now=now)
    return case


# --- the clock: pause, resume, escalate ---------------------------------------------------------


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
    _require_staff_actor(actor, case)
    _require_open(case)
    reason = reason.strip()
    if not reason:
        raise CaseError("请说明在等待企业什么。", code="reason_required")
    if case.paused_at is not None:
        raise CaseError("该案例已在暂停计时中。", code="already_paused")
    with transaction.atomic():
        claim_version(
            case, expected_version, stale=StaleCase, paused_at=now, pause_reason=reason[:200]
        )
        _event(case, kind=CaseEvent.Kind.PAUSED, actor=actor, reason=reason, now=now)
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
    _require_staff_actor(actor, case)
    _require_open(case)
    if case.paused_at is None:
        raise CaseError("该案例没有暂停计时。", code="not_paused")
    paused_for = now - case.paused_at
    due_at = case.due_at + paused_for if case.due_at is not None else None
    with transaction.atomic():
        claim_version(
            case, expected_version, stale=StaleCase, paused_at=None, pause_reason="", due_at=due_at
        )
        _event(
            case,
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
    case and is notified. Returns False (and writes nothing) when the case is not overdue,
    is paused, is already at the province, or someone else changed it first.
    """
    now = now or timezone.now()
    if not case.is_overdue(now):
        return False
    parent_region_id = case.centre.region.parent_id
    if parent_region_id is None:
        return False
    parent = ServiceCentre.objects.filter(region_id=parent_region_id).select_related("region")
    centre = parent.first()
    if centre is None:
        return False
    owner = least_loaded_staff(centre)
    from_centre = case.centre
    try:
        with transaction.atomic():
            claim_version(
                case,
                case.version,
                stale=StaleCase,
                centre=centre,
                owner=owner,
                due_at=step_due_at(case.step, now),
                step_started_at=now,
                escalations=case.escalations + 1,
                escalated_at=now,
            )
            _event(
                case,
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
                _notify(
                    user,
                    title="超时案例升级",
                    body=f"案例《{case.demand.title}》在{from_centre}超时，已升级由您办理。",
                    url=_case_url(case),
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


# --- the record: notes, visits, attachments ---------------------------------------------------


def check_upload(upload: UploadedFile) -> str:
    """Refuse files that are too big or not a PDF, image or Office document (by content)."""
    kind = upload_check(
        upload,
        allowed=ATTACHMENT_TYPES,
        max_bytes=MAX_ATTACHMENT_BYTES,
        too_big="附件不能超过 10 MB。",
        bad_type="只能上传 PDF、图片（PNG/JPEG）或 Office 文档。",
        error=CaseError,
    )
    return kind.name


def case_note_add(*, case: Case, actor: User, body: str) -> CaseNote:
    body = body.strip()
    if not body:
        raise CaseError("备注不能为空。", code="empty")
    _require_staff_actor(actor, case)
    with transaction.atomic():
        note = CaseNote.objects.create(case=case, author=actor, body=body[:5000])
        _event(case, kind=CaseEvent.Kind.NOTE, actor=actor, reason=body[:200])
    return note


def case_visit_add(
    *, case: Case, actor: User, visited_on: date, place: str, people: str, outcome: str
) -> CaseVisit:
    _require_staff_actor(actor, case)
    if not place.strip() or not people.strip() or not outcome.strip():
        raise CaseError("请填写走访地点、参加人员和走访结果。", code="incomplete")
    with transaction.atomic():
        visit = CaseVisit.objects.create(
            case=case,
            author=actor,
            visited_on=visited_on,
            place=place.strip()[:120],
            people=people.strip()[:200],
            outcome=outcome.strip(),
        )
        _event(
            case,
            kind=CaseEvent.Kind.VISIT,
            actor=actor,
            reason=f"{visited_on} 走访 {visit.place}：{visit.outcome[:120]}",
        )
    return visit


def case_attachment_add(
    *, case: Case, actor: User, upload: UploadedFile, name: str = ""
) -> CaseAttachment:
    _require_staff_actor(actor, case)
    check_upload(upload)
    label = (name.strip() or upload.name or "附件")[:120]
    with transaction.atomic():
        attachment = CaseAttachment(case=case, uploaded_by=actor, name=label)
        attachment.file.save(upload.name or "attachment", upload, save=False)
        attachment.save()
        _event(case, kind=CaseEvent.Kind.ATTACHMENT, actor=actor, reason=label)
    return attachment


# --- docking: staff send a matched expert a request -------------------------------------


def docking_send(
    *,
    case: Case,
    expert: TalentProfile,
    actor: User,
    message: str = "",
    now: datetime | None = None,
) -> DockingRequest:
    """Send a matched S&T worker a docking request (对接请求).

    Allowed while matching or docking; a case still in matching moves to docking. The expert
    is notified. Sending twice to one expert is refused.
    """
    _require_staff_actor(actor, case)
    if case.step not in (Step.MATCHING, Step.DOCKING):
        raise CaseError("只有“匹配”或“对接”环节可以发送对接请求。", code="wrong_step")
    if expert.user.role != Role.WORKER or not expert.user.is_active:
        raise CaseError("只能向在册的科技工作者发送对接请求。", code="not_a_worker")
    employer = expert.employer.strip()
    if employer and employer == case.demand.organisation.name.strip():
        # The same rule the matching engine flags (kejiyun_match: same organisation).
        raise CaseError("该专家与需求企业为同一单位，存在利益冲突。", code="conflict")
    if DockingRequest.objects.filter(case=case, expert=expert).exists():
        raise CaseError("已向这位专家发送过对接请求。", code="already_sent")
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: a double click loses the race cleanly
                docking = DockingRequest.objects.create(
                    case=case,
                    expert=expert,
                    sent_by=actor,
                    message=message.strip()[:1000],
                    created_at=now or timezone.now(),
                )
        except IntegrityError:
            raise CaseError("已向这位专家发送过对接请求。", code="already_sent") from None
        _event(
            case,
            kind=CaseEvent.Kind.DOCKING,
            actor=actor,
            reason=f"向 {expert.user.display_name}（{expert.employer or '未填单位'}）发送对接请求",
            now=now,
        )
        if case.step == Step.MATCHING:
            case_transition(case=case, to_step=Step.DOCKING, actor=actor, now=now)
        _notify(
            expert.user,
            title="新的对接请求",
            body=f"服务中心邀请您对接需求《{case.demand.title}》。",
            url=reverse("cases:docking_reply", args=[docking.pk]),
            key=f"docking:{docking.pk}",
        )
    return docking


def docking_respond(
    *,
    docking: DockingRequest,
    actor: User,
    accept: bool,
    reason: str = "",
    now: datetime | None = None,
) -> DockingRequest:
    """The expert accepts or declines (a decline needs a reason, used to rank them lower)."""
    if docking.expert.user_id != actor.pk:
        raise CaseError("只能答复发给您本人的对接请求。", code="not_yours")
    if docking.status != DockingRequest.Status.SENT:
        raise CaseError("该请求已经答复过了。", code="answered")
    if docking.case.step in TERMINAL:
        raise CaseError("该案例已经结束，无需再答复。", code="case_closed")
    reason = reason.strip()
    if not accept and not reason:
        raise CaseError("婉拒时请说明原因。", code="reason_required")
    status = DockingRequest.Status.ACCEPTED if accept else DockingRequest.Status.DECLINED
    now = now or timezone.now()
    with transaction.atomic():
        claimed = DockingRequest.objects.filter(
            pk=docking.pk, status=DockingRequest.Status.SENT
        ).update(status=status, decline_reason=reason[:200], responded_at=now)
        if claimed != 1:
            raise CaseError("该请求已经答复过了。", code="answered")
        docking.status, docking.decline_reason, docking.responded_at = status, reason, now
        # The expert's load and feedback changed: the match index follows.
        index_change_record(kind=EXPERTS, object_ids=[docking.expert_id])
        case = docking.case
        verb = "接受" if accept else "婉拒"
        _event(
            case,
            kind=CaseEvent.Kind.DOCKING_REPLY,
            actor=actor,
            reason=f"{actor.display_name}{verb}了对接请求" + (f"：{reason}" if reason else ""),
            now=now,
        )
        if case.owner is not None:
            _notify(
                case.owner,
                title="专家已答复对接请求",
                body=f"{actor.display_name}{verb}了案例《{case.demand.title}》的对接请求。",
                url=_case_url(case),
                key=f"docking-reply:{docking.pk}",
            )
    return docking
