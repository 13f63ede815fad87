"""Writes of the 一单一策 workflow: opening and owning a case, moving it through its steps,
the outcome and the enterprise's confirmation or dispute, and the record (notes, visits,
attachments). The clock (due times, pause, escalation) is in `cases.clock`, dockings in
`cases.dockings`.

Every change to a case goes through one of these functions (or the clock's or dockings').
Each one:
- refuses what the transition table (`transitions.py`) or the case's state does not allow,
  raising `CaseError` with a Chinese message and writing nothing;
- when the caller says which version of the case it saw (`expected_version`), refuses a stale
  edit with `StaleCase` (the view answers 409) — the version moves with a conditional UPDATE,
  so two people editing one case cannot overwrite each other;
- writes one immutable `CaseEvent` (actor, from, to, when, why) for the timeline;
- queues notifications through the transactional outbox, so a rolled-back change sends nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.cases.clock.services import step_due_at
from kejiyun.cases.errors import CaseError, StaleCase
from kejiyun.cases.events import case_event_add
from kejiyun.cases.models import (
    AWAITING_STAFF,
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
from kejiyun.cases.notices import case_url, notice_send
from kejiyun.cases.rules import (
    require_agreement_basis,
    require_enterprise_actor,
    require_open,
    require_staff_actor,
    staffed_centre,
)
from kejiyun.cases.workflow.selectors import cases_for_staff, library_eligible
from kejiyun.cases.workflow.transitions import CASE_MOVES, ENTERPRISE, STAFF
from kejiyun.common.errors import NotPermitted, Stale
from kejiyun.common.files import private_storage, random_name
from kejiyun.common.signals import CASE_CLOSED, domain_event
from kejiyun.common.uploads import JPEG, MIB, OFFICE, PDF, PNG, FileType, upload_check
from kejiyun.common.versioning import claim_version
from kejiyun.demands.models import Demand
from kejiyun.demands.services import DemandError, demand_publish, demand_transition
from kejiyun.matchlog.services import DEMANDS, EXPERTS, index_change_record
from kejiyun.regions.selectors import centre_serving, region_in_jurisdiction

MAX_ATTACHMENT_BYTES = 10 * MIB
ATTACHMENT_TYPES = (PDF, PNG, JPEG, *OFFICE)


@dataclass(frozen=True)
class OutcomeInput:
    solved: bool
    contract_number: str = ""
    contract_amount: Decimal | None = None
    evidence: UploadedFile | None = None
    reason: str = ""


def _enterprise_users(case: Case) -> list[User]:
    demand = case.demand
    if demand.created_by_id is not None and demand.created_by.role == Role.ENTERPRISE:  # type: ignore[union-attr]
        return [demand.created_by]  # type: ignore[list-item]
    return list(
        User.objects.filter(
            organisation_id=demand.organisation_id, role=Role.ENTERPRISE, is_active=True
        ).order_by("id")[:3]
    )


# --- opening and owning ---------------------------------------------------------------------


def case_open(*, demand: Demand, actor: User | None, now: datetime | None = None) -> Case:
    """Open the case of an accepted demand, routed to the county centre of the enterprise.

    The owner is the accepting staff member when they work at that centre, otherwise the
    centre's least-loaded staff member. A county centre without staff does not keep the
    case: it goes to the nearest centre above with staff (city, then province) and its
    least-loaded staff member (`staffed_centre`). Idempotent: a demand has at most one case.
    """
    now = now or timezone.now()
    existing = Case.objects.filter(demand=demand).first()
    if existing is not None:
        return existing
    serving = centre_serving(demand.region)
    if serving is None:
        raise CaseError("该需求所在区县没有服务中心，无法立案。", code="no_centre")
    centre, owner = staffed_centre(serving)
    if actor is not None and actor.centre_id == centre.pk and actor.is_active:
        owner = actor
    due_at = step_due_at(Step.INTAKE, now)
    with transaction.atomic():
        case = Case.objects.create(
            demand=demand,
            region=serving.region,
            centre=centre,
            owner=owner,
            step=Step.INTAKE,
            step_started_at=now,
            due_at=due_at,
            opened_at=now,
        )
        case_event_add(
            case=case,
            kind=CaseEvent.Kind.OPENED,
            actor=actor,
            to_step=Step.INTAKE,
            reason=f"{serving}暂无工作人员，由{centre}承办" if centre != serving else "",
            now=now,
        )
        if owner is not None and owner != actor:
            notice_send(
                user=owner,
                title="新的服务案例",
                body=f"需求《{demand.title}》已受理立案，由您负责办理。",
                url=case_url(case),
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
        except Stale as error:
            raise StaleCase(error.messages[0]) from error
        except DemandError as error:
            raise CaseError(error.messages[0], code="demand_state") from error
        # Leaving the block with a CaseError rolls the acceptance back as well.
        return case_open(demand=demand, actor=actor)


def case_assign(
    *, case: Case, owner: User, actor: User, expected_version: int | None = None
) -> Case:
    """Give the case to another staff member of a centre the actor's jurisdiction holds."""
    require_staff_actor(actor, case)
    require_open(case)
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
        case_event_add(
            case=case,
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
        notice_send(
            user=owner,
            title="案例转交给您",
            body=f"案例《{case.demand.title}》已转交给您办理。",
            url=case_url(case),
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
        require_staff_actor(actor, case)
    else:
        require_enterprise_actor(actor, case)
    if move.needs_reason and not reason:
        raise CaseError("请填写原因。", code="reason_required")
    if to_step == Step.AGREEMENT:
        require_agreement_basis(case, reason)
    outcome = changes.get("outcome", case.outcome)
    if to_step == Step.ACCEPTANCE and outcome == Outcome.NONE:
        raise CaseError("请先登记办理结果再提交验收。", code="outcome_required")
    if to_step == Step.CLOSED and outcome == Outcome.NONE:
        raise CaseError("案例须有办理结果才能结案。", code="outcome_required")
    fields: dict[str, Any] = {
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
        case_event_add(
            case=case,
            kind=event_kind,
            actor=actor,
            from_step=from_step,
            to_step=to_step,
            reason=event_reason or reason,
            now=now,
        )
        audit_record(
            action=AuditAction.CASE_TRANSITION,
            user=actor,
            object_type="case",
            object_id=str(case.pk),
            detail={"from": from_step, "to": to_step},
        )
        if to_step == Step.AGREEMENT or to_step in TERMINAL:
            _dockings_close(case=case, to_step=to_step, now=now)
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
        if to_step == Step.CLOSED:
            domain_event.send(sender=Case, name=CASE_CLOSED, instance=case)
        if move.by == ENTERPRISE and case.owner is not None:
            notice_send(
                user=case.owner,
                title="企业已确认结果" if to_step == Step.CLOSED else "企业对结果有异议",
                body=f"案例《{case.demand.title}》：{Step(to_step).label}。{reason}",
                url=case_url(case),
                key=f"case-step:{case.pk}:{case.version}",
            )
    return case


def _dockings_close(*, case: Case, to_step: str, now: datetime) -> None:
    """Close a case's open docking requests (随案结束) when it enters agreement (it has its
    expert) or ends: the requests no expert answered and the applications and enterprise
    requests staff did not decide. Experts who were asked or applied are told; on an ending,
    so are those who took the case on. An enterprise's request that staff never sent was
    never shown to the expert, so it closes silently."""
    S = DockingRequest.Status
    ending = to_step in TERMINAL
    told = list(
        case.dockings.filter(status__in=[S.SENT, S.APPLIED, *([S.ACCEPTED] if ending else [])])
        .select_related("expert__user")
        .order_by("id")
    )
    case.dockings.filter(status__in=[S.SENT, *AWAITING_STAFF]).update(
        status=S.CLOSED, responded_at=now
    )
    for docking in told:
        if not ending:
            title = "对接已结束"
            body = f"需求《{case.demand.title}》已确定合作专家，进入签约，您的对接无需再答复。"
        else:
            title = "对接的案例已结束"
            body = f"需求《{case.demand.title}》的服务案例已{Step(to_step).label}，" + (
                "您的对接请求随案结束，无需再答复。"
                if docking.status == S.SENT
                else "您的对接申请随案结束。"
                if docking.status == S.APPLIED
                else "感谢您的参与。"
            )
        notice_send(
            user=docking.expert.user,
            title=title,
            body=body,
            url=reverse("cases:dockings"),
            key=f"docking-{'ended' if ending else 'settled'}:{docking.pk}",
        )


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
    require_staff_actor(actor, case)
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
        evidence_kind = check_upload(outcome.evidence)
        evidence_digest = file_sha256(outcome.evidence)
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
        audit_record(
            action=AuditAction.CASE_OUTCOME,
            user=actor,
            object_type="case",
            object_id=str(case.pk),
            detail={"outcome": str(fields["outcome"]), "stage": "recorded"},
        )
        if outcome.solved and outcome.evidence is not None:
            # Private, under a random name with the extension its bytes proved.
            case.evidence.save(random_name(evidence_kind), outcome.evidence, save=False)
            case.evidence_name = (outcome.evidence.name or "")[:200]
            case.evidence_type = evidence_kind.content_type
            case.evidence_sha256 = evidence_digest
            Case.objects.filter(pk=case.pk).update(
                evidence=case.evidence.name,
                evidence_name=case.evidence_name,
                evidence_type=case.evidence_type,
                evidence_sha256=case.evidence_sha256,
            )
        for user in _enterprise_users(case):
            notice_send(
                user=user,
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
    require_enterprise_actor(actor, case)
    with transaction.atomic():
        claim_version(
            case,
            expected_version,
            stale=StaleCase,
            rating=rating,
            rating_comment=comment.strip()[:1000],
            confirmed_at=now,
        )
        case_event_add(
            case=case,
            kind=CaseEvent.Kind.CONFIRMED,
            actor=actor,
            reason=f"评分 {rating}/5。{comment.strip()[:200]}",
            now=now,
        )
        case_transition(case=case, to_step=Step.CLOSED, actor=actor, now=now)
        audit_record(
            action=AuditAction.CASE_OUTCOME,
            user=actor,
            object_type="case",
            object_id=str(case.pk),
            detail={"outcome": case.outcome, "stage": "confirmed", "rating": rating},
        )
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
    require_enterprise_actor(actor, case)
    old_evidence = case.evidence.name or ""
    with transaction.atomic():
        case_event_add(case=case, kind=CaseEvent.Kind.DISPUTED, actor=actor, reason=reason, now=now)
        claim_version(
            case,
            expected_version,
            stale=StaleCase,
            outcome=Outcome.NONE,
            outcome_reason="",
            contract_number="",
            contract_amount=None,
            evidence="",
            evidence_name="",
            evidence_type="",
            evidence_sha256="",
            outcome_recorded_at=None,
        )
        case_transition(case=case, to_step=Step.DELIVERY, actor=actor, reason=reason, now=now)
        if old_evidence:
            # The disputed outcome's evidence goes with it, once the dispute is committed.
            transaction.on_commit(lambda: private_storage().delete(old_evidence))
    return case


# --- the public case library (案例库) ---------------------------------------------------------


def case_library_consent(
    *, case: Case, actor: User, granted: bool, ip: str | None = None, now: datetime | None = None
) -> Case:
    """The enterprise grants (or withdraws) its consent to show its case in the public case
    library. Only an active user of the demand's organisation decides; only a case closed, solved
    and confirmed by the enterprise, of a demand that is not private, may enter. A timeline
    note and an audit row (consent given or withdrawn) record the decision."""
    now = now or timezone.now()
    if (
        actor.role != Role.ENTERPRISE
        or not actor.is_active
        or actor.organisation_id is None
        or actor.organisation_id != case.demand.organisation_id
    ):
        raise NotPermitted("只有需求企业可以决定案例是否入库展示。")
    # Withdrawing is always possible; granting only for a case that may enter.
    if granted and case.demand.confidentiality == Demand.Confidentiality.PRIVATE:
        raise CaseError("保密需求不能入库展示。", code="private")
    if granted and not library_eligible(case):
        raise CaseError("只有已办结、已解决并经企业确认的案例可以入库展示。", code="not_eligible")
    with transaction.atomic():
        # Claim the change: two clicks (or two users of the enterprise) decide once.
        claimed = Case.objects.filter(pk=case.pk, library_consent_at__isnull=granted).update(
            library_consent_at=now if granted else None
        )
        if not claimed:
            raise CaseError(
                "本案例已同意入库展示。" if granted else "本案例尚未同意入库展示。",
                code="unchanged",
            )
        case.library_consent_at = now if granted else None
        case_event_add(
            case=case,
            kind=CaseEvent.Kind.NOTE,
            actor=actor,
            reason="企业同意本案例在案例库公开展示。"
            if granted
            else "企业撤回案例库展示授权，本案例不再公开展示。",
            now=now,
        )
        audit_record(
            action=AuditAction.LIBRARY_CONSENT,
            user=actor,
            ip=ip,
            object_type="case",
            object_id=str(case.pk),
            detail={"granted": granted},
        )
    return case


# --- the record: notes, visits, attachments ---------------------------------------------------


def file_sha256(upload: UploadedFile) -> str:
    """SHA-256 of an upload's bytes (hex), read from the start; the file is left at its start
    for the save that follows. The same file behind several closures is a sign of hollow
    closures (`kejiyun/integrity/detectors/hollow.py`)."""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def check_upload(upload: UploadedFile) -> FileType:
    """The type of an attachment or evidence file, proved by parsing it
    (`kejiyun.common.uploads`); refuse one that is too big, is not a PDF, PNG/JPEG image or
    Office document (.docx/.xlsx/.pptx), carries markup, or is named as another type."""
    return upload_check(
        upload,
        allowed=ATTACHMENT_TYPES,
        max_bytes=MAX_ATTACHMENT_BYTES,
        too_big="附件不能超过 10 MB。",
        bad_type="只能上传 PDF、图片（PNG/JPEG）或 Office 文档（.docx/.xlsx/.pptx）。",
        error=CaseError,
    )


def case_note_add(*, case: Case, actor: User, body: str) -> CaseNote:
    body = body.strip()
    if not body:
        raise CaseError("备注不能为空。", code="empty")
    require_staff_actor(actor, case)
    with transaction.atomic():
        note = CaseNote.objects.create(case=case, author=actor, body=body[:5000])
        case_event_add(case=case, kind=CaseEvent.Kind.NOTE, actor=actor, reason=body[:200])
    return note


def case_visit_add(
    *, case: Case, actor: User, visited_on: date, place: str, people: str, outcome: str
) -> CaseVisit:
    require_staff_actor(actor, case)
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
        case_event_add(
            case=case,
            kind=CaseEvent.Kind.VISIT,
            actor=actor,
            reason=f"{visited_on} 走访 {visit.place}：{visit.outcome[:120]}",
        )
    return visit


def case_attachment_add(
    *, case: Case, actor: User, upload: UploadedFile, name: str = ""
) -> CaseAttachment:
    require_staff_actor(actor, case)
    kind = check_upload(upload)
    label = (name.strip() or upload.name or "附件")[:120]
    with transaction.atomic():
        attachment = CaseAttachment(
            case=case,
            uploaded_by=actor,
            name=label,
            original_name=(upload.name or "")[:200],
            content_type=kind.content_type,
        )
        # Private, under a random name with the extension its bytes proved.
        attachment.file.save(random_name(kind), upload, save=False)
        attachment.save()
        case_event_add(case=case, kind=CaseEvent.Kind.ATTACHMENT, actor=actor, reason=label)
    return attachment
