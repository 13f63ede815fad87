"""The staff work queue from the page cache (issue 16, "fast pages"; `queue()` in
kejiyun/cases/workflow/views.py): the rendered rows are kept under the keys of the cases
shown (id, version, the demand's version, urgency), the plan actions under theirs, the
filter fields and the staff to hand cases to per jurisdiction and query string.

Each cached part shows a change made through the services on the next request, is never
shown to a staff member of another jurisdiction (or, for the plan actions, to anyone else),
and the page is right with the cache keeping nothing or failing. The queue never unmasks
personal data: titles are masked in the cached rows as they were in the built ones.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.cases.clock.services import case_escalate, case_pause, case_resume
from kejiyun.cases.models import Case, Step
from kejiyun.cases.workflow import views
from kejiyun.cases.workflow.selectors import work_queue
from kejiyun.cases.workflow.services import case_assign, case_transition, cases_reassign
from kejiyun.demands.models import Demand
from kejiyun.pagecache import fragments
from kejiyun.plans.models import PlanAction
from kejiyun.plans.services import plan_action_add, plan_action_complete, plan_open
from tests.builders import client_for, make_case, make_staff, make_worker


def _page(user: User, url: str = "/cases/") -> str:
    response = client_for(user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def _rows(html: str) -> dict[int, str]:
    """The queue's rows by case id."""
    body = html.split('data-testid="case-queue"', 1)[1].split("</table>", 1)[0]
    return {int(pk): row for pk, row in re.findall(r'<tr data-case="(\d+)"(.*?)</tr>', body, re.S)}


def _actions(html: str) -> str:
    return html.split('data-testid="plan-actions"', 1)[1].split("</table>", 1)[0]


def _select(html: str, name: str) -> str:
    found = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    return found.group(0) if found else ""


# --- A change shows on the next request -------------------------------------------------------


def test_a_step_change_shows_at_once(alice: User) -> None:
    case = make_case(alice)
    assert "受理" in _rows(_page(alice))[case.pk]
    assert "受理" in _rows(_page(alice))[case.pk]  # from the cache
    case_transition(case=case, to_step=Step.DIAGNOSIS, actor=alice)
    assert "需求诊断" in _rows(_page(alice))[case.pk]


def test_a_new_case_and_a_case_handed_on_show_at_once(alice: User, bob: User) -> None:
    first = make_case(alice, serial="1")
    assert set(_rows(_page(alice))) == {first.pk}
    second = make_case(alice, serial="2", title="茶叶加工")
    assert set(_rows(_page(alice))) == {first.pk, second.pk}
    assert "Alice" in _rows(_page(bob, "/cases/?scope=all"))[first.pk]

    case_assign(case=first, owner=bob, actor=bob)
    assert set(_rows(_page(alice))) == {second.pk}  # no longer hers
    assert "Bob" in _rows(_page(bob, "/cases/?scope=all"))[first.pk]
    assert set(_rows(_page(bob))) == {first.pk}


def test_a_bulk_reassignment_shows_at_once(alice: User, bob: User) -> None:
    cases = [make_case(alice, serial=str(n), title=f"需求{n}") for n in range(3)]
    before = _rows(_page(bob, "/cases/?scope=all"))
    assert all("Alice" in before[c.pk] for c in cases)
    dora = make_staff("dora2", "510100")
    assert cases_reassign(case_ids=[c.pk for c in cases], owner=dora, actor=bob) == 3
    after = _rows(_page(bob, "/cases/?scope=all"))
    assert all("Dora2" in after[c.pk] and "Alice" not in after[c.pk] for c in cases)


def test_the_clock_shows_at_once(alice: User, bob: User) -> None:
    """Pause and resume, and an escalation to the city."""
    case = make_case(alice)
    assert "已超时" not in _rows(_page(alice))[case.pk]
    case_pause(case=case, actor=alice, reason="等企业补充材料")
    assert "暂停计时" in _rows(_page(alice))[case.pk]
    case_resume(case=case, actor=alice)
    row = _rows(_page(alice))[case.pk]
    assert "暂停计时" not in row and "已超时" not in row

    case.refresh_from_db()
    assert case.due_at is not None
    with time_machine.travel(case.due_at + timedelta(minutes=1), tick=False):
        assert "已超时" in _rows(_page(alice))[case.pk]
        assert case_escalate(case=case)
        assert "Bob" in _rows(_page(bob, "/cases/?scope=all"))[case.pk]


def test_a_due_time_passing_shows_at_once_without_a_write(alice: User) -> None:
    """The rows' urgency is part of their key: a case falling due shows as overdue on the
    next request, though nothing was written and its cached row is still fresh."""
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        case = make_case(alice)
        Case.objects.filter(pk=case.pk).update(due_at=start + timedelta(seconds=30))
        for _ in range(2):
            row = _rows(_page(alice))[case.pk]
            assert "table-warning" in row and "已超时" not in row  # due soon
        clock.shift(31)
        row = _rows(_page(alice))[case.pk]
        assert "table-danger" in row and "已超时" in row


def test_a_change_of_the_demand_that_moves_its_version_shows_at_once(alice: User) -> None:
    case = make_case(alice)
    assert "茶园病虫害绿色防控" in _rows(_page(alice))[case.pk]
    Demand.objects.filter(pk=case.demand_id).update(title="茶园虫害", version=F("version") + 1)
    row = _rows(_page(alice))[case.pk]
    assert "茶园虫害" in row and "茶园病虫害绿色防控" not in row


def test_the_pages_follow_the_paginator(alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """A window count replaces the paginator's COUNT(*); past the end is the last page, and
    anything but a number the first, as `Paginator.get_page` answers."""
    monkeypatch.setattr(views, "QUEUE_PAGE_SIZE", 2)
    cases = [make_case(alice, serial=str(n), title=f"需求{n}") for n in range(5)]
    order = [c.pk for c in work_queue(user=alice)]
    assert sorted(order) == sorted(c.pk for c in cases)
    for asked, number in (
        ("1", 1),
        ("2", 2),
        ("3", 3),
        ("9", 3),
        ("0", 3),
        ("-1", 3),
        ("x", 1),
        ("2.0", 1),
        ("9" * 30, 3),
    ):
        html = _page(alice, f"/cases/?page={asked}")
        assert list(_rows(html)) == order[(number - 1) * 2 : number * 2], asked
        assert f"第 {number} / 3 页" in html, asked
    case_transition(case=cases[0], to_step=Step.WITHDRAWN, actor=alice, reason="企业撤回")
    assert "第 2 / 2 页" in _page(alice, "/cases/?page=9")


def test_the_list_of_closed_cases_shows_a_case_closed_at_once(alice: User) -> None:
    case = make_case(alice)
    url = "/cases/?state=closed&scope=all"
    assert _rows(_page(alice, url)) == {}
    case_transition(case=case, to_step=Step.WITHDRAWN, actor=alice, reason="企业撤回")
    assert "已撤回" in _rows(_page(alice, url))[case.pk]
    assert case.pk not in _rows(_page(alice, "/cases/?scope=all"))


def test_an_empty_queue(alice: User) -> None:
    html = _page(alice, "/cases/?page=3")
    assert _rows(html) == {} and "没有待办案例。" in html


def test_the_rows_are_read_in_one_query_however_many(alice: User, bob: User) -> None:
    make_case(alice, serial="1")
    client = client_for(bob)

    def built_and_cached() -> tuple[int, int]:
        counts = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get("/cases/?scope=all").status_code == 200
            counts.append(len(ctx.captured_queries))
        return counts[0], counts[1]

    built_and_cached()  # the session and the filter lists
    make_case(alice, serial="2", title="二")
    few = built_and_cached()
    for n in range(3, 9):
        make_case(alice, serial=str(n), title=f"需求{n}")
    many = built_and_cached()
    assert few == many
    assert few[0] == few[1] + 1  # the rows, read by their ids


# --- Nobody receives another's part ---------------------------------------------------------


def test_a_county_never_receives_the_citys_cached_parts(
    alice: User, bob: User, charlie: User
) -> None:
    mine = make_case(alice, serial="1")
    other = make_case(alice, county="510105", serial="2", title="青羊区的需求")
    for url in ("/cases/?scope=all", "/cases/?scope=all&step=intake"):
        city = _page(bob, url)
        assert set(_rows(city)) == {mine.pk, other.pk}
        assert 'value="510105"' in _select(city, "county")
        assert "Bob" in _select(city, "owner")
        county = _page(alice, url)
        assert set(_rows(county)) == {mine.pk}
        assert 'value="510105"' not in _select(county, "county")
        assert _select(county, "owner") == ""  # a county does not hand cases on in bulk
        assert _rows(_page(charlie, url)) == {}


def test_the_plan_actions_are_each_owners_own(alice: User, bob: User) -> None:
    plan = plan_open(profile=make_worker("wang", "510104", "13900000101"), actor=alice)
    assert plan.owner_id == alice.pk
    assert "没有待办事项。" in _actions(_page(alice))
    assert "没有待办事项。" in _actions(_page(bob))
    plan_action_add(
        plan=plan,
        actor=alice,
        expected_version=plan.version,
        title="走访茶园",
        due_on=timezone.localdate() + timedelta(days=3),
    )
    assert "走访茶园" in _actions(_page(alice))
    assert "走访茶园" not in _actions(_page(bob))
    plan.refresh_from_db()
    action = PlanAction.objects.get(plan=plan)
    plan_action_complete(action=action, actor=alice, expected_version=plan.version)
    assert "走访茶园" not in _actions(_page(alice))


def test_a_plan_action_is_marked_overdue_the_moment_its_day_ends(alice: User) -> None:
    due = timezone.localdate() + timedelta(days=1)
    evening = timezone.make_aware(datetime.combine(due, time(23, 59, 50)))
    with time_machine.travel(evening, tick=False) as clock:
        plan = plan_open(profile=make_worker("wang", "510104", "13900000101"), actor=alice)
        plan_action_add(
            plan=plan, actor=alice, expected_version=plan.version, title="回访", due_on=due
        )
        for _ in range(2):
            assert "已超时" not in _actions(_page(alice))
        clock.shift(20)  # past midnight: the cached table (kept a minute) is not reused
        assert "已超时" in _actions(_page(alice))


# --- The cache is never needed for a right answer -------------------------------------------


class _BrokenCache:
    """A cache that is down: every read and write fails."""

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("down")

    def set(self, *args: Any, **kwargs: Any) -> None:
        raise ConnectionError("down")


def _whole_queue(alice: User, bob: User) -> None:
    mine = make_case(alice, serial="1")
    other = make_case(alice, county="510105", serial="2", title="青羊区的需求")
    plan = plan_open(profile=make_worker("wang", "510104", "13900000101"), actor=alice)
    today = timezone.localdate()
    plan_action_add(
        plan=plan, actor=alice, expected_version=plan.version, title="走访", due_on=today
    )
    for _ in range(2):
        city = _page(bob, "/cases/?scope=all")
        assert set(_rows(city)) == {mine.pk, other.pk}
        assert 'value="510105"' in _select(city, "county") and "Bob" in _select(city, "owner")
        county = _page(alice, "/cases/?scope=all")
        assert set(_rows(county)) == {mine.pk}
        assert 'value="510105"' not in _select(county, "county")
        assert "走访" in _actions(_page(alice)) and "走访" not in _actions(city)
    case_transition(case=mine, to_step=Step.DIAGNOSIS, actor=alice)
    assert "需求诊断" in _rows(_page(alice))[mine.pk]


def test_the_queue_is_right_with_a_cache_that_keeps_nothing(
    alice: User, bob: User, settings: Any
) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    _whole_queue(alice, bob)


def test_the_queue_is_right_with_the_cache_down(
    alice: User, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fragments, "cache", _BrokenCache())
    _whole_queue(alice, bob)


# --- Masking ----------------------------------------------------------------------------------


def test_the_cached_rows_mask_personal_data_as_the_built_ones(alice: User, bob: User) -> None:
    """The queue never unmasks: a mobile number written in a title is masked, built or cached,
    in the link and in the bulk checkbox's label."""
    case = make_case(alice, title="联系人13912345678")
    for _ in range(2):
        row = _rows(_page(bob, "/cases/?scope=all"))[case.pk]
        assert "13912345678" not in row
        assert row.count("139****5678") == 2


# --- The queue's order --------------------------------------------------------------------------


def test_the_queue_order_agrees_with_the_case_clock_queries(alice: User) -> None:
    """`urgency` (written flat for speed) says what `Case.overdue_q`, `Case.due_soon_q` and
    `Case.running_q` say: 0 overdue, 1 due soon, 2 running, 3 clock stopped."""
    now = timezone.now()
    cases = [make_case(alice, serial=str(n), title=f"需求{n}") for n in range(7)]
    states: list[dict[str, Any]] = [
        {"due_at": now - timedelta(hours=1)},
        {"due_at": now + timedelta(hours=1)},
        {"due_at": now + timedelta(days=30)},
        {"due_at": None},
        {"due_at": now - timedelta(hours=1), "paused_at": now},
        {"due_at": now - timedelta(hours=1), "step": Step.ACCEPTANCE},
        {"due_at": now + timedelta(hours=1), "paused_at": now},
    ]
    for case, state in zip(cases, states, strict=True):
        Case.objects.filter(pk=case.pk).update(**state)
    expected = {}
    for case in cases:
        one = Case.objects.filter(pk=case.pk)
        expected[case.pk] = (
            0
            if one.filter(Case.overdue_q(now)).exists()
            else 1
            if one.filter(Case.due_soon_q(now)).exists()
            else 2
            if one.filter(Case.running_q()).exists()
            else 3
        )
    assert sorted(expected.values()) == [0, 1, 2, 2, 3, 3, 3]
    got = {c.pk: c.urgency for c in work_queue(user=alice, now=now)}  # type: ignore[attr-defined]
    assert got == expected
