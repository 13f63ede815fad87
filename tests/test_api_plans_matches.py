"""`/api/v1/plans` and `/api/v1/matches`: a worker's own plan and staff's plans in their
jurisdiction; the experts, teams and results ranked for a demand with the staff page's
reasons, and the demands recommended to a worker as on their dashboard."""

from __future__ import annotations

from datetime import date

import pytest

from kejiyun.accounts.models import Organisation, User
from kejiyun.api.etag import etag_of
from kejiyun.demands.models import Demand
from kejiyun.matching.selectors import demands_for_expert, experts_for_demand
from kejiyun.plans.models import ServicePlan
from kejiyun.plans.services import plan_action_add, plan_need_add, worker_verify
from tests.api_casework import Api, problem_of
from tests.builders import (
    client_for,
    make_pig_expert,
    make_tea_demand,
    make_tea_expert,
    make_worker,
)

pytestmark = pytest.mark.django_db

COVERED_FOREIGN: set[str] = {"plans_detail", "matches_for_demand"}


@pytest.fixture
def plan(alice: User) -> ServicePlan:
    profile = make_worker("wang", "510104", "13900000101")
    return worker_verify(profile=profile, actor=alice)


# --- Plans -----------------------------------------------------------------------------------


def test_worker_reads_their_own_plan(alice: User, plan: ServicePlan) -> None:
    need = plan_need_add(
        plan=plan,
        actor=alice,
        expected_version=plan.version,
        kind="project",
        description="申报省重点研发，联系 13812345678",
    )
    plan.refresh_from_db()
    plan_action_add(
        plan=plan,
        actor=alice,
        title="准备申报书",
        due_on=date(2030, 1, 1),
        need=need,
        expected_version=plan.version,
    )
    body = Api(plan.profile.user).get("/plans/mine").json()
    assert body["id"] == plan.pk and body["owner"] == "Alice"
    assert [n["kind"] for n in body["needs"]] == ["project"]
    assert "13812345678" not in body["needs"][0]["description"]
    assert [a["title"] for a in body["actions"]] == ["准备申报书"]


def test_worker_without_a_plan_gets_404(db: None) -> None:
    worker = make_worker("li", "510104", "13900000102").user
    assert problem_of(Api(worker).get("/plans/mine"), 404)["code"] == "no_plan"


def test_staff_read_plans_in_their_jurisdiction_only(
    alice: User, charlie: User, plan: ServicePlan
) -> None:
    items = Api(alice).get("/plans").json()["items"]
    assert [row["id"] for row in items] == [plan.pk]
    assert Api(alice).get("/plans", owner="me").json()["items"][0]["id"] == plan.pk
    assert Api(charlie).get("/plans").json()["items"] == []
    response = Api(alice).get(f"/plans/{plan.pk}")
    assert response.status_code == 200 and response["ETag"] == etag_of(plan)
    problem_of(Api(charlie).get(f"/plans/{plan.pk}"), 404)
    problem_of(Api(plan.profile.user).get(f"/plans/{plan.pk}"), 403)
    problem_of(Api(alice).get("/plans/mine"), 403)


# --- Matches ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("match_index")
def test_matches_for_a_demand_are_the_staff_pages_candidates_and_reasons(
    alice: User, charlie: User, tea_company: Organisation
) -> None:
    pig = make_pig_expert()
    tea = make_tea_expert()
    demand = make_tea_demand(tea_company, status=Demand.Status.SUBMITTED)

    body = Api(alice).get(f"/matches/demands/{demand.pk}").json()
    rows = experts_for_demand(demand=demand, top_k=10)
    assert [e["expert_id"] for e in body["experts"]] == [r.profile.pk for r in rows]
    assert body["experts"][0]["expert_id"] == tea.pk
    first = body["experts"][0]["reasons"]
    assert first["matched_terms_label"] == rows[0].matched_terms_label
    assert "茶叶" in first["matched_terms"]
    assert first["match_percent"] == rows[0].match_percent
    assert first["region_label"] == rows[0].region_label

    # The same experts, in the same order, with the same words as the page.
    html = client_for(alice).get(f"/matching/demands/{demand.pk}/").content.decode()
    positions = [html.index(f'data-expert="{e["expert_id"]}"') for e in body["experts"]]
    assert positions == sorted(positions)
    assert f"命中词：{first['matched_terms_label']}" in html
    if pig.pk in [e["expert_id"] for e in body["experts"]]:
        assert [e["expert_id"] for e in body["experts"]].index(pig.pk) > 0

    problem_of(Api(charlie).get(f"/matches/demands/{demand.pk}"), 404)
    problem_of(Api(tea.user).get(f"/matches/demands/{demand.pk}"), 403)


@pytest.mark.usefixtures("match_index")
def test_recommended_demands_are_the_dashboards(tea_company: Organisation) -> None:
    tea = make_tea_expert()
    public = make_tea_demand(tea_company)
    summary = make_tea_demand(
        tea_company, title="茶园绿色防控（仅摘要）", confidentiality="summary"
    )
    make_tea_demand(tea_company, title="茶叶病虫害（草稿）", status=Demand.Status.DRAFT)

    items = Api(tea.user).get("/matches/recommended-demands").json()["items"]
    rows = demands_for_expert(profile=tea, top_k=8)
    assert [i["demand_id"] for i in items] == [r.demand.pk for r in rows]
    assert {i["demand_id"] for i in items} == {public.pk, summary.pk}
    shown = {i["demand_id"]: i for i in items}
    assert shown[public.pk]["matched_terms"]
    assert (
        shown[summary.pk]["matched_terms"] == [] and shown[summary.pk]["matched_terms_label"] == ""
    )

    html = client_for(tea.user).get("/dashboard/").content.decode()
    positions = [html.index(f'data-demand="{i["demand_id"]}"') for i in items]
    assert positions == sorted(positions)
