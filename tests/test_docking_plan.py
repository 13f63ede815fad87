"""Batch docking (批量对接): proposals respect every expert's free capacity, never propose a
conflict of interest or an expert already asked, and staff send the ones they tick."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import Organisation, User
from kejiyun.cases.clock.services import case_escalate
from kejiyun.cases.dockings.services import docking_send
from kejiyun.cases.models import Case, DockingRequest, Step
from kejiyun.cases.workflow.services import case_open, case_transition
from kejiyun.matching.selectors import docking_plan
from tests.builders import client_for, make_tea_demand, make_tea_expert

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("match_index")]


def matching_case(actor: User, org: Organisation, n: int) -> Case:
    demand = make_tea_demand(org, title=f"茶叶病虫害绿色防控技术（{n}期）")
    case = case_open(demand=demand, actor=actor)
    for step in (Step.DIAGNOSIS, Step.MATCHING):
        case_transition(case=case, to_step=step, actor=actor)
    return case


def test_no_expert_is_proposed_for_more_cases_than_their_free_capacity(
    alice: User, tea_company: Organisation
):
    tina = make_tea_expert()
    tina.capacity = 2
    tina.save()
    nina = make_tea_expert("nina", "13900000005", county_code="510822")  # further away: ranks lower
    nina.capacity = 1
    nina.save()
    cases = [matching_case(alice, tea_company, n) for n in range(4)]
    plan = docking_plan(user=alice)
    per_expert: dict[int, int] = {}
    for p in plan.proposals:
        per_expert[p.profile.pk] = per_expert.get(p.profile.pk, 0) + 1
    assert per_expert == {tina.pk: 2, nina.pk: 1}
    assert (plan.cases_considered, plan.cases_without_expert) == (4, 1)
    assert {p.case.pk for p in plan.proposals} <= {c.pk for c in cases}


def test_conflicts_and_experts_already_asked_are_never_proposed(
    alice: User, tea_company: Organisation
):
    insider = make_tea_expert(employer=tea_company.name)
    outsider = make_tea_expert("nina", "13900000005")
    case = matching_case(alice, tea_company, 1)
    plan = docking_plan(user=alice)
    assert [(p.case, p.profile) for p in plan.proposals] == [(case, outsider)]
    docking_send(case=case, expert=outsider, actor=alice)
    assert docking_plan(user=alice).proposals == []  # now in docking: nothing to propose
    assert insider.pk not in DockingRequest.objects.values_list("expert_id", flat=True)


def test_staff_send_the_ticked_proposals_and_only_for_their_own_cases(
    alice: User, charlie: User, tea_company: Organisation
):
    tina = make_tea_expert()
    case = matching_case(alice, tea_company, 1)
    client = client_for(alice)
    page = client.get("/matching/docking-plan/").content.decode()
    assert f'value="{case.pk}:{tina.pk}"' in page
    # Charlie (another city's county) cannot send for Alice's case, whatever he posts.
    client_for(charlie).post("/matching/docking-plan/", {"pair": [f"{case.pk}:{tina.pk}"]})
    assert DockingRequest.objects.count() == 0
    response = client.post(
        "/matching/docking-plan/", {"pair": [f"{case.pk}:{tina.pk}", "x:y", "1:"]}, follow=True
    )
    assert "已发送 1 条对接请求" in response.content.decode()
    assert DockingRequest.objects.get().expert == tina
    assert Case.objects.get(pk=case.pk).step == Step.DOCKING


def test_the_plan_page_uses_a_fixed_number_of_queries(alice: User, tea_company: Organisation):
    for i in range(3):
        make_tea_expert(f"e{i}", f"1390000010{i}")
    client = client_for(alice)
    counts = []
    for n in (2, 6):
        while Case.objects.count() < n:
            matching_case(alice, tea_company, Case.objects.count())
        client.get("/matching/docking-plan/")  # builds the index after new rows
        with CaptureQueriesContext(connection) as ctx:
            client.get("/matching/docking-plan/")
        counts.append(len(ctx.captured_queries))
    assert counts == [7, 7]


def test_escalated_cases_do_not_crowd_out_the_ones_county_staff_may_act_on(
    alice: User, bob: User, tea_company: Organisation
):
    tina = make_tea_expert()
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        gone = matching_case(alice, tea_company, 1)
        clock.shift(timedelta(days=12))  # matching has 7 working days
        assert case_escalate(case=Case.objects.get(pk=gone.pk))
        mine = matching_case(alice, tea_company, 2)
        plan = docking_plan(user=alice, limit=1)
    assert [(p.case, p.profile) for p in plan.proposals] == [(mine, tina)]


def test_malformed_pairs_are_ignored_not_a_server_error(alice: User, tea_company: Organisation):
    make_tea_expert()
    matching_case(alice, tea_company, 1)
    for junk in ("²:1", "٣:٤", "1:2:3", "-1:2", "9" * 40 + ":1", ""):
        response = client_for(alice).post("/matching/docking-plan/", {"pair": [junk]}, follow=True)
        assert response.status_code == 200
    assert DockingRequest.objects.count() == 0


def test_the_old_address_of_batch_docking_leads_to_its_page(alice: User) -> None:
    response = client_for(alice).get("/cases/dockings/plan/")
    assert (response.status_code, response["Location"]) == (301, "/matching/docking-plan/")
