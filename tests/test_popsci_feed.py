"""The personal feed: hard rules, each part of the score, consent, diversity, freshness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.popsci.models import SEASON_MONTHS, Article, CitizenProfile, ReadEvent
from kejiyun.popsci.targeting.feed import (
    MAX_PER_TOPIC,
    FeedContext,
    FeedItem,
    rank_feed,
    score_item,
)
from kejiyun.popsci.targeting.selectors import feed_context, feed_for_citizen
from tests.builders import client_for, make_article, make_citizen

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)  # July: flood season and summer holiday
PATH = ("510000", "510100", "510104", "510104021")  # a township of 锦江区


def ctx(**overrides: object) -> FeedContext:
    values: dict[str, object] = {
        "region_path": PATH,
        "occupation": "farmer",
        "age_band": "36_59",
        "interests": frozenset({"agriculture"}),
        "month": 7,
        "now": NOW,
        "season_months": {str(k): v for k, v in SEASON_MONTHS.items()},
        "read_ids": frozenset(),
        "consent": True,
    }
    values.update(overrides)
    return FeedContext(**values)  # type: ignore[arg-type]


def item(
    id: int,
    *,
    topic: str = "health",
    segments: tuple[str, ...] = (),
    seasons: tuple[str, ...] = (),
    region: tuple[str | None, str | None] = (None, None),
    age_days: float = 10,
    status: str = "published",
) -> FeedItem:
    return FeedItem(
        id=id,
        topic=topic,
        segments=segments,
        seasons=seasons,
        region_code=region[0],
        region_level=region[1],
        published_at=NOW - timedelta(days=age_days),
        status=status,
    )


def ids(ranked: list) -> list[int]:
    return [r.item.id for r in ranked]


def test_only_published_content_of_the_citizens_own_regions_is_shown() -> None:
    items = [
        item(1),
        item(2, region=("510000", "province")),
        item(3, region=("510100", "city")),
        item(4, region=("510104", "county")),
        item(5, region=("510104021", "township")),
        item(6, region=("510822", "county")),  # another county
        item(7, region=("510105", "county")),  # a neighbour in the same city
        item(8, status="draft"),
        item(9, status="in_review"),
        item(10, age_days=-1),  # "published" tomorrow
    ]
    assert sorted(ids(rank_feed(ctx(), items))) == [1, 2, 3, 4, 5]


def test_already_read_content_is_removed() -> None:
    items = [item(1), item(2), item(3)]
    assert sorted(ids(rank_feed(ctx(read_ids=frozenset({2})), items))) == [1, 3]


def test_closer_regions_rank_higher() -> None:
    items = [
        item(1),
        item(2, region=("510000", "province")),
        item(3, region=("510100", "city")),
        item(4, region=("510104", "county")),
        item(5, region=("510104021", "township")),
    ]
    ranked = rank_feed(ctx(), [i for i in items])
    assert ids(ranked) == [5, 4, 3, 2, 1]
    assert [r.score.region for r in ranked] == [1.0, 0.75, 0.5, 0.25, 0.0]


def test_in_season_content_beats_all_year_content_which_beats_out_of_season() -> None:
    items = [
        item(1, seasons=("winter",)),
        item(2),
        item(3, seasons=("flood_season",)),
        item(4, seasons=("spring_planting", "summer_holiday")),
    ]
    ranked = rank_feed(ctx(), items)
    assert ids(ranked)[:2] == [4, 3] or ids(ranked)[:2] == [3, 4]
    assert ids(ranked)[2:] == [2, 1]
    assert [r.score.season for r in ranked][2:] == [0.3, -1.0]


def test_content_for_the_citizens_occupation_ranks_above_content_for_others() -> None:
    items = [
        item(1, segments=("student",)),
        item(2),
        item(3, segments=("farmer", "elderly")),
    ]
    assert ids(rank_feed(ctx(), items)) == [3, 2, 1]


def test_the_age_band_adds_its_segment() -> None:
    elderly_item = item(1, segments=("elderly",))
    assert score_item(ctx(age_band="60_plus"), elderly_item).score.segment == 1.0
    assert score_item(ctx(age_band="36_59"), elderly_item).score.segment == -0.5
    student_item = item(2, segments=("student",))
    assert score_item(ctx(occupation="other", age_band="14_17"), student_item).score.segment == 1.0


def test_topics_of_interest_rank_higher() -> None:
    items = [item(1, topic="health"), item(2, topic="agriculture"), item(3, topic="ecology")]
    ranked = rank_feed(ctx(interests=frozenset({"ecology"})), items)
    assert ids(ranked)[0] == 3
    assert ranked[0].score.interest == 1.0
    assert "您关注的主题" in ranked[0].reasons


def test_without_consent_there_is_no_personalisation() -> None:
    items = [
        item(1, segments=("student",), topic="ecology", age_days=1),
        item(2, segments=("farmer",), topic="agriculture", age_days=5),
    ]
    with_consent = rank_feed(ctx(consent=True), items)
    assert ids(with_consent) == [2, 1]
    without = rank_feed(ctx(consent=False), items)
    assert ids(without) == [1, 2]  # only freshness differs
    assert all(r.score.segment == 0 and r.score.interest == 0 for r in without)
    # and the ranking is the same whatever the citizen's occupation and interests
    other = ctx(consent=False, occupation="student", interests=frozenset({"ecology"}))
    assert ids(rank_feed(other, items)) == ids(without)


def test_without_consent_region_and_season_still_count() -> None:
    items = [
        item(1, seasons=("winter",)),
        item(2, region=("510104", "county")),
        item(3, seasons=("flood_season",)),
    ]
    assert ids(rank_feed(ctx(consent=False), items)) == [2, 3, 1]


def test_fresher_content_ranks_higher_and_freshness_halves_every_30_days() -> None:
    items = [item(1, age_days=60), item(2, age_days=0), item(3, age_days=30)]
    ranked = rank_feed(ctx(), items)
    assert ids(ranked) == [2, 3, 1]
    assert [round(r.score.freshness, 6) for r in ranked] == [1.0, 0.5, 0.25]


def test_no_topic_appears_more_than_twice_in_the_top_ten() -> None:
    # Twelve strong items on one topic, then weaker ones spread over five topics.
    items = [item(i, topic="agriculture", segments=("farmer",), age_days=i) for i in range(1, 13)]
    for n, topic in enumerate(["health", "ecology", "fire", "flood", "anti_fraud"] * 2):
        items.append(item(100 + n, topic=topic, age_days=50 + n))
    ranked = rank_feed(ctx(), items)
    top = [r.item.topic for r in ranked[:10]]
    assert max(top.count(t) for t in set(top)) <= MAX_PER_TOPIC
    assert top[:2] == ["agriculture", "agriculture"]
    assert len(ranked) == len(items)  # nothing is dropped, only moved down


def test_diversity_yields_when_nothing_else_is_left() -> None:
    items = [item(i, topic="fire", age_days=i) for i in range(1, 6)]
    assert ids(rank_feed(ctx(), items)) == [1, 2, 3, 4, 5]


def test_limit_cuts_the_ranked_list() -> None:
    items = [item(i, topic=t, age_days=i) for i, t in enumerate(["fire", "health", "flood"])]
    assert len(rank_feed(ctx(), items, limit=2)) == 2


# --- The selector and the page ------------------------------------------------------------


@pytest.mark.django_db
def test_the_feed_selector_loads_the_candidates_once_then_asks_only_what_the_citizen_read(
    django_assert_num_queries: object,
) -> None:
    user = make_citizen("dave", "510104")
    week_ago = NOW - timedelta(days=7)
    mine = make_article(
        "锦江区水稻病虫害防治", region_id="510104", segments=["farmer"], published_at=week_ago
    )
    everyone = make_article("夏季防溺水", published_at=week_ago)
    make_article("青川县茶园管理", region_id="510822", published_at=week_ago)
    make_article("草稿不显示", status=Article.Status.DRAFT, published_at=None)
    done = make_article("已经读过的文章", published_at=NOW - timedelta(days=2))
    ReadEvent.objects.create(
        article=done, user=user, opened_at=NOW - timedelta(days=1), finished_at=NOW
    )
    profile = CitizenProfile.objects.select_related("region").get(user=user)
    # What the citizen read, the content generations (page cache), the region's candidates.
    with django_assert_num_queries(3):  # type: ignore[operator]
        ranked = feed_for_citizen(profile=profile, now=NOW)
    assert [r.item.id for r in ranked] == [mine.pk, everyone.pk]
    # The candidates of the region now come from the page cache.
    with django_assert_num_queries(2):  # type: ignore[operator]
        again = feed_for_citizen(profile=profile, now=NOW)
    assert [r.item.id for r in again] == [mine.pk, everyone.pk]


@pytest.mark.django_db
def test_the_feed_page_shows_the_citizens_feed_with_links_to_the_read_page() -> None:
    user = make_citizen("dave", "510104")
    article = make_article(
        "锦江区水稻病虫害防治", region_id="510104", published_at=datetime.now(tz=UTC)
    )
    make_article("青川县茶园管理", region_id="510822")
    html = client_for(user).get("/popsci/feed/").content.decode()
    assert "锦江区水稻病虫害防治" in html
    assert f"/popsci/read/{article.pk}/" in html or f"/popsci/{article.pk}/" in html
    assert "青川县茶园管理" not in html


@pytest.mark.django_db
def test_the_feed_page_asks_for_login_and_explains_itself_to_non_citizens(alice: User) -> None:
    response = Client().get("/popsci/feed/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    html = client_for(alice).get("/popsci/feed/").content.decode()
    assert "公众用户" in html


# --- Consent ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_consent_to_an_older_policy_version_gives_no_personal_ranking_in_the_feed() -> None:
    user = make_citizen("dora", "510104", consent_version="2025-01")
    profile = CitizenProfile.objects.select_related("region").get(user=user)

    ctx = feed_context(profile=profile, now=timezone.now())

    assert ctx.consent is False


@pytest.mark.django_db
def test_current_consent_gives_personal_ranking_in_the_feed() -> None:
    user = make_citizen("dora", "510104")
    profile = CitizenProfile.objects.select_related("region").get(user=user)

    assert feed_context(profile=profile, now=timezone.now()).consent is True
