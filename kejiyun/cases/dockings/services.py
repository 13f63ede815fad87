"""Writes of dockings: staff send a matched expert a request, the expert answers it; a worker
applies for a demand's docking (申请对接) and an enterprise asks staff to arrange one with a
recommended expert, and staff approve (or send) or refuse either with a reason.

Like every case write, each one refuses what the case's state does not allow (`CaseError`,
nothing written), adds one `CaseEvent` to the timeline and notifies through the outbox.
Staff decisions on applications and requests are also audited (they decide who works on a
case).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.cases.errors import CaseError
from kejiyun.cases.events import case_event_add
from kejiyun.cases.models import TERMINAL, Case, CaseEvent, DockingRequest, Step
from kejiyun.cases.notices import case_url, notice_send
from kejiyun.cases.rules import require_enterprise_actor, require_staff_actor
from kejiyun.cases.workflow.services import case_transition
from kejiyun.matchlog.services import EXPERTS, index_change_record
from kejiyun.talent.models import TalentProfile


def _invite(docking: DockingRequest, case: Case) -> None:
    """Tell the expert that staff ask them to take on the case (a request to answer)."""
    notice_send(
        user=docking.expert.user,
        title="新的对接请求",
        body=f"服务中心邀请您对接需求《{case.demand.title}》。",
        url=reverse("cases:docking_reply", args=[docking.pk]),
        key=f"docking:{docking.pk}",
    )


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
    earlier = DockingRequest.objects.filter(case=case, expert=expert).first()
    if earlier is not None and earlier.awaits_staff:
        raise CaseError(
            "这位专家已有待处理的对接申请或企业提议，请在“待处理的对接”中处理。",
            code="awaiting_staff",
        )
    if earlier is not None:
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
        _invite(docking, case)
    return docking


# While a case looks for its expert: workers may apply, the enterprise may ask for one, and
# an expert may answer a request.
STEPS_OPEN_TO_REQUESTS: tuple[str, ...] = (Step.MATCHING, Step.DOCKING)


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
    if docking.awaits_staff:
        raise CaseError("该对接还在等待服务中心审核。", code="awaiting_staff")
    if docking.case.step in TERMINAL or docking.status == DockingRequest.Status.CLOSED:
        raise CaseError("该案例已经结束，无需再答复。", code="case_closed")
    if docking.status != DockingRequest.Status.SENT:
        raise CaseError("该请求已经答复过了。", code="answered")
    if docking.case.step not in STEPS_OPEN_TO_REQUESTS:
        # Past docking the case has its expert: a late "yes" would claim a service (and its
        # rating) the expert did not give.
        raise CaseError("该案例已过对接阶段，无需再答复。", code="past_docking")
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


# --- Applications and requests: a worker or the enterprise asks, staff decide ---------------

MESSAGE_MAX = 500


def _request_checks(*, case: Case, expert: TalentProfile, who: str) -> None:
    """What an application and an enterprise's request must both satisfy."""
    if case.step not in STEPS_OPEN_TO_REQUESTS:
        raise CaseError("该需求目前不在“匹配”或“对接”环节，暂不能申请对接。", code="wrong_step")
    if expert.user.role != Role.WORKER or not expert.user.is_active:
        raise CaseError("只能与在册的科技工作者对接。", code="not_a_worker")
    employer = expert.employer.strip()
    if employer and employer == case.demand.organisation.name.strip():
        raise CaseError("该专家与需求企业为同一单位，存在利益冲突。", code="conflict")
    if DockingRequest.objects.filter(case=case, expert=expert).exists():
        raise CaseError(f"{who}已就这一需求提出过对接，不能重复提交。", code="already_asked")


def _create_request(
    *,
    case: Case,
    expert: TalentProfile,
    actor: User,
    origin: str,
    status: str,
    message: str,
    who: str,
    now: datetime,
) -> DockingRequest:
    try:
        with transaction.atomic():  # a savepoint: a double click loses the race cleanly
            return DockingRequest.objects.create(
                case=case,
                expert=expert,
                origin=origin,
                status=status,
                sent_by=actor,
                message=message,
                created_at=now,
            )
    except IntegrityError:
        raise CaseError(
            f"{who}已就这一需求提出过对接，不能重复提交。", code="already_asked"
        ) from None


def docking_apply(
    *, case: Case, actor: User, message: str, now: datetime | None = None
) -> DockingRequest:
    """An S&T worker applies to work on a case's demand (申请对接) with a short message.

    Allowed while the case is in matching or docking; once per worker and case. The case
    owner is told; the application waits for staff (`docking_approve` / `docking_refuse`).
    """
    expert = getattr(actor, "talent_profile", None)
    if actor.role != Role.WORKER or expert is None:
        raise CaseError("只有科技工作者可以申请对接。", code="not_a_worker")
    message = message.strip()
    if not message:
        raise CaseError("请简要说明您能提供的帮助。", code="message_required")
    if len(message) > MESSAGE_MAX:
        raise CaseError(f"留言不能超过 {MESSAGE_MAX} 字。", code="message_too_long")
    _request_checks(case=case, expert=expert, who="您")
    now = now or timezone.now()
    with transaction.atomic():
        docking = _create_request(
            case=case,
            expert=expert,
            actor=actor,
            origin=DockingRequest.Origin.WORKER,
            status=DockingRequest.Status.APPLIED,
            message=message,
            who="您",
            now=now,
        )
        case_event_add(
            case=case,
            kind=CaseEvent.Kind.DOCKING_APPLIED,
            actor=actor,
            reason=f"{actor.display_name}（{expert.employer or '未填单位'}）申请对接：{message}",
            now=now,
        )
        notice_send(
            user=case.owner,
            title="新的对接申请",
            body=f"{actor.display_name}申请对接案例《{case.demand.title}》，请审核。",
            url=case_url(case),
            key=f"docking-applied:{docking.pk}",
        )
    return docking


def docking_ask(
    *,
    case: Case,
    expert: TalentProfile,
    actor: User,
    message: str = "",
    subject: str = "",
    now: datetime | None = None,
) -> DockingRequest:
    """The enterprise asks staff to arrange a docking with an expert it was recommended
    (`subject` names the team or result it saw, if that is how it found the expert). The
    expert is not told until staff send the request (`docking_approve`)."""
    require_enterprise_actor(actor, case)
    message = message.strip()
    if len(message) > MESSAGE_MAX:
        raise CaseError(f"留言不能超过 {MESSAGE_MAX} 字。", code="message_too_long")
    _request_checks(case=case, expert=expert, who="贵单位")
    text = "\n".join(part for part in (subject.strip(), message) if part)
    now = now or timezone.now()
    with transaction.atomic():
        docking = _create_request(
            case=case,
            expert=expert,
            actor=actor,
            origin=DockingRequest.Origin.ENTERPRISE,
            status=DockingRequest.Status.REQUESTED,
            message=text,
            who="贵单位",
            now=now,
        )
        case_event_add(
            case=case,
            kind=CaseEvent.Kind.DOCKING_ASKED,
            actor=actor,
            reason=f"企业提议与 {expert.user.display_name}（{expert.employer or '未填单位'}）对接"
            + (f"：{text}" if text else ""),
            now=now,
        )
        notice_send(
            user=case.owner,
            title="企业提议对接专家",
            body=f"企业希望就案例《{case.demand.title}》与{expert.user.display_name}对接，请处理。",
            url=case_url(case),
            key=f"docking-asked:{docking.pk}",
        )
    return docking


def _claim_decision(docking: DockingRequest, *, to_status: str, **changes: object) -> None:
    """Move an undecided application or request on, once: a second decision loses."""
    claimed = DockingRequest.objects.filter(pk=docking.pk, status=docking.status).update(
        status=to_status, **changes
    )
    if claimed != 1:
        raise CaseError("该对接已经处理过了，请刷新页面。", code="decided")
    docking.status = to_status
    for name, value in changes.items():
        setattr(docking, name, value)


def _decision_checks(docking: DockingRequest, actor: User) -> Case:
    case = docking.case
    require_staff_actor(actor, case)
    if not docking.awaits_staff:
        raise CaseError("该对接已经处理过了，请刷新页面。", code="decided")
    if case.step in TERMINAL:
        raise CaseError("该案例已经结束。", code="case_closed")
    return case


def _enterprise_url(case: Case) -> str:
    return reverse("cases:enterprise_detail", args=[case.pk])


def docking_approve(
    *, docking: DockingRequest, actor: User, now: datetime | None = None
) -> DockingRequest:
    """Staff approve a worker's application or send an enterprise's request.

    An approved application is an accepted docking (the worker asked for it); a sent
    request waits for the expert's answer like any request staff send. Either moves a case
    still in matching to docking. The worker, and for a request the enterprise, are told.
    """
    case = _decision_checks(docking, actor)
    if case.step not in STEPS_OPEN_TO_REQUESTS:
        raise CaseError("只有“匹配”或“对接”环节可以安排对接。", code="wrong_step")
    expert = docking.expert
    now = now or timezone.now()
    application = docking.origin == DockingRequest.Origin.WORKER
    who = f"{expert.user.display_name}（{expert.employer or '未填单位'}）"
    with transaction.atomic():
        if application:
            _claim_decision(
                docking,
                to_status=DockingRequest.Status.ACCEPTED,
                decided_by=actor,
                decided_at=now,
                responded_at=now,
            )
            # The expert's load changed: the match index follows.
            index_change_record(kind=EXPERTS, object_ids=[expert.pk])
            reason = f"批准 {who} 的对接申请，对接已确认"
        else:
            _claim_decision(
                docking, to_status=DockingRequest.Status.SENT, decided_by=actor, decided_at=now
            )
            reason = f"按企业提议向 {who} 发送对接请求"
        case_event_add(case=case, kind=CaseEvent.Kind.DOCKING, actor=actor, reason=reason, now=now)
        if case.step == Step.MATCHING:
            case_transition(case=case, to_step=Step.DOCKING, actor=actor, now=now)
        audit_record(
            action=AuditAction.DOCKING_APPROVE,
            user=actor,
            object_type="docking",
            object_id=str(docking.pk),
            detail={"case": case.pk, "expert": expert.pk, "origin": docking.origin},
        )
        if application:
            notice_send(
                user=expert.user,
                title="对接申请已通过",
                body=f"您对需求《{case.demand.title}》的对接申请已通过，服务中心会与您联系。",
                url=reverse("cases:docking_reply", args=[docking.pk]),
                key=f"docking-approved:{docking.pk}",
            )
        else:
            _invite(docking, case)
            notice_send(
                user=docking.sent_by,
                title="对接提议已发送给专家",
                body=f"服务中心已按您的提议邀请{expert.user.display_name}对接《{case.demand.title}》。",
                url=_enterprise_url(case),
                key=f"docking-asked-sent:{docking.pk}",
            )
    return docking


def docking_refuse(
    *, docking: DockingRequest, actor: User, reason: str, now: datetime | None = None
) -> DockingRequest:
    """Staff refuse a worker's application or an enterprise's request, saying why; whoever
    asked is told the reason. The expert never hears of a refused enterprise request."""
    case = _decision_checks(docking, actor)
    reason = reason.strip()
    if not reason:
        raise CaseError("请说明不予安排的原因。", code="reason_required")
    if len(reason) > 200:
        raise CaseError("原因不能超过 200 字。", code="reason_too_long")
    expert = docking.expert
    now = now or timezone.now()
    application = docking.origin == DockingRequest.Origin.WORKER
    with transaction.atomic():
        _claim_decision(
            docking,
            to_status=DockingRequest.Status.REFUSED,
            decided_by=actor,
            decided_at=now,
            refusal_reason=reason,
        )
        what = "对接申请" if application else "企业的对接提议"
        case_event_add(
            case=case,
            kind=CaseEvent.Kind.DOCKING_REFUSED,
            actor=actor,
            reason=f"未安排 {expert.user.display_name} 的{what}：{reason}",
            now=now,
        )
        audit_record(
            action=AuditAction.DOCKING_REFUSE,
            user=actor,
            object_type="docking",
            object_id=str(docking.pk),
            detail={"case": case.pk, "expert": expert.pk, "origin": docking.origin},
        )
        if application:
            notice_send(
                user=expert.user,
                title="对接申请未通过",
                body=f"您对需求《{case.demand.title}》的对接申请未通过：{reason}",
                url=reverse("demands:detail", args=[case.demand_id]),
                key=f"docking-refused:{docking.pk}",
            )
        else:
            notice_send(
                user=docking.sent_by,
                title="对接提议未予安排",
                body=f"您提议与{expert.user.display_name}对接《{case.demand.title}》，"
                f"服务中心暂未安排：{reason}",
                url=_enterprise_url(case),
                key=f"docking-asked-refused:{docking.pk}",
            )
    return docking


def docking_record_on_site(
    *,
    case: Case,
    expert: TalentProfile,
    actor: User,
    note: str,
    now: datetime | None = None,
) -> DockingRequest:
    """Staff record a docking agreed face to face at a docking event (现场对接): the expert
    met the enterprise at the event and both agreed, so the docking is accepted as it is
    recorded. Allowed while the case looks for its expert (matching or docking); a case
    still in matching moves to docking. An earlier docking of the same expert that is not
    accepted yet (a request, an application, a decline) becomes the accepted one, since the
    expert agreed on site; an accepted one is kept as it is. Audited like a staff approval."""
    require_staff_actor(actor, case)
    if case.step not in STEPS_OPEN_TO_REQUESTS:
        raise CaseError("该需求的案例不在“匹配”或“对接”环节，不能登记现场对接。", code="wrong_step")
    if expert.user.role != Role.WORKER or not expert.user.is_active:
        raise CaseError("只能与在册的科技工作者对接。", code="not_a_worker")
    employer = expert.employer.strip()
    if employer and employer == case.demand.organisation.name.strip():
        raise CaseError("该专家与需求企业为同一单位，存在利益冲突。", code="conflict")
    now = now or timezone.now()
    S = DockingRequest.Status
    who = f"{expert.user.display_name}（{expert.employer or '未填单位'}）"
    with transaction.atomic():
        docking = DockingRequest.objects.filter(case=case, expert=expert).first()
        if docking is None:
            try:
                with transaction.atomic():  # a savepoint: a double click loses cleanly
                    docking = DockingRequest.objects.create(
                        case=case,
                        expert=expert,
                        origin=DockingRequest.Origin.EVENT,
                        status=S.ACCEPTED,
                        sent_by=actor,
                        message=note.strip()[:1000],
                        decided_by=actor,
                        decided_at=now,
                        created_at=now,
                        responded_at=now,
                    )
            except IntegrityError:
                raise CaseError(
                    "这位专家的对接刚刚已被登记，请刷新页面。", code="decided"
                ) from None
        elif docking.status != S.ACCEPTED:
            claimed = DockingRequest.objects.filter(pk=docking.pk, status=docking.status).update(
                status=S.ACCEPTED, decided_by=actor, decided_at=now, responded_at=now
            )
            if claimed != 1:
                raise CaseError("该对接刚刚已被处理，请刷新页面。", code="decided")
            docking.status, docking.responded_at = S.ACCEPTED, now
        index_change_record(kind=EXPERTS, object_ids=[expert.pk])
        case_event_add(
            case=case,
            kind=CaseEvent.Kind.DOCKING,
            actor=actor,
            reason=f"现场对接：{who}" + (f"。{note.strip()[:200]}" if note.strip() else ""),
            now=now,
        )
        if case.step == Step.MATCHING:
            case_transition(case=case, to_step=Step.DOCKING, actor=actor, now=now)
        audit_record(
            action=AuditAction.DOCKING_APPROVE,
            user=actor,
            object_type="docking",
            object_id=str(docking.pk),
            detail={"case": case.pk, "expert": expert.pk, "origin": DockingRequest.Origin.EVENT},
        )
    return docking
