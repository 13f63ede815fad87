"""What the signed-in pages cost in queries (issue 16, "fast pages"): the fixed cost of every
signed-in request through the middleware stack, and the pages of staff, workers and
enterprises on a realistic amount of data. Each page is asked with a little data and with
more; the count must not grow with the rows (no N+1) and is pinned, so a change that adds a
query to every request or to one page fails here and has to say why.

The counts are of a second request in the same session: the first of a session stamps its
start and last-seen time (SessionLimitsMiddleware), which later requests repeat at most once
a minute, so a plain read writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY

from kejiyun.accounts.models import User
from kejiyun.cases.models import Case
from kejiyun.cases.workflow.services import case_note_add, case_visit_add
from kejiyun.talent.models import TalentProfile
from kejiyun.talent.services import ProfileData, talent_profile_update
from tests.builders import (
    case_to_matching,
    client_for,
    enrol_second_factor,
    make_case,
    make_demand,
    make_enterprise_user,
    make_tea_expert,
    make_worker,
)

WRITES = ("INSERT", "UPDATE", "DELETE")


def _queries(client: Client, url: str, **headers: Any) -> list[str]:
    """The SQL of one request (after a first one that settles the session)."""
    assert client.get(url, **headers).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in ctx.captured_queries]


def _verified_client(user: User) -> Client:
    """A client signed in as a privileged `user` who has passed the second factor."""
    device = enrol_second_factor(user)
    client = client_for(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


# --- The fixed cost of a signed-in request ---------------------------------------------------


@pytest.mark.otp
@pytest.mark.urls("tests.page_cost_urls")
def test_a_signed_in_staff_request_costs_three_queries_and_writes_nothing(alice: User) -> None:
    """Session, the user with their centre and its region, and the second factor's device:
    nothing else, whatever the middleware checks (session limits, second factor, password
    age, no-store, audit, rate limits)."""
    client = _verified_client(alice)
    sql = _queries(client, "/test-costs/nothing/")
    assert len(sql) == 3, sql
    assert not [q for q in sql if q.lstrip().upper().startswith(WRITES)]
    assert "django_session" in sql[0]
    assert "accounts_user" in sql[1] and "regions_servicecentre" in sql[1]
    assert "otp_totp_totpdevice" in sql[2]


@pytest.mark.otp
@pytest.mark.urls("tests.page_cost_urls")
def test_a_staff_page_reads_the_centre_and_region_from_the_user_query(alice: User) -> None:
    """Jurisdiction scoping (`jurisdiction_filter`) reads the user's centre and its region on
    every staff page; they come with the user, never as queries of their own."""
    client = _verified_client(alice)
    sql = _queries(client, "/centres/staff/centres/")
    lazy = ('WHERE "regions_servicecentre"."id" = ', 'WHERE "regions_region"."code" = ')
    assert not [q for q in sql if any(marker in q for marker in lazy)]
    assert len(sql) == 4, sql


@pytest.mark.urls("tests.page_cost_urls")
def test_a_signed_in_request_without_a_second_factor_costs_two_queries(erin: User) -> None:
    client = client_for(erin)
    assert len(_queries(client, "/test-costs/nothing/")) == 2


@pytest.mark.urls("tests.page_cost_urls")
def test_an_anonymous_request_costs_no_query(db: None) -> None:
    assert _queries(Client(), "/test-costs/nothing/") == []


# --- The pages -------------------------------------------------------------------------------


def _same_with_more_rows(
    measure: Callable[[], int], grow: Callable[[int], object], expected: int
) -> None:
    few = measure()
    grow(6)
    many = measure()
    assert few == many == expected, (few, many)


def test_the_county_work_queue_costs_a_fixed_number_of_queries(alice: User) -> None:
    serial = iter(range(100, 200))
    make_case(alice, serial=str(next(serial)))
    client = client_for(alice)
    _same_with_more_rows(
        lambda: len(_queries(client, "/cases/")),
        lambda n: [make_case(alice, serial=str(next(serial)), title=f"需求{i}") for i in range(n)],
        # The keys of the rows (with their count) and of the plan actions; the rendered
        # filters, rows and plan actions come from the page cache.
        4,
    )


def test_the_city_queue_of_every_case_costs_a_fixed_number_of_queries(
    alice: User, bob: User
) -> None:
    serial = iter(range(100, 200))
    make_case(alice, serial=str(next(serial)))
    client = client_for(bob)
    _same_with_more_rows(
        lambda: len(_queries(client, "/cases/?scope=all")),
        lambda n: [make_case(alice, serial=str(next(serial)), title=f"需求{i}") for i in range(n)],
        4,  # the same; the staff to hand cases to also come from the page cache
    )


def test_the_enterprise_case_list_costs_a_fixed_number_of_queries(alice: User) -> None:
    case = make_case(alice)
    erin = make_enterprise_user(case.demand.organisation, mobile="13900001111")
    client = client_for(erin)

    def more(n: int) -> None:
        from kejiyun.cases.workflow.services import case_open

        for i in range(n):
            demand = make_demand(case.demand.organisation, title=f"需求{i}", description="描述")
            case_open(demand=demand, actor=alice)

    # session, user, the organisation's cases' freshness (one aggregate): the rows come
    # from the page cache
    _same_with_more_rows(lambda: len(_queries(client, "/cases/mine/")), more, 3)


def _matching_case(alice: User) -> Case:
    for i in range(3):
        make_tea_expert(f"tina{i}", f"1390000000{i}")
    return case_to_matching(make_case(alice), alice)


def test_the_case_page_costs_a_fixed_number_of_queries(alice: User, match_index: Any) -> None:
    """Cached: the case and its record's freshness (`case_record_freshness`), nothing else.
    Built: its timeline, visits, notes, attachments and dockings, and the staff to hand
    it to; the same with more rows."""
    case = _matching_case(alice)
    client = client_for(alice)
    url = f"/cases/{case.pk}/"
    assert len(_queries(client, url)) == 4

    def built() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def more(n: int) -> None:
        for i in range(n):
            case_note_add(case=case, actor=alice, body=f"备注{i}")
            case_visit_add(
                case=case,
                actor=alice,
                visited_on=date(2026, 5, 1),
                place="茶园",
                people="张三",
                outcome="走访",
            )

    _same_with_more_rows(built, more, 10)
    assert len(_queries(client, url)) == 4


def test_the_staff_demand_page_and_its_matches_cost_a_fixed_number_of_queries(
    alice: User, match_index: Any
) -> None:
    case = _matching_case(alice)
    client = client_for(alice)
    assert len(_queries(client, f"/demands/staff/{case.demand_id}/")) == 5
    hx = {"HTTP_HX_REQUEST": "true"}
    # session, user, the demand, the generations: the rendered rankings come from the page
    # cache after the first request
    assert len(_queries(client, f"/matching/demands/{case.demand_id}/", **hx)) == 4
    few = len(_queries(client, f"/matching/demands/{case.demand_id}/"))
    for i in range(3, 9):
        make_tea_expert(f"tina{i}", f"1390000000{i}")
    assert len(_queries(client, f"/matching/demands/{case.demand_id}/")) == few == 4


def test_the_worker_dashboard_costs_a_fixed_number_of_queries(
    alice: User, match_index: Any
) -> None:
    worker: TalentProfile = make_tea_expert()
    serial = iter(range(100, 200))
    make_case(alice, serial=str(next(serial)))
    client = client_for(worker.user)
    _same_with_more_rows(
        lambda: len(_queries(client, "/dashboard/")),
        lambda n: [make_case(alice, serial=str(next(serial)), title=f"茶叶{i}") for i in range(n)],
        4,  # session, user, the profile's version, the generations: the rest is cached
    )


def test_the_worker_dashboard_shows_a_changed_profile_at_once(db: None) -> None:
    worker = make_worker("wendy", "510104", "13900000099")
    client = client_for(worker.user)
    before = client.get("/dashboard/").content.decode()
    talent_profile_update(
        profile=worker,
        actor=worker.user,
        data=ProfileData(
            employer=worker.employer,
            title=worker.title,
            fields=worker.fields,
            keywords="茶叶",
            capability="茶园土壤改良",
            service_modes=[],
            capacity=worker.capacity,
        ),
        expected_version=worker.version,
    )
    after = client.get("/dashboard/").content.decode()
    assert 'id="completeness"' in before
    assert _completeness(before) < _completeness(after)


def _completeness(html: str) -> int:
    start = html.index('id="completeness" class="w-100" max="100" value="') + len(
        'id="completeness" class="w-100" max="100" value="'
    )
    return int(html[start : html.index('"', start)])


def test_the_staff_dashboards_cost_a_fixed_number_of_queries(alice: User, pat: User) -> None:
    make_case(alice)
    assert len(_queries(client_for(alice), "/dashboard/")) == 12
    assert len(_queries(client_for(pat), "/dashboard/")) == 12


# --- The menus, rendered once per variant ------------------------------------------------------


def test_the_menus_follow_the_user_at_once(alice: User, erin: User) -> None:
    """Each process keeps each menu variant's HTML; a user whose role changes gets the other
    menu on their next page, and another user never gets theirs."""
    staff_page = client_for(alice).get("/").content.decode()
    assert '/cases/"' in staff_page and "/accounts/security/" in staff_page
    erin_client = client_for(erin)
    page = erin_client.get("/").content.decode()
    assert "/cases/mine/" in page and '/cases/"' not in page
    assert "/accounts/security/" not in page
    User.objects.filter(pk=erin.pk).update(role="citizen", organisation=None)
    page = erin_client.get("/").content.decode()
    assert "/cases/mine/" not in page and "/popsci/feed/" in page


def test_the_menus_follow_the_language_at_once(erin: User) -> None:
    client = client_for(erin)
    assert "我的需求" in client.get("/").content.decode()
    client.cookies["django_language"] = "en"
    english = client.get("/").content.decode()
    assert "我的需求" not in english


# --- The matching slots: rankings from the page cache, changes shown at once -------------------


def test_the_match_slot_runs_the_engines_once_until_something_changes(
    alice: User, match_index: Any
) -> None:
    """The first request searches (the three engines' freshness checks); later ones read the
    rankings from the page cache under the matching generation, and a profile changed
    through its service shows on the very next request."""
    from kejiyun.talent.services import ProfileData, talent_profile_update
    from tests.builders import make_expert

    case = _matching_case(alice)
    peter = make_expert(
        "peter", "510104", "13900000077", fields="畜牧学", keywords="生猪", capability="生猪养殖。"
    )
    client = client_for(alice)
    hx = {"HTTP_HX_REQUEST": "true"}
    url = f"/matching/demands/{case.demand_id}/"
    with CaptureQueriesContext(connection) as ctx:
        first = client.get(url, **hx)
    with CaptureQueriesContext(connection) as ctx_again:
        again = client.get(url, **hx)
    assert first.content == again.content
    assert f'data-expert="{peter.pk}"' not in again.content.decode()
    # The engines' freshness checks (a COUNT(*) each) run when the rankings are built only.
    stamps = [q["sql"] for q in ctx.captured_queries if "FROM matching_indexchange" in q["sql"]]
    assert len(stamps) == 3  # experts, teams, results
    assert not [q for q in ctx_again.captured_queries if "COUNT(*)" in q["sql"].upper()]
    # session, user, the demand, the generations (the rendered rankings are cached)
    assert len(ctx_again.captured_queries) == 4

    tina = TalentProfile.objects.get(user__username="tina0")
    talent_profile_update(
        profile=peter,
        actor=peter.user,
        data=ProfileData(
            employer="四川农业大学",
            title="研究员",
            fields=tina.fields,
            keywords=tina.keywords,
            capability=tina.capability,
            service_modes=[],
            capacity=3,
        ),
        expected_version=peter.version,
    )
    assert f'data-expert="{peter.pk}"' in client.get(url, **hx).content.decode()
    # The case page's slot reads the same cache and shows him too.
    assert (
        f'data-expert="{peter.pk}"'
        in client.get(f"/matching/cases/{case.pk}/", **hx).content.decode()
    )


def test_the_match_slot_answers_without_the_cache(
    alice: User, match_index: Any, settings: Any
) -> None:
    """A cache that is down (here: one that keeps nothing) costs the searches, not the page."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    case = _matching_case(alice)
    client = client_for(alice)
    response = client.get(f"/matching/demands/{case.demand_id}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().count('data-expert="') == 3


def test_the_queue_filter_lists_are_kept_per_jurisdiction(alice: User, bob: User) -> None:
    """The city's lists, cached first, are never offered to a county's staff member."""
    make_case(alice)
    city = client_for(bob).get("/cases/?scope=all").content.decode()
    county = client_for(alice).get("/cases/").content.decode()
    assert 'value="510105"' in city  # another county of Chengdu
    assert 'value="510105"' not in county and 'value="510104"' in county
