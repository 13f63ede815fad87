"""Operations dashboards: each staff member sees their own region and nothing outside their
jurisdiction; the headline figures, their changes, the ranking, the trend and the map data
are exactly the rollup rows written here; bad query strings give the defaults and a message.

The rollups are written directly (day rows and the month rows that sum them), as the rollup
job would; the periods are May 2026 (previous April 2026, last year May 2025).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from kejiyun.accounts.models import User
from kejiyun.ops.dashboard.selectors import Headline, Ranked
from kejiyun.ops.models import Rollup, RollupState
from kejiyun.ops.rollups import rollup_areas_refresh
from kejiyun.regions.models import ServiceCentre
from tests.builders import client_for, make_citizen

pytestmark = pytest.mark.django_db

MAY = "2026-05"


def put(code: str, key: str, day: date, num: float, den: int = 0, samples: Any = None) -> None:
    """A day row for the centre of `code`, added into its month row."""
    centre = ServiceCentre.objects.select_related("region").get(region_id=code)
    Rollup.objects.create(
        grain=Rollup.Grain.DAY,
        start=day,
        indicator=key,
        centre=centre,
        path=centre.region.path,
        num=Decimal(str(num)),
        den=den,
        samples=samples,
    )
    month, _ = Rollup.objects.get_or_create(
        grain=Rollup.Grain.MONTH,
        start=day.replace(day=1),
        indicator=key,
        centre=centre,
        defaults={"path": centre.region.path, "samples": None},
    )
    month.num += Decimal(str(num))
    month.den += den
    if samples is not None:
        month.samples = sorted((month.samples or []) + samples)
    month.save()
    rollup_areas_refresh(month=month.start)


@pytest.fixture
def history(db: None) -> None:
    """锦江区 opens 2 + 3 cases in May 2026, 4 in April, 10 in May 2025; 青羊区 7 in May
    2026 and 9 in April; 成都市本级 1 in May; 自贡市自流井区 6 in May 2026. 锦江区 closes
    3 of 4 on time in May and 1 of 2 in April; escalations: 锦江区 2, 青羊区 1 in May;
    first responses in 锦江区: 2, 4, 9 hours in May, 6 and 8 in April."""
    put("510104", "cases_opened", date(2026, 5, 3), 2)
    put("510104", "cases_opened", date(2026, 5, 20), 3)
    put("510104", "cases_opened", date(2026, 4, 10), 4)
    put("510104", "cases_opened", date(2025, 5, 15), 10)
    put("510105", "cases_opened", date(2026, 5, 7), 7)
    put("510105", "cases_opened", date(2026, 4, 7), 9)
    put("510100", "cases_opened", date(2026, 5, 8), 1)
    put("510302", "cases_opened", date(2026, 5, 9), 6)
    put("510104", "closed_on_time_share", date(2026, 5, 4), 3, 4)
    put("510104", "closed_on_time_share", date(2026, 4, 4), 1, 2)
    put("510104", "escalations", date(2026, 5, 5), 2)
    put("510105", "escalations", date(2026, 5, 6), 1)
    put("510104", "first_response_hours", date(2026, 5, 3), 0, 0, [2.0, 9.0])
    put("510104", "first_response_hours", date(2026, 5, 21), 0, 0, [4.0])
    put("510104", "first_response_hours", date(2026, 4, 2), 0, 0, [6.0, 8.0])


def headline(response: Any, key: str) -> Headline:
    for group in response.context["headlines"]:
        for row in group.rows:
            if row.indicator.key == key:
                return row  # type: ignore[no-any-return]
    raise AssertionError(key)


def ranking(response: Any) -> list[tuple[int | None, str, float | None]]:
    rows: list[tuple[Ranked, str | None]] = response.context["ranking"]
    return [(r.rank, r.code, r.value) for r, _ in rows]


# --- Who sees what ---------------------------------------------------------------------------


def test_ops_sends_each_staff_member_to_their_own_regions_dashboard(
    alice: User, bob: User, pat: User
) -> None:
    assert client_for(alice).get("/ops/")["Location"] == "/ops/510104/"
    assert client_for(bob).get("/ops/")["Location"] == "/ops/510100/"
    assert client_for(pat).get("/ops/?period=2026")["Location"] == "/ops/510000/?period=2026"


def test_province_city_and_county_staff_see_their_own_dashboards(
    alice: User, bob: User, pat: User
) -> None:
    for user, code, name in (
        (pat, "510000", "四川省"),
        (bob, "510100", "成都市"),
        (alice, "510104", "锦江区"),
    ):
        response = client_for(user).get(f"/ops/{code}/?period={MAY}")
        assert response.status_code == 200
        assert response.context["region"].code == code
        assert f"{name}运营数据" in response.content.decode()


def test_a_city_user_opens_the_dashboards_of_their_counties(bob: User) -> None:
    assert client_for(bob).get("/ops/510104/").status_code == 200


def test_a_county_user_gets_404_on_another_county_and_on_their_city(alice: User) -> None:
    client = client_for(alice)
    for url in (
        "/ops/510105/",
        "/ops/510105/map.json",
        "/ops/510100/",
        "/ops/510100/map.json",
        "/ops/510000/",
    ):
        assert client.get(url).status_code == 404, url


def test_a_city_user_gets_404_on_another_city(bob: User) -> None:
    client = client_for(bob)
    assert client.get("/ops/510300/").status_code == 404
    assert client.get("/ops/510300/map.json").status_code == 404
    assert client.get("/ops/510822/").status_code == 404


def test_a_township_or_unknown_code_is_404_even_for_the_province(pat: User) -> None:
    client = client_for(pat)
    assert client.get("/ops/510104001/").status_code == 404
    assert client.get("/ops/999999/").status_code == 404


def test_citizens_and_anonymous_visitors_do_not_get_a_dashboard(dora: User) -> None:
    assert client_for(dora).get("/ops/510104/").status_code == 404
    assert client_for(dora).get("/ops/").status_code == 404
    anonymous = Client().get("/ops/510104/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


def test_the_staff_nav_and_dashboard_link_to_the_operations_data_and_citizens_see_no_link(
    alice: User,
) -> None:
    page = client_for(alice).get("/dashboard/").content.decode()
    assert page.count('href="/ops/"') == 2
    citizen = make_citizen("zhou", "510104")
    assert 'href="/ops/"' not in client_for(citizen).get("/dashboard/").content.decode()


# --- Figures ---------------------------------------------------------------------------------


def test_a_countys_headline_figures_and_their_changes_equal_its_rollups(
    alice: User, history: None
) -> None:
    response = client_for(alice).get(f"/ops/510104/?period={MAY}")
    opened = headline(response, "cases_opened")
    assert opened.value == 5.0
    assert opened.text == "5"
    assert opened.vs_previous is not None and opened.vs_last_year is not None
    assert (opened.vs_previous.delta, opened.vs_previous.percent) == (1.0, 25.0)
    assert opened.vs_previous.tone == "good"
    assert (opened.vs_last_year.delta, opened.vs_last_year.percent) == (-5.0, -50.0)
    assert opened.vs_last_year.tone == "bad"
    assert opened.vs_last_year.delta_text == "-5"

    share = headline(response, "closed_on_time_share")
    assert share.text == "75.0%"
    assert share.vs_previous is not None
    assert (share.vs_previous.delta, share.vs_previous.percent) == (25.0, None)
    assert share.vs_previous.delta_text == "+25.0 个百分点"
    assert share.vs_last_year is None  # no cases closed in May 2025: n/a

    escalations = headline(response, "escalations")
    assert escalations.value == 2.0
    assert escalations.vs_previous is not None
    assert (escalations.vs_previous.delta, escalations.vs_previous.percent) == (2.0, None)
    assert escalations.vs_previous.tone == "bad"  # more escalations is worse

    median = headline(response, "first_response_hours")
    assert (median.value, median.text) == (4.0, "4.0")
    assert median.vs_previous is not None
    assert (median.vs_previous.delta, median.vs_previous.tone) == (-3.0, "good")

    html = response.content.decode()
    assert "上期：2026年4月；去年同期：2025年5月。" in html


def test_a_citys_figures_add_up_its_counties_and_its_own_centre(bob: User, history: None) -> None:
    response = client_for(bob).get(f"/ops/510100/?period={MAY}")
    opened = headline(response, "cases_opened")
    assert opened.value == 13.0  # 锦江 5 + 青羊 7 + 市本级 1; 自贡 is another city
    assert opened.vs_previous is not None
    assert opened.vs_previous.delta == 0.0 and opened.vs_previous.tone == "flat"
    assert opened.vs_previous.delta_text == "持平"


def test_a_period_spanning_part_months_reads_day_rows_around_the_whole_months(
    alice: User, history: None
) -> None:
    response = client_for(alice).get("/ops/510104/?period=2026-04-05~2026-05-10")
    assert headline(response, "cases_opened").value == 6.0  # 4 (10 April) + 2 (3 May)


def test_the_ranking_orders_the_counties_by_the_indicator_and_its_direction(
    bob: User, history: None
) -> None:
    client = client_for(bob)
    rows = ranking(client.get(f"/ops/510100/?period={MAY}&indicator=cases_opened"))
    assert len(rows) == 21  # 20 districts and counties, then 成都市本级
    assert rows[:3] == [(1, "510105", 7.0), (2, "510104", 5.0), (3, "510106", 0.0)]
    assert {rank for rank, _, _ in rows[2:20]} == {3}
    assert rows[20] == (None, "510100", 1.0)

    lower_is_better = ranking(client.get(f"/ops/510100/?period={MAY}&indicator=escalations"))
    assert lower_is_better[0][0] == 1 and lower_is_better[0][2] == 0.0
    assert lower_is_better[18:20] == [(19, "510105", 1.0), (20, "510104", 2.0)]


def test_the_ranking_shows_the_change_and_links_each_county_with_the_same_period_and_indicator(
    bob: User, history: None
) -> None:
    response = client_for(bob).get(f"/ops/510100/?period={MAY}&indicator=cases_opened")
    first, url = response.context["ranking"][0]
    assert first.vs_previous is not None and first.vs_previous.delta == -2.0
    assert url == "/ops/510105/?period=2026-05&indicator=cases_opened"
    assert '<a href="/ops/510105/?period=2026-05&amp;indicator=cases_opened">青羊区</a>' in (
        response.content.decode()
    )


def test_a_median_ranks_lowest_first_and_a_county_without_samples_is_unranked(
    bob: User, history: None
) -> None:
    rows = ranking(client_for(bob).get(f"/ops/510100/?period={MAY}&indicator=first_response_hours"))
    assert rows[0] == (1, "510104", 4.0)
    assert rows[1] == (None, "510105", None)


def test_the_trend_of_a_month_is_day_by_day_and_of_a_year_month_by_month(
    alice: User, history: None
) -> None:
    client = client_for(alice)
    month = client.get(f"/ops/510104/?period={MAY}").context["trend"]
    assert len(month["labels"]) == 31
    assert month["labels"][2] == "5月3日"
    assert (month["values"][2], month["values"][19], month["values"][0]) == (2.0, 3.0, 0.0)
    year = client.get("/ops/510104/?period=2026").context["trend"]
    assert year["labels"][:5] == ["2026年1月", "2026年2月", "2026年3月", "2026年4月", "2026年5月"]
    assert year["values"][3:5] == [4.0, 5.0]


# --- Map data --------------------------------------------------------------------------------


def test_the_province_map_has_its_21_cities_with_their_rollup_values(
    pat: User, history: None
) -> None:
    response = client_for(pat).get(f"/ops/510000/map.json?period={MAY}&indicator=cases_opened")
    data = json.loads(response.content)
    assert len(data["areas"]) == 21
    values = {a["code"]: a["value"] for a in data["areas"]}
    assert values["510100"] == 13.0
    assert values["510300"] == 6.0
    assert values["510400"] == 0.0
    assert (data["min"], data["max"], data["unit"]) == (0.0, 13.0, "件")
    chengdu = next(a for a in data["areas"] if a["code"] == "510100")
    assert chengdu == {
        "code": "510100",
        "name": "成都市",
        "value": 13.0,
        "text": "13",
        "url": "/ops/510100/?period=2026-05&indicator=cases_opened",
    }


def test_a_citys_map_has_its_20_counties_and_shares_are_in_percent(
    bob: User, history: None
) -> None:
    data = json.loads(
        client_for(bob)
        .get(f"/ops/510100/map.json?period={MAY}&indicator=closed_on_time_share")
        .content
    )
    assert len(data["areas"]) == 20
    values = {a["code"]: a["value"] for a in data["areas"]}
    assert values["510104"] == 75.0
    assert values["510105"] is None
    assert (data["min"], data["max"], data["unit"]) == (75.0, 75.0, "%")


def test_a_countys_map_shows_only_the_county_and_links_nowhere(alice: User, history: None) -> None:
    data = json.loads(client_for(alice).get(f"/ops/510104/map.json?period={MAY}").content)
    assert data["areas"] == [
        {"code": "510104", "name": "锦江区", "value": 5.0, "text": "5", "url": None}
    ]
    page = client_for(alice).get(f"/ops/510104/?period={MAY}")
    assert 'data-codes="510104"' in page.content.decode()
    assert "/static/geo/counties/510100.json" in page.content.decode()


# --- Bad input -------------------------------------------------------------------------------


@time_machine.travel("2026-05-25 10:00 +0800")
def test_the_default_period_is_the_year_so_far(alice: User, history: None) -> None:
    response = client_for(alice).get("/ops/510104/")
    assert response.context["period"].token == "2026-01-01~2026-05-25"
    assert headline(response, "cases_opened").value == 9.0
    assert response.context["indicator"].key == "cases_opened"
    assert response.context["errors"] == []


@time_machine.travel("2026-05-25 10:00 +0800")
def test_a_bad_period_or_indicator_shows_the_defaults_and_says_why(alice: User) -> None:
    client = client_for(alice)
    response = client.get("/ops/510104/?period=2026-13&indicator=nope")
    assert response.status_code == 200
    assert response.context["period"].token == "2026-01-01~2026-05-25"
    assert response.context["indicator"].key == "cases_opened"
    assert response.context["errors"] == [
        "统计期中的日期无效；已改为显示2026-01-01 至 2026-05-25。",
        "没有这个指标：nope；已改为显示立案。",
    ]
    assert "没有这个指标：nope" in response.content.decode()
    data = json.loads(client.get("/ops/510104/map.json?period=abc").content)
    assert data["period"]["token"] == "2026-01-01~2026-05-25"
    assert data["errors"] == [
        "无法识别的统计期，例如 2026-05、2026Q2、2026H1、2026；已改为显示2026-01-01 至 2026-05-25。"
    ]


@time_machine.travel("2026-05-25 10:00 +0800")
def test_the_period_picker_redirects_to_the_period_token(alice: User) -> None:
    client = client_for(alice)
    response = client.get(
        "/ops/510104/?kind=quarter&year=2026&month=5&quarter=2&half=1&indicator=escalations"
    )
    assert response["Location"] == "/ops/510104/?period=2026Q2&indicator=escalations"
    response = client.get("/ops/510104/?kind=custom&from=2026-03-01&to=2026-03-15")
    assert response["Location"] == (
        "/ops/510104/?period=2026-03-01~2026-03-15&indicator=cases_opened"
    )
    bad = client.get("/ops/510104/?kind=custom&from=2026-03-15&to=2026-03-01")
    assert bad.status_code == 200
    assert bad.context["errors"] == [
        "结束日期不能早于开始日期；已改为显示2026-01-01 至 2026-05-25。"
    ]
    assert client.get("/ops/510104/?kind=month&year=1800&month=5").context["errors"] == [
        "统计期的年份无效；已改为显示2026-01-01 至 2026-05-25。"
    ]
    # "²".isdigit() is True but int("²") raises: that was a 500.
    for query in ("kind=month&year=²&month=5", "kind=month&year=2026&month=٣"):
        answer = client.get(f"/ops/510104/?{query}")
        assert answer.status_code == 200
        assert len(answer.context["errors"]) == 1 and "无效" in answer.context["errors"][0]


# --- Query counts ----------------------------------------------------------------------------


def test_the_province_dashboard_and_map_take_a_bounded_number_of_queries(
    pat: User, history: None, django_assert_max_num_queries: Any
) -> None:
    client = client_for(pat)
    client.get("/ops/510000/")  # the session is read once and cached
    with django_assert_max_num_queries(20):
        assert (
            client.get(f"/ops/510000/?period={MAY}&indicator=first_response_hours").status_code
            == 200
        )
    with django_assert_max_num_queries(10):
        assert client.get(f"/ops/510000/map.json?period={MAY}").status_code == 200
    # Again: the figures come from the cache.
    with django_assert_max_num_queries(6):
        assert (
            client.get(f"/ops/510000/?period={MAY}&indicator=first_response_hours").status_code
            == 200
        )
    with django_assert_max_num_queries(6):
        assert client.get(f"/ops/510000/map.json?period={MAY}").status_code == 200


def shown_headline(response: Any, key: str) -> str:
    """The headline figure of `key` as the page shows it (a cached page has no context)."""
    html = response.content.decode()
    row = html[html.index(f'<tr data-indicator="{key}">') :]
    start = row.index("data-value>") + len("data-value>")
    return row[start : row.index("<", start)].strip()


def test_a_run_of_the_rollup_job_shows_at_once_on_a_cached_dashboard(
    alice: User, history: None
) -> None:
    client = client_for(alice)
    assert headline(client.get(f"/ops/510104/?period={MAY}"), "cases_opened").value == 5.0
    put("510104", "cases_opened", date(2026, 5, 30), 4)
    # Until the job runs, the cached page stands (rows are written only by the job).
    assert shown_headline(client.get(f"/ops/510104/?period={MAY}"), "cases_opened") == "5"
    RollupState.objects.create(last_complete_day=date(2026, 5, 30))
    assert headline(client.get(f"/ops/510104/?period={MAY}"), "cases_opened").value == 9.0
    data = json.loads(client.get(f"/ops/510104/map.json?period={MAY}").content)
    assert data["areas"][0]["value"] == 9.0


@time_machine.travel("2026-05-25 10:00 +0800")
def test_the_picker_offers_the_last_six_years_and_the_year_shown(alice: User) -> None:
    client = client_for(alice)
    assert client.get("/ops/510104/").context["picker"]["years"] == [
        2026,
        2025,
        2024,
        2023,
        2022,
        2021,
    ]
    picker = client.get("/ops/510104/?period=2019H2").context["picker"]
    assert picker["years"] == [2026, 2025, 2024, 2023, 2022, 2021, 2019]
    assert (picker["year"], picker["half"]) == (2019, 2)
