"""Local first: county, then city, then a named area (成渝), then province, then nation."""

import pytest

from kejiyun_match import Engine, MatchQuery, Profile, RegionTiers, region_tier

CHENGYU = RegionTiers(groups=(("chengyu", 0.5, frozenset({"5101", "50"})),))

JINJIANG = "510000/510100/510104/"  # 锦江区, 成都市
WUHOU = "510000/510100/510107/"  # 武侯区, 成都市
YUZHONG = "500000/500100/500103/"  # 渝中区, 重庆市
FUCHENG = "510000/510700/510703/"  # 涪城区, 绵阳市
DONGCHENG = "110000/110100/110101/"  # 东城区, 北京市


@pytest.mark.parametrize(
    ("profile_path", "expected"),
    [
        (JINJIANG, ("county", 1.0)),
        (WUHOU, ("city", 0.7)),
        ("510000/510100/", ("city", 0.7)),
        (YUZHONG, ("chengyu", 0.5)),
        ("500000/", ("chengyu", 0.5)),
        (FUCHENG, ("province", 0.3)),
        ("510000/", ("province", 0.3)),
        (DONGCHENG, ("nation", 0.0)),
        ("", ("unknown", 0.0)),
    ],
)
def test_region_tier_picks_the_closest_tier_holding_both(
    profile_path: str, expected: tuple[str, float]
) -> None:
    assert region_tier(CHENGYU, JINJIANG, profile_path) == expected


def test_boosts_fall_from_county_to_nation() -> None:
    boosts = [
        region_tier(CHENGYU, JINJIANG, path)[1]
        for path in (JINJIANG, WUHOU, YUZHONG, FUCHENG, DONGCHENG)
    ]
    assert boosts == sorted(boosts, reverse=True)
    assert len(set(boosts)) == len(boosts)


def test_without_groups_chongqing_is_simply_another_province() -> None:
    assert region_tier(RegionTiers(), JINJIANG, YUZHONG) == ("nation", 0.0)


def test_a_query_without_a_region_gets_the_unknown_tier() -> None:
    assert region_tier(CHENGYU, "", JINJIANG) == ("unknown", 0.0)
    assert region_tier(RegionTiers(nation=0.1), "/", JINJIANG) == ("unknown", 0.1)


def test_a_group_needs_both_regions_inside_it() -> None:
    assert region_tier(CHENGYU, FUCHENG, YUZHONG) == ("nation", 0.0)
    assert region_tier(CHENGYU, YUZHONG, JINJIANG) == ("chengyu", 0.5)


def test_township_paths_compare_at_county_level() -> None:
    township = "510000/510100/510104/510104001/"
    assert region_tier(CHENGYU, township, JINJIANG) == ("county", 1.0)
    assert region_tier(CHENGYU, township, YUZHONG) == ("chengyu", 0.5)


def test_custom_boosts_are_returned() -> None:
    tiers = RegionTiers(county=0.9, city=0.6, province=0.2, nation=0.05)
    assert region_tier(tiers, JINJIANG, JINJIANG) == ("county", 0.9)
    assert region_tier(tiers, JINJIANG, WUHOU) == ("city", 0.6)
    assert region_tier(tiers, JINJIANG, FUCHENG) == ("province", 0.2)
    assert region_tier(tiers, JINJIANG, DONGCHENG) == ("nation", 0.05)


def test_search_orders_equal_texts_county_city_group_province_nation() -> None:
    engine = Engine(tiers=CHENGYU)
    # Ids run against the expected order, so the tie-break by id cannot fake it.
    engine.add(
        [
            Profile(id="a-beijing", text="茶叶加工技术", region_path=DONGCHENG),
            Profile(id="b-unknown", text="茶叶加工技术"),
            Profile(id="c-mianyang", text="茶叶加工技术", region_path=FUCHENG),
            Profile(id="d-chongqing", text="茶叶加工技术", region_path=YUZHONG),
            Profile(id="e-wuhou", text="茶叶加工技术", region_path=WUHOU),
            Profile(id="f-jinjiang", text="茶叶加工技术", region_path=JINJIANG),
        ]
    )
    results = engine.search(MatchQuery(text="茶叶加工", region_path=JINJIANG))
    assert [r.id for r in results] == [
        "f-jinjiang",
        "e-wuhou",
        "d-chongqing",
        "c-mianyang",
        "a-beijing",
        "b-unknown",
    ]
    assert [r.explanation.region_tier for r in results] == [
        "county",
        "city",
        "chengyu",
        "province",
        "nation",
        "unknown",
    ]
    assert {r.explanation.relevance for r in results} == {1.0}


def test_region_only_reorders_comparably_relevant_profiles() -> None:
    engine = Engine(tiers=CHENGYU)
    engine.add(
        [
            Profile(id="far", text="茶叶加工技术 名优绿茶", region_path=DONGCHENG),
            Profile(id="near", text="茶叶种植", region_path=JINJIANG),
        ]
    )
    results = engine.search(MatchQuery(text="茶叶加工技术", region_path=JINJIANG))
    assert [r.id for r in results] == ["far", "near"]
    assert [r.explanation.region_tier for r in results] == ["nation", "county"]
