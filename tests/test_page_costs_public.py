"""What the public and citizen pages cost, and that caching them never shows stale content
(issue 16, "fast pages"; kejiyun/pagecache/fragments.py).

Every page is asked through the whole middleware stack on a world of realistic size (dozens
of published demands, listed experts and articles, not an empty database). Once cached, an
anonymous public page asks the database one question (the content generations); a change
made through the services shows on the very next request.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kejiyun.accounts.models import Organisation, User
from kejiyun.cases.workflow.services import case_open_from_demand, case_transition
from kejiyun.demands.models import Demand
from kejiyun.demands.services import DemandInput, demand_create, demand_submit
from kejiyun.pagecache.fragments import FRAGMENT_SECONDS
from kejiyun.pagecache.models import ContentGeneration
from kejiyun.pagecache.services import DEMANDS, content_changed
from kejiyun.popsci.content.services import content_withdraw
from kejiyun.popsci.models import Article, ReadEvent, Topic
from kejiyun.regions.models import Region
from kejiyun.talent.models import TalentProfile
from kejiyun.talent.services import ProfileData, talent_directory_consent_set, talent_profile_update
from tests.builders import (
    client_for,
    make_article,
    make_citizen,
    make_demand,
    make_enterprise,
    make_published,
    make_worker,
)

pytestmark = pytest.mark.django_db

COUNTIES = ("510104", "510105", "510106", "510107", "510108", "510112")
TOPICS = list(Topic.values)


@pytest.fixture
def world(tea_company: Organisation) -> dict[str, Any]:
    """40 published demands of four enterprises (5 summary-only, 3 private, 4 drafts), 30
    listed experts and 3 unlisted, 30 published articles and 3 drafts."""
    companies = [tea_company] + [
        make_enterprise(f"企业{i}", COUNTIES[i], f"MA61000{i:02d}") for i in range(1, 4)
    ]
    demands = []
    for i in range(40):
        confidentiality = (
            Demand.Confidentiality.SUMMARY if i % 8 == 0 else Demand.Confidentiality.PUBLIC
        )
        demands.append(
            make_demand(
                companies[i % 4],
                title=f"泡菜生产线改造需求{i}",
                description=f"需求说明{i}，联系电话13800138000。",
                industry=f"食品制造{i % 5}",
                confidentiality=confidentiality,
                published_at=timezone.now() - timedelta(hours=i),
            )
        )
    for i in range(3):
        make_demand(
            tea_company,
            title=f"不公开需求{i}",
            confidentiality=Demand.Confidentiality.PRIVATE,
            published_at=timezone.now(),
        )
    for i in range(4):
        make_demand(tea_company, title=f"草稿需求{i}", status=Demand.Status.DRAFT)
    experts = []
    for i in range(33):
        profile = make_worker(f"expert{i}", COUNTIES[i % 6], f"139000{i:05d}")
        profile.fields = f"食品科学{i}"
        profile.capability = f"发酵工艺研究，手机13912345{i:03d}。"
        profile.directory_consent = i < 30
        profile.save()
        experts.append(profile)
    articles = [
        make_article(
            f"科普文章{i}",
            topic=TOPICS[i % len(TOPICS)],
            region_id=None if i % 3 else COUNTIES[i % 6],
            published_at=timezone.now() - timedelta(days=i),
        )
        for i in range(30)
    ]
    for i in range(3):
        make_article(f"科普草稿{i}", status=Article.Status.DRAFT)
    return {"demands": demands, "experts": experts, "articles": articles}


TOKENS = re.compile(r'(csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]*"')


def queries(client: Client, url: str) -> tuple[int, str]:
    """The number of queries one request asks, and the page without its CSRF tokens (which
    differ on every answer)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx), TOKENS.sub(r'\1""', response.content.decode())


def public_pages(world: dict[str, Any]) -> dict[str, str]:
    demand = world["demands"][1]
    article = world["articles"][0]
    return {
        "home": "/",
        "hall": "/demands/",
        "hall, page 2": "/demands/?page=2",
        "hall, searched and filtered": "/demands/?q=泡菜&city=510100&category=problem",
        "demand": f"/demands/{demand.pk}/",
        "directory": "/talent/",
        "directory, searched": "/talent/?q=食品",
        "science list": "/popsci/",
        "science list, topic": f"/popsci/?topic={TOPICS[0]}",
        "article": f"/popsci/{article.pk}/",
    }


# Queries of each page built from the database (the first visitor after a change): the
# content generations, then the page's own.
BUILD_QUERIES = {
    "home": 9,  # generations, six counts, newest demands, newest articles
    "hall": 6,  # generations, cities, industry sections, industries, count, rows
    "hall, page 2": 6,
    "hall, searched and filtered": 7,  # and the chosen city's counties
    "demand": 2,  # generations, the demand
    "directory": 3,  # generations, count, rows
    "directory, searched": 3,
    "science list": 3,  # generations, count, rows
    "science list, topic": 3,
    "article": 2,  # generations, the article
}


def test_each_public_page_asks_one_query_once_cached(world: dict[str, Any]) -> None:
    client = Client()
    for name, url in public_pages(world).items():
        built, first = queries(client, url)
        assert built == BUILD_QUERIES[name], name
        cached, again = queries(client, url)
        assert cached == 1, name  # the content generations
        assert again == first, name


def test_a_page_built_from_the_database_asks_as_many_queries_with_three_times_the_rows(
    world: dict[str, Any], tea_company: Organisation
) -> None:
    for i in range(80):
        make_demand(tea_company, title=f"更多需求{i}", published_at=timezone.now())
        make_article(f"更多文章{i}")
    for i in range(60):
        make_worker(f"more{i}", "510104", f"137000{i:05d}")
    client = Client()
    for name, url in public_pages(world).items():
        cache.clear()
        assert queries(client, url)[0] == BUILD_QUERIES[name], name


def test_a_citizens_feed_asks_only_who_they_are_and_what_they_read_once_cached(
    world: dict[str, Any],
) -> None:
    citizen = make_citizen("zhou", "510104", interests=[TOPICS[0]])
    ReadEvent.objects.create(
        article=world["articles"][0],
        user=citizen,
        opened_at=timezone.now(),
        finished_at=timezone.now(),
    )
    client = client_for(citizen)
    client.get("/popsci/")  # the session's first request stamps it (SessionLimitsMiddleware)
    cache.clear()
    built, first = queries(client, "/popsci/feed/")
    # The session, the user, the citizen's profile (a stamp of plain values), what they
    # read, the generations; built: also the profile itself, the generations again and the
    # region's candidates.
    assert built <= 8
    cached, again = queries(client, "/popsci/feed/")
    assert cached == 5
    assert again == first
    assert "科普文章0" not in again  # read to the end: not offered again
    assert "科普文章1" in again


def test_the_province_map_data_is_answered_whole_from_the_cache(pat: User) -> None:
    client = client_for(pat)
    url = "/ops/510000/map.json?indicator=cases_opened"
    built, first = queries(client, url)
    cached, again = queries(client, url)
    # The session, the user, the region asked, the staff member's centre and its region, the
    # rollup version; built: also the rollups of the 21 cities.
    assert cached <= 6
    assert cached < built
    assert again == first


# --- A change shows at once ----------------------------------------------------------------


def _demand_input(title: str) -> DemandInput:
    return DemandInput(
        title=title,
        description="泡菜发酵后装袋销售，夏季常温存放一周内胀袋，需要改进杀菌和包装工艺，并给出工艺参数和检测方法，希望三个月内解决。",
        category=Demand.Category.PROBLEM,
        industry="食品制造",
        region=Region.objects.get(code="510104"),
        problem="包装后胀袋率高达百分之五，退货多。",
        current_state="现有巴氏杀菌设备一套，人工控温。",
        target_indicators="胀袋率降到千分之一以下。",
        budget=Demand.Budget.FROM_50K,
        deadline=None,
        confidentiality=Demand.Confidentiality.PUBLIC,
    )


def test_a_demand_accepted_by_staff_shows_at_once_and_goes_with_its_withdrawn_case(
    world: dict[str, Any], erin: User, alice: User, tea_company: Organisation
) -> None:
    client = Client()
    for url in ("/", "/demands/"):
        assert "泡菜杀菌工艺改进" not in client.get(url).content.decode()
    demand = demand_create(
        organisation=tea_company, actor=erin, data=_demand_input("泡菜杀菌工艺改进")
    )
    assert demand_submit(demand=demand, actor=erin).submitted
    assert client.get(f"/demands/{demand.pk}/").status_code == 302  # not public: sign in
    case = case_open_from_demand(demand=demand, actor=alice)
    for url in ("/", "/demands/", f"/demands/{demand.pk}/"):
        assert "泡菜杀菌工艺改进" in client.get(url).content.decode(), url
    case_transition(case=case, to_step="withdrawn", actor=alice, reason="企业已自行解决")
    for url in ("/", "/demands/"):
        assert "泡菜杀菌工艺改进" not in client.get(url).content.decode(), url
    assert client.get(f"/demands/{demand.pk}/").status_code == 302


def test_an_article_approved_shows_at_once_and_goes_when_withdrawn(
    world: dict[str, Any], alice: User, rita: User
) -> None:
    client = Client()
    assert "山洪来了往高处跑" not in client.get("/popsci/").content.decode()
    article = make_published(alice, rita, title="山洪来了往高处跑")
    for url in ("/", "/popsci/", f"/popsci/{article.pk}/"):
        assert "山洪来了往高处跑" in client.get(url).content.decode(), url
    content_withdraw(article=article, actor=alice)
    for url in ("/", "/popsci/"):
        assert "山洪来了往高处跑" not in client.get(url).content.decode(), url
    assert client.get(f"/popsci/{article.pk}/").status_code == 404


def test_an_article_withdrawn_leaves_the_citizens_feed_at_once(
    world: dict[str, Any], alice: User, rita: User
) -> None:
    citizen = client_for(make_citizen("zhou", "510104"))
    article = make_published(alice, rita, title="山洪来了往高处跑")
    assert "山洪来了往高处跑" in citizen.get("/popsci/feed/").content.decode()
    content_withdraw(article=article, actor=alice)
    assert "山洪来了往高处跑" not in citizen.get("/popsci/feed/").content.decode()


def test_an_expert_who_edits_or_withdraws_consent_shows_so_at_once(world: dict[str, Any]) -> None:
    client = Client()
    expert: TalentProfile = world["experts"][0]
    assert f'data-profile="{expert.pk}"' in client.get("/talent/?q=Expert0").content.decode()
    expert.refresh_from_db()
    talent_profile_update(
        profile=expert,
        actor=expert.user,
        data=ProfileData(
            employer="四川省农业科学院",
            title="研究员",
            fields="泡菜微生物",
            keywords="乳酸菌",
            capability="泡菜发酵菌种选育。",
            service_modes=[],
            capacity=2,
            disciplines=[],
            industries=[],
            regions_served=[],
        ),
        expected_version=expert.version,
    )
    assert "四川省农业科学院" in client.get("/talent/?q=Expert0").content.decode()
    talent_directory_consent_set(profile=expert, actor=expert.user, consent=False)
    assert f'data-profile="{expert.pk}"' not in client.get("/talent/?q=Expert0").content.decode()


def test_a_change_made_without_a_service_shows_within_the_fragment_lifetime(
    world: dict[str, Any],
) -> None:
    client = Client()
    demand = world["demands"][1]
    assert "改名后的需求" not in client.get("/demands/").content.decode()
    Demand.objects.filter(pk=demand.pk).update(title="改名后的需求")  # as the admin site would
    assert "改名后的需求" not in client.get("/demands/").content.decode()
    with time_machine.travel(timezone.now() + timedelta(seconds=FRAGMENT_SECONDS + 1)):
        assert "改名后的需求" in client.get("/demands/").content.decode()


# --- Who asks, and in which language ----------------------------------------------------------


def test_the_cached_home_page_still_greets_each_visitor_as_they_are(
    world: dict[str, Any], dora: User
) -> None:
    anonymous = Client().get("/").content.decode()
    signed_in = client_for(dora).get("/").content.decode()
    assert "立即注册" in anonymous
    assert "进入工作台" not in anonymous
    assert "进入工作台" in signed_in
    assert "立即注册" not in signed_in
    # The same figures and lists, from the one cached fragment.
    assert anonymous.count("泡菜生产线改造需求") == signed_in.count("泡菜生产线改造需求") == 6


def test_each_language_gets_its_own_cached_page(world: dict[str, Any]) -> None:
    chinese = Client().get("/demands/").content.decode()
    english_client = Client()
    english_client.cookies["django_language"] = "en"
    english = english_client.get("/demands/").content.decode()
    assert 'lang="zh-CN"' in chinese
    assert 'lang="en"' in english
    assert "科技所需 · 需求大厅" in chinese
    assert "科技所需 · 需求大厅" not in english
    assert "Needs hall" in english
    assert "科技所需 · 需求大厅" in Client().get("/demands/").content.decode()


def test_a_cached_page_keeps_no_one_s_csrf_token_or_messages(world: dict[str, Any]) -> None:
    first = Client().get("/demands/")
    second = Client().get("/demands/")
    token_1 = first.cookies["csrftoken"].value
    token_2 = second.cookies["csrftoken"].value
    assert token_1 != token_2
    assert token_1 not in second.content.decode()
    body = second.content.decode()
    assert body.count("csrfmiddlewaretoken") == first.content.decode().count("csrfmiddlewaretoken")


def test_personal_numbers_stay_masked_in_cached_pages(world: dict[str, Any]) -> None:
    client = Client()
    for _ in range(2):
        hall = client.get("/demands/").content.decode()
        directory = client.get("/talent/").content.decode()
        assert "13800138000" not in hall
        assert "138****8000" in hall
        assert "13912345000" not in directory


# --- The cache is never needed for a right answer --------------------------------------------


def test_with_the_cache_down_every_page_is_built_from_the_database(
    world: dict[str, Any], cache_down: None, tea_company: Organisation
) -> None:
    client = Client()
    for name, url in public_pages(world).items():
        assert queries(client, url)[0] == BUILD_QUERIES[name], name
    make_demand(tea_company, title="缓存故障时发布的需求", published_at=timezone.now())
    content_changed(DEMANDS)
    assert "缓存故障时发布的需求" in client.get("/demands/").content.decode()


def test_a_database_emptied_under_a_live_cache_starts_new_generations(
    world: dict[str, Any],
) -> None:
    ContentGeneration.objects.all().delete()
    content_changed(DEMANDS)
    generation = ContentGeneration.objects.get(topic=DEMANDS)
    assert generation.number > 1_700_000_000_000  # milliseconds since 1970, not 0 or 1
    content_changed(DEMANDS)
    assert ContentGeneration.objects.get(topic=DEMANDS).number == generation.number + 1


def test_an_unknown_topic_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown public content"):
        content_changed("nonsense")
