"""The page cache of two signed-in pages (issue 16, "fast pages"): the body of an operations
dashboard (`kejiyun.ops.dashboard.views.dashboard`, kept under the rollup version) and the
rendered ranked list of the staff demand page's matches (`kejiyun.matching.views.
demand_matches`, kept under the matching, public demands and talent generations).

Each cached part shows a change made through a service on the next request, never gives one
viewer what another may not see, and is right when the cache fails; the matches are masked
for everyone, an unmask grant for the demand's page included.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kejiyun.accounts.models import Organisation, User
from kejiyun.matchlog.services import EXPERTS, index_change_record
from kejiyun.ops.rollups import rollup_refresh
from kejiyun.pagecache import fragments
from kejiyun.talent.models import TalentProfile
from kejiyun.talent.services import ProfileData, talent_profile_update
from tests.builders import client_for, make_case, make_tea_demand, make_tea_expert

pytestmark = pytest.mark.django_db


class _BrokenCache:
    """A cache whose every call fails, as Redis does when it is down."""

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    set = get


@pytest.fixture
def cache_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fragments, "cache", _BrokenCache())


# --- The operations dashboard ----------------------------------------------------------------


def shown(html: str, key: str) -> str:
    """The headline figure of indicator `key` as the dashboard shows it."""
    row = html[html.index(f'<tr data-indicator="{key}">') :]
    start = row.index("data-value>") + len("data-value>")
    return row[start : row.index("<", start)].strip()


def test_a_run_of_the_rollup_job_shows_on_the_next_request(alice: User) -> None:
    client = client_for(alice)
    url = "/ops/510104/?indicator=cases_opened"  # the year so far
    map_url = "/ops/510104/map.json?indicator=cases_opened"
    rollup_refresh()
    assert shown(client.get(url).content.decode(), "cases_opened") == "0"
    assert json.loads(client.get(map_url).content)["areas"][0]["value"] == 0
    make_case(alice)
    # Rollups are written by the job only: until it runs, the kept page is the right one.
    assert shown(client.get(url).content.decode(), "cases_opened") == "0"
    rollup_refresh()
    assert shown(client.get(url).content.decode(), "cases_opened") == "1"
    assert json.loads(client.get(map_url).content)["areas"][0]["value"] == 1


def test_the_kept_body_is_built_without_reading_anything_when_cached(alice: User) -> None:
    client = client_for(alice)
    url = "/ops/510104/?indicator=cases_opened"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    # session, user (with the centre and its region), the region asked, the rollup version
    assert len(ctx.captured_queries) == 4, [q["sql"] for q in ctx.captured_queries]


def test_a_kept_body_never_gives_a_viewer_the_links_of_anothers_jurisdiction(
    alice: User, bob: User, pat: User, charlie: User
) -> None:
    """The province's staff see the links to the province and the city above a county and
    an escalation inbox; the county's own staff, asking the same page after them, see
    neither; the city's staff see the city's link only."""
    url = "/ops/510104/"
    inbox = reverse("ops:escalations")
    province = client_for(pat).get(url).content.decode()
    assert 'href="/ops/510000/?' in province and 'href="/ops/510100/?' in province
    assert f'href="{inbox}"' in province
    county = client_for(alice).get(url).content.decode()
    assert 'href="/ops/510000/?' not in county and 'href="/ops/510100/?' not in county
    assert f'href="{inbox}"' not in county
    city = client_for(bob).get(url).content.decode()
    assert 'href="/ops/510100/?' in city and 'href="/ops/510000/?' not in city
    assert f'href="{inbox}"' in city
    # Access is checked before the cache is read: a page kept for the city is not the
    # county's, nor another city's county's.
    assert client_for(bob).get("/ops/510100/").status_code == 200
    assert client_for(alice).get("/ops/510100/").status_code == 404
    assert client_for(charlie).get(url).status_code == 404
    assert client_for(charlie).get("/ops/510104/map.json").status_code == 404


def test_the_dashboard_and_map_are_right_with_the_cache_down(alice: User, cache_down: None) -> None:
    client = client_for(alice)
    make_case(alice)
    rollup_refresh()
    for _ in range(2):
        html = client.get("/ops/510104/?indicator=cases_opened").content.decode()
        assert shown(html, "cases_opened") == "1"
        data = json.loads(client.get("/ops/510104/map.json?indicator=cases_opened").content)
        assert data["areas"][0]["value"] == 1


# --- The staff demand page's matches ---------------------------------------------------------


@pytest.fixture
def ranked(match_index: Any, tea_company: Organisation) -> tuple[str, list[TalentProfile]]:
    """A tea demand in 锦江区 and three tea experts to rank for it: the slot's URL."""
    demand = make_tea_demand(tea_company)
    experts = [make_tea_expert(f"tina{i}", f"1390000000{i}") for i in range(3)]
    return f"/matching/demands/{demand.pk}/", experts


HX = {"HTTP_HX_REQUEST": "true"}


def test_a_profile_changed_through_its_service_shows_on_the_next_request(
    alice: User, ranked: tuple[str, list[TalentProfile]]
) -> None:
    url, experts = ranked
    client = client_for(alice)
    first = client.get(url, **HX).content.decode()
    assert first.count('data-expert="') == 3 and "首席专家" not in first
    assert client.get(url, **HX).content.decode() == first
    tina = experts[0]
    talent_profile_update(
        profile=tina,
        actor=tina.user,
        data=ProfileData(
            employer=tina.employer,
            title="首席专家",
            fields=tina.fields,
            keywords=tina.keywords,
            capability=tina.capability,
            service_modes=[],
            capacity=3,
        ),
        expected_version=tina.version,
    )
    assert "首席专家" in client.get(url, **HX).content.decode()
    assert "首席专家" in client.get(url).content.decode()  # the whole page too


def test_a_built_slot_costs_the_same_with_more_experts(
    alice: User, ranked: tuple[str, list[TalentProfile]]
) -> None:
    url, _ = ranked
    client = client_for(alice)
    counts = []
    for n in range(2):
        new = [make_tea_expert(f"t{n}{i}", f"1391000{n}{i:03d}") for i in range(3)]
        client.get(url, **HX)  # builds the index after the new rows
        index_change_record(kind=EXPERTS, object_ids=[p.pk for p in new])  # a new generation
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, **HX)
        assert response.content.decode().count('data-expert="') == 3 * (n + 2)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    with CaptureQueriesContext(connection) as ctx:
        client.get(url, **HX)
    # session, user (with the centre and its region), the demand, the generations
    assert len(ctx.captured_queries) == 4


def test_the_kept_slot_is_checked_for_each_viewer_and_holds_nothing_of_theirs(
    alice: User, pat: User, charlie: User, ranked: tuple[str, list[TalentProfile]]
) -> None:
    url, _ = ranked
    slot = client_for(alice).get(url, **HX).content.decode()
    assert "csrfmiddlewaretoken" not in slot and "alice" not in slot
    # Another city's staff member gets the 404 of a demand outside their jurisdiction.
    assert client_for(charlie).get(url, **HX).status_code == 404
    assert client_for(charlie).get(url).status_code == 404
    # The province's staff see the same ranking.
    assert client_for(pat).get(url, **HX).content.decode().count('data-expert="') == 3


def test_the_slot_is_right_with_the_cache_down(
    alice: User, ranked: tuple[str, list[TalentProfile]], cache_down: None
) -> None:
    url, _ = ranked
    client = client_for(alice)
    for _ in range(2):
        assert client.get(url, **HX).content.decode().count('data-expert="') == 3
        assert client.get(url).content.decode().count('data-expert="') == 3


def test_the_slot_is_masked_for_everyone_even_with_an_unmask_grant_for_the_demand(
    alice: User, ranked: tuple[str, list[TalentProfile]]
) -> None:
    """The matches never show personal data in full (the slot has no unmasking): an unmask
    grant for the demand's own page changes nothing in them, kept or built."""
    url, experts = ranked
    TalentProfile.objects.filter(pk=experts[0].pk).update(employer="茶叶站 13912345678")
    index_change_record(kind=EXPERTS, object_ids=[experts[0].pk])
    client = client_for(alice)
    built = client.get(url, **HX).content.decode()
    assert "139****5678" in built and "13912345678" not in built
    demand_id = int(url.rstrip("/").rsplit("/", 1)[1])
    session = client.session
    session["unmask_grants"] = {f"demands:staff_detail#{demand_id}": time.time() + 600}
    session.save()
    assert client.get(url, **HX).content.decode() == built
    fresh: Client = client_for(alice)
    assert "13912345678" not in fresh.get(url).content.decode()
