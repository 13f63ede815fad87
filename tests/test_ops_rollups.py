"""Operations rollups: every indicator computed from raw records, stored per centre and day,
summed into months, kept current by the periodic job and checked by `ops_verify`.

The history below is small and hand-made, with the answer to every indicator worked out by
hand (EXPECTED): records in two counties of 成都市 (锦江区 and 青羊区) and in the city's own
centre, one in a township of 锦江区 (counted for 锦江区), some with no region or in a region
no centre serves (counted nowhere), and times near midnight to hold the Beijing day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.cases.models import Case, CaseEvent, DockingRequest, Outcome, Step
from kejiyun.common.workdays import BEIJING
from kejiyun.demands.models import Demand, DemandEvent
from kejiyun.events.models import Agreement, Booking, Event, Exhibit, Slot
from kejiyun.integrity.models import Flag, Subject
from kejiyun.integrity.models import Kind as FlagKind
from kejiyun.integrity.services import flag_decide
from kejiyun.jobs.runner import Job, job_run, jobs_from_schedule
from kejiyun.ops.compute import REGISTRY, Cell, compute
from kejiyun.ops.indicators import CATALOGUE
from kejiyun.ops.models import AreaRollup, Rollup, RollupState
from kejiyun.ops.periods import Period
from kejiyun.ops.rollups import rollup_days, rollup_refresh, rollup_verify
from kejiyun.ops.selectors import figures, figures_by_child
from kejiyun.plans.models import PlanAction, ServicePlan
from kejiyun.popsci.models import (
    Activity,
    ActivitySignup,
    Article,
    Campaign,
    CitizenProfile,
    ContentVersion,
    Delivery,
    QuizAttempt,
    ReadEvent,
)
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.talent.models import TalentProfile, Team
from tests.builders import make_staff, make_uscc

D1, D2, D3 = date(2026, 3, 10), date(2026, 3, 11), date(2026, 4, 2)
JJ, QY, CD = "510104", "510105", "510100"  # 锦江区, 青羊区, 成都市 (its own centre)
TOWNSHIP = "510104001"
NOWHERE = "520000"  # a province no centre serves


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


# (indicator, centre's region, day): (num, den, samples), worked out by hand from `history`.
EXPECTED: dict[tuple[str, str, date], tuple[Decimal | int, int, list[float]]] = {
    ("workers_registered", JJ, D1): (2, 0, []),  # one in the township, at 00:30 Beijing
    ("workers_registered", QY, D3): (1, 0, []),
    ("workers_verified", JJ, D2): (1, 0, []),
    ("enterprises_registered", JJ, D1): (1, 0, []),
    ("enterprises_registered", QY, D1): (1, 0, []),
    ("enterprises_registered", CD, D2): (1, 0, []),
    ("citizens_registered", JJ, D1): (4, 0, []),
    ("citizens_registered", JJ, D2): (1, 0, []),  # in the township, 23:50 Beijing
    ("citizens_registered", QY, D3): (1, 0, []),  # a profile without an account
    ("teams_created", QY, D2): (1, 0, []),
    ("demands_published", QY, D1): (1, 0, []),
    ("demands_published", JJ, D2): (2, 0, []),
    ("demands_published", CD, D2): (1, 0, []),
    ("demands_returned", JJ, D1): (2, 0, []),
    ("demands_flagged", JJ, D1): (2, 0, []),
    ("demands_flagged", JJ, D2): (1, 0, []),
    ("cases_opened", QY, D1): (1, 0, []),
    ("cases_opened", JJ, D2): (2, 0, []),
    ("cases_opened", CD, D3): (1, 0, []),
    ("first_response_hours", QY, D1): (0, 0, [0.5]),
    ("first_response_hours", JJ, D2): (0, 0, [4.0]),
    ("first_response_hours", JJ, date(2026, 3, 16)): (0, 0, [25.0]),
    ("cases_closed", JJ, D3): (2, 0, []),
    ("cases_closed", QY, D3): (1, 0, []),
    ("closed_on_time_share", JJ, D3): (1, 2, []),
    ("closed_on_time_share", QY, D3): (1, 1, []),
    ("solved_with_evidence", JJ, D3): (1, 0, []),
    ("contract_amount", JJ, D3): (Decimal("125000"), 0, []),
    ("contract_amount", QY, D3): (Decimal("30000"), 0, []),
    ("satisfaction_mean", JJ, D3): (5, 1, []),
    ("rated_share", JJ, D3): (1, 1, []),
    ("rated_share", QY, D3): (0, 1, []),
    ("escalations", JJ, date(2026, 3, 13)): (1, 0, []),
    ("unowned_cases", JJ, date(2026, 3, 13)): (1, 0, []),
    ("dockings_sent", JJ, D2): (2, 0, []),
    ("dockings_accepted", QY, D1): (1, 0, []),
    ("dockings_accepted", JJ, D3): (1, 0, []),
    ("dockings_declined", JJ, D3): (1, 0, []),
    ("plans_with_actions_done", JJ, D1): (1, 0, []),
    ("plans_with_actions_done", JJ, D2): (1, 0, []),
    ("plans_with_actions_done", QY, D2): (1, 0, []),
    ("popsci_published", JJ, D1): (1, 0, []),
    ("popsci_published", QY, D2): (1, 0, []),
    ("campaign_reach", CD, D1): (4, 0, []),
    ("read_to_end_share", CD, D1): (2, 4, []),
    ("quiz_accuracy_before", JJ, D1): (3, 6, []),
    ("quiz_accuracy_after", JJ, D2): (5, 6, []),
    ("activity_attendance", QY, D2): (2, 0, []),
    ("event_exhibits", JJ, D1): (1, 0, []),  # for the nominating county
    ("event_meetings", CD, D2): (1, 0, []),  # 23:50 Beijing
    ("event_meetings", CD, D3): (1, 0, []),
    ("event_agreements", CD, D3): (1, 0, []),
    ("event_amount", CD, D3): (Decimal("125000"), 0, []),
    ("bot_reads", JJ, D2): (1, 0, []),
    ("bot_reads", QY, D2): (3, 0, []),
    ("suspect_accounts", JJ, D1): (1, 0, []),
    ("suspect_accounts", QY, D2): (1, 0, []),
    ("gaming_confirmed", JJ, D1): (2, 0, []),
}


def _user(name: str, role: str, region: str | None = None, **fields: Any) -> User:
    return User.objects.create(
        username=name, display_name=name, role=role, region_id=region, **fields
    )


def _own(staff: User) -> int:
    assert staff.centre_id is not None
    return staff.centre_id


def _worker(name: str, region: str, created: datetime, **fields: Any) -> TalentProfile:
    return TalentProfile.objects.create(
        user=_user(name, Role.WORKER, region), region_id=region, created_at=created, **fields
    )


def _org(name: str, region: str, created: datetime, serial: str, **fields: Any) -> Organisation:
    values: dict[str, Any] = {"kind": Organisation.Kind.ENTERPRISE, **fields}
    if values["kind"] == Organisation.Kind.ENTERPRISE:
        values["uscc"] = make_uscc(region, serial)
    return Organisation.objects.create(name=name, region_id=region, created_at=created, **values)


def _citizen(name: str | None, region: str, created: datetime) -> CitizenProfile:
    user = _user(name, Role.CITIZEN, region) if name else None
    return CitizenProfile.objects.create(
        user=user,
        region_id=region,
        region_code=region,
        occupation="farmer",
        age_band="36-59",
        created_at=created,
    )


def _demand(org: Organisation, title: str, **fields: Any) -> Demand:
    values: dict[str, Any] = {"status": Demand.Status.SUBMITTED, **fields}
    return Demand.objects.create(
        organisation=org,
        region_id=org.region_id,
        title=title,
        description="…",
        category=Demand.Category.PROBLEM,
        **values,
    )


def _event(demand: Demand, to: str, when: datetime, reason: str = "", **fields: Any) -> None:
    DemandEvent.objects.create(
        demand=demand, from_status="", to_status=to, reason=reason, created_at=when, **fields
    )


def _case(demand: Demand, opened: datetime, **fields: Any) -> Case:
    region = fields.pop("region_id", demand.region_id)
    return Case.objects.create(
        demand=demand,
        region_id=region,
        centre=ServiceCentre.objects.get(region_id=region),
        step_started_at=opened,
        opened_at=opened,
        **fields,
    )


def _case_event(case: Case, kind: str, when: datetime, actor: User | None) -> None:
    CaseEvent.objects.create(case=case, kind=kind, actor=actor, created_at=when)


def _article(title: str, first: datetime, **fields: Any) -> Article:
    article = Article.objects.create(
        title=title,
        body="正文",
        topic="agriculture",
        status=Article.Status.PUBLISHED,
        published_at=first,
        **fields,
    )
    ContentVersion.objects.create(
        article=article, number=1, title=title, body="正文", published_at=first
    )
    return article


@pytest.fixture
def history(db: None) -> dict[str, Any]:
    Region.objects.create(
        code=TOWNSHIP,
        name="春熙路街道",
        level=Region.Level.TOWNSHIP,
        parent_id=JJ,
        path=f"510000/510100/{JJ}/{TOWNSHIP}/",
    )
    Region.objects.get_or_create(
        code=NOWHERE, defaults={"name": "贵州省", "level": Region.Level.PROVINCE, "path": "520000/"}
    )
    assert not ServiceCentre.objects.filter(region__path__startswith="520000/").exists()
    staff_jj, staff_qy, staff_cd = (
        make_staff("sjj", JJ),
        make_staff("sqy", QY),
        make_staff("scd", CD),
    )

    # Registration.
    w1 = _worker("w1", JJ, at(D1, 9), verified=True, verified_at=at(D2, 10))
    w2 = _worker("w2", TOWNSHIP, at(D1, 0, 30))
    w3 = _worker("w3", QY, at(D3, 23, 59))
    _worker("w4", NOWHERE, at(D1, 9))
    org_a = _org("甲公司", JJ, at(D1, 9), "1")
    org_b = _org("乙公司", QY, at(D1, 10), "2")
    org_c = _org("丙公司", CD, at(D2, 9), "3")
    _org("某研究所", JJ, at(D1, 9), "4", kind=Organisation.Kind.INSTITUTE)
    citizens = [_citizen(f"c{i}", JJ, at(D1, 8 + i)) for i in range(4)]
    _citizen("c-town", TOWNSHIP, at(D2, 23, 50))
    _citizen(None, QY, at(D3, 12))
    _citizen("c-far", NOWHERE, at(D1, 12))
    Team.objects.create(
        kind=Team.Kind.TEAM, name="茶叶团队", lead=w1, region_id=QY, created_at=at(D2, 9)
    )

    # Demands: 甲's user submits three flagged demands on D1 (a suspect account for 锦江区).
    erin = _user("erin", Role.ENTERPRISE, JJ, organisation=org_a)
    d1 = _demand(org_a, "需求一", published_at=at(D2, 9), status=Demand.Status.PUBLISHED)
    d2 = _demand(org_a, "需求二", published_at=at(D2, 10), status=Demand.Status.PUBLISHED)
    d3 = _demand(org_b, "需求三", published_at=at(D1, 15), status=Demand.Status.PUBLISHED)
    d4 = _demand(org_a, "需求四")
    d5 = _demand(org_b, "需求五", source=Demand.Source.PAPER)
    d6 = _demand(org_c, "需求六", published_at=at(D2, 11), status=Demand.Status.PUBLISHED)
    dup = "疑似重复：与需求 #9《茶园》相似度 0.91"
    _event(d1, "submitted", at(D1, 9, 30), dup, actor=erin)
    _event(d1, "returned", at(D1, 10), "请补充现状", actor=staff_jj)
    _event(d1, "submitted", at(D1, 11), dup, actor=erin)
    _event(d4, "submitted", at(D1, 12), dup, actor=erin)
    _event(d2, "returned", at(D1, 13), "缺少目标指标", automatic=True, actor=erin)
    _event(d2, "submitted", at(D2, 8), "套话比例 80%", actor=erin)
    _event(d3, "submitted", at(D1, 9), "", actor=erin)
    _event(
        d5, "submitted", at(D1, 14), "线下收集，由服务中心工作人员通过 Excel 导入", actor=staff_qy
    )

    # Cases.
    k1 = _case(
        d1,
        at(D2, 9),
        step=Step.CLOSED,
        outcome=Outcome.SOLVED,
        contract_number="HT-1",
        contract_amount=Decimal("12.50"),
        evidence="cases/evidence/a.pdf",
        rating=5,
        closed_at=at(D3, 10),
    )
    _case_event(k1, CaseEvent.Kind.OPENED, at(D2, 9), staff_jj)
    _case_event(k1, CaseEvent.Kind.NOTE, at(D2, 13), staff_jj)  # 4 working hours
    _case_event(k1, CaseEvent.Kind.CONFIRMED, at(D3, 10), erin)
    # Nobody acts for 16 working hours (until Friday 13 March 10:00): unowned and escalated.
    k2 = _case(
        d2,
        at(D2, 10),
        step=Step.UNSOLVABLE,
        outcome=Outcome.NOT_SOLVED,
        outcome_reason="无法解决",
        escalations=1,
        closed_at=at(D3, 11),
    )
    _case_event(k2, CaseEvent.Kind.ESCALATED, at(date(2026, 3, 13), 10), None)
    _case_event(k2, CaseEvent.Kind.NOTE, at(date(2026, 3, 16), 11), staff_jj)  # 7+8+8+2 h
    k3 = _case(
        d3,
        at(D1, 9),
        step=Step.CLOSED,
        outcome=Outcome.SOLVED,
        contract_number="HT-3",
        contract_amount=Decimal("3"),
        closed_at=at(D3, 16),
    )
    _case_event(k3, CaseEvent.Kind.OPENED, at(D1, 9), staff_qy)
    _case_event(k3, CaseEvent.Kind.ASSIGNED, at(D1, 9, 30), staff_qy)
    # Opened Thursday 2 April 09:00: its 16 working hours run out on Friday at 17:00.
    _case(d6, at(D3, 9))

    status, origin = DockingRequest.Status, DockingRequest.Origin
    DockingRequest.objects.create(
        case=k1,
        expert=w3,
        status=status.ACCEPTED,
        created_at=at(D2, 14),
        responded_at=at(D3, 9, 30),
    )
    DockingRequest.objects.create(
        case=k1,
        expert=w1,
        origin=origin.ENTERPRISE,
        status=status.DECLINED,
        decline_reason="时间冲突",
        created_at=at(D2, 8),
        decided_at=at(D2, 16),
        responded_at=at(D3, 9),
    )
    DockingRequest.objects.create(
        case=k3,
        expert=w1,
        origin=origin.WORKER,
        status=status.ACCEPTED,
        created_at=at(D1, 10),
        decided_at=at(D1, 17, 30),
        responded_at=at(D1, 17, 30),
    )
    DockingRequest.objects.create(
        case=k3,
        expert=w2,
        origin=origin.ENTERPRISE,
        status=status.REFUSED,
        refusal_reason="专家不合适",
        created_at=at(D1, 10),
        decided_at=at(D1, 11),
    )

    # Plans.
    plan_jj = ServicePlan.objects.create(profile=w1, centre_id=_own(staff_jj))
    plan_qy = ServicePlan.objects.create(profile=w3, centre_id=_own(staff_qy))
    for plan, done in [
        (plan_jj, at(D1, 10)),
        (plan_jj, at(D1, 11)),
        (plan_jj, at(D2, 10)),
        (plan_qy, at(D2, 10)),
        (plan_qy, None),
    ]:
        PlanAction.objects.create(plan=plan, title="事项", due_on=D3, done_at=done)

    # Popular science.
    a1 = _article("文章一", at(D1, 10), centre_id=_own(staff_jj))
    ContentVersion.objects.create(
        article=a1, number=2, title="文章一", body="正文", published_at=at(D2, 10)
    )
    a2 = _article("文章二", at(D2, 10), region_id=QY)
    a3 = _article("全省通用", at(D1, 10))
    campaign = Campaign.objects.create(
        title="推送",
        article=a1,
        channel="in_app",
        region_id=JJ,
        centre_id=_own(staff_cd),
        created_by=staff_cd,
        status=Campaign.Status.SENT,
        sent_at=at(D1, 10),
    )
    read_at = [at(D1, 12), at(D1 + timedelta(days=1), 20), at(D1 + timedelta(days=3), 9), None]
    for citizen, read in zip(citizens, read_at, strict=True):
        Delivery.objects.create(
            campaign=campaign, citizen=citizen, created_at=at(D1, 10), read_to_end_at=read
        )
    users = [c.user for c in citizens if c.user is not None]
    for user, correct in zip(users[:2], [1, 2], strict=True):
        QuizAttempt.objects.create(
            article=a1,
            user=user,
            phase="before",
            answers=[],
            correct=correct,
            total=3,
            created_at=at(D1, 11),
        )
    for user, correct in zip(users[:2], [3, 2], strict=True):
        QuizAttempt.objects.create(
            article=a1,
            user=user,
            phase="after",
            answers=[],
            correct=correct,
            total=3,
            created_at=at(D2, 11),
        )
    QuizAttempt.objects.create(
        article=a3,
        user=users[2],
        phase="before",
        answers=[],
        correct=3,
        total=3,
        created_at=at(D1, 11),
    )
    activity = Activity.objects.create(
        title="科普活动",
        region_id=QY,
        place="青羊区文化馆",
        starts_at=at(D2, 9),
        ends_at=at(D2, 11),
        capacity=30,
        centre_id=_own(staff_qy),
    )
    for user, checked in zip(users[:3], [at(D2, 9), at(D2, 23, 50), None], strict=True):
        ActivitySignup.objects.create(activity=activity, user=user, checked_in_at=checked)
    bot = users[3]
    for minute in range(3):
        ReadEvent.objects.create(article=a2, user=bot, opened_at=at(D2, 20, minute), flagged=True)
    ReadEvent.objects.create(article=a1, user=users[0], opened_at=at(D2, 8), flagged=True)
    ReadEvent.objects.create(article=a1, user=users[1], opened_at=at(D2, 8))

    # Integrity flags (the gaming indicators read them): 锦江区's demands d1 and d4 on D1 (d4
    # confirmed), d2 on D2; a cleared one on 乙's d3 counts nowhere. Accounts: erin is a quota
    # account of 锦江区 on D1 (confirmed) and a scripted reader there the same day (one
    # suspect); the bot reads 青羊区's content on D2; a cleared account flag counts nowhere.
    jj, qy = _own(staff_jj), _own(staff_qy)

    def flag(kind: str, subject: str, pk: int, centre: int, day: date, status: str) -> None:
        Flag.objects.create(
            kind=kind,
            subject_type=subject,
            subject_id=pk,
            centre_id=centre,
            day=day,
            reason="测试",
            confidence=0.9,
            status=status,
        )

    open_, confirmed, cleared = Flag.Status.OPEN, Flag.Status.CONFIRMED, Flag.Status.CLEARED
    flag(FlagKind.DUPLICATE_DEMAND, Subject.DEMAND, d1.pk, jj, D1, open_)
    flag(FlagKind.DUPLICATE_DEMAND, Subject.DEMAND, d4.pk, jj, D1, confirmed)
    flag(FlagKind.DUPLICATE_DEMAND, Subject.DEMAND, d2.pk, jj, D2, open_)
    flag(FlagKind.DUPLICATE_DEMAND, Subject.DEMAND, d3.pk, qy, D1, cleared)
    flag(FlagKind.QUOTA_ACCOUNT, Subject.ACCOUNT, erin.pk, jj, D1, confirmed)
    flag(FlagKind.SCRIPTED_READING, Subject.ACCOUNT, erin.pk, jj, D1, open_)
    flag(FlagKind.SCRIPTED_READING, Subject.ACCOUNT, bot.pk, qy, D2, open_)
    flag(FlagKind.QUOTA_ACCOUNT, Subject.ACCOUNT, users[0].pk, qy, D2, cleared)

    # A docking event of 成都市 (its own centre organises it): 锦江区's demand d1 exhibited,
    # three bookings of one slot, two checked in (D2 late evening, D3), one agreement on D3.
    # Its figures count for the organiser, 成都市, not for the exhibit's county.
    event = Event.objects.create(
        organiser_id=_own(staff_cd),
        region_id=CD,
        name="成都市科创会",
        kind=Event.Kind.FORUM,
        venue="成都",
        starts_at=at(D2, 9),
        ends_at=at(D3, 18),
        sign_up_closes_at=at(D1, 18),
        status=Event.Status.CLOSED,
    )
    exhibit = Exhibit.objects.create(
        event=event,
        kind=Exhibit.Kind.DEMAND,
        demand=d1,
        region_id=JJ,
        centre_id=jj,
        status=Exhibit.Status.ACCEPTED,
        decided_at=at(D1, 15),
    )
    slot = Slot.objects.create(
        event=event,
        exhibit=exhibit,
        place="A-01",
        starts_at=at(D2, 9),
        ends_at=at(D2, 10),
        capacity=3,
        booked=3,
    )
    met = None
    for code, checked in (
        ("AAAA2222", at(D2, 23, 50)),
        ("BBBB3333", at(D3, 9)),
        ("CCCC4444", None),
    ):
        booking = Booking.objects.create(
            event=event,
            slot=slot,
            person=_user(f"p{code}", Role.WORKER, JJ),
            code=code,
            checked_in_at=checked,
        )
        met = met or booking
    Agreement.objects.create(
        event=event,
        booking=met,
        exhibit=exhibit,
        contract_number="HT-E1",
        amount=Decimal("12.50"),
        signed_at=at(D3, 11),
    )
    return {"staff_jj": staff_jj, "k4_demand": d6}


def _centre(region_code: str) -> int:
    return ServiceCentre.objects.get(region_id=region_code).pk


def _day_rows() -> dict[tuple[str, str, date], tuple[Decimal, int, list[float]]]:
    return {
        (r.indicator, r.centre.region_id, r.start): (r.num, r.den, r.samples or [])
        for r in Rollup.objects.filter(grain=Rollup.Grain.DAY).select_related("centre")
    }


def _snapshot() -> set[tuple[Any, ...]]:
    return {
        (r.grain, r.start, r.indicator, r.centre_id, r.path, r.num, r.den, str(r.samples))
        for r in Rollup.objects.all()
    }


def _expected() -> dict[tuple[str, str, date], tuple[Decimal, int, list[float]]]:
    return {key: (Decimal(num), den, samples) for key, (num, den, samples) in EXPECTED.items()}


def test_the_registry_computes_exactly_the_catalogue() -> None:
    assert sorted(REGISTRY) == sorted(i.key for i in CATALOGUE)


@time_machine.travel(datetime(2026, 4, 3, 10, 0, tzinfo=BEIJING), tick=False)
def test_every_indicator_rolls_up_to_the_hand_known_figure_and_to_the_raw_figure(
    history: dict[str, Any],
) -> None:
    rollup_days(start=date(2026, 3, 1), end=date(2026, 4, 3))

    assert _day_rows() == _expected()
    assert {key for key, _, _ in EXPECTED} == {i.key for i in CATALOGUE}
    for (key, region, day), (num, den, samples) in _expected().items():
        raw = compute(key, day, day)
        assert raw[_centre(region)] == Cell(num=num, den=den, samples=samples), (key, day)
    # A range is the sum of its days: March's first responses, straight from the records.
    assert compute("first_response_hours", date(2026, 3, 1), date(2026, 3, 31)) == {
        _centre(QY): Cell(Decimal(0), 0, [0.5]),
        _centre(JJ): Cell(Decimal(0), 0, [4.0, 25.0]),
    }


@time_machine.travel(datetime(2026, 4, 3, 10, 0, tzinfo=BEIJING), tick=False)
def test_month_rows_are_the_sum_of_their_day_rows(history: dict[str, Any]) -> None:
    rollup_days(start=date(2026, 3, 1), end=date(2026, 4, 3))

    months = {
        (r.indicator, r.centre.region_id, r.start): (r.num, r.den, r.samples or [])
        for r in Rollup.objects.filter(grain=Rollup.Grain.MONTH).select_related("centre")
    }
    summed: dict[tuple[str, str, date], tuple[Decimal, int, list[float]]] = {}
    for (key, region, day), (num, den, samples) in _expected().items():
        month = (key, region, day.replace(day=1))
        n, d, s = summed.get(month, (Decimal(0), 0, []))
        summed[month] = (n + num, d + den, sorted(s + samples))
    assert months == summed
    assert months[("first_response_hours", JJ, date(2026, 3, 1))] == (Decimal(0), 0, [4.0, 25.0])
    assert months[("citizens_registered", JJ, date(2026, 3, 1))] == (Decimal(5), 0, [])


@time_machine.travel(datetime(2026, 4, 3, 10, 0, tzinfo=BEIJING), tick=False)
def test_the_city_and_province_rows_are_the_sums_of_their_centres_month_rows(
    history: dict[str, Any],
) -> None:
    rollup_days(start=date(2026, 3, 1), end=date(2026, 4, 3))

    areas = {
        (r.indicator, r.region_id, r.start): (r.num, r.den, r.samples or [])
        for r in AreaRollup.objects.all()
    }
    summed: dict[tuple[str, str, date], tuple[Decimal, int, list[float]]] = {}
    for (key, _centre_region, day), (num, den, samples) in _expected().items():
        # Every centre of the history lies in 成都市, so the city and the province agree.
        for area in (CD, "510000"):
            cell = (key, area, day.replace(day=1))
            n, d, s = summed.get(cell, (Decimal(0), 0, []))
            summed[cell] = (n + num, d + den, sorted(s + samples))
    assert areas == summed
    # Rebuilding a month again writes the same area rows, not a second set.
    rollup_days(start=date(2026, 3, 5), end=date(2026, 3, 5))
    assert AreaRollup.objects.count() == len(summed)


@time_machine.travel(datetime(2026, 4, 3, 10, 0, tzinfo=BEIJING), tick=False)
@pytest.mark.parametrize("token", ["2026-03", "2026-03-01~2026-04-03", "2026-03-20~2026-04-02"])
def test_the_regions_one_level_down_add_up_to_their_parent_over_any_period(
    history: dict[str, Any], token: str
) -> None:
    rollup_days(start=date(2026, 3, 1), end=date(2026, 4, 3))
    period = Period.parse(token)
    for code in ("510000", CD):
        parent = Region.objects.get(code=code)
        whole = figures(parent, period)
        parts = figures_by_child(parent, period)
        for key, figure in whole.items():
            added = (
                sum((p[key].num for p in parts.values()), Decimal(0)),
                sum(p[key].den for p in parts.values()),
                sorted(s for p in parts.values() for s in p[key].samples),
            )
            assert added == (figure.num, figure.den, sorted(figure.samples)), (code, key)
    # Not all zero: 成都市 carries the history in the province's ranking.
    province = figures_by_child(Region.objects.get(code="510000"), period)
    assert (
        province[CD]["cases_opened"].num
        == figures(Region.objects.get(code=CD), period)["cases_opened"].num
        > 0
    )


@time_machine.travel(datetime(2026, 4, 3, 10, 0, tzinfo=BEIJING), tick=False)
def test_ops_verify_names_an_altered_city_row(
    history: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("ops_rollup", "--from", "2026-03-01", "--to", "2026-04-03")
    AreaRollup.objects.filter(
        region_id=CD, indicator="cases_opened", start=date(2026, 3, 1)
    ).update(num=99)
    capsys.readouterr()

    with pytest.raises(CommandError, match="1 处汇总与原始记录不一致"):
        call_command("ops_verify", "--from", "2026-03-01", "--to", "2026-04-03")
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(
        "cases_opened 区域 510100 月 2026-03-01（各中心月汇总之和）: 已存 num=99 "
    )


@time_machine.travel(datetime(2026, 4, 3, 10, 0, tzinfo=BEIJING), tick=False)
def test_figures_over_whole_months_and_loose_days_add_up_rows_and_merge_medians(
    history: dict[str, Any],
) -> None:
    rollup_days(start=date(2026, 3, 1), end=date(2026, 4, 3))
    chengdu = Region.objects.get(code=CD)
    period = Period.custom(date(2026, 3, 1), date(2026, 4, 2))  # March whole, 1-2 April loose
    assert period.months() == [date(2026, 3, 1)]

    found = figures(chengdu, period)

    assert found["workers_registered"].value == 3.0
    assert found["citizens_registered"].value == 6.0
    assert found["first_response_hours"].value == 4.0  # the median of 0.5, 4 and 25
    assert found["closed_on_time_share"].value == pytest.approx(2 / 3)
    assert found["contract_amount"].value == 155000.0
    assert found["rated_share"].value == 0.5
    assert found["read_to_end_share"].value == 0.5
    assert figures(chengdu, Period.custom(date(2026, 3, 12), date(2026, 3, 31)))[
        "first_response_hours"
    ].samples == [25.0]
    by_child = figures_by_child(chengdu, period, ["cases_opened", "first_response_hours"])
    assert by_child[JJ]["cases_opened"].value == 2.0
    assert by_child[JJ]["first_response_hours"].value == pytest.approx(14.5)
    assert by_child[QY]["first_response_hours"].value == 0.5
    assert by_child[CD]["cases_opened"].value == 1.0  # the city's own centre
    sichuan = figures(Region.objects.get(code="510000"), period)
    assert {k: f.value for k, f in sichuan.items()} == {k: f.value for k, f in found.items()}


def test_rollup_refresh_is_incremental_and_idempotent(history: dict[str, Any]) -> None:
    with time_machine.travel(datetime(2026, 4, 3, 10, 0, tzinfo=BEIJING), tick=False):
        rollup_refresh()
        assert RollupState.objects.get().last_complete_day == date(2026, 4, 2)
        assert _day_rows() == _expected()  # backfilled from the earliest record (10 March)
        first = _snapshot()

        rollup_refresh()
        assert _snapshot() == first

        _worker("w5", QY, datetime(2026, 4, 3, 9, 0, tzinfo=BEIJING))
        assert _day_rows().get(("workers_registered", QY, date(2026, 4, 3))) is None
        rollup_refresh()
        assert _day_rows()[("workers_registered", QY, date(2026, 4, 3))] == (Decimal(1), 0, [])

    # Days well before the watermark are not recomputed: an altered March row stays altered.
    Rollup.objects.filter(grain=Rollup.Grain.DAY, indicator="cases_opened", start=D2).update(num=99)
    with time_machine.travel(datetime(2026, 4, 7, 10, 0, tzinfo=BEIJING), tick=False):
        rollup_refresh()
    rows = _day_rows()
    assert RollupState.objects.get().last_complete_day == date(2026, 4, 6)
    assert rows[("cases_opened", JJ, D2)] == (Decimal(99), 0, [])
    # The case opened on 2 April ran out of time on Friday 3 April at 17:00: unowned then.
    assert rows[("unowned_cases", CD, date(2026, 4, 3))] == (Decimal(1), 0, [])


@time_machine.travel(datetime(2026, 4, 3, 10, 0, tzinfo=BEIJING), tick=False)
def test_ops_verify_passes_on_a_fresh_rebuild_and_names_an_altered_row(
    history: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("ops_rollup", "--from", "2026-03-01", "--to", "2026-04-03")
    assert "已重建 2026-03-01 至 2026-04-03：34 天、2 个月" in capsys.readouterr().out

    call_command("ops_verify", "--from", "2026-03-01", "--to", "2026-04-03")
    assert "全部一致" in capsys.readouterr().out

    Rollup.objects.filter(grain=Rollup.Grain.DAY, indicator="demands_returned", start=D1).update(
        num=3
    )
    with pytest.raises(CommandError, match="2 处汇总与原始记录不一致") as raised:
        call_command("ops_verify", "--from", "2026-03-01", "--to", "2026-04-03")
    assert raised.value.returncode == 1
    # The day row against the records, and March's row against its (now altered) days.
    centre = f"{ServiceCentre.objects.get(region_id=JJ).name}（#{_centre(JJ)}）"
    assert capsys.readouterr().err.splitlines() == [
        f"demands_returned {centre}日 2026-03-10: 已存 num=3 den=0，重算 num=2 den=0",
        f"demands_returned {centre}月 2026-03-01: 已存 num=2 den=0，重算 num=3 den=0",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-02-30", "2026-03-01", "开始日期“2026-02-30”不是有效日期"),
        ("2026-03-01", "明天", "结束日期“明天”不是有效日期"),
        ("2026-03-02", "2026-03-01", "结束日期 2026-03-01 早于开始日期 2026-03-02"),
    ],
)
def test_bad_dates_are_refused_in_chinese_and_change_nothing(
    start: str, end: str, message: str
) -> None:
    for command in ("ops_rollup", "ops_verify"):
        with pytest.raises(CommandError, match=message):
            call_command(command, "--from", start, "--to", end)
    assert Rollup.objects.count() == 0


@time_machine.travel(datetime(2026, 4, 3, 10, 0, tzinfo=BEIJING), tick=False)
def test_the_periodic_jobs_refresh_the_rollups_every_ten_minutes(history: dict[str, Any]) -> None:
    jobs = {job.name: job for job in jobs_from_schedule(settings.CELERY_BEAT_SCHEDULE)}
    assert jobs["rollup-ops"] == Job(name="rollup-ops", task="ops.rollup_refresh", every=600.0)

    run = job_run(jobs["rollup-ops"])  # as `manage.py run_periodic` runs it

    assert run.ok, run.error
    assert RollupState.objects.get().last_complete_day == date(2026, 4, 2)
    assert _day_rows() == _expected()


@pytest.mark.django_db
def test_a_case_the_working_calendar_does_not_cover_is_left_out_of_the_hours_not_the_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    day = date(2000, 1, 4)  # before the first year chinese-calendar knows
    org = _org("丁公司", JJ, at(day, 9), "5")
    case = _case(_demand(org, "旧需求"), at(day, 9))
    _case_event(case, CaseEvent.Kind.NOTE, at(day, 11), make_staff("sold", JJ))

    rollup_days(start=date(2000, 1, 1), end=date(2000, 1, 31))

    assert _day_rows() == {
        ("enterprises_registered", JJ, day): (Decimal(1), 0, []),
        ("cases_opened", JJ, day): (Decimal(1), 0, []),
    }
    assert f"case {case.pk}: no working calendar for its dates" in caplog.text


def test_a_flag_decided_weeks_later_changes_its_days_rollup_on_the_next_run(
    history: dict[str, Any],
) -> None:
    with time_machine.travel(datetime(2026, 4, 3, 10, 0, tzinfo=BEIJING), tick=False):
        rollup_refresh()
    with time_machine.travel(datetime(2026, 4, 20, 10, 0, tzinfo=BEIJING), tick=False):
        rollup_refresh()  # the watermark moves past March
    rows = _day_rows()
    assert rows[("demands_flagged", JJ, D1)][0] == 2
    assert ("gaming_confirmed", JJ, D2) not in rows

    province = make_staff("pat", "510000")
    with time_machine.travel(datetime(2026, 4, 20, 11, 0, tzinfo=BEIJING), tick=False):
        d2 = Flag.objects.get(day=D2, subject_type=Subject.DEMAND)
        flag_decide(d2, province, "confirm", "", d2.version)
        d1 = Flag.objects.get(day=D1, subject_type=Subject.DEMAND, status=Flag.Status.OPEN)
        flag_decide(d1, province, "clear", "重新提交的是同一条需求", d1.version)
    with time_machine.travel(datetime(2026, 4, 20, 11, 10, tzinfo=BEIJING), tick=False):
        rollup_refresh()
    rows = _day_rows()
    assert rows[("demands_flagged", JJ, D1)][0] == 1
    assert rows[("gaming_confirmed", JJ, D2)][0] == 1
    assert not rollup_verify(start=date(2026, 3, 1), end=date(2026, 4, 20)).mismatches
