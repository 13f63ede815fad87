"""Writes of dockings: staff send a matched expert a request, the expert answers it.

Like every case write, each one refuses what the case's state does not allow (`CaseError`,
nothing written), adds one `CaseEvent` to the timeline and notifies through the outbox.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.cases.errors import CaseError
from kejiyun.cases.events import case_event_add
from kejiyun.cases.models import TERMINAL, Case, CaseEvent, DockingRequest, Step
from kejiyun.cases.notices import case_url, notice_send
from kejiyun.cases.rules import require_staff_actor
from kejiyun.cases.workflow.services import case_transition
from kejiyun.matchlog.services import EXPERTS, index_change_record
from kejiyun.talent.models import TalentProfile


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
    require_staff_actor(actor, case)
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
        case_event_add(
            case=case,
            kind=CaseEvent.Kind.DOCKING,
            actor=actor,
            reason=f"向 {expert.user.display_name}（{expert.employer or '未填单位'}）发送对接请求",
            now=now,
        )
        if case.step == Step.MATCHING:
            case_transition(case=case, to_step=Step.DOCKING, actor=actor, now=now)
        notice_send(
            user=expert.user,
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
    if docking.case.step in TERMINAL or docking.status == DockingRequest.Status.CLOSED:
        raise CaseError("该案例已经结束，无需再答复。", code="case_closed")
    if docking.status != DockingRequest.Status.SENT:
        raise CaseError("该请求已经答复过了。", code="answered")
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
        case_event_add(
            case=case,
            kind=CaseEvent.Kind.DOCKING_REPLY,
            actor=actor,
            reason=f"{actor.display_name}{verb}了对接请求" + (f"：{reason}" if reason else ""),
            now=now,
        )
        if case.owner is not None:
            notice_send(
                user=case.owner,
                title="专家已答复对接请求",
                body=f"{actor.display_name}{verb}了案例《{case.demand.title}》的对接请求。",
                url=case_url(case),
                key=f"docking-reply:{docking.pk}",
            )
    return docking
