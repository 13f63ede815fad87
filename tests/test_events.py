"""Service conferences and docking events: the event workflow, exhibits from the centres,
slots and bookings (capacity, close, duplicates), check-in by code, agreements recorded on the
cases, the figures in operations data, and who may open which page."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Organisation, User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.cases.dockings.services import docking_respond, docking_send
from kejiyun.cases.models import Case, CaseEvent, DockingRequest, Outcome, Step
from kejiyun.cases.workflow.services import case_confirm, case_transition
from kejiyun.common.errors import NotPermitted
from kejiyun.demands.models import Demand
from kejiyun.events.models import Agreement, Booking, Event, EventChange, Exhibit, Slot
from kejiyun.events.selectors import event_figures
from kejiyun.events.services import (
    CODE_ALPHABET,
    AgreementInput,
    EventError,
    EventInput,
    StaleEvent,
    agreement_record,
    booking_cancel,
    booking_check_in,
    booking_create,
    event_create,
    event_transition,
    exhibit_decide,
    exhibit_nominate,
    slot_create,
)
from kejiyun.ops.compute import beijing_day, compute
from kejiyun.regions.models import ServiceCentre
from kejiyun.regions.services import regions_load, service_centres_ensure
from kejiyun.talent.models import TalentProfile, TechResult
from tests.builders import (
    case_to_matching,
    client_for,
    make_case,
    make_demand,
    make_enterprise,
    make_enterprise_user,
    make_event,
    make_staff,
    make_worker,
    pdf_upload,
)

S = Event.Status


def snapshot() -> tuple[object, ...]:
    return (
        list(Event.objects.values_list("id", "status", "version").order_by("id")),
        list(Exhibit.objects.values_list("id", "status").order_by("id")),
        list(Slot.objects.values_list("id", "booked").order_by("id")),
        list(Booking.objects.values_list("id", "status", "checked_in_at").order_by("id")),
        Agreement.objects.count(),
        list(Case.objects.values_list("id", "step", "version").order_by("id")),
        DockingRequest.objects.count(),
    )


@pytest.fixture
def conference(pat: User) -> Event:
    return make_event(pat, status=S.COLLECTING)


@pytest.fixture
def case(alice: User) -> Case:
    """A case of 企业1 in 锦江区, in matching."""
    return case_to_matching(make_case(alice), alice)


@pytest.fixture
def wang(db: None) -> TalentProfile:
    """An S&T worker in 锦江区."""
    return make_worker("wang", "510104", "13800000001")


@pytest.fixture
def exhibit(conference: Event, case: Case, alice: User, pat: User) -> Exhibit:
    """The case's demand, nominated by 锦江区 and accepted by the province."""
    exhibit = exhibit_nominate(event=conference, actor=alice, demand=case.demand)
    return exhibit_decide(exhibit=exhibit, actor=pat, accept=True)


@pytest.fixture
def slot(exhibit: Exhibit, conference: Event, pat: User) -> Slot:
    slot = slot_create(
        exhibit=exhibit,
        actor=pat,
        place="A-01",
        starts_at=conference.starts_at + timedelta(hours=1),
        ends_at=conference.starts_at + timedelta(hours=2),
        capacity=2,
    )
    event_transition(event=conference, to=S.OPEN, actor=pat, version=conference.version)
    slot.event.refresh_from_db()
    return slot


def _booking(slot: Slot, person: User) -> Booking:
    return booking_create(slot=slot, actor=person)


# --- the event ---------------------------------------------------------------------------------


def test_the_event_moves_from_draft_to_closed_one_step_at_a_time_with_history_and_audit(
    pat: User,
) -> None:
    event = make_event(pat)
    assert (event.status, event.kind, event.region_id) == (S.DRAFT, Event.Kind.CONFERENCE, "510000")
    for to in (S.COLLECTING, S.OPEN, S.RUNNING, S.CLOSED):
        event_transition(event=event, to=to, actor=pat, version=event.version)
    event.refresh_from_db()
    assert (event.status, event.version) == (S.CLOSED, 5)
    moves = list(EventChange.objects.filter(event=event).values_list("from_status", "to_status"))
    assert moves == [
        ("", "draft"),
        ("draft", "collecting"),
        ("collecting", "open"),
        ("open", "running"),
        ("running", "closed"),
    ]
    assert AuditEvent.objects.filter(action=AuditAction.EVENT_MANAGE, user=pat).count() == 5


@pytest.mark.parametrize(
    ("start", "to"),
    [(S.DRAFT, S.OPEN), (S.COLLECTING, S.RUNNING), (S.OPEN, S.DRAFT), (S.CLOSED, S.RUNNING)],
)
def test_a_move_the_table_does_not_list_is_refused_and_writes_nothing(
    pat: User, start: str, to: str
) -> None:
    event = make_event(pat, status=start)
    before = (snapshot(), EventChange.objects.count(), AuditEvent.objects.count())
    with pytest.raises(EventError, match="不能把"):
        event_transition(event=event, to=to, actor=pat, version=event.version)
    assert (snapshot(), EventChange.objects.count(), AuditEvent.objects.count()) == before


def test_a_stale_page_cannot_move_the_event(pat: User) -> None:
    event = make_event(pat)
    stale = event.version
    event_transition(event=event, to=S.COLLECTING, actor=pat, version=stale)
    again = Event.objects.get(pk=event.pk)
    with pytest.raises(StaleEvent, match="已被他人修改"):
        event_transition(event=again, to=S.OPEN, actor=pat, version=stale)
    assert Event.objects.get(pk=event.pk).status == S.COLLECTING


def test_the_province_holds_a_conference_a_city_a_forum_and_a_county_neither(
    pat: User, bob: User, alice: User
) -> None:
    forum = make_event(bob, name="成都市科创会")
    assert (forum.kind, forum.organiser.region_id) == (Event.Kind.FORUM, "510100")
    starts = timezone.now() + timedelta(days=3)
    data = EventInput(
        name="区县活动",
        kind=Event.Kind.FORUM,
        venue="锦江区",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        sign_up_closes_at=starts,
    )
    with pytest.raises(NotPermitted):
        event_create(actor=alice, data=data)
    with pytest.raises(EventError, match="服务大会"):
        event_create(actor=pat, data=data)
    bad = EventInput(**{**data.__dict__, "kind": Event.Kind.CONFERENCE, "ends_at": starts})
    with pytest.raises(EventError, match="结束时间须晚于开始时间"):
        event_create(actor=pat, data=bad)
    assert Event.objects.count() == 1


def test_staff_outside_the_organisers_jurisdiction_get_404_and_nothing_changes(
    bob: User, alice: User, charlie: User, pat: User
) -> None:
    forum = make_event(bob, name="成都市科创会", status=S.COLLECTING)
    before = snapshot()
    for user in (alice, charlie):
        client = client_for(user)
        for name in ("manage_detail", "checkin", "report"):
            assert client.get(reverse(f"events:{name}", args=[forum.pk])).status_code == 404
        move = reverse("events:move", args=[forum.pk])
        assert client.post(move, {"to": "open", "version": forum.version}).status_code == 404
    # 青川县 (广元市) is not inside 成都市: it may not even nominate.
    assert client_for(charlie).get(reverse("events:nominate", args=[forum.pk])).status_code == 404
    assert client_for(alice).get(reverse("events:nominate", args=[forum.pk])).status_code == 200
    # The province is above the city: it organises the city's forum too.
    assert client_for(pat).get(reverse("events:manage_detail", args=[forum.pk])).status_code == 200
    assert snapshot() == before


# --- exhibits ----------------------------------------------------------------------------------


def test_a_county_nominates_its_own_published_demand_and_a_result_for_transfer(
    conference: Event, alice: User, tea_company: Organisation, wang: TalentProfile
) -> None:
    demand = make_demand(tea_company, title="茶园病虫害防控")
    result = TechResult.objects.create(
        owner_profile=wang, kind=TechResult.Kind.PATENT, title="茶叶采摘机", for_transfer=True
    )
    client = client_for(alice)
    url = reverse("events:nominate", args=[conference.pk])
    page = client.get(url).content.decode()
    assert "茶园病虫害防控" in page and "茶叶采摘机" in page
    assert client.post(url, {"demand": demand.pk, "note": "典型"}).status_code == 302
    assert client.post(url, {"result": result.pk}).status_code == 302
    rows = list(Exhibit.objects.values_list("kind", "status", "centre__region_id", "note"))
    assert rows == [
        ("demand", "nominated", "510104", "典型"),
        ("result", "nominated", "510104", ""),
    ]
    with pytest.raises(EventError, match="已推荐过"):
        exhibit_nominate(event=conference, actor=alice, demand=demand)


def test_nominating_another_countys_demand_is_404_and_nothing_changes(
    conference: Event, alice: User, charlie: User
) -> None:
    qingchuan = make_enterprise("青川木耳", "510822", "MA6100009")
    demand = make_demand(qingchuan, title="木耳烘干")
    before = snapshot()
    response = client_for(alice).post(
        reverse("events:nominate", args=[conference.pk]), {"demand": demand.pk}
    )
    assert response.status_code == 404
    with pytest.raises(NotPermitted):
        exhibit_nominate(event=conference, actor=alice, demand=demand)
    assert snapshot() == before
    # 青川县's own staff may nominate it to the province's conference.
    exhibit_nominate(event=conference, actor=charlie, demand=demand)
    assert Exhibit.objects.get().centre.region_id == "510822"


def test_a_private_demand_cannot_be_exhibited_and_is_not_offered(
    conference: Event, alice: User, tea_company: Organisation
) -> None:
    demand = make_demand(tea_company, title="保密配方", confidentiality="private")
    page = client_for(alice).get(reverse("events:nominate", args=[conference.pk]))
    assert "保密配方" not in page.content.decode()
    response = client_for(alice).post(
        reverse("events:nominate", args=[conference.pk]), {"demand": demand.pk}, follow=True
    )
    assert "该需求设为“不公开”，不能参展。" in response.content.decode()
    assert Exhibit.objects.count() == 0


def test_nomination_is_only_while_collecting_and_only_of_published_demands(
    pat: User, alice: User, tea_company: Organisation
) -> None:
    draft = make_demand(tea_company, title="草稿需求", status=Demand.Status.DRAFT)
    published = make_demand(tea_company, title="已发布")
    event = make_event(pat, status=S.COLLECTING)
    with pytest.raises(EventError, match="已发布的需求"):
        exhibit_nominate(event=event, actor=alice, demand=draft)
    event_transition(event=event, to=S.OPEN, actor=pat, version=event.version)
    with pytest.raises(EventError, match="不在征集展项阶段"):
        exhibit_nominate(event=event, actor=alice, demand=published)
    assert Exhibit.objects.count() == 0


def test_the_public_page_never_shows_a_summary_demands_description(
    conference: Event, alice: User, pat: User, tea_company: Organisation
) -> None:
    summary = make_demand(
        tea_company,
        title="摘要需求",
        description="机密工艺参数不得外传",
        industry="茶叶种植",
        confidentiality="summary",
    )
    public = make_demand(tea_company, title="公开需求", description="欢迎专家来谈的公开描述")
    for demand in (summary, public):
        exhibit_decide(
            exhibit=exhibit_nominate(event=conference, actor=alice, demand=demand),
            actor=pat,
            accept=True,
        )
    page = client_for(alice).get(reverse("events:detail", args=[conference.pk]))
    text = page.content.decode()
    assert "摘要需求" in text and "茶叶种植" in text
    assert "机密工艺参数不得外传" not in text
    assert "欢迎专家来谈的公开描述" in text
    anonymous = client_for(alice)
    anonymous.logout()
    assert "机密工艺参数不得外传" not in anonymous.get(page.wsgi_request.path).content.decode()


def test_declining_needs_a_reason_and_a_declined_exhibit_is_not_shown(
    conference: Event, alice: User, pat: User, tea_company: Organisation
) -> None:
    exhibit = exhibit_nominate(
        event=conference, actor=alice, demand=make_demand(tea_company, title="落选需求")
    )
    with pytest.raises(EventError, match="请说明未入选的原因"):
        exhibit_decide(exhibit=exhibit, actor=pat, accept=False)
    exhibit_decide(exhibit=exhibit, actor=pat, accept=False, reason="与大会主题不符")
    assert Exhibit.objects.get().decline_reason == "与大会主题不符"
    with pytest.raises(EventError, match="已经审核过"):
        exhibit_decide(exhibit=exhibit, actor=pat, accept=True)
    page = client_for(pat).get(reverse("events:detail", args=[conference.pk]))
    assert "落选需求" not in page.content.decode()


def test_a_draft_event_has_no_public_page(pat: User) -> None:
    event = make_event(pat)
    assert client_for(pat).get(reverse("events:detail", args=[event.pk])).status_code == 404
    assert event.name not in client_for(pat).get(reverse("events:list")).content.decode()


# --- bookings ----------------------------------------------------------------------------------


def test_a_booking_gets_an_unguessable_code_and_the_slot_counts_it(
    slot: Slot, wang: TalentProfile, erin: User
) -> None:
    one = _booking(slot, wang.user)
    two = _booking(slot, erin)
    for booking in (one, two):
        assert re.fullmatch(f"[{CODE_ALPHABET}]{{8}}", booking.code)
    assert one.code != two.code
    assert Slot.objects.get(pk=slot.pk).booked == 2


def test_capacity_is_never_exceeded(slot: Slot, wang: TalentProfile, erin: User) -> None:
    _booking(slot, wang.user)
    _booking(slot, erin)
    third = make_worker("li", "510104", "13800000002").user
    before = snapshot()
    with pytest.raises(EventError, match="名额已满"):
        _booking(slot, third)
    assert snapshot() == before
    assert Slot.objects.get(pk=slot.pk).booked == 2


def test_the_database_refuses_an_overbooked_slot_even_past_the_service(slot: Slot) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(booked=slot.capacity + 1)


def test_a_duplicate_booking_is_refused_and_a_cancelled_place_can_be_booked_again(
    slot: Slot, wang: TalentProfile
) -> None:
    first = _booking(slot, wang.user)
    with pytest.raises(EventError, match="您已预约这一时段"):
        _booking(slot, wang.user)
    assert Slot.objects.get(pk=slot.pk).booked == 1
    booking_cancel(booking=first, actor=wang.user)
    assert Slot.objects.get(pk=slot.pk).booked == 0
    again = _booking(slot, wang.user)
    assert again.code != first.code
    assert Slot.objects.get(pk=slot.pk).booked == 1


def test_booking_after_sign_up_closes_is_refused(slot: Slot, wang: TalentProfile) -> None:
    closes = slot.event.sign_up_closes_at
    with time_machine.travel(closes, tick=False), pytest.raises(EventError, match="报名已截止"):
        _booking(slot, wang.user)
    assert Booking.objects.count() == 0


def test_only_enterprises_and_workers_book_and_only_while_open(
    slot: Slot, alice: User, dora: User, pat: User, wang: TalentProfile
) -> None:
    for user in (alice, dora):
        with pytest.raises(NotPermitted):
            _booking(slot, user)
    event = slot.event
    event_transition(event=event, to=S.RUNNING, actor=pat, version=event.version)
    slot.event.refresh_from_db()
    with pytest.raises(EventError, match="不接受报名"):
        _booking(slot, wang.user)
    assert Booking.objects.count() == 0


def test_cancelling_is_refused_once_the_event_has_started(
    slot: Slot, wang: TalentProfile, erin: User
) -> None:
    booking = _booking(slot, wang.user)
    with pytest.raises(NotPermitted):
        booking_cancel(booking=booking, actor=erin)
    starts = slot.event.starts_at
    with time_machine.travel(starts, tick=False), pytest.raises(EventError, match="活动已开始"):
        booking_cancel(booking=booking, actor=wang.user)
    assert Booking.objects.get().status == Booking.Status.BOOKED


def test_a_worker_books_on_the_page_and_sees_the_code(slot: Slot, wang: TalentProfile) -> None:
    client = client_for(wang.user)
    response = client.post(reverse("events:book", args=[slot.pk]), follow=True)
    booking = Booking.objects.get()
    text = response.content.decode()
    assert f"您的签到码是 {booking.code}" in text
    assert text.count(booking.code) == 2  # the message and the card
    mine = client_for(wang.user).get(reverse("events:mine")).content.decode()
    assert booking.code in mine


RACERS = 6


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises all writers")
def test_racing_sign_ups_for_the_last_places_never_overbook() -> None:
    regions_load()
    service_centres_ensure(province_code="510000")
    pat = make_staff("pat", "510000")
    alice = make_staff("alice", "510104")
    case = case_to_matching(make_case(alice), alice)
    event = make_event(pat, status=S.COLLECTING)
    exhibit = exhibit_decide(
        exhibit=exhibit_nominate(event=event, actor=alice, demand=case.demand),
        actor=pat,
        accept=True,
    )
    slot = slot_create(
        exhibit=exhibit,
        actor=pat,
        place="B-02",
        starts_at=event.starts_at,
        ends_at=event.starts_at + timedelta(hours=1),
        capacity=2,
    )
    event_transition(event=event, to=S.OPEN, actor=pat, version=event.version)
    people = [make_worker(f"w{i}", "510104", f"1380000010{i}").user for i in range(RACERS)]
    booked: list[str] = []
    full: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(RACERS)

    def act(index: int) -> None:
        try:
            mine = Slot.objects.select_related("event", "exhibit").get(pk=slot.pk)
            start.wait()
            try:
                booked.append(booking_create(slot=mine, actor=people[index]).code)
            except EventError:
                full.append("full")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert (len(booked), len(full)) == (2, RACERS - 2)
    assert Slot.objects.get(pk=slot.pk).booked == 2
    assert Booking.objects.filter(slot=slot, status="booked").count() == 2


# --- check-in ----------------------------------------------------------------------------------


def _check_in(client: Any, event: Event, code: str) -> str:
    response = client.post(reverse("events:checkin", args=[event.pk]), {"code": code})
    return str(response.content.decode())


def test_check_in_by_code_right_wrong_twice_and_another_events(
    slot: Slot, wang: TalentProfile, pat: User, bob: User
) -> None:
    booking = _booking(slot, wang.user)
    event = slot.event
    other_event = make_event(bob, name="成都市科创会", status=S.OPEN)
    client = client_for(pat)
    page = _check_in(client, event, booking.code.lower()[:4] + " " + booking.code.lower()[4:])
    assert "签到成功" in page and "Wang" in page and "A-01" in page
    assert Booking.objects.get().checked_in_by == pat
    assert AuditEvent.objects.filter(action=AuditAction.EVENT_CHECKIN).count() == 1
    second = _check_in(client, event, booking.code)
    assert "Wang 已于" in second and "无需重复签到" in second
    wrong = "".join("2" if c != "2" else "3" for c in booking.code)
    assert "签到码无效" in _check_in(client, event, wrong)
    assert "签到码为 8 位字母和数字" in _check_in(client, event, "ABC")
    # The code of this event means nothing at another event.
    assert "签到码无效" in _check_in(client, other_event, booking.code)
    assert AuditEvent.objects.filter(action=AuditAction.EVENT_CHECKIN).count() == 1


def test_a_cancelled_booking_cannot_check_in(slot: Slot, wang: TalentProfile, pat: User) -> None:
    booking = _booking(slot, wang.user)
    booking_cancel(booking=booking, actor=wang.user)
    with pytest.raises(EventError, match="已取消"):
        booking_check_in(event=slot.event, code=booking.code, actor=pat)
    assert Booking.objects.get().checked_in_at is None


def test_county_staff_cannot_check_anyone_in_at_the_province_conference(
    slot: Slot, wang: TalentProfile, alice: User
) -> None:
    booking = _booking(slot, wang.user)
    with pytest.raises(NotPermitted):
        booking_check_in(event=slot.event, code=booking.code, actor=alice)
    response = client_for(alice).post(
        reverse("events:checkin", args=[slot.event_id]), {"code": booking.code}
    )
    assert response.status_code == 404
    assert Booking.objects.get().checked_in_at is None


# --- agreements --------------------------------------------------------------------------------


def _met(slot: Slot, person: User, pat: User) -> Booking:
    booking = _booking(slot, person)
    booking_check_in(event=slot.event, code=booking.code, actor=pat)
    event = Event.objects.get(pk=slot.event_id)
    if event.status == S.OPEN:
        event_transition(event=event, to=S.RUNNING, actor=pat, version=event.version)
    booking.refresh_from_db()
    return Booking.objects.select_related("event", "slot__exhibit__demand", "person").get(
        pk=booking.pk
    )


def test_an_agreement_that_settles_records_docking_and_outcome_and_the_enterprise_closes_it(
    slot: Slot, wang: TalentProfile, pat: User, case: Case
) -> None:
    booking = _met(slot, wang.user, pat)
    agreement = agreement_record(
        booking=booking,
        actor=pat,
        data=AgreementInput(
            contract_number="HT-2026-001",
            amount=Decimal("35.50"),
            settles=True,
            evidence=pdf_upload(),
        ),
    )
    case.refresh_from_db()
    docking = DockingRequest.objects.get(case=case)
    assert (docking.expert, docking.origin, docking.status) == (wang, "event", "accepted")
    assert agreement.docking == docking and agreement.case == case
    assert (case.step, case.outcome, case.contract_number, case.contract_amount) == (
        Step.ACCEPTANCE,
        Outcome.SOLVED,
        "HT-2026-001",
        Decimal("35.50"),
    )
    assert case.evidence_sha256 != ""
    timeline = list(case.events.values_list("kind", "from_step", "to_step"))
    assert timeline[-5:] == [
        (CaseEvent.Kind.DOCKING, "", ""),
        (CaseEvent.Kind.TRANSITION, "matching", "docking"),
        (CaseEvent.Kind.TRANSITION, "docking", "agreement"),
        (CaseEvent.Kind.TRANSITION, "agreement", "delivery"),
        (CaseEvent.Kind.OUTCOME, "delivery", "acceptance"),
    ]
    signing = case.events.get(to_step="agreement")
    assert "现场签约：合同 HT-2026-001，35.50 万元" in signing.reason
    assert AuditEvent.objects.filter(action=AuditAction.EVENT_AGREEMENT).count() == 1
    # The enterprise confirms as for any case, which closes it.
    enterprise = make_enterprise_user(case.demand.organisation, "qiye1")
    case_confirm(case=case, actor=enterprise, rating=5)
    case.refresh_from_db()
    assert (case.step, case.outcome) == (Step.CLOSED, Outcome.SOLVED)
    assert Demand.objects.get(pk=case.demand_id).status == Demand.Status.CLOSED


def test_an_agreement_that_does_not_settle_leaves_the_case_in_agreement(
    slot: Slot, wang: TalentProfile, pat: User, case: Case
) -> None:
    booking = _met(slot, wang.user, pat)
    agreement_record(
        booking=booking,
        actor=pat,
        data=AgreementInput(contract_number="HT-1", amount=Decimal("10")),
    )
    case.refresh_from_db()
    assert (case.step, case.outcome) == (Step.AGREEMENT, Outcome.NONE)
    with pytest.raises(EventError, match="已经登记过签约"):
        agreement_record(
            booking=booking,
            actor=pat,
            data=AgreementInput(contract_number="HT-2", amount=Decimal("10")),
        )
    assert Agreement.objects.count() == 1


def test_agreements_are_refused_without_a_check_in_a_worker_or_a_case_in_reach(
    slot: Slot, wang: TalentProfile, pat: User, case: Case, alice: User
) -> None:
    unmet = _booking(slot, wang.user)
    event = Event.objects.get(pk=slot.event_id)
    event_transition(event=event, to=S.RUNNING, actor=pat, version=event.version)
    data = AgreementInput(contract_number="HT-9", amount=Decimal("1"))
    unmet.refresh_from_db()
    with pytest.raises(EventError, match="已签到"):
        agreement_record(booking=unmet, actor=pat, data=data)
    booking_check_in(event=event, code=unmet.code, actor=pat)
    # The case found its expert without the event and went on to agreement: the on-site
    # agreement cannot be recorded on it, and nothing at all is written.
    zhao = make_worker("zhao", "510104", "13800000003")
    docking = docking_send(case=case, expert=zhao, actor=alice)
    docking_respond(docking=docking, actor=zhao.user, accept=True)
    case_transition(case=case, to_step=Step.AGREEMENT, actor=alice)
    met = Booking.objects.select_related("event", "slot__exhibit__demand", "person").get(
        pk=unmet.pk
    )
    before = snapshot()
    with pytest.raises(EventError, match="案例无法登记这次签约"):
        agreement_record(booking=met, actor=pat, data=data)
    assert snapshot() == before


def test_an_enterprise_booking_on_a_demand_exhibit_is_not_an_expert(
    slot: Slot, erin: User, pat: User
) -> None:
    booking = _met(slot, erin, pat)
    before = snapshot()
    with pytest.raises(EventError, match="科技工作者"):
        agreement_record(
            booking=booking,
            actor=pat,
            data=AgreementInput(contract_number="HT-3", amount=Decimal("2")),
        )
    assert snapshot() == before


def test_the_figures_count_for_the_organisers_centre_on_the_day_and_on_the_report(
    slot: Slot, wang: TalentProfile, erin: User, pat: User
) -> None:
    booking = _met(slot, wang.user, pat)
    _booking(slot, erin)  # booked, not checked in
    agreement_record(
        booking=booking,
        actor=pat,
        data=AgreementInput(contract_number="HT-7", amount=Decimal("12.5")),
    )
    figures = event_figures(slot.event)
    assert (figures.exhibits, figures.bookings, figures.meetings, figures.agreements) == (
        1,
        2,
        1,
        1,
    )
    assert figures.amount == Decimal("12.50")
    today = beijing_day(timezone.now())
    province = ServiceCentre.objects.get(region_id="510000").pk
    for key, value in (
        ("event_meetings", Decimal(1)),
        ("event_agreements", Decimal(1)),
        ("event_amount", Decimal(125000)),
    ):
        cells = compute(key, today, today)
        assert {c: cell.num for c, cell in cells.items()} == {province: value}, key
    page = client_for(pat).get(reverse("events:report", args=[slot.event_id])).content.decode()
    assert 'data-figure="agreements">1<' in page and 'data-figure="meetings">1<' in page
    assert "HT-7" in page


# --- pages and authorisation -------------------------------------------------------------------


def test_every_url_answers_each_role_as_the_rules_say(
    slot: Slot, wang: TalentProfile, pat: User, bob: User, alice: User, charlie: User, erin: User
) -> None:
    event = slot.event
    booking = _booking(slot, wang.user)
    exhibit = slot.exhibit
    staff_gets = ["manage_detail", "checkin", "report"]
    for user, status in ((pat, 200), (bob, 404), (alice, 404), (charlie, 404), (erin, 404)):
        client = client_for(user)
        for name in staff_gets:
            response = client.get(reverse(f"events:{name}", args=[event.pk]))
            assert response.status_code == status, (user, name)
        target = reverse("events:agreement", args=[event.pk, booking.pk])
        assert client.get(target).status_code == status, (user, "agreement")
    before = snapshot()
    for user in (bob, alice, charlie, erin):
        client = client_for(user)
        posts = [
            (reverse("events:move", args=[event.pk]), {"to": "running", "version": event.version}),
            (reverse("events:decide", args=[event.pk, exhibit.pk]), {"accept": "0", "reason": "x"}),
            (reverse("events:slot_new", args=[event.pk]), {"exhibit": exhibit.pk}),
            (reverse("events:checkin", args=[event.pk]), {"code": booking.code}),
            (reverse("events:agreement", args=[event.pk, booking.pk]), {"contract_number": "x"}),
        ]
        for target, data in posts:
            assert client.post(target, data).status_code == 404, (user, target)
        # Someone else's booking cannot be cancelled.
        assert client.post(reverse("events:cancel", args=[booking.pk])).status_code == 404
    assert snapshot() == before
    # Nominating: every staff member whose centre lies in Sichuan, no one else.
    for user, status in ((alice, 200), (charlie, 200), (bob, 200), (pat, 200), (erin, 404)):
        assert (
            client_for(user).get(reverse("events:nominate", args=[event.pk])).status_code == status
        )
    for user, status in ((pat, 200), (alice, 200), (erin, 404), (wang.user, 404)):
        assert client_for(user).get(reverse("events:manage")).status_code == status
    assert client_for(alice).get(reverse("events:new")).status_code == 404
    assert client_for(bob).get(reverse("events:new")).status_code == 200
    anonymous = client_for(pat)
    anonymous.logout()
    assert anonymous.get(reverse("events:list")).status_code == 200
    assert anonymous.get(reverse("events:detail", args=[event.pk])).status_code == 200
    assert anonymous.get(reverse("events:mine")).status_code == 302
    assert anonymous.get(reverse("events:manage_detail", args=[event.pk])).status_code == 302
    assert anonymous.post(reverse("events:book", args=[slot.pk])).status_code == 302
    assert client_for(pat).get(reverse("events:move", args=[event.pk])).status_code == 405


def test_posting_an_organiser_or_status_field_when_creating_has_no_effect(
    bob: User,
) -> None:
    starts = (timezone.localtime() + timedelta(days=5)).replace(second=0, microsecond=0)
    fmt = "%Y-%m-%dT%H:%M"
    response = client_for(bob).post(
        reverse("events:new"),
        {
            "name": "成都市科创会",
            "kind": "forum",
            "venue": "天府国际会议中心",
            "starts_at": starts.strftime(fmt),
            "ends_at": (starts + timedelta(hours=4)).strftime(fmt),
            "sign_up_closes_at": (starts - timedelta(days=1)).strftime(fmt),
            "status": "open",
            "organiser": ServiceCentre.objects.get(region_id="510000").pk,
            "region": "510000",
        },
    )
    assert response.status_code == 302
    event = Event.objects.get()
    assert (event.status, event.organiser.region_id, event.region_id) == (
        "draft",
        "510100",
        "510100",
    )


def test_a_slot_outside_the_event_or_with_no_capacity_is_refused_with_a_clear_error(
    exhibit: Exhibit, conference: Event, pat: User
) -> None:
    fmt = "%Y-%m-%dT%H:%M"
    start = timezone.localtime(conference.starts_at)
    client = client_for(pat)
    url = reverse("events:slot_new", args=[conference.pk])
    base = {
        "exhibit": exhibit.pk,
        "place": "A-01",
        "starts_at": start.strftime(fmt),
        "ends_at": (start + timedelta(hours=1)).strftime(fmt),
        "capacity": "0",
    }
    response = client.post(url, base)
    assert response.status_code == 400 and "名额至少为 1。" in response.content.decode()
    late = {**base, "capacity": "3", "starts_at": (start - timedelta(days=1)).strftime(fmt)}
    response = client.post(url, late)
    assert response.status_code == 400 and "对接时段须在活动时间之内。" in response.content.decode()
    assert Slot.objects.count() == 0
    assert client.post(url, {**base, "capacity": "3"}).status_code == 302
    assert Slot.objects.get().capacity == 3


def test_the_public_page_and_the_bookings_take_the_same_queries_however_many_rows(
    conference: Event, alice: User, pat: User, tea_company: Organisation, wang: TalentProfile
) -> None:
    def add(n: int) -> None:
        for i in range(n):
            demand = make_demand(tea_company, title=f"需求{Exhibit.objects.count()}-{i}")
            exhibit = exhibit_decide(
                exhibit=exhibit_nominate(event=conference, actor=alice, demand=demand),
                actor=pat,
                accept=True,
            )
            slot_create(
                exhibit=exhibit,
                actor=pat,
                place=f"T{i}",
                starts_at=conference.starts_at,
                ends_at=conference.starts_at + timedelta(hours=1),
                capacity=5,
            )

    def count(url: str, user: User) -> int:
        client = client_for(user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    detail = reverse("events:detail", args=[conference.pk])
    manage = reverse("events:manage_detail", args=[conference.pk])
    add(1)
    small = (count(detail, wang.user), count(manage, pat))
    add(4)
    assert (count(detail, wang.user), count(manage, pat)) == small
