"""一人一策: plans open on verification, edits are versioned, jurisdiction decides who sees a
plan, and owners get a work queue of due actions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import User
from kejiyun.common.errors import NotPermitted
from kejiyun.notifications.models import OutboxMessage
from kejiyun.plans.models import PlanAction, PlanEvent, PlanFollowUp, PlanNeed, ServicePlan
from kejiyun.plans.selectors import plan_actions_due
from kejiyun.plans.services import (
    NEED_MOVES,
    PlanError,
    StalePlan,
    plan_action_add,
    plan_need_add,
    plan_need_transition,
    plan_open,
    plan_reassign,
    plans_open_many,
    worker_verify,
)
from tests.builders import client_for, make_staff, make_worker

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)


def snapshot() -> tuple[object, ...]:
    return (
        list(ServicePlan.objects.order_by("pk").values()),
        list(PlanNeed.objects.order_by("pk").values()),
        list(PlanAction.objects.order_by("pk").values()),
        list(PlanFollowUp.objects.order_by("pk").values()),
    )


@pytest.fixture
def plan(alice: User) -> ServicePlan:
    profile = make_worker("wang", "510104", "13900000101")
    return worker_verify(profile=profile, actor=alice)


def test_opening_a_plan_notifies_the_owner_once_and_is_idempotent(alice: User) -> None:
    profile = make_worker("wang", "510104", "13900000101")
    plan = plan_open(profile=profile, actor=alice)
    assert plan_open(profile=profile, actor=alice).pk == plan.pk
    assert ServicePlan.objects.count() == 1
    message = OutboxMessage.objects.get()
    assert (message.recipient_id, message.channel, message.idempotency_key) == (
        alice.pk,
        "inapp",
        f"plan-owner:{plan.pk}:1",
    )
    assert message.url == f"/plans/{plan.pk}/"


def test_plans_opened_together_go_to_the_least_loaded_staff_of_each_serving_centre(
    alice: User, bob: User
) -> None:
    erin = make_staff("erin", "510104")
    held = plan_open(profile=make_worker("wang", "510104", "13900000101"), actor=alice)
    workers = [make_worker(f"w{i}", "510104", f"1390000020{i}") for i in range(3)]
    workers.append(make_worker("remote", "510116", "13900000301"))

    opened = plans_open_many(profiles=[held.profile, *workers], actor=bob)

    plans = {p.profile.user.username: p for p in ServicePlan.objects.select_related("owner")}
    assert opened == 4
    assert plans["wang"].pk == held.pk  # a worker's plan is kept, not opened again
    # Alice already had Wang's plan: Erin gets the first new one, then they take turns.
    assert [plans[f"w{i}"].owner for i in range(3)] == [erin, alice, erin]
    assert (plans["remote"].centre.region_id, plans["remote"].owner) == ("510116", None)
    assert PlanEvent.objects.filter(kind=PlanEvent.Kind.OPENED).count() == 5
    keys = set(OutboxMessage.objects.values_list("idempotency_key", flat=True))
    assert keys == {f"plan-owner:{plans[n].pk}:1" for n in ("wang", "w0", "w1", "w2")}


def test_opening_plans_for_a_worker_outside_the_jurisdiction_refuses_them_all(
    alice: User,
) -> None:
    near = make_worker("near", "510104", "13900000101")
    far = make_worker("far", "510116", "13900000102")
    before = snapshot()

    with pytest.raises(NotPermitted):
        plans_open_many(profiles=[near, far], actor=alice)

    assert snapshot() == before
    assert PlanEvent.objects.count() == 0


def test_a_plan_at_a_centre_without_staff_has_no_owner(bob: User) -> None:
    profile = make_worker("wang", "510116", "13900000101")
    plan = plan_open(profile=profile, actor=bob)
    assert (plan.centre.region_id, plan.owner_id) == ("510116", None)
    assert OutboxMessage.objects.count() == 0


def test_staff_add_a_need_an_action_and_a_follow_up_each_bumping_the_version(
    alice: User, plan: ServicePlan
) -> None:
    client = client_for(alice)
    url = f"/plans/{plan.pk}/"
    assert (
        client.post(
            url + "needs/", {"version": 1, "kind": "project", "description": "申报省重点研发项目"}
        ).status_code
        == 302
    )
    need = PlanNeed.objects.get()
    assert (
        client.post(
            url + "actions/",
            {"version": 2, "title": "辅导填写申报书", "due_on": "2026-07-01", "need": need.pk},
        ).status_code
        == 302
    )
    assert (
        client.post(
            url + "followups/", {"version": 3, "happened_on": "2026-01-05", "note": "电话沟通"}
        ).status_code
        == 302
    )
    action = PlanAction.objects.get()
    assert client.post(url + f"actions/{action.pk}/done/", {"version": 4}).status_code == 302
    assert client.post(url + f"needs/{need.pk}/met/", {"version": 5}).status_code == 302
    plan.refresh_from_db()
    action.refresh_from_db()
    need.refresh_from_db()
    assert plan.version == 6
    assert (action.need_id, action.done_by_id) == (need.pk, alice.pk)
    assert action.done_at is not None
    assert need.status == "met"
    followup = PlanFollowUp.objects.get()
    assert (followup.author_id, followup.note) == (alice.pk, "电话沟通")
    page = client.get(url).content.decode()
    assert "申报省重点研发项目" in page
    assert "辅导填写申报书" in page


def test_a_stale_plan_edit_is_refused_with_409_and_changes_nothing(
    alice: User, plan: ServicePlan
) -> None:
    client = client_for(alice)
    url = f"/plans/{plan.pk}/"
    client.post(url + "needs/", {"version": 1, "kind": "training", "description": "参加培训"})
    before = snapshot()
    for path, data in (
        ("needs/", {"version": 1, "kind": "project", "description": "另一条需求"}),
        ("actions/", {"version": 1, "title": "过期页面的事项", "due_on": "2026-07-01"}),
        ("followups/", {"version": 1, "happened_on": "2026-01-05", "note": "过期页面"}),
    ):
        response = client.post(url + path, data)
        assert response.status_code == 409
        assert "该计划已被他人修改，请刷新后再试。" in response.content.decode()
    assert snapshot() == before


def test_stale_plan_is_a_validation_error_with_the_chinese_message(
    alice: User, plan: ServicePlan
) -> None:
    with pytest.raises(StalePlan) as excinfo:
        plan_need_add(plan=plan, actor=alice, expected_version=7, kind="project", description="x")
    assert excinfo.value.messages == ["该计划已被他人修改，请刷新后再试。"]
    assert PlanNeed.objects.count() == 0


def test_county_staff_cannot_see_or_edit_another_countys_plan_and_nothing_changes(
    alice: User, charlie: User, bob: User
) -> None:
    profile = make_worker("qing", "510822", "13900000201")
    plan = worker_verify(profile=profile, actor=charlie)
    before = snapshot()
    client = client_for(alice)
    url = f"/plans/{plan.pk}/"
    assert client.get(url).status_code == 404
    assert (
        client.post(
            url + "needs/", {"version": 1, "kind": "project", "description": "x"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            url + "followups/", {"version": 1, "happened_on": "2026-01-05", "note": "x"}
        ).status_code
        == 404
    )
    assert client.post(url + "reassign/", {"version": 1, "owner": alice.pk}).status_code == 404
    assert client_for(bob).get(url).status_code == 404
    assert "Qing" not in client.get("/plans/").content.decode()
    assert snapshot() == before
    assert client_for(charlie).get(url).status_code == 200


def test_city_staff_reassign_a_plan_to_staff_covering_the_county_and_the_owner_is_notified(
    alice: User, bob: User, plan: ServicePlan
) -> None:
    shuangliu = make_staff("shuang", "510116")
    client = client_for(bob)
    url = f"/plans/{plan.pk}/reassign/"
    response = client.post(url, {"version": 1, "owner": shuangliu.pk})
    assert response.status_code == 400  # cannot see a 锦江区 worker, so not offered
    response = client.post(url, {"version": 1, "owner": bob.pk})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.owner_id, plan.centre.region_id, plan.version) == (bob.pk, "510100", 2)
    note = OutboxMessage.objects.get(idempotency_key=f"plan-owner:{plan.pk}:2")
    assert note.recipient_id == bob.pk
    stale = client.post(url, {"version": 1, "owner": alice.pk})
    assert stale.status_code == 409
    plan.refresh_from_db()
    assert plan.owner_id == bob.pk


def test_county_staff_cannot_reassign_and_nothing_changes(alice: User, plan: ServicePlan) -> None:
    colleague = make_staff("alice2", "510104")
    before = snapshot()
    response = client_for(alice).post(
        f"/plans/{plan.pk}/reassign/", {"version": 1, "owner": colleague.pk}
    )
    assert response.status_code == 404
    assert snapshot() == before
    assert "转交计划" not in client_for(alice).get(f"/plans/{plan.pk}/").content.decode()


def test_every_plan_move_writes_one_event_with_actor_and_reason(
    alice: User, bob: User, plan: ServicePlan
) -> None:
    need = plan_need_add(
        plan=plan, actor=alice, expected_version=1, kind="project", description="申报省重点研发项目"
    )
    action = plan_action_add(
        plan=plan, actor=alice, expected_version=2, title="联系科技厅", due_on=TODAY
    )
    plan_need_transition(need=need, to_status=PlanNeed.Status.MET, actor=alice, expected_version=3)
    client_for(alice).post(f"/plans/{plan.pk}/actions/{action.pk}/done/", {"version": 4})
    plan_reassign(plan=plan, owner=bob, actor=bob, expected_version=5)
    events = list(
        PlanEvent.objects.filter(plan=plan).values_list(
            "kind", "actor__username", "from_status", "to_status", "reason"
        )
    )
    assert events == [
        ("opened", "alice", "", "", "锦江区科技服务中心"),
        ("need_moved", "alice", "open", "met", "申报省重点研发项目"),
        ("action_done", "alice", "", "", "联系科技厅"),
        ("reassigned", "bob", "", "", "Alice → Bob"),
    ]
    page = client_for(bob).get(f"/plans/{plan.pk}/").content.decode()
    assert 'data-testid="plan-events"' in page and "Alice → Bob" in page


def test_a_need_move_outside_the_table_is_refused_and_writes_nothing(
    alice: User, plan: ServicePlan
) -> None:
    need = plan_need_add(
        plan=plan, actor=alice, expected_version=1, kind="training", description="培训"
    )
    plan_need_transition(need=need, to_status="met", actor=alice, expected_version=2)
    assert NEED_MOVES["met"] == frozenset()
    before = snapshot(), list(PlanEvent.objects.values())
    with pytest.raises(PlanError, match="不能这样更改"):
        plan_need_transition(need=need, to_status="open", actor=alice, expected_version=3)
    assert (snapshot(), list(PlanEvent.objects.values())) == before


def test_plan_actions_due_lists_open_actions_overdue_first_then_by_due_date(
    alice: User, plan: ServicePlan
) -> None:
    other_owner = make_staff("alice2", "510104")
    other = plan_open(profile=make_worker("li", "510104", "13900000102"), actor=alice)
    ServicePlan.objects.filter(pk=other.pk).update(owner=other_owner)
    version = plan.version
    titles = [
        ("下月", TODAY + timedelta(days=30)),
        ("上周逾期", TODAY - timedelta(days=7)),
        ("今天", TODAY),
        ("昨天逾期", TODAY - timedelta(days=1)),
        ("已完成", TODAY - timedelta(days=20)),
    ]
    for title, due in titles:
        plan_action_add(plan=plan, actor=alice, expected_version=version, title=title, due_on=due)
        version += 1
    PlanAction.objects.filter(title="已完成").update(
        done_at="2026-06-01T10:00:00+08:00", done_by=alice
    )
    PlanAction.objects.create(plan=other, title="别人的", due_on=TODAY - timedelta(days=99))
    due = list(plan_actions_due(owner=alice, today=TODAY))
    assert [a.title for a in due] == ["上周逾期", "昨天逾期", "今天", "下月"]
    assert [a.overdue for a in due] == [0, 0, 1, 1]  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as ctx:
        rows = list(plan_actions_due(owner=alice, today=TODAY))
        names = [a.plan.profile.user.display_name for a in rows]
    assert names == ["Wang"] * 4
    assert len(ctx.captured_queries) == 1


def test_a_worker_sees_their_own_plan_read_only(alice: User, plan: ServicePlan) -> None:
    plan_need_add(
        plan=plan, actor=alice, expected_version=1, kind="platform", description="建设专家工作站"
    )
    worker = plan.profile.user
    page = client_for(worker).get("/plans/mine/").content.decode()
    assert "建设专家工作站" in page
    assert "Alice" in page
    assert '<form method="post" action="/plans/' not in page
    assert client_for(worker).get(f"/plans/{plan.pk}/").status_code == 404
    assert client_for(worker).get("/plans/").status_code == 404
    newcomer = make_worker("new", "510104", "13900000103")
    assert "核验您的档案后" in client_for(newcomer.user).get("/plans/mine/").content.decode()


def test_people_without_a_profile_get_404_on_my_plan(alice: User, dora: User) -> None:
    assert client_for(alice).get("/plans/mine/").status_code == 404
    assert client_for(dora).get("/plans/mine/").status_code == 404


def test_the_plans_list_filters_by_owner_and_county(
    alice: User, bob: User, plan: ServicePlan
) -> None:
    other = plan_open(profile=make_worker("shuang", "510116", "13900000104"), actor=bob)
    client = client_for(bob)
    everything = client.get("/plans/").content.decode()
    assert f'data-plan="{plan.pk}"' in everything
    assert f'data-plan="{other.pk}"' in everything
    county = client.get("/plans/?county=510116").content.decode()
    assert f'data-plan="{plan.pk}"' not in county
    assert f'data-plan="{other.pk}"' in county
    mine = client_for(alice).get("/plans/?owner=me").content.decode()
    assert f'data-plan="{plan.pk}"' in mine


def test_the_plans_list_uses_a_fixed_number_of_queries(pat: User) -> None:
    client = client_for(pat)
    client.get("/")

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            p = plan_open(profile=make_worker(f"w{i}", "510104", f"1370000{i:04d}"), actor=pat)
            plan_need_add(plan=p, actor=pat, expected_version=1, kind="project", description="x")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/plans/").status_code == 200
        return len(ctx.captured_queries)

    add(2, 0)
    few = count()
    add(4, 2)
    many = count()
    assert few == many == 5


def test_the_plan_page_uses_a_fixed_number_of_queries(alice: User, plan: ServicePlan) -> None:
    client = client_for(alice)
    client.get("/")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/plans/{plan.pk}/").status_code == 200
        return len(ctx.captured_queries)

    with time_machine.travel("2026-06-15 10:00 +0800", tick=False):
        plan_need_add(plan=plan, actor=alice, expected_version=1, kind="project", description="a")
        plan_action_add(plan=plan, actor=alice, expected_version=2, title="a", due_on=TODAY)
        few = count()
        for v in range(3, 8):
            plan_action_add(plan=plan, actor=alice, expected_version=v, title=f"b{v}", due_on=TODAY)
        many = count()
    assert few == many == 8
