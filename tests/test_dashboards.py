"""Dashboards (工作台): staff see overdue and unowned cases over their whole jurisdiction and
the demands waiting for review; every role's dashboard has the one name 工作台."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from kejiyun.accounts.models import Role, User
from kejiyun.cases.models import Case
from kejiyun.demands.models import Demand
from tests.builders import (
    PASSWORD,
    client_for,
    make_case,
    make_citizen,
    make_demand,
    make_enterprise,
    make_enterprise_user,
    make_reviewer,
    make_worker,
)


def count(html: str, name: str) -> int:
    found = re.search(rf'data-count="{name}">(\d+)<', html)
    assert found, name
    return int(found.group(1))


def test_staff_dashboards_count_overdue_and_unowned_cases_over_the_whole_jurisdiction(
    alice: User, bob: User, charlie: User, pat: User
):
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        make_case(alice, serial="1", title="超时的需求")  # alice owns it, in 锦江区
        make_case(alice, serial="2", title="按时的需求")
        clock.shift(timedelta(days=4))
        make_case(alice, serial="3", title="新的需求")
        nobody = make_case(alice, serial="4", title="无人负责")
        Case.objects.filter(pk=nobody.pk).update(owner=None)
        expected = {"cases-open": 4, "cases-overdue": 2, "cases-unowned": 1}
        for user in (alice, bob, pat):
            html = client_for(user).get("/dashboard/").content.decode()
            assert {name: count(html, name) for name in expected} == expected, user
        # Bob (city) owns none of them: his own counts are zero, the jurisdiction's are not.
        html = client_for(bob).get("/dashboard/").content.decode()
        assert "在办 0 件" in html
        assert 'href="/cases/?scope=unowned" data-count="cases-unowned">1<' in html
        # Another county sees none of them.
        html = client_for(charlie).get("/dashboard/").content.decode()
        assert count(html, "cases-open") == count(html, "cases-overdue") == 0


def test_the_staff_dashboard_shows_the_review_queue_with_a_link(alice: User, charlie: User):
    organisation = make_enterprise("锦江食品有限公司", "510104", "MA6100009")
    for n in range(2):
        make_demand(organisation, title=f"待审需求{n}", status=Demand.Status.SUBMITTED)
    make_demand(organisation, title="已发布需求")
    html = client_for(alice).get("/dashboard/").content.decode()
    assert 'href="/demands/staff/review/" data-count="review-queue">2<' in html
    assert count(client_for(charlie).get("/dashboard/").content.decode(), "review-queue") == 0


@pytest.mark.django_db
def test_every_dashboard_and_the_nav_call_it_gongzuotai_and_the_queue_has_its_own_name(
    alice: User,
):
    enterprise = make_enterprise_user(make_enterprise("锦江茶业", "510104", "MA6100003"))
    users = [
        alice,
        enterprise,
        make_worker("wang", "510104", "13900000101").user,
        make_citizen("dora", "510104", mobile="13700000001", consent=False),
        make_reviewer("rita"),
        User.objects.create_user(
            username="audrey", password=PASSWORD, display_name="审计员", role=Role.AUDITOR
        ),
    ]
    assert {u.role for u in users} == set(Role) - {Role.ADMIN}
    for user in users:
        html = client_for(user).get("/dashboard/").content.decode()
        assert re.search(r"<title>工作台 · ", html), user.role
        assert '<h1 class="h3">工作台</h1>' in html, user.role
        assert 'href="/dashboard/">工作台</a>' in html, user.role
        assert "我的工作台" not in html
    queue = client_for(alice).get("/cases/").content.decode()
    assert re.search(r"<title>案例队列 · ", queue)
    assert "我的工作台" not in queue and ">案例队列</a>" in queue
