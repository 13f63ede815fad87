"""Every case has an owner: a centre without staff hands a new case up to the nearest centre
that has staff, escalation lands on a person, and the periodic job owns unowned cases."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from kejiyun.accounts.models import User
from kejiyun.cases.clock.services import case_escalate, cases_owner_ensure
from kejiyun.cases.models import Case, CaseEvent
from kejiyun.cases.workflow.selectors import work_queue
from kejiyun.notifications.models import OutboxMessage
from tests.builders import client_for, make_case, make_staff


def test_a_case_of_a_county_without_staff_goes_to_the_city_with_an_owner(alice: User, bob: User):
    case = make_case(None, county="510107", title="武侯区的需求")  # 武侯区: no staff
    assert (case.region_id, case.centre.region_id, case.owner) == ("510107", "510100", bob)
    opened = case.events.get(kind=CaseEvent.Kind.OPENED)
    assert "武侯区" in opened.reason and "成都市" in opened.reason
    assert OutboxMessage.objects.filter(recipient=bob, title="新的服务案例").exists()
    # Bob finds it in his own queue; his city colleagues see it in the jurisdiction scope.
    assert list(work_queue(user=bob)) == [case]


def test_without_staff_in_county_or_city_the_province_owns_the_case(pat: User):
    case = make_case(None, county="510822", title="青川县的需求")  # 广元市 青川县
    assert (case.centre.region_id, case.owner) == ("510000", pat)


def test_staff_accepting_at_the_receiving_centre_own_the_case_themselves(bob: User):
    make_staff("bella", "510100")
    case = make_case(bob, county="510107")
    assert case.owner == bob


def test_the_periodic_job_owns_cases_nobody_owns(alice: User):
    # Nobody works anywhere up the chain yet: the case waits at its county, unowned.
    waiting = make_case(None, county="510107", serial="1", title="等人承办")
    assert (waiting.centre.region_id, waiting.owner) == ("510107", None)
    # An owner who left (or a row from before owners were required).
    left = make_case(alice, serial="2", title="负责人已离开")
    Case.objects.filter(pk=left.pk).update(owner=None)
    bob = make_staff("bob", "510100")
    assert cases_owner_ensure() == 2
    waiting, left = Case.objects.get(pk=waiting.pk), Case.objects.get(pk=left.pk)
    assert (waiting.centre.region_id, waiting.owner) == ("510100", bob)
    assert (left.centre.region_id, left.owner) == ("510104", alice)
    assert "武侯区" in waiting.events.get(kind=CaseEvent.Kind.ASSIGNED).reason
    assert cases_owner_ensure() == 0
    assert not Case.objects.filter(Case.open_q(), owner__isnull=True).exists()
    assert "等人承办" in client_for(bob).get("/cases/").content.decode()


def test_an_overdue_case_escalates_past_a_city_without_staff_to_the_province(
    charlie: User, pat: User
):
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        case = make_case(charlie, county="510822")  # 广元市 has no staff
        assert case.owner == charlie
        clock.shift(timedelta(days=3))
        assert case_escalate(case=Case.objects.get(pk=case.pk))
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.centre.region_id, fresh.owner, fresh.escalations) == ("510000", pat, 1)
