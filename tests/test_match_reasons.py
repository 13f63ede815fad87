"""Match reasons a person would accept (issue 10, item 8): over every demo demand the shown
terms are meaningful and the shown percentage never rises down the list; field fit comes
from the demand's industry and discipline and the expert's; semantic matching is computed
off the request path by the periodic job."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import Organisation, User
from kejiyun.demands.models import Demand
from kejiyun.demo.seed import demo_seed
from kejiyun.matching import index as match_index_module
from kejiyun.matching.adapters import demand_to_query
from kejiyun.matching.embeddings import match_embeddings_compute
from kejiyun.matching.fields import classes, place_names
from kejiyun.matching.index import experts_engine, match_index_reset
from kejiyun.matching.selectors import experts_for_demand
from kejiyun.matchlog.models import IndexChange, MatchVector
from kejiyun.matchlog.services import EXPERTS, index_change_record
from kejiyun.regions.models import Region
from kejiyun.talent.models import Discipline
from kejiyun_match import BOILERPLATE, STOPWORDS, E5Embedder
from tests.builders import (
    client_for,
    make_enterprise_user,
    make_expert,
    make_tea_demand,
    make_tea_expert,
)


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "title": "苹果园改造",
        "category": Demand.Category.PROBLEM,
        "industry": "",
        "region": "510104",
        "description": "果园老化，苹果品质下降，想改造成矮化密植果园。",
        "problem": "树势衰弱，果个偏小。",
        "current_state": "乔化稀植，树龄二十年。",
        "target_indicators": "三年内亩产提高到三千斤。",
        "budget": Demand.Budget.FROM_50K,
        "deadline": "",
        "confidentiality": Demand.Confidentiality.PUBLIC,
        "action": "save",
    }
    data.update(overrides)
    return data


def _bad_term(term: str, places: set[str]) -> str:
    """Why a shown term is unacceptable, or ""."""
    letters = sum(1 for ch in term if ch.isalpha())
    if any(ch.isdigit() for ch in term) and letters < 2:
        return "digit"
    if len(term) < 2 or letters < 2:
        return "single character"
    if term in STOPWORDS or term in BOILERPLATE:
        return "stop word"
    if term in places:
        return "place name"
    return ""


@pytest.mark.django_db
def test_over_every_demo_demand_shown_terms_are_meaningful_and_percentages_never_rise(
    match_index: Path,
) -> None:
    demo_seed(scale="small", seed=1)
    places = place_names() | set(
        Region.objects.filter(level=Region.Level.TOWNSHIP).values_list("name", flat=True)
    )
    demands = list(Demand.objects.select_related("region", "organisation"))
    assert len(demands) >= 100
    shown_any = 0
    field_fit_seen = 0
    for demand in demands:
        rows = experts_for_demand(demand=demand, top_k=10)
        percents = [row.match_percent for row in rows]
        assert percents == sorted(percents, reverse=True), (demand.title, percents)
        for row in rows:
            for term in row.reason_terms:
                why = _bad_term(term, places)
                assert not why, (demand.title, term, why)
                shown_any += 1
            field_fit_seen += row.field_fit_percent > 0
    assert shown_any > len(demands)  # reasons are shown, not just filtered away
    assert field_fit_seen > 0  # 领域契合 is not 0% for everyone


def test_a_pickle_demand_shows_pickle_terms_not_places_or_boilerplate(
    match_index: Path, tea_company: Organisation
) -> None:
    food = make_expert(
        "fang",
        "511402",
        "13900000021",
        fields="食品发酵、食品微生物",
        keywords="泡菜、乳酸菌、胀袋、杀菌",
        capability="长期研究泡菜发酵与包装杀菌，解决袋装泡菜胀袋问题。",
    )
    official = make_expert(
        "guan",
        "510116",
        "13900000022",
        fields="市场监管",
        keywords="质量监督、双流区",
        capability="双流区市场监管，负责企业产品质量技术方案审查，为企业解决问题。",
        employer="双流区市场监督管理局",
    )
    demand = make_tea_demand(
        tea_company,
        region_id="510116",
        title="泡菜包装后胀袋问题",
        description="我司在双流区生产袋装泡菜，年产9000吨，希望专家提供解决方案，提高技术水平。",
        problem="袋装泡菜常温流通30天出现胀袋，怀疑产气菌二次发酵。",
        current_state="目前85℃巴氏杀菌15分钟。",
        target_indicators="胀袋率降到0.3%以下。",
        industry="蔬菜加工",
    )
    rows = experts_for_demand(demand=demand)
    assert rows[0].profile == food
    assert {"泡菜", "胀袋"} <= set(rows[0].reason_terms)
    for row in rows:
        assert not {"双流", "双流区", "方案", "问题", "企业", "技术", "9", "区"} & set(
            row.reason_terms
        )
    by_expert = {row.profile.pk: row for row in rows}
    assert official.pk not in by_expert or by_expert[official.pk].reason_terms == []
    # field fit: the demand's industry (蔬菜加工, by name) and inferred discipline meet
    # the food expert's inferred ones
    assert rows[0].field_fit_percent > 0


def test_the_whole_demand_is_matched(match_index: Path, tea_company: Organisation) -> None:
    """An expert who answers only what the 要解决的问题, 目前现状 and 目标指标 say is found."""
    expert = make_expert(
        "xu",
        "510104",
        "13900000031",
        fields="分析化学",
        keywords="亚硝酸盐、快速检测",
        capability="亚硝酸盐快速检测方法开发。",
    )
    demand = make_tea_demand(
        tea_company,
        title="产品改进",
        description="希望专家帮助改进。",
        problem="成品亚硝酸盐偶尔超标。",
        current_state="缺少快速检测手段。",
        target_indicators="亚硝酸盐检测在十分钟内出结果。",
    )
    rows = experts_for_demand(demand=demand)
    assert rows and rows[0].profile == expert
    assert "亚硝酸盐" in rows[0].reason_terms


def test_the_demand_form_stores_the_industry_class_and_matching_uses_it(
    tea_company: Organisation,
) -> None:
    client = client_for(make_enterprise_user(tea_company, "ella"))
    # chosen by code (the picker posts codes); the discipline is left to inference
    response = client.post("/demands/new/", form_data(industry="0151", title="苹果园改造"))
    assert response.status_code == 302
    demand = Demand.objects.select_related("region", "organisation").get(title="苹果园改造")
    assert demand.industry_class_id == "0151"
    assert demand.industry == "仁果类和核果类水果种植"
    assert demand.discipline is None
    query = demand_to_query(demand, classes())
    assert query.industries == ("01/015/0151",)
    assert query.disciplines  # inferred from the text

    # an unknown industry is refused in Chinese and nothing is stored
    before = Demand.objects.count()
    response = client.post("/demands/new/", form_data(industry="火星采矿", title="另一个"))
    assert response.status_code == 400
    assert "所选行业不存在" in response.content.decode()
    assert Demand.objects.count() == before

    # a discipline given on the form is taken as given
    discipline = Discipline.objects.get(code="C2003")
    client.post("/demands/new/", form_data(industry="水果种植", discipline="C2003", title="第三个"))
    third = Demand.objects.select_related("region").get(title="第三个")
    assert third.discipline == discipline
    assert demand_to_query(third, classes()).disciplines == ("C20/C2003",)


def test_embeddings_are_computed_by_the_periodic_job_not_by_a_page(
    _own_match_index: None, settings: object, tea_company: Organisation, alice: User
) -> None:
    settings.MATCH_EMBEDDER = "hash"  # type: ignore[attr-defined]
    tea = make_tea_expert()
    make_expert(
        "peter",
        "510104",
        "13900000041",
        fields="畜牧学",
        keywords="生猪、疫病防控",
        capability="生猪养殖疫病防控。",
    )
    demand = make_tea_demand(tea_company)

    # before the job: words only, nothing stored, nothing embedded by the page
    rows = experts_for_demand(demand=demand)
    assert {row.result.explanation.matched_by for row in rows} == {"lexical"}
    assert not MatchVector.objects.exists()
    assert not experts_engine().has_vector(f"expert:{tea.pk}")

    log_before = IndexChange.objects.count()
    written = match_embeddings_compute()
    assert written["experts/doc"] == 2 and written["experts/query"] == 2
    assert written["demands/doc"] == 1 and written["demands/query"] == 1
    assert IndexChange.objects.count() > log_before  # engines replay the embedded rows
    assert match_embeddings_compute() == {}  # nothing new: nothing embedded again

    rows = experts_for_demand(demand=demand)
    assert rows[0].profile == tea
    assert rows[0].result.explanation.matched_by == "both"
    assert rows[0].result.explanation.semantic > 0

    # an edited text loses its vector until the job runs again
    tea.capability = "茶园土壤改良。"
    tea.save()
    index_change_record(kind=EXPERTS, object_ids=[tea.pk])
    assert not experts_engine().has_vector(f"expert:{tea.pk}")
    assert match_embeddings_compute(limit=1) == {"experts/doc": 1}
    assert experts_engine().has_vector(f"expert:{tea.pk}")


def test_with_e5_a_page_never_loads_the_model(
    _own_match_index: None, settings: object, tea_company: Organisation, alice: User
) -> None:
    settings.MATCH_EMBEDDER = "e5"  # type: ignore[attr-defined]
    make_tea_expert()
    demand = make_tea_demand(tea_company)
    match_index_reset()
    with CaptureQueriesContext(match_index_module.connection):
        response = client_for(alice).get(f"/matching/demands/{demand.pk}/")
    assert response.status_code == 200
    embedder = experts_engine().embedder
    assert isinstance(embedder, E5Embedder)
    assert embedder._loaded is None  # nothing embedded on the request path


def test_the_embedding_job_is_a_periodic_job() -> None:
    tasks = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "matching.embed_vectors" in tasks
    assert "matching.sync_index" in tasks
