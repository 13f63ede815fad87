"""一单一策 cases: routing, transitions, the clock, escalation, jurisdiction, stale edits."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.cases.clock.services import (
    case_escalate,
    case_pause,
    case_resume,
    cases_escalate_overdue,
)
from kejiyun.cases.dockings.services import docking_respond, docking_send
from kejiyun.cases.errors import CaseError, StaleCase
from kejiyun.cases.models import Case, CaseEvent, DockingRequest, Outcome, Step
from kejiyun.cases.workflow.selectors import work_queue
from kejiyun.cases.workflow.services import (
    OutcomeInput,
    case_assign,
    case_confirm,
    case_dispute,
    case_open,
    case_outcome_record,
    case_transition,
    cases_reassign,
)
from kejiyun.demands.models import Demand
from kejiyun.notifications.models import OutboxMessage
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.regions.selectors import centre_serving
from tests.builders import (
    client_for,
    make_case,
    make_demand,
    make_enterprise,
    make_enterprise_user,
    make_staff,
    make_worker,
    pdf_bytes,
)

PDF = pdf_bytes()


def walk_to(case: Case, step: str, actor: User) -> Case:
    """Staff moves along the main line; agreement on the enterprise's own partner."""
    for target in (Step.DIAGNOSIS, Step.MATCHING, Step.DOCKING, Step.AGREEMENT, Step.DELIVERY):
        if case.step == step:
            break
        reason = "企业自行找到合作方" if target == Step.AGREEMENT else ""
        case_transition(case=case, to_step=target, actor=actor, reason=reason)
    return case


def solved(evidence: bytes = PDF) -> OutcomeInput:
    return OutcomeInput(
        solved=True,
        contract_number="HT-2026-001",
        contract_amount=Decimal("12.50"),
        evidence=SimpleUploadedFile("contract.pdf", evidence, content_type="application/pdf"),
    )


def test_an_accepted_demand_opens_one_case_at_the_county_centre_owned_by_its_staff(alice: User):
    # Opened on a Monday at 09:00: intake has two working days, so it is due Tuesday 17:00.
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False):
        case = make_case(alice)
    assert case.centre.region_id == "510104"
    assert case.region_id == "510104"
    assert case.owner == alice
    assert case.step == Step.INTAKE
    assert case.due_at == datetime.fromisoformat("2026-06-02 17:00:00+08:00")
    assert list(case.events.values_list("kind", "to_step")) == [("opened", "intake")]
    # Opening it again returns the same case.
    assert case_open(demand=case.demand, actor=alice).pk == case.pk
    assert Case.objects.count() == 1


def test_a_case_accepted_by_city_staff_goes_to_the_least_loaded_county_staff(bob: User):
    busy = make_staff("busy", "510104")
    idle = make_staff("idle", "510104")
    make_case(busy, serial="1")
    case = make_case(bob, serial="2", title="另一件需求")
    assert case.owner == idle
    notified = OutboxMessage.objects.filter(recipient=idle, channel="inapp")
    assert notified.count() == 1


def test_illegal_transitions_are_refused_and_change_nothing(alice: User):
    case = make_case(alice)
    for target in (Step.MATCHING, Step.DELIVERY, Step.CLOSED, Step.ACCEPTANCE, "nonsense"):
        with pytest.raises(CaseError):
            case_transition(case=case, to_step=target, actor=alice)
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.version) == (Step.INTAKE, 1)
    assert fresh.events.count() == 1


def test_side_exits_need_a_reason(alice: User):
    case = make_case(alice)
    with pytest.raises(CaseError, match="原因"):
        case_transition(case=case, to_step=Step.UNSOLVABLE, actor=alice, reason=" ")
    case_transition(
        case=case, to_step=Step.UNSOLVABLE, actor=alice, reason="企业所需设备国内无供应"
    )
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.step == Step.UNSOLVABLE
    assert fresh.outcome == Outcome.NOT_SOLVED
    assert fresh.closed_at is not None
    assert Demand.objects.get(pk=case.demand_id).status == Demand.Status.CLOSED
    with pytest.raises(CaseError):
        case_transition(case=fresh, to_step=Step.DIAGNOSIS, actor=alice)


def test_the_whole_path_to_a_confirmed_and_rated_outcome_is_on_the_timeline(alice: User):
    case = make_case(alice)
    erin = make_enterprise_user(case.demand.organisation, mobile="13900001111")
    walk_to(case, Step.DELIVERY, alice)
    # Staff cannot skip the outcome into acceptance, nor close the case themselves.
    with pytest.raises(CaseError):
        case_transition(case=case, to_step=Step.ACCEPTANCE, actor=alice)
    case_outcome_record(case=case, outcome=solved(), actor=alice)
    assert case.step == Step.ACCEPTANCE
    with pytest.raises(CaseError, match="企业"):
        case_transition(case=case, to_step=Step.CLOSED, actor=alice)
    with pytest.raises(CaseError, match="1 到 5"):
        case_confirm(case=case, actor=erin, rating=6)
    case_confirm(case=case, actor=erin, rating=5, comment="专家很专业")
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.step == Step.CLOSED
    assert (fresh.outcome, fresh.contract_number, fresh.rating) == ("solved", "HT-2026-001", 5)
    assert fresh.evidence.name.endswith(".pdf")
    steps = list(
        fresh.events.filter(kind__in=["opened", "transition", "outcome"]).values_list(
            "to_step", flat=True
        )
    )
    assert steps == [
        "intake",
        "diagnosis",
        "matching",
        "docking",
        "agreement",
        "delivery",
        "acceptance",
        "closed",
    ]
    assert fresh.events.filter(kind="confirmed", actor=erin).count() == 1
    assert Demand.objects.get(pk=case.demand_id).status == Demand.Status.CLOSED


def test_a_solved_outcome_needs_contract_amount_and_evidence(alice: User):
    case = walk_to(make_case(alice), Step.DELIVERY, alice)
    bad = [
        OutcomeInput(solved=True, contract_amount=Decimal(1), evidence=solved().evidence),
        OutcomeInput(solved=True, contract_number="HT-1", evidence=solved().evidence),
        OutcomeInput(solved=True, contract_number="HT-1", contract_amount=Decimal(1)),
        OutcomeInput(solved=False, reason="  "),
        solved(evidence=b"MZ\x90\x00 not a document"),
    ]
    for outcome in bad:
        with pytest.raises(CaseError):
            case_outcome_record(case=case, outcome=outcome, actor=alice)
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.outcome, fresh.evidence.name) == (Step.DELIVERY, "", "")


def test_the_enterprise_can_dispute_the_outcome_which_goes_back_to_delivery(alice: User):
    case = walk_to(make_case(alice), Step.DELIVERY, alice)
    erin = make_enterprise_user(case.demand.organisation, mobile="13900001111")
    case_outcome_record(
        case=case, outcome=OutcomeInput(solved=False, reason="专家未到场"), actor=alice
    )
    case_dispute(case=case, actor=erin, reason="专家来过两次，问题还在")
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.outcome) == (Step.DELIVERY, "")
    assert fresh.events.filter(kind="disputed").count() == 1


def test_another_enterprise_cannot_confirm_the_case(alice: User):
    case = walk_to(make_case(alice), Step.DELIVERY, alice)
    case_outcome_record(case=case, outcome=solved(), actor=alice)
    stranger = make_enterprise_user(
        make_enterprise("别家公司", "510104", "9"), "mallory", mobile="13900001111"
    )
    with pytest.raises(CaseError):
        case_confirm(case=case, actor=stranger, rating=1)
    response = client_for(stranger).post(
        f"/cases/mine/{case.pk}/confirm/", {"rating": "1", "version": case.version}
    )
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).step == Step.ACCEPTANCE


def test_the_enterprise_case_pages_are_for_enterprise_users_only(alice: User):
    case = make_case(alice)
    worker = make_worker("wang", "510104", "13900000101").user
    for url in ("/cases/mine/", f"/cases/mine/{case.pk}/"):
        assert client_for(worker).get(url).status_code == 404, url
        assert client_for(alice).get(url).status_code == 404, url


def test_the_escalation_command_moves_an_overdue_case_to_the_city_and_notifies(
    alice: User, bob: User
):
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        case = make_case(alice)  # Monday 09:00, due Tuesday 17:00
        clock.shift(timedelta(hours=31, minutes=59))
        call_command("escalate_overdue_cases", stdout=io.StringIO())
        assert Case.objects.get(pk=case.pk).centre.region_id == "510104"
        clock.shift(timedelta(minutes=2))  # Tuesday 17:01
        call_command("escalate_overdue_cases", stdout=io.StringIO())
        fresh = Case.objects.get(pk=case.pk)
        assert fresh.centre.region_id == "510100"
        assert fresh.owner == bob
        assert fresh.escalations == 1
        # A fresh two working days at the city, from Wednesday 09:00.
        assert fresh.due_at == datetime.fromisoformat("2026-06-04 17:00:00+08:00")
        event = fresh.events.get(kind="escalated")
        assert event.actor is None
        assert "超时" in event.reason
        messages = OutboxMessage.objects.filter(recipient=bob)
        assert sorted(messages.values_list("channel", flat=True)) == ["inapp"]
        # Running again at once changes nothing and sends nothing more.
        call_command("escalate_overdue_cases", stdout=io.StringIO())
        assert Case.objects.get(pk=case.pk).escalations == 1
        assert OutboxMessage.objects.filter(recipient=bob).count() == 1
        # County staff still see it but may no longer act on it.
        assert client_for(alice).get(f"/cases/{case.pk}/").status_code == 200
        with pytest.raises(CaseError):
            case_transition(case=fresh, to_step=Step.DIAGNOSIS, actor=alice)


def test_an_overdue_city_case_escalates_to_the_province_and_stops_there(
    alice: User, bob: User, pat: User
):
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        case = make_case(alice)
        for _ in range(3):
            clock.shift(timedelta(hours=49))
            cases_escalate_overdue()
        fresh = Case.objects.get(pk=case.pk)
        assert (fresh.centre.region_id, fresh.owner, fresh.escalations) == ("510000", pat, 2)


def test_pausing_stops_the_clock_and_resuming_moves_the_due_time_on(alice: User, bob: User):
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        case = make_case(alice)  # Monday 09:00, due Tuesday 17:00
        clock.shift(timedelta(hours=5))
        case_pause(case=case, actor=alice, reason="等企业提供土壤检测报告")  # Monday 14:00
        clock.shift(timedelta(days=5))  # Saturday 14:00
        assert not Case.objects.get(pk=case.pk).is_overdue()
        assert cases_escalate_overdue() == 0
        case_resume(case=case, actor=alice)
        fresh = Case.objects.get(pk=case.pk)
        # Paused for 3 + 4 × 8 = 35 working hours: Tuesday 17:00 moves on to Tuesday 12:00
        # of the next week (Wednesday to Friday and Monday, then 3 hours).
        assert fresh.due_at == datetime.fromisoformat("2026-06-09 12:00:00+08:00")
        assert fresh.centre.region_id == "510104"
        assert list(fresh.events.values_list("kind", flat=True)) == [
            "opened",
            "paused",
            "resumed",
        ]


def test_county_staff_cannot_see_or_act_on_another_countys_case(alice: User, charlie: User):
    case = make_case(alice)
    client = client_for(charlie)
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    response = client.post(
        f"/cases/{case.pk}/transition/", {"to_step": "diagnosis", "version": "1"}
    )
    assert response.status_code == 404
    response = client.post(f"/cases/{case.pk}/notes/", {"body": "看看"})
    assert response.status_code == 404
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.version, fresh.events.count(), fresh.notes.count()) == (
        Step.INTAKE,
        1,
        1,
        0,
    )
    assert case.pk not in work_queue(user=charlie, mine_only=False).values_list("pk", flat=True)


def test_a_stale_edit_is_refused_with_409_and_changes_nothing(alice: User):
    case = make_case(alice)
    client = client_for(alice)
    ok = client.post(f"/cases/{case.pk}/transition/", {"to_step": "diagnosis", "version": "1"})
    assert ok.status_code == 302
    # A second tab still shows version 1.
    stale = client.post(f"/cases/{case.pk}/pause/", {"reason": "等企业回复", "version": "1"})
    assert stale.status_code == 409
    assert "已被他人修改" in stale.content.decode()
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.version, fresh.paused_at) == (Step.DIAGNOSIS, 2, None)
    with pytest.raises(StaleCase):
        case_transition(case=fresh, to_step=Step.MATCHING, actor=alice, expected_version=1)


def test_staff_move_a_case_through_the_pages(alice: User):
    case = make_case(alice)
    client = client_for(alice)
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert "转入“需求诊断”" in page.content.decode()
    client.post(f"/cases/{case.pk}/transition/", {"to_step": "diagnosis", "version": "1"})
    client.post(
        f"/cases/{case.pk}/visits/",
        {
            "visited_on": "2026-01-05",
            "place": "锦江区某茶园",
            "people": "Alice，企业负责人",
            "outcome": "确认病虫害种类",
        },
    )
    response = client.post(
        f"/cases/{case.pk}/visits/",
        {"visited_on": "2999-01-01", "place": "x", "people": "y", "outcome": "z"},
    )
    assert response.status_code == 302
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.step == Step.DIAGNOSIS
    assert fresh.visits.count() == 1
    assert list(fresh.events.values_list("kind", flat=True)) == ["opened", "transition", "visit"]


def test_an_illegal_move_through_the_page_shows_an_error_and_changes_nothing(alice: User):
    case = make_case(alice)
    response = client_for(alice).post(
        f"/cases/{case.pk}/transition/", {"to_step": "closed", "version": "1"}, follow=True
    )
    assert "不能从“受理”转到“已办结”" in response.content.decode()
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.version, fresh.events.count()) == (Step.INTAKE, 1, 1)


def test_an_attachment_must_be_a_document(alice: User):
    case = make_case(alice)
    client = client_for(alice)
    bad = SimpleUploadedFile("x.exe", b"MZ\x90\x00binary", content_type="application/pdf")
    response = client.post(f"/cases/{case.pk}/attachments/", {"name": "恶意", "file": bad})
    assert response.status_code == 400
    assert "只能上传 PDF、图片（PNG/JPEG）或 Office 文档" in response.content.decode()
    assert case.attachments.count() == 0
    good = SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")
    client.post(f"/cases/{case.pk}/attachments/", {"name": "诊断报告", "file": good})
    item = case.attachments.get()
    assert item.name == "诊断报告"
    download = client.get(f"/cases/{case.pk}/attachments/{item.pk}/")
    assert b"".join(download.streaming_content) == PDF  # type: ignore[attr-defined]


def test_staff_send_a_docking_request_that_lands_on_the_timeline(alice: User):
    case = walk_to(make_case(alice), Step.MATCHING, alice)
    expert = make_worker("wang", "510104", "13800138000")
    docking_send(case=case, expert=expert, actor=alice, message="请联系企业")
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.step == Step.DOCKING
    assert list(fresh.events.values_list("kind", flat=True))[-2:] == ["docking", "transition"]
    assert OutboxMessage.objects.filter(recipient=expert.user, channel="inapp").count() == 1
    with pytest.raises(CaseError, match="已向这位专家"):
        docking_send(case=fresh, expert=expert, actor=alice)
    docking = DockingRequest.objects.get()
    with pytest.raises(CaseError, match="原因"):
        docking_respond(docking=docking, actor=expert.user, accept=False)
    response = client_for(expert.user).post(
        f"/cases/dockings/{docking.pk}/", {"accept": "0", "reason": "近期在外地"}
    )
    assert response.status_code == 302
    docking.refresh_from_db()
    assert (docking.status, docking.decline_reason) == ("declined", "近期在外地")
    assert fresh.events.filter(kind="docking_reply").count() == 1
    # Nobody else may answer it.
    other = make_worker("li", "510104", "13800138001")
    assert client_for(other.user).get(f"/cases/dockings/{docking.pk}/").status_code == 404


def test_the_work_queue_puts_overdue_first_then_due_soon(alice: User):
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        late = make_case(alice, serial="1", title="最早的需求")
        clock.shift(timedelta(hours=30))
        soon = make_case(alice, serial="2", title="较早的需求")
        clock.shift(timedelta(hours=20))
        later = walk_to(make_case(alice, serial="3", title="新需求"), Step.DIAGNOSIS, alice)
        paused = make_case(alice, serial="4", title="暂停的需求")
        case_pause(case=paused, actor=alice, reason="等企业")
        order = list(work_queue(user=alice).values_list("pk", flat=True))
        assert order == [late.pk, soon.pk, later.pk, paused.pk]
        page = client_for(alice).get("/cases/").content.decode()
        assert page.index("最早的需求") < page.index("较早的需求") < page.index("新需求")


def test_running_overdue_and_due_soon_mean_the_same_in_queries_and_on_one_row(
    alice: User,
) -> None:
    """`Case.overdue_q` (every query) and `case.is_overdue` (one row) never disagree."""
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        cases = [make_case(alice, serial=str(i), title=f"需求{i}") for i in range(1, 6)]
        case_pause(case=cases[1], actor=alice, reason="等企业")
        walk_to(cases[2], Step.DELIVERY, alice)
        case_outcome_record(
            case=cases[2],
            outcome=OutcomeInput(solved=False, reason="企业暂停项目"),
            actor=alice,
        )
        case_transition(case=cases[3], to_step=Step.WITHDRAWN, actor=alice, reason="企业撤回")
        clock.shift(timedelta(days=30))
        now = timezone.now()
        rows = {c.pk: c for c in Case.objects.filter(pk__in=[c.pk for c in cases])}
        overdue = set(Case.objects.filter(Case.overdue_q(now)).values_list("pk", flat=True))
        running = set(Case.objects.filter(Case.running_q()).values_list("pk", flat=True))
        assert overdue == {pk for pk, c in rows.items() if c.is_overdue(now)}
        assert running == {pk for pk, c in rows.items() if c.is_running}
        # open and running: 1 and 5; paused: 2; waiting on the enterprise: 3; withdrawn: 4
        assert running == overdue == {cases[0].pk, cases[4].pk}
        assert not Case.objects.filter(Case.due_soon_q(now)).exists()


def test_a_demand_from_a_township_opens_its_case_at_the_county_centre(alice: User) -> None:
    township = Region.objects.filter(parent_id="510104", level="township").first()
    assert township is not None
    assert centre_serving(township) == ServiceCentre.objects.get(region_id="510104")
    demand = make_demand(make_enterprise("镇上茶厂", "510104", "9"), title="茶叶烘干")
    Demand.objects.filter(pk=demand.pk).update(region=township)
    demand.refresh_from_db()
    case = case_open(demand=demand, actor=alice)
    assert (case.centre.region_id, case.region_id, case.owner_id) == ("510104", "510104", alice.pk)


def _queue_queries(user: User) -> int:
    client = client_for(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/cases/?scope=all").status_code == 200
    return len(ctx.captured_queries)


def test_the_work_queue_uses_a_fixed_number_of_queries(bob: User, alice: User):
    make_case(alice, serial="1")
    make_case(alice, serial="2", title="二")
    cold = _queue_queries(bob)
    few = _queue_queries(bob)
    for n in range(3, 8):
        make_case(alice, serial=str(n), title=f"需求{n}")
    many = _queue_queries(bob)
    again = _queue_queries(bob)
    # The first request reads the choices of the county, centre, area and owner filters and
    # renders every part; later ones take them from the page cache (the lists kept a minute
    # per jurisdiction, the rows under the keys of the cases shown). New cases: the rows are
    # read again, in one query however many.
    assert cold == 12
    assert few == again == 7
    assert many == few + 1


def test_enterprise_case_list_uses_a_fixed_number_of_queries(alice: User):
    case = make_case(alice)
    erin = make_enterprise_user(case.demand.organisation, mobile="13900001111")
    client = client_for(erin)
    client.get("/cases/mine/")  # the first request of a session also touches the session
    with CaptureQueriesContext(connection) as ctx:
        client.get("/cases/mine/")
    few = len(ctx.captured_queries)
    for n in range(2, 6):
        demand = make_demand(case.demand.organisation, title=f"需求{n}", description="描述")
        case_open(demand=demand, actor=alice)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/cases/mine/")
    built = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        client.get("/cases/mine/")
    many = len(ctx.captured_queries)
    # session, user, the cases' freshness; when they changed, also the count and the rows
    assert few == many == 3
    assert built == 5
    assert page.content.decode().count("/cases/mine/") >= 5


def test_only_city_or_province_staff_reassign_in_bulk(alice: User, bob: User):
    one = make_case(alice, serial="1")
    two = make_case(alice, serial="2", title="二")
    colleague = make_staff("carol", "510104")
    with pytest.raises(CaseError):
        cases_reassign(case_ids=[one.pk, two.pk], owner=colleague, actor=alice)
    response = client_for(bob).post(
        "/cases/reassign/", {"cases": [one.pk, two.pk], "owner": colleague.pk}
    )
    assert response.status_code == 302
    assert set(Case.objects.values_list("owner", flat=True)) == {colleague.pk}
    assert CaseEvent.objects.filter(kind="assigned").count() == 2


def test_bulk_reassignment_of_a_case_outside_the_jurisdiction_changes_nothing(
    alice: User, bob: User, charlie: User
):
    mine = make_case(alice, serial="1")
    theirs = make_case(charlie, county="510822", serial="2", title="外市需求")
    colleague = make_staff("carol", "510104")
    with pytest.raises(CaseError):
        cases_reassign(case_ids=[mine.pk, theirs.pk], owner=colleague, actor=bob)
    assert Case.objects.get(pk=mine.pk).owner == alice
    assert Case.objects.get(pk=theirs.pk).owner == charlie


def test_escalation_notifications_are_sent_exactly_once_under_retry(alice: User, bob: User):
    from kejiyun.notifications.dispatch import outbox_dispatch

    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        case = make_case(alice)
        clock.shift(timedelta(hours=49))
        case_escalate(case=Case.objects.get(pk=case.pk))
        case_escalate(case=case)  # an old copy of the row: refused as stale
        outbox_dispatch()
        outbox_dispatch()
    assert bob.inbox.count() == 1  # type: ignore[attr-defined]


def test_a_case_cannot_be_handed_to_staff_who_could_not_see_it(alice: User, bob: User):
    case = make_case(alice)
    walt = make_staff("walt", "510107")  # 武侯区: same city, another county
    with pytest.raises(CaseError, match="所在区县"):
        case_assign(case=case, owner=walt, actor=bob)
    response = client_for(bob).post("/cases/reassign/", {"cases": [case.pk], "owner": walt.pk})
    assert response.status_code == 302
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.owner, fresh.version, fresh.events.count()) == (alice, 1, 1)
    # Staff of the case's county, city or province can take it.
    case_assign(case=fresh, owner=bob, actor=bob)
    assert Case.objects.get(pk=case.pk).owner == bob


def test_bulk_reassignment_redirects_only_to_the_queue_and_counts_real_moves(
    alice: User, bob: User
):
    one = make_case(alice, serial="1")
    carol = make_staff("carol", "510104")
    case_assign(case=one, owner=carol, actor=bob)
    two = make_case(alice, serial="2", title="二")
    response = client_for(bob).post(
        "/cases/reassign/",
        {"cases": [one.pk, two.pk], "owner": carol.pk, "next": "https://evil.example/"},
        follow=True,
    )
    assert response.redirect_chain == [("/cases/", 302)]
    assert "已转交 1 个案例" in response.content.decode()
    huge = client_for(bob).post("/cases/reassign/", {"cases": ["9" * 30], "owner": carol.pk})
    assert huge.status_code == 302


def test_a_docking_request_to_an_expert_of_the_demanding_enterprise_is_refused(alice: User):
    case = walk_to(make_case(alice), Step.MATCHING, alice)
    insider = make_worker("zhou", "510104", "13800138009")
    insider.employer = case.demand.organisation.name
    insider.save()
    response = client_for(alice).post(
        f"/cases/{case.pk}/dockings/", {"expert": insider.pk}, follow=True
    )
    assert "利益冲突" in response.content.decode()
    assert DockingRequest.objects.count() == 0
    assert Case.objects.get(pk=case.pk).step == Step.MATCHING


def test_a_case_waiting_for_the_enterprise_to_confirm_does_not_escalate(alice: User, bob: User):
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        case = walk_to(make_case(alice), Step.DELIVERY, alice)
        case_outcome_record(case=case, outcome=solved(), actor=alice)
        clock.shift(timedelta(days=40))
        assert cases_escalate_overdue() == 0
        fresh = Case.objects.get(pk=case.pk)
        assert (fresh.centre.region_id, fresh.escalations) == ("510104", 0)
        assert not fresh.is_overdue()


def test_a_disputed_outcome_leaves_no_old_evidence_behind(
    alice: User, private_root: Path, django_capture_on_commit_callbacks: Any
):
    case = walk_to(make_case(alice), Step.DELIVERY, alice)
    erin = make_enterprise_user(case.demand.organisation, mobile="13900001111")
    case_outcome_record(case=case, outcome=solved(), actor=alice)
    assert len(list(private_root.rglob("*.pdf"))) == 1
    with django_capture_on_commit_callbacks(execute=True):
        case_dispute(case=case, actor=erin, reason="合同未履行")
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.evidence.name, fresh.contract_number, fresh.contract_amount) == ("", "", None)
    assert (fresh.evidence_name, fresh.evidence_type) == ("", "")
    assert list(private_root.rglob("*.pdf")) == []


def test_an_expert_cannot_answer_a_docking_request_after_the_case_ended(alice: User):
    case = walk_to(make_case(alice), Step.MATCHING, alice)
    expert = make_worker("wang", "510104", "13800138000")
    docking = docking_send(case=case, expert=expert, actor=alice)
    case_transition(case=case, to_step=Step.WITHDRAWN, actor=alice, reason="企业撤回")
    docking.refresh_from_db()
    with pytest.raises(CaseError, match="已经结束"):
        docking_respond(docking=docking, actor=expert.user, accept=True)
    docking.refresh_from_db()
    assert docking.status == DockingRequest.Status.CLOSED


def test_supervisors_find_cases_nobody_owns(alice: User, bob: User):
    owned = make_case(alice, serial="1")
    unowned = make_case(alice, serial="2", title="无人承办")
    # Its owner left (an old row, or a deleted account): nobody owns it now.
    Case.objects.filter(pk=unowned.pk).update(owner=None)
    assert list(work_queue(user=bob, mine_only=False, unowned_only=True)) == [unowned]
    html = client_for(bob).get("/cases/?scope=unowned").content.decode()
    assert "无人承办" in html
    assert owned.demand.title not in html
