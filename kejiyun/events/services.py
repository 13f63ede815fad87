"""Writes of docking events: the event and its status, exhibits, slots, bookings, check-in and
the agreements signed on site.

Every write refuses with an `EventError` (Chinese, nothing written) or `NotPermitted`; status
moves go through `event_transition` and `EVENT_MOVES`; a booking claims its place with a
conditional UPDATE (`booked < capacity`), so two people racing for the last place never
overbook. The organiser's acts (creating and moving the event, deciding exhibits, opening
slots, checking in, recording agreements) are audited (`EVENT_MANAGE`, `EVENT_CHECKIN`,
`EVENT_AGREEMENT`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.cases.dockings.services import docking_record_on_site
from kejiyun.cases.errors import CaseError
from kejiyun.cases.models import Case, Step
from kejiyun.cases.workflow.services import OutcomeInput, case_outcome_record, case_transition
from kejiyun.common.errors import NotPermitted, ServiceError, Stale
from kejiyun.common.versioning import claim_version
from kejiyun.demands.models import Demand
from kejiyun.events.access import may_nominate, may_organise
from kejiyun.events.models import Agreement, Booking, Event, EventChange, Exhibit, Slot
from kejiyun.events.transitions import EVENT_MOVES, ORGANISER
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import region_in_jurisdiction
from kejiyun.talent.models import TalentProfile, TechResult

S = Event.Status
REASON_MAX = 300
# Check-in codes: 8 characters from 31 that cannot be mistaken for each other (no 0/O, 1/I/L),
# drawn by `secrets`: 31**8 ≈ 8.5e11 codes, unique per event by a constraint.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


class EventError(ServiceError):
    """A refused event write; nothing was changed."""


class StaleEvent(Stale):
    message_text = "该活动已被他人修改，请刷新后再试。"


@dataclass(frozen=True)
class EventInput:
    name: str
    kind: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    sign_up_closes_at: datetime
    description: str = ""


def _require_organiser(actor: User, event: Event) -> None:
    if not may_organise(actor, event):
        raise NotPermitted("您不是该活动的主办方。")


def _audit(action: AuditAction, actor: User, obj: str, pk: int, **detail: object) -> None:
    audit_record(action=action, user=actor, object_type=obj, object_id=str(pk), detail=detail)


def _check_times(data: EventInput) -> None:
    if data.ends_at <= data.starts_at:
        raise EventError({"ends_at": "结束时间须晚于开始时间。"})
    if data.sign_up_closes_at > data.starts_at:
        raise EventError({"sign_up_closes_at": "报名截止不能晚于活动开始。"})


# --- the event -------------------------------------------------------------------------------


def event_create(*, actor: User, data: EventInput, now: datetime | None = None) -> Event:
    """Staff of the province centre create a 服务大会, staff of a city centre a 科创会; the event
    belongs to the creator's centre and region. Starts as a draft."""
    centre = actor.centre if actor.is_centre_staff else None
    if centre is None:
        raise NotPermitted("只有服务中心工作人员可以创建对接活动。")
    level = centre.region.level
    wanted: dict[str, str] = {
        Region.Level.PROVINCE: Event.Kind.CONFERENCE,
        Region.Level.CITY: Event.Kind.FORUM,
    }
    if level not in wanted:
        raise NotPermitted("对接活动由省级或市级服务中心主办。")
    if data.kind != wanted[level]:
        label = Event.Kind(wanted[level]).label
        raise EventError({"kind": f"{centre.region.name}服务中心主办的活动类型应为“{label}”。"})
    name = data.name.strip()
    if not name:
        raise EventError({"name": "请填写活动名称。"})
    if not data.venue.strip():
        raise EventError({"venue": "请填写活动地点。"})
    _check_times(data)
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.create(
            organiser=centre,
            region=centre.region,
            name=name[:120],
            kind=data.kind,
            venue=data.venue.strip()[:200],
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            sign_up_closes_at=data.sign_up_closes_at,
            description=data.description.strip(),
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        EventChange.objects.create(event=event, actor=actor, to_status=S.DRAFT, created_at=now)
        _audit(AuditAction.EVENT_MANAGE, actor, "events.event", event.pk, act="create")
    return event


def event_transition(
    *,
    event: Event,
    to: str,
    actor: User,
    version: int | None,
    reason: str = "",
    now: datetime | None = None,
) -> Event:
    """Move the event to `to` if `EVENT_MOVES` lists the move and the actor organises it;
    claims the row by its version, writes the history line and an audit row."""
    current = event.status
    move = EVENT_MOVES.find(current, to)
    if move is None:
        raise EventError(
            f"不能把“{S(current).label}”的活动改为“{S(to).label}”。"
            if to in S.values
            else "目标状态不存在。",
            code="illegal_transition",
        )
    assert move.by == ORGANISER
    _require_organiser(actor, event)
    reason = reason.strip()
    if move.needs_reason and not reason:
        raise EventError({"reason": "请填写原因。"})
    now = now or timezone.now()
    with transaction.atomic():
        claim_version(
            event, version, stale=StaleEvent, only_if={"status": current}, status=to, updated_at=now
        )
        EventChange.objects.create(
            event=event,
            actor=actor,
            from_status=current,
            to_status=to,
            reason=reason[:1000],
            created_at=now,
        )
        _audit(
            AuditAction.EVENT_MANAGE,
            actor,
            "events.event",
            event.pk,
            act="move",
            to=to,
            **{"from": current},
        )
    return event


# --- exhibits --------------------------------------------------------------------------------


def _result_region(result: TechResult) -> Region | None:
    if result.owner_profile is not None:
        return result.owner_profile.region
    return result.owner_team.region if result.owner_team is not None else None


def exhibit_nominate(
    *,
    event: Event,
    actor: User,
    demand: Demand | None = None,
    result: TechResult | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Exhibit:
    """A centre inside the event's region nominates a published demand or a result offered
    for transfer of its own jurisdiction while the event collects exhibits. A demand that is
    not public at all (不公开) cannot be exhibited."""
    if not may_nominate(actor, event):
        raise NotPermitted("您的服务中心不在该活动的征集范围内。")
    if event.status != S.COLLECTING:
        raise EventError("该活动目前不在征集展项阶段。", code="not_collecting")
    if (demand is None) == (result is None):
        raise EventError("请选择一项需求或一项成果。", code="pick_one")
    if demand is not None:
        if demand.status != Demand.Status.PUBLISHED:
            raise EventError("只能推荐已发布的需求。", code="not_published")
        if demand.confidentiality == Demand.Confidentiality.PRIVATE:
            raise EventError("该需求设为“不公开”，不能参展。", code="private")
        region: Region | None = demand.region
        kind = Exhibit.Kind.DEMAND
    else:
        assert result is not None
        if not result.for_transfer:
            raise EventError("只能推荐可转化的成果。", code="not_for_transfer")
        region = _result_region(result)
        kind = Exhibit.Kind.RESULT
    if (
        region is None
        or not region_in_jurisdiction(actor, region)
        or not event.region.contains(region)
    ):
        raise NotPermitted("只能推荐本辖区的需求和成果。")
    assert actor.centre is not None
    now = now or timezone.now()
    try:
        with transaction.atomic():
            exhibit = Exhibit.objects.create(
                event=event,
                kind=kind,
                demand=demand,
                result=result,
                region=region,
                centre=actor.centre,
                nominated_by=actor,
                note=note.strip()[:REASON_MAX],
                created_at=now,
            )
    except IntegrityError:
        raise EventError("该项目已推荐过了。", code="duplicate") from None
    return exhibit


def exhibit_decide(
    *, exhibit: Exhibit, actor: User, accept: bool, reason: str = "", now: datetime | None = None
) -> Exhibit:
    """The organiser accepts a nomination or declines it with a reason (while collecting or
    open); once, a second decision loses."""
    event = exhibit.event
    _require_organiser(actor, event)
    if event.status not in (S.COLLECTING, S.OPEN):
        raise EventError("活动当前阶段不能审核展项。", code="wrong_status")
    reason = reason.strip()
    if not accept and not reason:
        raise EventError({"reason": "请说明未入选的原因。"}, code="reason_required")
    if len(reason) > REASON_MAX:
        raise EventError({"reason": f"原因不能超过{REASON_MAX}字。"})
    status = Exhibit.Status.ACCEPTED if accept else Exhibit.Status.DECLINED
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Exhibit.objects.filter(pk=exhibit.pk, status=Exhibit.Status.NOMINATED).update(
            status=status, decline_reason="" if accept else reason, decided_by=actor, decided_at=now
        )
        if claimed != 1:
            raise EventError("该展项已经审核过了。", code="decided")
        exhibit.status, exhibit.decline_reason = status, ("" if accept else reason)
        _audit(AuditAction.EVENT_MANAGE, actor, "events.exhibit", exhibit.pk, act=status)
    return exhibit


# --- slots and bookings ------------------------------------------------------------------------


def slot_create(
    *,
    exhibit: Exhibit,
    actor: User,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
) -> Slot:
    """The organiser opens an on-site docking slot for an accepted exhibit, inside the event's
    time, before the event runs."""
    event = exhibit.event
    _require_organiser(actor, event)
    if event.status not in (S.COLLECTING, S.OPEN):
        raise EventError("活动开始后不能再增加对接时段。", code="wrong_status")
    if exhibit.status != Exhibit.Status.ACCEPTED:
        raise EventError("只能为已入选的展项安排对接时段。", code="not_accepted")
    if not place.strip():
        raise EventError({"place": "请填写桌号或会议室。"})
    if not 1 <= capacity <= 500:
        raise EventError({"capacity": "名额须在 1 到 500 之间。"})
    if ends_at <= starts_at:
        raise EventError({"ends_at": "结束时间须晚于开始时间。"})
    if starts_at < event.starts_at or ends_at > event.ends_at:
        raise EventError({"starts_at": "对接时段须在活动时间之内。"})
    with transaction.atomic():
        slot = Slot.objects.create(
            event=event,
            exhibit=exhibit,
            place=place.strip()[:60],
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
        )
        _audit(AuditAction.EVENT_MANAGE, actor, "events.slot", slot.pk, act="slot")
    return slot


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def booking_create(*, slot: Slot, actor: User, now: datetime | None = None) -> Booking:
    """An enterprise user or an S&T worker books a place in a slot while sign-up is open:
    one live booking per person and slot, never more than the slot's capacity. The booking
    gets a check-in code unique in the event."""
    event = slot.event
    if actor.role not in (Role.ENTERPRISE, Role.WORKER) or not actor.is_active:
        raise NotPermitted("只有企业用户和科技工作者可以预约对接。")
    now = now or timezone.now()
    if event.status != S.OPEN:
        raise EventError("该活动目前不接受报名。", code="not_open")
    if now >= event.sign_up_closes_at:
        raise EventError("报名已截止。", code="closed")
    if slot.exhibit.status != Exhibit.Status.ACCEPTED:
        raise EventError("该对接时段已取消。", code="not_accepted")
    if Booking.objects.filter(slot=slot, person=actor, status=Booking.Status.BOOKED).exists():
        raise EventError("您已预约这一时段。", code="duplicate")
    for _attempt in range(5):
        try:
            with transaction.atomic():
                claimed = Slot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(
                    booked=F("booked") + 1
                )
                if claimed != 1:
                    raise EventError("该时段名额已满。", code="full")
                booking = Booking.objects.create(
                    event=event, slot=slot, person=actor, code=new_code(), created_at=now
                )
        except IntegrityError:
            # A second live booking of the same slot (a double click), or, once in a
            # blue moon, a code already used in the event: try again with a new code.
            if Booking.objects.filter(
                slot=slot, person=actor, status=Booking.Status.BOOKED
            ).exists():
                raise EventError("您已预约这一时段。", code="duplicate") from None
            continue
        slot.refresh_from_db(fields=["booked"])
        return booking
    raise EventError("暂时无法生成签到码，请重试。", code="code")


def booking_cancel(*, booking: Booking, actor: User, now: datetime | None = None) -> Booking:
    """The person cancels their own booking before the event starts; the place is freed."""
    if booking.person_id != actor.pk:
        raise NotPermitted("只能取消本人的预约。")
    now = now or timezone.now()
    if now >= booking.event.starts_at:
        raise EventError("活动已开始，不能再取消预约。", code="started")
    with transaction.atomic():
        claimed = Booking.objects.filter(
            pk=booking.pk, status=Booking.Status.BOOKED, checked_in_at__isnull=True
        ).update(status=Booking.Status.CANCELLED, cancelled_at=now)
        if claimed != 1:
            raise EventError("该预约已取消。", code="cancelled")
        Slot.objects.filter(pk=booking.slot_id, booked__gt=0).update(booked=F("booked") - 1)
        booking.status, booking.cancelled_at = Booking.Status.CANCELLED, now
    return booking


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


def booking_check_in(
    *, event: Event, code: str, actor: User, now: datetime | None = None
) -> Booking:
    """Staff of the organiser check a person in by the code of their booking, on the day
    (the event open or running). A wrong code, a code of another event, a cancelled booking
    or a second check-in is refused with what it is."""
    _require_organiser(actor, event)
    if event.status not in (S.OPEN, S.RUNNING):
        raise EventError("活动不在签到阶段。", code="wrong_status")
    code = normalise_code(code)
    if len(code) != CODE_LENGTH:
        raise EventError({"code": f"签到码为 {CODE_LENGTH} 位字母和数字。"}, code="bad_code")
    booking = (
        Booking.objects.select_related("person", "slot__exhibit__demand", "slot__exhibit__result")
        .filter(event=event, code=code)
        .first()
    )
    if booking is None:
        raise EventError({"code": "签到码无效：本活动没有这个签到码。"}, code="unknown_code")
    if booking.status != Booking.Status.BOOKED:
        raise EventError({"code": "该预约已取消，不能签到。"}, code="cancelled")
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Booking.objects.filter(
            pk=booking.pk, status=Booking.Status.BOOKED, checked_in_at__isnull=True
        ).update(checked_in_at=now, checked_in_by=actor)
        if claimed != 1:
            booking.refresh_from_db(fields=["checked_in_at"])
            when = (
                timezone.localtime(booking.checked_in_at).strftime("%H:%M")
                if booking.checked_in_at
                else ""
            )
            raise EventError(
                {"code": f"{booking.person.display_name} 已于 {when} 签到，无需重复签到。"},
                code="already_checked_in",
            )
        booking.checked_in_at, booking.checked_in_by = now, actor
        _audit(AuditAction.EVENT_CHECKIN, actor, "events.booking", booking.pk, event=event.pk)
    return booking


# --- agreements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementInput:
    contract_number: str
    amount: Decimal
    settles: bool = False
    evidence: UploadedFile | None = None


def agreement_record(
    *, booking: Booking, actor: User, data: AgreementInput, now: datetime | None = None
) -> Agreement:
    """Staff of the organiser record an agreement signed at a checked-in meeting.

    For a demand exhibit the booked S&T worker becomes the case's expert through an accepted
    on-site docking (`docking_record_on_site`), and the case moves docking → agreement (签约)
    with the contract. When the agreement settles the demand, the case moves on to delivery
    and the outcome is recorded as solved (`case_outcome_record`: contract, amount, evidence),
    which sends it to acceptance: the enterprise confirms and rates it, and that closes it, as
    for every case. A result exhibit's agreement is recorded on the event only. One
    agreement per booking; any refusal from the case leaves nothing written."""
    event = booking.event
    _require_organiser(actor, event)
    if event.status not in (S.RUNNING, S.CLOSED):
        raise EventError("活动进行中才能登记现场签约。", code="wrong_status")
    if booking.status != Booking.Status.BOOKED or booking.checked_in_at is None:
        raise EventError("只有已签到的对接才能登记签约。", code="not_checked_in")
    number = data.contract_number.strip()
    if not number:
        raise EventError({"contract_number": "请填写合同编号。"})
    if data.amount is None or data.amount <= 0:
        raise EventError({"amount": "请填写大于零的合同金额（万元）。"})
    if Agreement.objects.filter(booking=booking).exists():
        raise EventError("这次对接已经登记过签约。", code="duplicate")
    exhibit = booking.slot.exhibit
    now = now or timezone.now()
    case: Case | None = None
    expert: TalentProfile | None = None
    if exhibit.kind == Exhibit.Kind.DEMAND:
        assert exhibit.demand is not None
        case = (
            Case.objects.select_related("demand__organisation", "centre__region")
            .filter(demand=exhibit.demand)
            .first()
        )
        if case is None:
            raise EventError("该需求还没有服务案例，不能登记签约。", code="no_case")
        expert = getattr(booking.person, "talent_profile", None)
        if booking.person.role != Role.WORKER or expert is None:
            raise EventError("需求展项的签约方须是预约对接的科技工作者。", code="not_a_worker")
        if data.settles and data.evidence is None:
            raise EventError({"evidence": "解决需求的签约须上传合同扫描件作为佐证。"})
    elif data.settles:
        raise EventError({"settles": "成果展项的签约不对应需求，不能标记为解决需求。"})
    try:
        with transaction.atomic():
            docking = None
            if case is not None and expert is not None:
                docking = docking_record_on_site(
                    case=case,
                    expert=expert,
                    actor=actor,
                    note=f"{event.name}，合同 {number}",
                    now=now,
                )
                case_transition(
                    case=case,
                    to_step=Step.AGREEMENT,
                    actor=actor,
                    reason=f"{event.name}现场签约：合同 {number}，{data.amount} 万元",
                    now=now,
                )
                if data.settles:
                    case_transition(case=case, to_step=Step.DELIVERY, actor=actor, now=now)
                    case_outcome_record(
                        case=case,
                        outcome=OutcomeInput(
                            solved=True,
                            contract_number=number,
                            contract_amount=data.amount,
                            evidence=data.evidence,
                        ),
                        actor=actor,
                        now=now,
                    )
            agreement = Agreement.objects.create(
                event=event,
                booking=booking,
                exhibit=exhibit,
                contract_number=number[:64],
                amount=data.amount,
                settles=data.settles,
                case=case,
                docking=docking,
                recorded_by=actor,
                signed_at=now,
            )
            _audit(
                AuditAction.EVENT_AGREEMENT,
                actor,
                "events.agreement",
                agreement.pk,
                event=event.pk,
                case=case.pk if case is not None else None,
            )
    except CaseError as error:
        raise EventError(f"案例无法登记这次签约：{error.messages[0]}", code="case") from error
    except IntegrityError:
        raise EventError("这次对接已经登记过签约。", code="duplicate") from None
    return agreement
