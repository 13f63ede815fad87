"""Demo docking event, through the event services: this year's 科创中国·天府科技云服务大会,
organised by `demo_staff_province` and running today.

锦江区 and 双流区 (their demo staff) and the province nominate demands of cases still
looking for their expert (匹配/对接) and two results offered for transfer; the province accepts
them and opens two docking slots per exhibit. Demo workers book the demand slots and demo
enterprises the result slots (before sign-up closed, the day before the event); most are
checked in by code this morning. At the first demand's meeting the worker and the enterprise
sign a contract that settles the demand: the agreement is recorded on the case (an accepted
on-site docking, 签约, the outcome), and the enterprise confirms and rates it, so the case ends
CLOSED and solved. A result's licence is signed too.

Idempotent: a second run creates nothing (the event's name is its key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.cases.models import Case, Step
from kejiyun.cases.workflow.services import case_confirm
from kejiyun.demands.models import Demand
from kejiyun.demo.cases import _evidence_pdf
from kejiyun.demo.seed import ENTERPRISE_PREFIX, WORKER_PREFIX, DemoError
from kejiyun.events.models import Booking, Event, Exhibit
from kejiyun.events.services import (
    AgreementInput,
    EventInput,
    agreement_record,
    booking_check_in,
    booking_create,
    event_create,
    event_transition,
    exhibit_decide,
    exhibit_nominate,
    slot_create,
)
from kejiyun.talent.models import TalentProfile, TechResult
from kejiyun.talent.services import ResultData, tech_result_create

COUNTY_STAFF = {"510104": "demo_staff_jinjiang", "510116": "demo_staff_shuangliu"}
DEMAND_EXHIBITS = 3
SETTLING_CONTRACT = "TFKJY-DH-001"


@dataclass(frozen=True)
class DemoEvents:
    events: int
    check_ins: int
    agreements: int


def demo_event_name(now: datetime) -> str:
    return f"{timezone.localtime(now).year}科创中国·天府科技云服务大会"


def _staff(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise DemoError("the demo staff accounts are missing; run demo_seed first")
    return user


def demo_events_seed(*, now: datetime | None = None) -> DemoEvents:
    """The demo's service conference; returns what it created (nothing on a second run)."""
    now = now or timezone.now()
    name = demo_event_name(now)
    if Event.objects.filter(name=name).exists():
        return DemoEvents(0, 0, 0)
    province = _staff("demo_staff_province")
    cases = list(
        Case.objects.filter(step__in=[Step.MATCHING, Step.DOCKING])
        .exclude(demand__confidentiality=Demand.Confidentiality.PRIVATE)
        .select_related("demand__organisation", "demand__region")
        .order_by("id")[:DEMAND_EXHIBITS]
    )
    workers = list(
        TalentProfile.objects.filter(
            user__username__startswith=WORKER_PREFIX, user__role=Role.WORKER, user__is_active=True
        )
        .select_related("user", "region")
        .order_by("user__username")[:6]
    )
    enterprises = list(
        User.objects.filter(
            username__startswith=ENTERPRISE_PREFIX, role=Role.ENTERPRISE, is_active=True
        ).order_by("username")[:4]
    )
    if not cases or len(workers) < 4 or len(enterprises) < 2:
        raise DemoError("the demo cases, workers or enterprises are missing; seed them first")
    with transaction.atomic():
        return _seed(name, now, province, cases, workers, enterprises)


def _seed(
    name: str,
    now: datetime,
    province: User,
    cases: list[Case],
    workers: list[TalentProfile],
    enterprises: list[User],
) -> DemoEvents:
    local = timezone.localtime(now)
    starts = (local - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    event = event_create(
        actor=province,
        data=EventInput(
            name=name,
            kind=Event.Kind.CONFERENCE,
            venue="成都世纪城新国际会展中心",
            starts_at=starts,
            ends_at=starts + timedelta(hours=9),
            sign_up_closes_at=starts - timedelta(days=1),
            description="展示各地企业技术需求与可转化科技成果，现场预约专家对接、签约。",
        ),
        now=now - timedelta(days=30),
    )
    event_transition(
        event=event,
        to=Event.Status.COLLECTING,
        actor=province,
        version=event.version,
        now=now - timedelta(days=30),
    )
    exhibits: list[Exhibit] = []
    for case in cases:
        nominator = User.objects.filter(
            username=COUNTY_STAFF.get(case.demand.region_id, "demo_staff_province")
        ).first()
        exhibits.append(
            exhibit_nominate(
                event=event,
                actor=nominator or province,
                demand=case.demand,
                note="需求明确，企业愿意现场洽谈",
                now=now - timedelta(days=20),
            )
        )
    for index, owner in enumerate(workers[-2:]):
        result = tech_result_create(
            profile=owner,
            actor=owner.user,
            data=ResultData(
                kind=TechResult.Kind.PATENT,
                title=("丘陵茶园智能采摘装置", "低温真空果蔬干燥工艺")[index],
                identifier=f"ZL2025{index + 1:07d}",
                year=2025,
                for_transfer=True,
                transfer_mode=TechResult.TransferMode.LICENCE,
                summary="已完成中试，可许可实施，提供技术培训。",
            ),
        )
        exhibits.append(
            exhibit_nominate(
                event=event, actor=province, result=result, now=now - timedelta(days=20)
            )
        )
    for exhibit in exhibits:
        exhibit_decide(exhibit=exhibit, actor=province, accept=True, now=now - timedelta(days=15))
    slots = []
    for index, exhibit in enumerate(exhibits):
        for half in range(2):
            begins = starts + timedelta(minutes=30 * half + 10 * index)
            slots.append(
                slot_create(
                    exhibit=exhibit,
                    actor=province,
                    place=f"{'AB'[exhibit.kind == Exhibit.Kind.RESULT]}-{index + 1:02d}",
                    starts_at=begins,
                    ends_at=begins + timedelta(minutes=30),
                    capacity=4,
                )
            )
    event_transition(
        event=event,
        to=Event.Status.OPEN,
        actor=province,
        version=event.version,
        now=now - timedelta(days=10),
    )
    booked_at = starts - timedelta(days=2)
    bookings: list[Booking] = []
    for slot in slots:
        people = (
            [w.user for w in workers[:2]]
            if slot.exhibit.kind == Exhibit.Kind.DEMAND
            else enterprises[:2]
        )
        for person in people:
            bookings.append(booking_create(slot=slot, actor=person, now=booked_at))
    event_transition(
        event=event, to=Event.Status.RUNNING, actor=province, version=event.version, now=starts
    )
    # Each exhibit has four bookings (two slots, two people each): the last one did not come.
    checked = [b for i, b in enumerate(bookings) if i % 4 != 3]
    for booking in checked:
        booking_check_in(
            event=event,
            code=booking.code,
            actor=province,
            now=min(booking.slot.starts_at, now),
        )
    agreements = 0
    # The first demand's meeting: its first booked worker signs the contract that settles it.
    settling = next(
        b
        for b in checked
        if b.slot.exhibit.kind == Exhibit.Kind.DEMAND
        and b.slot.exhibit.demand_id == cases[0].demand_id
        and _no_conflict(b.person, cases[0])
    )
    agreement_record(
        booking=_fresh(settling),
        actor=province,
        data=AgreementInput(
            contract_number=SETTLING_CONTRACT,
            amount=Decimal("48.00"),
            settles=True,
            evidence=SimpleUploadedFile(
                f"{SETTLING_CONTRACT}.pdf", _evidence_pdf(SETTLING_CONTRACT)
            ),
        ),
        now=now,
    )
    agreements += 1
    licence = next(b for b in checked if b.slot.exhibit.kind == Exhibit.Kind.RESULT)
    agreement_record(
        booking=_fresh(licence),
        actor=province,
        data=AgreementInput(contract_number="TFKJY-DH-002", amount=Decimal("20.00")),
        now=now,
    )
    agreements += 1
    case = Case.objects.select_related("demand__organisation").get(pk=cases[0].pk)
    enterprise = (
        User.objects.filter(
            organisation_id=case.demand.organisation_id, role=Role.ENTERPRISE, is_active=True
        )
        .order_by("id")
        .first()
    )
    if enterprise is None:
        raise DemoError("the demo case's enterprise has no account")
    case_confirm(
        case=case, actor=enterprise, rating=5, comment="服务大会现场对接签约，问题已解决", now=now
    )
    return DemoEvents(1, len(checked), agreements)


def _no_conflict(person: User, case: Case) -> bool:
    profile = getattr(person, "talent_profile", None)
    return profile is not None and profile.employer.strip() != case.demand.organisation.name.strip()


def _fresh(booking: Booking) -> Booking:
    return Booking.objects.select_related(
        "event", "person", "slot__exhibit__demand", "slot__exhibit__result"
    ).get(pk=booking.pk)
