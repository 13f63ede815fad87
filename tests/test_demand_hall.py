"""The demand hall (需求大厅) and a demand's public page: every published demand links to its
page, summary-only demands keep their text back, private ones never show; search uses the
engine's Chinese segmentation; filters by category, industry, region and budget; pages."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import Organisation, User
from kejiyun.demands.models import Demand
from kejiyun.demands.search import query_terms, terms_required
from tests.builders import client_for, make_demand, make_enterprise, make_worker

pytestmark = pytest.mark.django_db

PICKLE_TITLE = "泡菜包装后胀袋问题"
PICKLE_TEXT = "公司生产的袋装泡菜在夏季常温运输中出现胀袋，退货率高。联系人王经理 13812345678。"


@pytest.fixture
def pickle_company(db: None) -> Organisation:
    """眉山泡菜, an enterprise in 东坡区 (511402, 眉山市)."""
    return make_enterprise("眉山东坡泡菜食品有限公司", "511402", "MA6200001")


def hall_ids(client: Client, query: str = "") -> list[int]:
    response = client.get(f"/demands/{query}")
    assert response.status_code == 200
    return [row.demand.pk for row in response.context["rows"]]


def test_query_terms_use_the_engine_segmentation_and_join_stray_single_characters() -> None:
    assert query_terms("泡菜") == ["泡菜"]
    assert query_terms("泡菜胀袋") == ["泡菜", "胀袋"]
    assert query_terms("猕猴桃 溃疡病") == ["猕猴桃", "溃疡病"]
    assert query_terms("茶叶的病虫害") == ["茶叶", "病虫害"]
    assert query_terms("   ") == []
    assert query_terms("问题") == ["问题"]  # only stop words: searched as typed
    assert [terms_required(n) for n in (1, 2, 3, 4, 6)] == [1, 2, 2, 3, 4]


def test_the_hall_links_every_published_demand_and_hides_private_and_unpublished_ones(
    pickle_company: Organisation, tea_company: Organisation
) -> None:
    public = make_demand(pickle_company, title=PICKLE_TITLE, description=PICKLE_TEXT)
    summary = make_demand(
        tea_company,
        title="茶叶烘干设备改造",
        description="烘干机热效率低，碎末多（内部数据）",
        confidentiality=Demand.Confidentiality.SUMMARY,
    )
    private = make_demand(
        tea_company, title="保密配方改良", confidentiality=Demand.Confidentiality.PRIVATE
    )
    draft = make_demand(tea_company, title="草稿需求", status=Demand.Status.DRAFT)
    html = Client().get("/demands/").content.decode()
    assert f'href="/demands/{public.pk}/"' in html
    assert f'href="/demands/{summary.pk}/"' in html
    assert "保密配方改良" not in html and f"/demands/{private.pk}/" not in html
    assert "草稿需求" not in html and f"/demands/{draft.pk}/" not in html
    # The summary-only demand shows neither its text nor its organisation in the list.
    assert "内部数据" not in html
    assert "锦江茶业有限公司" not in html
    # The public one shows its organisation, with the contact's mobile number masked.
    assert "眉山东坡泡菜食品有限公司" in html
    assert "13812345678" not in html and "138****5678" in html


def test_a_worker_and_an_anonymous_visitor_open_a_public_demand_with_its_details(
    pickle_company: Organisation,
) -> None:
    demand = make_demand(
        pickle_company,
        title=PICKLE_TITLE,
        description=PICKLE_TEXT,
        problem="常温流通 7 天内胀袋率约 8%",
        current_state="巴氏杀菌后直接装袋",
        target_indicators="胀袋率降到 0.5% 以下",
    )
    worker = make_worker("wang", "510104", "13900000011").user
    for client in (Client(), client_for(worker)):
        response = client.get(f"/demands/{demand.pk}/")
        assert response.status_code == 200
        html = response.content.decode()
        for text in (
            PICKLE_TITLE,
            "眉山东坡泡菜食品有限公司",
            "常温流通 7 天内胀袋率约 8%",
            "巴氏杀菌后直接装袋",
            "胀袋率降到 0.5% 以下",
            "138****5678",
        ):
            assert text in html
        assert "13812345678" not in html
    # Only the worker gets the slot with the reasons and the application.
    assert "worker-slot" in client_for(worker).get(f"/demands/{demand.pk}/").content.decode()
    anonymous = Client().get(f"/demands/{demand.pk}/").content.decode()
    assert "worker-slot" not in anonymous
    assert f'/accounts/login/?next=/demands/{demand.pk}/"' in anonymous


def test_a_summary_only_demand_page_shows_title_category_industry_and_region_only(
    tea_company: Organisation, dora: User
) -> None:
    demand = make_demand(
        tea_company,
        title="茶叶烘干设备改造",
        description="烘干机热效率低（内部数据）",
        problem="碎末率 12%（内部数据）",
        industry="茶叶加工",
        confidentiality=Demand.Confidentiality.SUMMARY,
    )
    html = client_for(dora).get(f"/demands/{demand.pk}/").content.decode()
    assert "茶叶烘干设备改造" in html and "茶叶加工" in html and "锦江区" in html
    assert "技术难题" in html
    assert "内部数据" not in html
    assert "锦江茶业有限公司" not in html
    assert "仅公开摘要" in html


def test_private_unpublished_and_other_provinces_demands_are_404_and_anonymous_go_to_login(
    tea_company: Organisation, dora: User
) -> None:
    private = make_demand(
        tea_company, title="保密配方", confidentiality=Demand.Confidentiality.PRIVATE
    )
    submitted = make_demand(tea_company, title="待审核", status=Demand.Status.SUBMITTED)
    elsewhere = make_demand(
        make_enterprise("重庆某公司", "500101", "MA6300001"), title="重庆的需求"
    )
    worker = make_worker("wang", "510104", "13900000011").user
    for demand in (private, submitted, elsewhere):
        assert client_for(dora).get(f"/demands/{demand.pk}/").status_code == 404
        assert client_for(worker).get(f"/demands/{demand.pk}/").status_code == 404
        anonymous = Client().get(f"/demands/{demand.pk}/")
        assert anonymous.status_code == 302
        assert anonymous["Location"] == f"/accounts/login/?next=/demands/{demand.pk}/"
    assert client_for(dora).get("/demands/999999/").status_code == 404


def test_the_owning_enterprise_still_gets_its_own_page_and_another_enterprise_the_public_one(
    tea_company: Organisation, erin: User, pickle_company: Organisation
) -> None:
    own = make_demand(
        tea_company, title="自己的需求", status=Demand.Status.RETURNED, return_reasons="请补充指标"
    )
    published = make_demand(tea_company, title="已发布的需求")
    mine = client_for(erin).get(f"/demands/{own.pk}/")
    assert mine.status_code == 200
    assert "请补充指标" in mine.content.decode()
    assert (
        'data-testid="status"' in client_for(erin).get(f"/demands/{published.pk}/").content.decode()
    )
    other = make_demand(pickle_company, title=PICKLE_TITLE, description=PICKLE_TEXT)
    page = client_for(erin).get(f"/demands/{other.pk}/")
    assert page.status_code == 200
    assert 'data-testid="status"' not in page.content.decode()
    returned_elsewhere = make_demand(pickle_company, title="别家草稿", status=Demand.Status.DRAFT)
    assert client_for(erin).get(f"/demands/{returned_elsewhere.pk}/").status_code == 404


def test_searching_for_pickles_really_filters_and_reads_problem_state_and_targets(
    pickle_company: Organisation, tea_company: Organisation
) -> None:
    in_title = make_demand(pickle_company, title=PICKLE_TITLE, description=PICKLE_TEXT)
    in_problem = make_demand(
        pickle_company,
        title="发酵蔬菜保质期短",
        description="产品货架期不足三个月",
        problem="泡菜亚硝酸盐波动",
    )
    in_state = make_demand(
        pickle_company,
        title="坛子发酵改罐式",
        description="想改进工艺",
        current_state="目前泡菜坛子发酵",
    )
    in_targets = make_demand(
        pickle_company,
        title="发酵车间改造",
        description="扩产",
        target_indicators="泡菜年产 5 万吨",
    )
    tea = make_demand(tea_company, title="茶叶病虫害绿色防控", description="茶小绿叶蝉危害严重")
    summary_hidden = make_demand(
        tea_company,
        title="调味品配方升级",
        description="配方里用到泡菜汁",
        confidentiality=Demand.Confidentiality.SUMMARY,
    )
    everything = hall_ids(Client())
    assert set(everything) == {
        in_title.pk,
        in_problem.pk,
        in_state.pk,
        in_targets.pk,
        tea.pk,
        summary_hidden.pk,
    }
    found = hall_ids(Client(), "?q=泡菜")
    assert set(found) == {in_title.pk, in_problem.pk, in_state.pk, in_targets.pk}
    # A summary-only demand is not found through the text it keeps back.
    assert summary_hidden.pk not in found
    # Most of a longer query's terms must be there; the demand with more of them comes first.
    assert hall_ids(Client(), "?q=泡菜胀袋") == [in_title.pk]
    assert hall_ids(Client(), "?q=茶叶 防控") == [tea.pk]
    assert hall_ids(Client(), "?q=钒钛磁铁矿") == []
    html = Client().get("/demands/?q=钒钛磁铁矿").content.decode()
    assert "没有符合条件的需求" in html


def test_filters_by_category_industry_city_county_and_budget(
    pickle_company: Organisation, tea_company: Organisation
) -> None:
    pickle = make_demand(
        pickle_company, title=PICKLE_TITLE, industry="食品制造", budget=Demand.Budget.FROM_50K
    )
    talent = make_demand(
        pickle_company,
        title="招聘发酵工程师",
        industry="食品制造",
        category=Demand.Category.TALENT,
    )
    tea = make_demand(tea_company, title="茶叶烘干", industry="茶叶加工")
    shuangliu = make_demand(
        make_enterprise("双流食品", "510116", "MA6400001"),
        title="双流的需求",
        industry="食品制造",
        budget=Demand.Budget.OVER_1M,
    )
    client = Client()
    assert set(hall_ids(client, "?category=talent")) == {talent.pk}
    assert set(hall_ids(client, "?industry=食品制造")) == {pickle.pk, talent.pk, shuangliu.pk}
    assert set(hall_ids(client, "?city=510100")) == {tea.pk, shuangliu.pk}
    assert set(hall_ids(client, "?city=510100&county=510116")) == {shuangliu.pk}
    assert set(hall_ids(client, "?city=511400")) == {pickle.pk, talent.pk}
    assert set(hall_ids(client, "?budget=5-20")) == {pickle.pk}
    assert set(hall_ids(client, "?budget=unknown")) == {talent.pk, tea.pk}
    assert set(hall_ids(client, "?industry=食品制造&city=510100&budget=gt100")) == {shuangliu.pk}
    # A county outside the chosen city, an unknown value or junk is dropped, never an error.
    assert set(hall_ids(client, "?city=511400&county=510116")) == {pickle.pk, talent.pk}
    assert len(hall_ids(client, "?category=bogus&budget=x&industry=无此行业&city=99")) == 4
    # The county list is offered once a city is chosen.
    html = client.get("/demands/?city=510100").content.decode()
    assert '<option value="510116">双流区</option>' in html


def test_filters_by_field_the_section_of_the_demands_industry_class(
    pickle_company: Organisation, tea_company: Organisation
) -> None:
    from kejiyun.talent.models import Industry

    pickle = make_demand(pickle_company, title=PICKLE_TITLE, industry="蔬菜加工")
    Demand.objects.filter(pk=pickle.pk).update(industry_class=Industry.objects.get(code="1371"))
    tea = make_demand(tea_company, title="茶叶种植", industry="茶叶种植")
    Demand.objects.filter(pk=tea.pk).update(industry_class=Industry.objects.get(code="0164"))
    make_demand(tea_company, title="没有行业分类的需求", industry="")
    client = Client()
    assert hall_ids(client, "?section=C") == [pickle.pk]
    assert hall_ids(client, "?section=A") == [tea.pk]
    assert len(hall_ids(client, "?section=Z")) == 3  # unknown: dropped, never an error
    assert '<option value="A">农、林、牧、渔业</option>' in client.get("/demands/").content.decode()


def test_the_hall_pages_by_twenty_and_keeps_the_filters_in_the_page_links(
    pickle_company: Organisation,
) -> None:
    made = [
        make_demand(pickle_company, title=f"泡菜需求{i:02d}", industry="食品制造")
        for i in range(23)
    ]
    make_demand(pickle_company, title="酱油需求", industry="食品制造")
    first = Client().get("/demands/?q=泡菜&industry=食品制造")
    assert len(first.context["rows"]) == 20
    html = first.content.decode()
    assert "第 1 / 2 页" in html
    assert (
        'href="?q=%E6%B3%A1%E8%8F%9C&amp;industry=%E9%A3%9F%E5%93%81%E5%88%B6%E9%80%A0&page=2"'
        in html
    )
    second = Client().get("/demands/?q=泡菜&industry=食品制造&page=2")
    assert len(second.context["rows"]) == 3
    shown = [r.demand.pk for r in first.context["rows"]] + [
        r.demand.pk for r in second.context["rows"]
    ]
    assert sorted(shown) == sorted(d.pk for d in made)
    assert Client().get("/demands/?page=abc").status_code == 200


def test_the_hall_uses_a_fixed_number_of_queries(pickle_company: Organisation) -> None:
    def count(query: str) -> int:
        cache.clear()  # the page as built from the database, not from the page cache
        with CaptureQueriesContext(connection) as ctx:
            assert Client().get(f"/demands/{query}").status_code == 200
        return len(ctx)

    make_demand(pickle_company, title="泡菜需求一", industry="食品制造")
    few, few_search = count(""), count("?q=泡菜&city=511400")
    for i in range(15):
        make_demand(pickle_company, title=f"泡菜需求{i}", industry=f"行业{i}")
    assert count("") == few
    assert count("?q=泡菜&city=511400") == few_search
    # The session-less page: the content generations (page cache), cities, fields (industry
    # sections), industries, count, rows (and the chosen city's counties).
    assert few == 6
    assert few_search == 7
