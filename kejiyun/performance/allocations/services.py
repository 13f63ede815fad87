"""Writes for fund allocations (资金分配): create and compute on a published scheme, change the
defaults or one centre's floor and cap while a draft, compute again, submit, return with a
reason, approve by a second person, and record exports.

Only province staff and administrators holding the scheme role (`performance.manage_scheme`)
write allocations; only holders of the approver role (`performance.approve_allocation`) who
neither created nor submitted the allocation approve it (anyone else: 403, and the refusal is
audited). Every write claims the version the page showed (a stale write: 409). An approved
allocation is frozen: every edit, computation or move is refused with 409. The lines freeze
the scores and breakdowns they were computed from, so the approval covers both.

Each step writes one AllocationEvent and one audit row in the same transaction.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.audit.services import audit_record
from kejiyun.common.errors import NotPermitted, ServiceError, Stale
from kejiyun.common.versioning import claim_version
from kejiyun.performance.allocation import AllocationInfeasible, Share, allocate, yuan
from kejiyun.performance.allocations.access import shaped_by
from kejiyun.performance.allocations.transitions import ALLOCATION_MOVES, APPROVER, MANAGER
from kejiyun.performance.models import Allocation, AllocationEvent, AllocationLine, Scheme
from kejiyun.performance.roles import has_approver_role, may_manage
from kejiyun.performance.schemes.selectors import Overrides, scheme_scores
from kejiyun.performance.scoring import CentreScore, SchemeError

S = Allocation.Status
MAX_NAME = 80
MAX_REASON = 500
# A budget above this (1 trillion yuan) is a typing error, not a budget.
MAX_FEN = 100_000_000_000_000


class AllocationError(ServiceError):
    """A refused allocation write; nothing was changed."""


class StaleAllocation(Stale, AllocationError):
    """The allocation changed since the page was read."""


class AllocationFrozen(Stale, AllocationError):
    """The allocation is approved (frozen) or waiting for approval: it cannot be changed."""

    message_text = "该资金分配已批准，已冻结，不能再修改。"


PENDING_LOCKED = "该资金分配正在审批中，不能修改；如需修改，请审批人先退回。"


def _require_manager(user: User) -> None:
    if not may_manage(user):
        raise NotPermitted("只有具有考核方案权限的省级工作人员或管理员可以编制资金分配。")


def _require_draft(allocation: Allocation) -> None:
    if allocation.status == S.APPROVED:
        raise AllocationFrozen()
    if allocation.status == S.PENDING:
        raise AllocationFrozen(PENDING_LOCKED)


def _check_amounts(*, budget_fen: int, base_fen: int, floor_fen: int, cap_fen: int | None) -> None:
    if budget_fen <= 0:
        raise AllocationError("预算须大于 0 元。")
    if budget_fen > MAX_FEN:
        raise AllocationError(f"预算不能超过 {yuan(MAX_FEN)} 元。")
    for label, value in (("基础额", base_fen), ("下限", floor_fen), ("上限", cap_fen)):
        if value is not None and not 0 <= value <= MAX_FEN:
            raise AllocationError(f"{label}须在 0 到 {yuan(MAX_FEN)} 元之间。")


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise AllocationError("请填写名称。")
    if len(name) > MAX_NAME:
        raise AllocationError(f"名称不能超过 {MAX_NAME} 个字。")
    return name


def _plain(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


def breakdown_json(score: CentreScore) -> dict[str, Any]:
    """A centre's score as stored in its line: Decimals as strings, exact."""
    return {
        "name": score.name,
        "code": score.code,
        "total": str(score.total),
        "rank": score.rank,
        "lines": [{k: _plain(v) for k, v in asdict(line).items()} for line in score.lines],
    }


def scores_for(scheme: Scheme, overrides: Overrides | None = None) -> list[CentreScore]:
    """The scheme's scores (SchemeError → AllocationError, in Chinese)."""
    try:
        return scheme_scores(scheme, overrides)
    except SchemeError as error:
        raise AllocationError(f"考核方案无法计分：{error}") from error


def split(
    *,
    scores: list[CentreScore],
    budget_fen: int,
    base_fen: int,
    floor_fen: int,
    cap_fen: int | None,
    bounds: dict[int, tuple[int, int | None]],
) -> list[tuple[CentreScore, Share, int, str]]:
    """Each centre's score, share, amount and bound under these defaults and the per-centre
    bounds (`bounds`: centre id → floor, cap). AllocationError with the allocator's reason,
    the centres named, when no split exists."""
    shares = []
    for s in scores:
        floor, cap = bounds.get(s.centre_id, (floor_fen, cap_fen))
        shares.append(
            Share(
                centre_id=s.centre_id,
                code=s.code,
                score=s.total,
                base_fen=base_fen,
                floor_fen=floor,
                cap_fen=cap,
            )
        )
    try:
        allotments = allocate(budget_fen, shares)
    except AllocationInfeasible as error:
        text = str(error)
        for s in scores:
            text = text.replace(f"服务中心 {s.code} ", f"{s.name}（{s.code}）")
        raise AllocationError(f"无法分配：{text}") from error
    return [
        (s, share, a.amount_fen, a.bound)
        for s, share, a in zip(scores, shares, allotments, strict=True)
    ]


def _overridden(allocation: Allocation) -> dict[int, tuple[int, int | None]]:
    return {
        line.centre_id: (line.floor_fen, line.cap_fen)
        for line in allocation.lines.filter(override=True)
    }


def _compute_lines(
    allocation: Allocation, bounds: dict[int, tuple[int, int | None]]
) -> list[AllocationLine]:
    """Replace the allocation's lines with a fresh split of its scheme's current scores."""
    rows = split(
        scores=scores_for(allocation.scheme),
        budget_fen=allocation.budget_fen,
        base_fen=allocation.base_fen,
        floor_fen=allocation.floor_fen,
        cap_fen=allocation.cap_fen,
        bounds=bounds,
    )
    allocation.lines.all().delete()
    return AllocationLine.objects.bulk_create(
        [
            AllocationLine(
                allocation=allocation,
                centre_id=score.centre_id,
                score=score.total,
                rank=score.rank,
                base_fen=share.base_fen,
                floor_fen=share.floor_fen,
                cap_fen=share.cap_fen,
                amount_fen=amount,
                override=score.centre_id in bounds,
                bound=bound,
                breakdown=breakdown_json(score),
            )
            for score, share, amount, bound in rows
        ]
    )


def _event(
    allocation: Allocation, actor: User, action: str, note: str = "", now: datetime | None = None
) -> AllocationEvent:
    return AllocationEvent.objects.create(
        allocation=allocation,
        actor=actor,
        action=action,
        note=note[:MAX_REASON],
        created_at=now or timezone.now(),
    )


def _audit(
    action: AuditAction,
    actor: User,
    allocation: Allocation,
    *,
    ip: str | None = None,
    outcome: str = AuditEvent.Outcome.OK,
    **detail: object,
) -> None:
    audit_record(
        action=action,
        user=actor,
        ip=ip,
        object_type="allocation",
        object_id=str(allocation.pk),
        outcome=outcome,
        detail={"budget_fen": allocation.budget_fen, "status": allocation.status, **detail},
    )


def allocation_create(
    *,
    actor: User,
    scheme: Scheme,
    name: str,
    budget_fen: int,
    base_fen: int = 0,
    floor_fen: int = 0,
    cap_fen: int | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Allocation:
    """A draft allocation on a published scheme, computed at once. When the split is
    infeasible, AllocationError says why and nothing is saved."""
    _require_manager(actor)
    if scheme.status != Scheme.Status.PUBLISHED:
        raise AllocationError("只能按已发布的考核方案编制资金分配。")
    name = _clean_name(name)
    _check_amounts(budget_fen=budget_fen, base_fen=base_fen, floor_fen=floor_fen, cap_fen=cap_fen)
    now = now or timezone.now()
    with transaction.atomic():
        allocation = Allocation.objects.create(
            scheme=scheme,
            name=name,
            budget_fen=budget_fen,
            base_fen=base_fen,
            floor_fen=floor_fen,
            cap_fen=cap_fen,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        lines = _compute_lines(allocation, {})
        _event(allocation, actor, AllocationEvent.Action.CREATE, f"预算 {yuan(budget_fen)} 元", now)
        _audit(AuditAction.ALLOCATION_CREATE, actor, allocation, ip=ip, lines=len(lines))
    return allocation


def allocation_update(
    *,
    actor: User,
    allocation: Allocation,
    expected_version: int,
    name: str,
    budget_fen: int,
    base_fen: int,
    floor_fen: int,
    cap_fen: int | None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Allocation:
    """Change a draft's name, budget and default base, floor and cap, and compute it again
    (centres with their own floor and cap keep them)."""
    _require_manager(actor)
    _require_draft(allocation)
    name = _clean_name(name)
    _check_amounts(budget_fen=budget_fen, base_fen=base_fen, floor_fen=floor_fen, cap_fen=cap_fen)
    now = now or timezone.now()
    with transaction.atomic():
        claim_version(
            allocation,
            expected_version,
            stale=StaleAllocation,
            only_if={"status": S.DRAFT},
            name=name,
            budget_fen=budget_fen,
            base_fen=base_fen,
            floor_fen=floor_fen,
            cap_fen=cap_fen,
            updated_at=now,
        )
        _compute_lines(allocation, _overridden(allocation))
        _event(allocation, actor, AllocationEvent.Action.EDIT, f"预算 {yuan(budget_fen)} 元", now)
        _audit(AuditAction.ALLOCATION_EDIT, actor, allocation, ip=ip, change="defaults")
    return allocation


def allocation_line_bounds(
    *,
    actor: User,
    allocation: Allocation,
    expected_version: int,
    centre_id: int,
    floor_fen: int | None,
    cap_fen: int | None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Allocation:
    """Give one centre of a draft its own floor and cap (floor None: back to the defaults),
    and compute the allocation again."""
    _require_manager(actor)
    _require_draft(allocation)
    line = allocation.lines.filter(centre_id=centre_id).select_related("centre").first()
    if line is None:
        raise AllocationError("该服务中心不在本次分配中。")
    _check_amounts(budget_fen=1, base_fen=0, floor_fen=floor_fen or 0, cap_fen=cap_fen)
    bounds = _overridden(allocation)
    if floor_fen is None and cap_fen is None:
        bounds.pop(centre_id, None)
        note = f"{line.centre.name}：恢复默认上下限"
    else:
        bounds[centre_id] = (floor_fen or 0, cap_fen)
        note = (
            f"{line.centre.name}：下限 {yuan(floor_fen or 0)} 元，"
            f"上限 {'不设' if cap_fen is None else yuan(cap_fen) + ' 元'}"
        )
    now = now or timezone.now()
    with transaction.atomic():
        claim_version(
            allocation,
            expected_version,
            stale=StaleAllocation,
            only_if={"status": S.DRAFT},
            updated_at=now,
        )
        _compute_lines(allocation, bounds)
        _event(allocation, actor, AllocationEvent.Action.EDIT, note, now)
        _audit(
            AuditAction.ALLOCATION_EDIT, actor, allocation, ip=ip, change="bounds", centre=centre_id
        )
    return allocation


def allocation_recompute(
    *,
    actor: User,
    allocation: Allocation,
    expected_version: int,
    ip: str | None = None,
    now: datetime | None = None,
) -> Allocation:
    """Compute a draft again from the scheme's current scores (flags decided since change
    them)."""
    _require_manager(actor)
    _require_draft(allocation)
    now = now or timezone.now()
    with transaction.atomic():
        claim_version(
            allocation,
            expected_version,
            stale=StaleAllocation,
            only_if={"status": S.DRAFT},
            updated_at=now,
        )
        _compute_lines(allocation, _overridden(allocation))
        _event(allocation, actor, AllocationEvent.Action.COMPUTE, "按最新得分重新计算", now)
        _audit(AuditAction.ALLOCATION_EDIT, actor, allocation, ip=ip, change="recompute")
    return allocation


_MOVE_AUDIT: dict[str, tuple[AuditAction, str]] = {
    S.PENDING: (AuditAction.ALLOCATION_SUBMIT, AllocationEvent.Action.SUBMIT),
    S.DRAFT: (AuditAction.ALLOCATION_RETURN, AllocationEvent.Action.RETURN),
    S.APPROVED: (AuditAction.ALLOCATION_APPROVE, AllocationEvent.Action.APPROVE),
}


def _refuse(
    actor: User, allocation: Allocation, to: str, message: str, ip: str | None
) -> NotPermitted:
    """Audit a refused move (one row, outside any transaction that rolls back) and return
    the refusal to raise."""
    action, _ = _MOVE_AUDIT[to]
    _audit(action, actor, allocation, ip=ip, outcome=AuditEvent.Outcome.REFUSED, to=to)
    return NotPermitted(message)


def allocation_transition(
    *,
    actor: User,
    allocation: Allocation,
    to: str,
    expected_version: int,
    reason: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> Allocation:
    """Move the allocation to `to` (see ALLOCATION_MOVES); refuses anything else and changes
    nothing. A refusal for lack of the role, or for approving one's own allocation, is 403
    and writes a refused audit row."""
    source = allocation.status
    if source == S.APPROVED:
        raise AllocationFrozen()
    move = ALLOCATION_MOVES.find(source, to)
    if move is None:
        raise AllocationError(f"资金分配不能从“{S(source).label}”变为“{S(to).label}”。")
    if move.by == MANAGER and not may_manage(actor):
        raise _refuse(
            actor, allocation, to, "只有具有考核方案权限的省级工作人员或管理员可以提交审批。", ip
        )
    if move.by == APPROVER:
        if actor.pk in shaped_by(allocation):
            raise _refuse(
                actor,
                allocation,
                to,
                "不能审批自己编制、修改或提交的资金分配，须由另一位具有审批权限的人员审批。",
                ip,
            )
        if not has_approver_role(actor):
            raise _refuse(actor, allocation, to, "只有具有资金分配审批权限的人员可以审批。", ip)
    reason = reason.strip()
    if move.needs_reason and not reason:
        raise AllocationError("退回须写明原因。")
    if len(reason) > MAX_REASON:
        raise AllocationError(f"原因不能超过 {MAX_REASON} 个字。")
    now = now or timezone.now()
    fields: dict[str, object] = {"status": to, "updated_at": now}
    if to == S.PENDING:
        fields.update(submitted_by=actor, submitted_at=now, return_reason="")
    elif to == S.APPROVED:
        fields.update(approved_by=actor, approved_at=now)
    else:
        fields.update(submitted_by=None, submitted_at=None, return_reason=reason)
    audit_action, event_action = _MOVE_AUDIT[to]
    with transaction.atomic():
        claim_version(
            allocation,
            expected_version,
            stale=StaleAllocation,
            only_if={"status": source},
            **fields,
        )
        _event(allocation, actor, event_action, reason, now)
        _audit(audit_action, actor, allocation, ip=ip, source=source, to=to)
    return allocation


def allocation_submit(
    *, actor: User, allocation: Allocation, expected_version: int, ip: str | None = None
) -> Allocation:
    return allocation_transition(
        actor=actor, allocation=allocation, to=S.PENDING, expected_version=expected_version, ip=ip
    )


def allocation_approve(
    *, actor: User, allocation: Allocation, expected_version: int, ip: str | None = None
) -> Allocation:
    return allocation_transition(
        actor=actor, allocation=allocation, to=S.APPROVED, expected_version=expected_version, ip=ip
    )


def allocation_return(
    *,
    actor: User,
    allocation: Allocation,
    expected_version: int,
    reason: str,
    ip: str | None = None,
) -> Allocation:
    return allocation_transition(
        actor=actor,
        allocation=allocation,
        to=S.DRAFT,
        expected_version=expected_version,
        reason=reason,
        ip=ip,
    )


def allocation_export_record(
    *, actor: User, allocation: Allocation, fmt: str, ip: str | None = None
) -> None:
    """Audit an export (one row) and note it on the allocation's history."""
    with transaction.atomic():
        _event(allocation, actor, AllocationEvent.Action.EXPORT, fmt)
        _audit(AuditAction.ALLOCATION_EXPORT, actor, allocation, ip=ip, format=fmt)
