"""The page cache of three personal pages (issue 16, "fast pages"): the worker's dashboard,
the enterprise's list of its cases and the citizen's science feed. Each keeps its rendered
body under a cheap freshness read (the profile's version, an aggregate over the
organisation's cases, the citizen's profile and what they read) and the generations of what
it shows. Here: a change through a service shows on the next request, one viewer never
receives another's cached body, and the pages are right with the cache down. None of these
pages unmasks anything (no unmask grant applies to them)."""

from __future__ import annotations

from typing import Any

import pytest

from kejiyun.accounts.models import Organisation, User
from kejiyun.cases.workflow.services import case_open, case_transition
from kejiyun.demands.models import Demand
from kejiyun.demands.services import demand_publish
from kejiyun.popsci.content.services import read_finish, read_open
from kejiyun.popsci.models import Topic
from kejiyun.popsci.targeting.services import citizen_profile_update
from kejiyun.regions.models import Region
from kejiyun.talent.models import TalentProfile
from kejiyun.talent.services import ProfileData, talent_profile_update
from tests.builders import (
    client_for,
    make_article,
    make_case,
    make_citizen,
    make_demand,
    make_enterprise_user,
    make_published,
    make_tea_demand,
    make_tea_expert,
)


def _page(user: User, url: str) -> str:
    response = client_for(user).get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


# --- The worker's dashboard ------------------------------------------------------------------


def _edit_employer(profile: TalentProfile, employer: str) -> None:
    profile.refresh_from_db()
    talent_profile_update(
        profile=profile,
        actor=profile.user,
        data=ProfileData(
            employer=employer,
            title=profile.title,
            fields=profile.fields,
            keywords=profile.keywords,
            capability=profile.capability,
            service_modes=[],
            capacity=profile.capacity,
        ),
        expected_version=profile.version,
    )


@pytest.mark.usefixtures("match_index")
def test_the_dashboard_shows_a_published_demand_and_an_edited_profile_at_once(
    tea_company: Organisation, alice: User
) -> None:
    tina = make_tea_expert()
    demand = make_tea_demand(tea_company, status=Demand.Status.SUBMITTED)
    client = client_for(tina.user)
    assert f'data-demand="{demand.pk}"' not in client.get("/dashboard/").content.decode()
    client.get("/dashboard/")  # now from the cache
    demand_publish(demand=demand, actor=alice)
    page = client.get("/dashboard/").content.decode()
    assert f'data-demand="{demand.pk}"' in page
    assert "四川农业大学" in page
    _edit_employer(tina, "成都茶叶研究所")
    page = client.get("/dashboard/").content.decode()
    assert "成都茶叶研究所" in page and "四川农业大学" not in page


@pytest.mark.usefixtures("match_index")
def test_one_workers_dashboard_and_ranking_are_never_anothers(tea_company: Organisation) -> None:
    demand = make_tea_demand(tea_company)
    tina = make_tea_expert()
    # The same expertise, employed by the demand's own enterprise: never recommended it.
    insider = make_tea_expert("ivan", "13900000004", employer="锦江茶业有限公司")
    assert f'data-demand="{demand.pk}"' in _page(tina.user, "/dashboard/")
    page = _page(insider.user, "/dashboard/")
    assert f'data-demand="{demand.pk}"' not in page
    assert "锦江茶业有限公司" in page and "四川农业大学" not in page


@pytest.mark.usefixtures("match_index")
def test_the_dashboard_is_right_with_the_cache_down(
    tea_company: Organisation, alice: User, cache_down: None
) -> None:
    tina = make_tea_expert()
    demand = make_tea_demand(tea_company, status=Demand.Status.SUBMITTED)
    assert f'data-demand="{demand.pk}"' not in _page(tina.user, "/dashboard/")
    demand_publish(demand=demand, actor=alice)
    page = _page(tina.user, "/dashboard/")
    assert f'data-demand="{demand.pk}"' in page and "四川农业大学" in page


# --- The enterprise's cases ------------------------------------------------------------------


def test_the_enterprise_case_list_shows_a_new_step_and_a_new_case_at_once(alice: User) -> None:
    case = make_case(alice)
    erin = make_enterprise_user(case.demand.organisation, mobile="13900001111")
    client = client_for(erin)
    first = client.get("/cases/mine/").content.decode()
    assert "茶园病虫害绿色防控" in first and "需求诊断" not in first
    client.get("/cases/mine/")  # now from the cache
    case_transition(case=case, to_step="diagnosis", actor=alice)
    assert "需求诊断" in client.get("/cases/mine/").content.decode()
    demand = make_demand(case.demand.organisation, title="泡菜发酵工艺改进", description="描述")
    case_open(demand=demand, actor=alice)
    assert "泡菜发酵工艺改进" in client.get("/cases/mine/").content.decode()


def test_one_enterprises_case_list_is_never_anothers(alice: User) -> None:
    ours = make_case(alice, title="泡菜发酵工艺改进", serial="1")
    theirs = make_case(alice, title="茶园土壤改良", serial="2")
    erin = make_enterprise_user(ours.demand.organisation, mobile="13900001111")
    eric = make_enterprise_user(theirs.demand.organisation, "eric", mobile="13900002222")
    mine = _page(erin, "/cases/mine/")
    assert "泡菜发酵工艺改进" in mine and "茶园土壤改良" not in mine
    other = _page(eric, "/cases/mine/")
    assert "茶园土壤改良" in other and "泡菜发酵工艺改进" not in other


def test_the_enterprise_case_list_is_right_with_the_cache_down(
    alice: User, cache_down: None
) -> None:
    case = make_case(alice)
    erin = make_enterprise_user(case.demand.organisation, mobile="13900001111")
    assert "茶园病虫害绿色防控" in _page(erin, "/cases/mine/")
    case_transition(case=case, to_step="diagnosis", actor=alice)
    assert "需求诊断" in _page(erin, "/cases/mine/")


# --- The citizen's feed ----------------------------------------------------------------------


def _read_to_the_end(user: User, article: Any) -> None:
    read_finish(read_event=read_open(article=article, actor=user, device="test"), actor=user)


def test_the_feed_shows_a_read_article_a_new_one_and_a_changed_profile_at_once(
    alice: User, rita: User
) -> None:
    zhou = make_citizen("zhou", "510104")
    old = make_article("冬季大棚保温要点", topic=Topic.AGRICULTURE)
    client = client_for(zhou)
    assert "冬季大棚保温要点" in client.get("/popsci/feed/").content.decode()
    client.get("/popsci/feed/")  # now from the cache
    _read_to_the_end(zhou, old)
    assert "冬季大棚保温要点" not in client.get("/popsci/feed/").content.decode()
    make_published(alice, rita, title="山洪来了往高处跑")
    page = client.get("/popsci/feed/").content.decode()
    assert "山洪来了往高处跑" in page and "您关注的主题" not in page
    profile = zhou.citizen_profile
    citizen_profile_update(
        profile=profile,
        actor=zhou,
        region=profile.region,
        occupation=profile.occupation,
        age_band=profile.age_band,
        interests=[Topic.LANDSLIDE],
    )
    assert "您关注的主题" in client.get("/popsci/feed/").content.decode()


def test_one_citizens_feed_is_never_anothers(db: None) -> None:
    make_article("锦江区油菜种植", region=Region.objects.get(code="510104"))
    read = make_article("春耕备耕提示")
    zhou = make_citizen("zhou", "510104")
    _read_to_the_end(zhou, read)
    page = _page(zhou, "/popsci/feed/")
    assert "锦江区油菜种植" in page and "春耕备耕提示" not in page
    # A neighbour in the same county has read nothing; one in another county is not
    # offered 锦江区's own content.
    li = make_citizen("li", "510104")
    assert "春耕备耕提示" in _page(li, "/popsci/feed/")
    wang = make_citizen("wang", "510105")
    page = _page(wang, "/popsci/feed/")
    assert "春耕备耕提示" in page and "锦江区油菜种植" not in page


def test_the_feed_is_right_with_the_cache_down(db: None, cache_down: None) -> None:
    article = make_article("冬季大棚保温要点")
    zhou = make_citizen("zhou", "510104")
    assert "冬季大棚保温要点" in _page(zhou, "/popsci/feed/")
    _read_to_the_end(zhou, article)
    assert "冬季大棚保温要点" not in _page(zhou, "/popsci/feed/")


def test_a_user_without_a_citizen_profile_is_told_so(alice: User) -> None:
    assert "个性化科普推荐面向公众用户" in _page(alice, "/popsci/feed/")
