"""`/api/v1/dockings`: a worker's requests and applications, the reply, the application for
a published demand's docking. Another worker's docking is 404 and stays as it was."""

from __future__ import annotations

from typing import Any

import pytest

from kejiyun.accounts.models import User
from kejiyun.cases.dockings.services import docking_send
from kejiyun.cases.dockings.views import APPLICATIONS_PER_HOUR
from kejiyun.cases.models import Case, CaseEvent, DockingRequest, Step
from kejiyun.demands.models import Demand
from kejiyun.talent.models import TalentProfile
from tests.api_casework import Api, problem_of
from tests.builders import case_to_matching, make_case, make_demand, make_tea_expert, make_worker

pytestmark = pytest.mark.django_db

COVERED_FOREIGN: set[str] = {"dockings_detail", "dockings_respond"}


@pytest.fixture
def tina(db: None) -> TalentProfile:
    return make_tea_expert()


@pytest.fixture
def matching_case(alice: User) -> Case:
    return case_to_matching(make_case(alice), alice)


def docking_state(docking: DockingRequest) -> tuple[Any, ...]:
    fresh = DockingRequest.objects.get(pk=docking.pk)
    return (
        fresh.status,
        fresh.decline_reason,
        fresh.responded_at,
        CaseEvent.objects.filter(case_id=fresh.case_id).count(),
    )


def test_worker_lists_and_answers_a_request(
    alice: User, tina: TalentProfile, matching_case: Case
) -> None:
    docking = docking_send(case=matching_case, expert=tina, actor=alice, message="请支持")
    api = Api(tina.user)
    items = api.get("/dockings").json()["items"]
    assert [(d["id"], d["status"], d["may_respond"]) for d in items] == [(docking.pk, "sent", True)]
    assert items[0]["demand"]["title"] == "茶园病虫害绿色防控"
    problem_of(api.post(f"/dockings/{docking.pk}/respond", {"accept": False}), 400)
    assert docking_state(docking)[0] == DockingRequest.Status.SENT
    # What a worker may not set (status, decided_by…) is not part of a reply.
    response = api.post(
        f"/dockings/{docking.pk}/respond",
        {"accept": True, "status": "refused", "decided_by": alice.pk, "origin": "worker"},
    )
    assert response.status_code == 200, response.content
    fresh = DockingRequest.objects.get(pk=docking.pk)
    assert (fresh.status, fresh.origin, fresh.decided_by_id) == ("accepted", "staff", None)
    assert response.json()["status"] == "accepted"


def test_another_workers_docking_is_404_and_unchanged(
    alice: User, tina: TalentProfile, matching_case: Case
) -> None:
    docking = docking_send(case=matching_case, expert=tina, actor=alice)
    other = make_worker("wendy", "510104", "13900000009").user
    before = docking_state(docking)
    problem_of(Api(other).get(f"/dockings/{docking.pk}"), 404)
    problem_of(Api(other).post(f"/dockings/{docking.pk}/respond", {"accept": True}), 404)
    assert docking_state(docking) == before
    assert Api(other).get("/dockings").json()["items"] == []
    problem_of(Api(alice).get(f"/dockings/{docking.pk}"), 403)


def test_worker_applies_for_a_published_demands_docking(
    alice: User, tina: TalentProfile, matching_case: Case
) -> None:
    api = Api(tina.user)
    body = {"demand_id": matching_case.demand_id, "message": "我做过十年茶园病虫害绿色防控。"}
    response = api.post("/dockings/applications", {**body, "status": "accepted"})
    assert response.status_code == 201, response.content
    docking = DockingRequest.objects.get(case=matching_case, expert=tina)
    assert (docking.status, docking.origin) == ("applied", "worker")
    assert response.json()["awaits_staff"] is True
    # Once per worker and case.
    problem_of(api.post("/dockings/applications", body), 400)
    assert DockingRequest.objects.filter(case=matching_case).count() == 1


def test_application_refusals(alice: User, tina: TalentProfile, tea_company: Any) -> None:
    api = Api(tina.user)
    message = "我做过十年茶园病虫害绿色防控。"
    intake = make_case(alice, serial="5")  # not yet looking for experts
    problem_of(
        api.post("/dockings/applications", {"demand_id": intake.demand_id, "message": message}), 400
    )
    draft = make_demand(tea_company, title="草稿", status=Demand.Status.DRAFT)
    problem_of(api.post("/dockings/applications", {"demand_id": draft.pk, "message": message}), 404)
    problem_of(
        api.post("/dockings/applications", {"demand_id": intake.demand_id, "message": "短"}), 422
    )
    problem_of(
        Api(alice).post(
            "/dockings/applications", {"demand_id": intake.demand_id, "message": message}
        ),
        403,
    )
    assert not DockingRequest.objects.exists()


def test_applications_are_limited_per_hour(alice: User, tina: TalentProfile) -> None:
    api = Api(tina.user)
    case = make_case(alice, serial="6")
    body = {"demand_id": case.demand_id, "message": "我做过十年茶园病虫害绿色防控。"}
    for _ in range(APPLICATIONS_PER_HOUR):
        assert api.post("/dockings/applications", body).status_code == 400  # intake: refused
    response = api.post("/dockings/applications", body)
    problem_of(response, 429)
    assert response["Retry-After"] == "3600"
    assert Case.objects.get(pk=case.pk).step == Step.INTAKE
