"""The matching engine wired into the platform: demand pages rank experts, workers see
ranked demands, conflicts are flagged, the index follows new rows and can be rebuilt."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import Organisation, User
from kejiyun.demands.models import Demand
from kejiyun.matching.adapters import (
    demand_to_profile,
    demand_to_query,
    region_tier_label,
    talent_profile_to_match,
)
from kejiyun.matching.fields import classes
from kejiyun.matching.index import match_index_reset
from kejiyun.matching.selectors import demands_for_expert, experts_for_demand
from kejiyun.matchlog.services import EXPERTS, index_change_record
from kejiyun.talent.models import TalentProfile
from kejiyun_match import ConflictPolicy, normalise_text
from tests.builders import (
    client_for,
    make_demand,
    make_enterprise,
    make_expert,
    make_pig_expert,
    make_tea_demand,
    make_tea_expert,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("match_index")]


def expert_positions(html: str, *profiles: TalentProfile) -> list[int]:
    return [html.index(f'data-expert="{p.pk}"') for p in profiles]


def expert_item(html: str, profile: TalentProfile) -> str:
    start = html.index(f'data-expert="{profile.pk}"')
    return html[start : html.index("</ul>", start)]


def test_a_tea_demand_ranks_the_tea_expert_above_the_pig_expert_and_shows_the_matched_term(
    alice: User, tea_company: Organisation
) -> None:
    pig = make_pig_expert()
    tea = make_tea_expert()
    demand = make_tea_demand(tea_company)

    response = client_for(alice).get(f"/matching/demands/{demand.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "茶叶病虫害绿色防控技术" in html
    assert 'data-expert="' in html
    tea_at, pig_at = expert_positions(html, tea, pig)
    assert tea_at < pig_at
    tea_item = expert_item(html, tea)
    assert "命中词：" in tea_item
    assert "茶叶" in tea_item.split("命中词：")[1].split("<")[0]
    assert "地域：本县" in tea_item
    assert "已核验" not in tea_item and "未核验" in tea_item
    assert "利益冲突" not in html


def test_the_staff_list_links_each_demand_to_its_page(
    alice: User, tea_company: Organisation
) -> None:
    demand = make_tea_demand(tea_company)
    html = client_for(alice).get("/demands/staff/").content.decode()
    assert f'href="/demands/staff/{demand.pk}/"' in html


def test_explanations_name_only_terms_really_in_the_experts_text(
    tea_company: Organisation,
) -> None:
    make_tea_expert()
    make_pig_expert()
    make_expert(
        "sam",
        "510822",
        "13900000003",
        fields="土壤学",
        keywords="土壤改良、有机肥",
        capability="茶园和果园的土壤改良与测土配方施肥。",
    )
    demand = make_tea_demand(tea_company)

    rows = experts_for_demand(demand=demand)

    assert [r.result.rank for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].profile.user.username == "tina"
    for row in rows:
        text = normalise_text(talent_profile_to_match(row.profile, classes()).text)
        for term in row.result.explanation.matched_terms:
            assert term.term in text, (row.profile.user.username, term.term)
            assert term.weight > 0
    pig = next(r for r in rows if r.profile.user.username == "peter")
    assert "茶叶" not in [t.term for t in pig.result.explanation.matched_terms]
    assert "茶叶" in [t.term for t in rows[0].result.explanation.matched_terms]


def test_an_expert_of_the_demanding_organisation_is_flagged_as_a_conflict(
    alice: User, tea_company: Organisation
) -> None:
    insider = make_tea_expert("ivan", "13900000004", employer="锦江茶业有限公司")
    outsider = make_tea_expert()
    demand = make_tea_demand(tea_company)

    html = client_for(alice).get(f"/matching/demands/{demand.pk}/").content.decode()

    assert "利益冲突：与需求方为同一单位" in expert_item(html, insider)
    assert "利益冲突" not in expert_item(html, outsider)
    assert html.count("利益冲突：") == 1


def test_county_staff_of_another_county_get_a_404_and_nothing_changes(
    alice: User, bob: User, charlie: User, tea_company: Organisation, match_index: Path
) -> None:
    make_tea_expert()
    demand = make_tea_demand(tea_company)
    before = list(Demand.objects.values())

    for url in (f"/demands/staff/{demand.pk}/", f"/matching/demands/{demand.pk}/"):
        assert client_for(charlie).get(url).status_code == 404, url
    assert list(Demand.objects.values()) == before
    assert not match_index.exists()  # refused before any matching ran
    assert client_for(bob).get(f"/demands/staff/{demand.pk}/").status_code == 200
    assert client_for(bob).get(f"/matching/demands/{demand.pk}/").status_code == 200
    assert client_for(alice).get("/demands/staff/999999/").status_code == 404
    assert client_for(alice).get("/matching/demands/999999/").status_code == 404


def test_a_worker_who_is_not_staff_gets_a_404_on_the_demand_page(
    tea_company: Organisation,
) -> None:
    worker = make_tea_expert()
    demand = make_tea_demand(tea_company)
    assert client_for(worker.user).get(f"/demands/staff/{demand.pk}/").status_code == 404
    assert client_for(worker.user).get(f"/matching/demands/{demand.pk}/").status_code == 404


def test_the_worker_dashboard_lists_the_matching_demand_first(
    tea_company: Organisation,
) -> None:
    farm = make_enterprise("锦江生猪养殖场", "510104", "MA6100002")
    pig_demand = make_demand(
        farm,
        title="生猪养殖疫病防控",
        description="规模化生猪养殖场需要非洲猪瘟疫病防控指导。",
        industry="畜牧学",
    )
    demand = make_tea_demand(tea_company)
    draft = make_tea_demand(tea_company, title="茶叶绿色防控草稿", status=Demand.Status.DRAFT)
    worker = make_tea_expert()

    html = client_for(worker.user).get("/dashboard/").content.decode()

    assert "为您推荐的需求" in html
    assert "本市最新技术需求" not in html
    first = html.index('data-demand="')
    assert html.index(f'data-demand="{demand.pk}"') == first
    assert f'data-demand="{draft.pk}"' not in html
    assert html.index(f'data-demand="{pig_demand.pk}"') > first
    assert "命中词：" in html and "茶叶" in html.split("命中词：")[1].split("<")[0]


def test_a_worker_sees_no_demand_of_their_own_employer(tea_company: Organisation) -> None:
    make_tea_demand(tea_company)
    insider = make_tea_expert("ivan", "13900000004", employer="锦江茶业有限公司")
    assert demands_for_expert(profile=insider) == []


def test_a_worker_without_a_profile_still_sees_the_citys_newest_demands(
    tea_company: Organisation,
) -> None:
    make_tea_demand(tea_company)
    worker = make_tea_expert()
    user = worker.user
    worker.delete()
    html = client_for(User.objects.get(pk=user.pk)).get("/dashboard/").content.decode()
    assert "本市最新技术需求" in html
    assert "茶叶病虫害绿色防控技术" in html


def test_rebuild_match_index_saves_the_index_and_a_new_expert_appears_after_the_count_changes(
    tea_company: Organisation, match_index: Path
) -> None:
    make_tea_expert()
    demand = make_tea_demand(tea_company)
    out = io.StringIO()

    call_command("rebuild_match_index", stdout=out)

    assert "match index: 1 experts, 1 demands" in out.getvalue()
    assert sorted(p.name for p in match_index.iterdir()) == [
        f"demands-none-1-{demand.pk}-0",
        f"experts-none-1-{TalentProfile.objects.get().pk}-0",
        "results-none-0-0-0",
        "teams-none-0-0-0",
    ]
    assert [r.profile.user.username for r in experts_for_demand(demand=demand)] == ["tina"]

    newcomer = make_tea_expert("nina", "13900000005", county_code="510822")
    names = [r.profile.user.username for r in experts_for_demand(demand=demand)]
    assert names == ["tina", "nina"]  # the same text; the local expert first
    assert sorted(p.name for p in match_index.iterdir() if p.name.startswith("experts")) == [
        f"experts-none-2-{newcomer.pk}-0"
    ]

    match_index_reset()  # a fresh process opens the saved index and ranks the same
    assert [r.profile.user.username for r in experts_for_demand(demand=demand)] == names


def test_the_demand_pages_query_count_does_not_grow_with_the_number_of_experts(
    alice: User, tea_company: Organisation
) -> None:
    demand = make_tea_demand(tea_company)
    client = client_for(alice)
    counts = []
    for n in range(2):
        new = [make_tea_expert(f"t{n}{i}", f"1390000{n}{i:03d}") for i in range(4)]
        # The builders write with the ORM: record the new rows as the talent services do,
        # which also moves the cached rankings on (kejiyun.matching.selectors).
        index_change_record(kind=EXPERTS, object_ids=[p.pk for p in new])
        client.get(f"/matching/demands/{demand.pk}/")  # builds the index after the new rows
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/matching/demands/{demand.pk}/", headers={"HX-Request": "true"})
        assert response.content.decode().count('data-expert="') == 4 * (n + 1)
        counts.append(len(ctx.captured_queries))
    # session, user (with the centre and its region), the demand, the generations (the
    # rendered rankings come from the page cache)
    assert counts == [4, 4]


def test_adapters_put_the_right_fields_into_profiles_and_queries(
    tea_company: Organisation,
) -> None:
    profile = make_tea_expert()
    demand = make_tea_demand(tea_company)

    fields = classes()
    match = talent_profile_to_match(profile, fields)
    assert match.id == f"expert:{profile.pk}"
    assert match.kind == "expert"
    assert match.region_path == "510000/510100/510104/"
    # no disciplines on the profile: inferred from 专业领域 and 关键词, as NSFC paths
    assert match.disciplines and all(d.count("/") >= 1 for d in match.disciplines)
    assert match.organisation == "四川农业大学"
    assert "茶园管理" in match.text and "研究员" in match.text

    query = demand_to_query(demand, fields)
    assert query.organisation == "锦江茶业有限公司"
    assert query.category == "problem"
    assert query.conflict_policy is ConflictPolicy.FLAG
    assert query.text.startswith("茶叶病虫害绿色防控技术")
    assert query.disciplines and query.industries

    reverse = demand_to_profile(demand, fields)
    assert reverse.id == f"demand:{demand.pk}"
    assert reverse.kind == "demand"
    assert [region_tier_label(t) for t in ("county", "city", "chengyu", "province", "nation")] == [
        "本县",
        "本市",
        "成渝",
        "本省",
        "全国",
    ]


def test_region_tiers_run_county_city_chengyu_province(tea_company: Organisation) -> None:
    demand = make_tea_demand(tea_company)
    for username, county, mobile in [
        ("local", "510104", "13900000011"),  # 锦江区, the demand's county
        ("city", "510116", "13900000012"),  # 双流区, 成都市
        ("mianyang", "510703", "13900000013"),  # 涪城区, 绵阳市: in the 成渝 circle
        ("guangyuan", "510822", "13900000014"),  # 青川县, 广元市: Sichuan, outside it
    ]:
        make_tea_expert(username, mobile, county_code=county)

    rows = experts_for_demand(demand=demand)

    assert [(r.profile.user.username, r.region_label) for r in rows] == [
        ("local", "本县"),
        ("city", "本市"),
        ("mianyang", "成渝"),
        ("guangyuan", "本省"),
    ]
