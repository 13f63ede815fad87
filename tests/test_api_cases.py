"""`/api/v1/cases`: staff's cases (queue, detail with ETag, transition with If-Match,
timeline, dockings) and the enterprise's own (follow, confirm, dispute). Another
jurisdiction's or enterprise's case is 404 and stays as it was; a stale If-Match is 412 and
changes nothing; a missing one is 428."""

from __future__ import annotations

from typing import Any

import pytest

from kejiyun.accounts.models import Footprint, User
from kejiyun.api.etag import etag_of
from kejiyun.api.models import Scope
from kejiyun.cases.dockings.services import docking_send
from kejiyun.cases.models import Case, CaseEvent, Step
from kejiyun.cases.workflow.services import OutcomeInput, case_outcome_record, case_transition
from tests.api_casework import Api, problem_of
from tests.builders import make_case, make_enterprise, make_enterprise_user, make_expert

pytestmark = pytest.mark.django_db

COVERED_FOREIGN: set[str] = {
    "cases_detail",
    "cases_transition",
    "cases_timeline",
    "cases_dockings",
    "cases_mine_detail",
    "cases_mine_timeline",
    "cases_confirm",
    "cases_dispute",
}


def state(case: Case) -> tuple[Any, ...]:
    fresh = Case.objects.get(pk=case.pk)
    return (
        fresh.step,
        fresh.version,
        fresh.owner_id,
        fresh.outcome,
        fresh.rating,
        CaseEvent.objects.filter(case=case).count(),
    )


def walk_to(case: Case, step: str, actor: User) -> Case:
    for target in (Step.DIAGNOSIS, Step.MATCHING, Step.DOCKING, Step.AGREEMENT, Step.DELIVERY):
        if case.step == step:
            break
        reason = "企业自行找到合作方" if target == Step.AGREEMENT else ""
        case_transition(case=case, to_step=target, actor=actor, reason=reason)
    return case


def awaiting_confirmation(alice: User) -> Case:
    case = walk_to(make_case(alice), Step.DELIVERY, alice)
    case_outcome_record(
        case=case, outcome=OutcomeInput(solved=False, reason="企业暂停项目"), actor=alice
    )
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def case(alice: User) -> Case:
    return make_case(alice)


@pytest.fixture
def eva(case: Case) -> User:
    """Eva speaks for the enterprise of `case`."""
    return make_enterprise_user(case.demand.organisation, "eva")


# --- Staff ---------------------------------------------------------------------------------


def test_queue_lists_the_jurisdictions_cases(alice: User, charlie: User, case: Case) -> None:
    elsewhere = make_case(charlie, county="510822", serial="2")
    items = Api(alice).get("/cases", scope="all").json()["items"]
    assert [row["id"] for row in items] == [case.pk]
    items = Api(charlie).get("/cases", scope="all").json()["items"]
    assert [row["id"] for row in items] == [elsewhere.pk]
    assert [r["id"] for r in Api(alice).get("/cases", step="intake").json()["items"]] == [case.pk]
    assert Api(alice).get("/cases", step="matching").json()["items"] == []
    problem_of(Api(alice).get("/cases", scope="everything"), 422)


def test_detail_sends_the_etag_and_refuses_another_jurisdiction(
    alice: User, charlie: User, case: Case
) -> None:
    response = Api(alice).get(f"/cases/{case.pk}")
    assert response.status_code == 200
    assert response["ETag"] == etag_of(case)
    body = response.json()
    assert body["step"] == "intake" and body["may_act"] is True
    assert {m["to_step"] for m in body["moves"]} == {"diagnosis", "withdrawn", "unsolvable"}
    problem_of(Api(charlie).get(f"/cases/{case.pk}"), 404)


def test_transition_needs_the_current_etag(alice: User, case: Case) -> None:
    api = Api(alice)
    tag = api.get(f"/cases/{case.pk}")["ETag"]
    before = state(case)
    problem_of(api.post(f"/cases/{case.pk}/transition", {"to_step": "diagnosis"}), 428)
    assert state(case) == before
    stale = tag.replace(f"-v{case.version}", f"-v{case.version + 5}")
    body = problem_of(
        api.post(f"/cases/{case.pk}/transition", {"to_step": "diagnosis"}, if_match=stale), 412
    )
    assert body["etag"] == tag
    assert state(case) == before

    # Fields staff may not set through a move are not part of it.
    response = api.post(
        f"/cases/{case.pk}/transition",
        {"to_step": "diagnosis", "owner_id": 1, "outcome": "solved", "version": 99, "rating": 5},
        if_match=tag,
    )
    assert response.status_code == 200, response.content
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.outcome, fresh.rating, fresh.owner_id) == (
        Step.DIAGNOSIS,
        "",
        None,
        case.owner_id,
    )
    assert response["ETag"] == etag_of(fresh) != tag
    # The old tag is now stale.
    problem_of(api.post(f"/cases/{case.pk}/transition", {"to_step": "matching"}, if_match=tag), 412)
    assert Case.objects.get(pk=case.pk).step == Step.DIAGNOSIS


def test_transition_refused_by_the_table_changes_nothing(alice: User, case: Case) -> None:
    before = state(case)
    body = problem_of(
        Api(alice).post(
            f"/cases/{case.pk}/transition", {"to_step": "closed"}, if_match=etag_of(case)
        ),
        400,
    )
    assert body["detail"]
    assert state(case) == before


def test_transition_of_another_jurisdictions_case_is_404(
    alice: User, charlie: User, case: Case
) -> None:
    before = state(case)
    problem_of(
        Api(charlie).post(
            f"/cases/{case.pk}/transition", {"to_step": "diagnosis"}, if_match=etag_of(case)
        ),
        404,
    )
    assert state(case) == before


def test_timeline_and_dockings(alice: User, charlie: User, case: Case) -> None:
    case = walk_to(case, Step.MATCHING, alice)
    tina = make_expert(
        "tina", "510104", "13900000002", fields="茶学", keywords="茶", capability="茶园病虫害"
    )
    docking_send(case=case, expert=tina, actor=alice, message="请联系 13912345678")
    events = Api(alice).get(f"/cases/{case.pk}/timeline", limit=100).json()["items"]
    kinds = [e["kind"] for e in events]
    assert kinds[-1] == "opened" and "docking" in kinds  # newest first
    dockings = Api(alice).get(f"/cases/{case.pk}/dockings").json()["items"]
    assert [(d["expert"], d["status"]) for d in dockings] == [("Tina", "sent")]
    assert "13912345678" not in dockings[0]["message"]
    problem_of(Api(charlie).get(f"/cases/{case.pk}/timeline"), 404)
    problem_of(Api(charlie).get(f"/cases/{case.pk}/dockings"), 404)


def test_roles(alice: User, eva: User, case: Case) -> None:
    problem_of(Api(eva).get("/cases"), 403)
    problem_of(Api(eva).get(f"/cases/{case.pk}"), 403)
    problem_of(Api(alice).get("/cases/mine"), 403)
    read_only = Api(alice, scopes=[Scope.CASES_READ])
    before = state(case)
    body = problem_of(
        read_only.post(
            f"/cases/{case.pk}/transition", {"to_step": "diagnosis"}, if_match=etag_of(case)
        ),
        403,
    )
    assert body["code"] == "insufficient_scope"
    assert state(case) == before


# --- The enterprise --------------------------------------------------------------------------


def test_enterprise_follows_its_own_cases_only(
    alice: User, eva: User, erin: User, case: Case
) -> None:
    other = make_case(alice, serial="3")
    items = Api(eva).get("/cases/mine").json()["items"]
    assert [row["id"] for row in items] == [case.pk]
    response = Api(eva).get(f"/cases/mine/{case.pk}")
    assert response["ETag"] == etag_of(case)
    assert response.json()["steps"][0] == {"step": "intake", "label": "受理"}
    for path in (f"/cases/mine/{other.pk}", f"/cases/mine/{other.pk}/timeline"):
        problem_of(Api(eva).get(path), 404)
    problem_of(Api(erin).get(f"/cases/mine/{case.pk}"), 404)


def test_enterprise_timeline_leaves_out_staff_notes(alice: User, eva: User, case: Case) -> None:
    from kejiyun.cases.workflow.services import case_note_add

    case_note_add(case=case, actor=alice, body="内部备注：企业负责人难沟通")
    case_transition(case=case, to_step=Step.DIAGNOSIS, actor=alice)
    events = Api(eva).get(f"/cases/mine/{case.pk}/timeline").json()["items"]
    assert [e["kind"] for e in events] == ["transition", "opened"]
    assert "内部备注" not in str(events)


def test_confirm_closes_the_case_with_the_current_etag_only(alice: User) -> None:
    case = awaiting_confirmation(alice)
    eva = make_enterprise_user(case.demand.organisation, "eva")
    api = Api(eva)
    tag = api.get(f"/cases/mine/{case.pk}")["ETag"]
    before = state(case)
    problem_of(api.post(f"/cases/mine/{case.pk}/confirm", {"rating": 5}), 428)
    stale = tag.replace(f"-v{case.version}", f"-v{case.version - 1}")
    problem_of(api.post(f"/cases/mine/{case.pk}/confirm", {"rating": 5}, if_match=stale), 412)
    problem_of(api.post(f"/cases/mine/{case.pk}/confirm", {"rating": 9}, if_match=tag), 422)
    assert state(case) == before and not Footprint.objects.filter(user=eva).exists()

    response = api.post(
        f"/cases/mine/{case.pk}/confirm",
        {"rating": 4, "comment": "不错", "step": "delivery", "outcome": "solved"},
        if_match=tag,
    )
    assert response.status_code == 200, response.content
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.rating, fresh.outcome) == (Step.CLOSED, 4, "not_solved")
    assert response.json()["step"] == "closed" and response["ETag"] == etag_of(fresh)
    assert Footprint.objects.filter(user=eva, kind=Footprint.Kind.RATE).count() == 1


def test_dispute_sends_the_case_back_to_delivery(alice: User) -> None:
    case = awaiting_confirmation(alice)
    eva = make_enterprise_user(case.demand.organisation, "eva")
    response = Api(eva).post(
        f"/cases/mine/{case.pk}/dispute", {"reason": "问题还在"}, if_match=etag_of(case)
    )
    assert response.status_code == 200, response.content
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.outcome) == (Step.DELIVERY, "")
    assert fresh.events.filter(kind="disputed").count() == 1


def test_another_enterprise_cannot_confirm_or_dispute(alice: User) -> None:
    case = awaiting_confirmation(alice)
    mallory = make_enterprise_user(make_enterprise("别家公司", "510104", "9"), "mallory")
    before = state(case)
    tag = etag_of(case)
    problem_of(
        Api(mallory).post(f"/cases/mine/{case.pk}/confirm", {"rating": 5}, if_match=tag), 404
    )
    problem_of(
        Api(mallory).post(f"/cases/mine/{case.pk}/dispute", {"reason": "x"}, if_match=tag), 404
    )
    assert state(case) == before
    # Staff of the case may not confirm in the enterprise's name either.
    problem_of(Api(alice).post(f"/cases/mine/{case.pk}/confirm", {"rating": 5}, if_match=tag), 403)
    assert state(case) == before
