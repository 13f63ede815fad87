"""Enterprises publish demands with guidance; the automatic checks send back incomplete ones
and flag near-duplicates and boilerplate for staff; the hall respects confidentiality."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from kejiyun.accounts.models import Organisation, User
from kejiyun.cases.workflow.services import case_open
from kejiyun.demands.models import Demand, DemandEvent
from kejiyun.demands.review import (
    GUIDANCE,
    DemandText,
    completeness_problems,
    normalise,
)
from tests.builders import client_for, make_demand, make_enterprise, make_enterprise_user

pytestmark = pytest.mark.django_db

# A real demand, and the pieces of one, used throughout.
KIWI_TITLE = "猕猴桃果园溃疡病绿色防控技术需求"
KIWI_DESCRIPTION = (
    "我公司在蒲江县种植红心猕猴桃800亩，近三年溃疡病发病率逐年上升，去年发病株率达到18%，"
    "减产约120吨。目前主要依靠铜制剂喷施防治，效果不稳定且造成土壤铜残留，"
    "希望引进生物防治与栽培管理相结合的综合防控技术。"
)
KIWI_PROBLEM = "溃疡病发病株率达18%，每年减产约120吨"
KIWI_STATE = "每年春秋两季喷施铜制剂四次，防效只有六成左右"
KIWI_TARGET = "三年内发病株率降到5%以下，农药用量减少30%"

STORE_TITLE = "猕猴桃冷库保鲜期短，需要气调贮藏改造方案"
STORE_DESCRIPTION = (
    "公司现有两座500吨冷库，猕猴桃入库后60天开始明显软化，春节后销售期的损耗超过15%。"
    "想在不新建库房的前提下改造为气调库或增加乙烯脱除设备，延长货架期，"
    "需要有果蔬贮藏经验的专家现场评估。"
)


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "title": KIWI_TITLE,
        "category": Demand.Category.PROBLEM,
        "industry": "水果种植",
        "region": "510104",
        "description": KIWI_DESCRIPTION,
        "problem": KIWI_PROBLEM,
        "current_state": KIWI_STATE,
        "target_indicators": KIWI_TARGET,
        "budget": Demand.Budget.FROM_50K,
        "deadline": "",
        "confidentiality": Demand.Confidentiality.PUBLIC,
        "action": "save",
    }
    data.update(overrides)
    return data


def make_kiwi_demand(organisation: Organisation, **fields: Any) -> Demand:
    """The kiwi demand above, written by `organisation`: a draft unless `status` says otherwise."""
    values: dict[str, Any] = {
        "title": KIWI_TITLE,
        "description": KIWI_DESCRIPTION,
        "problem": KIWI_PROBLEM,
        "current_state": KIWI_STATE,
        "target_indicators": KIWI_TARGET,
        "status": Demand.Status.DRAFT,
        **fields,
    }
    return make_demand(organisation, **values)


def snapshot() -> tuple[object, ...]:
    return (
        list(Demand.objects.order_by("pk").values()),
        list(DemandEvent.objects.order_by("pk").values()),
    )


@pytest.fixture
def fruit_company() -> Organisation:
    """锦江果业, a kiwi grower in 锦江区."""
    org = make_enterprise("锦江果业有限公司", "510104", "MA6100001")
    org.industry = "水果种植"
    org.save(update_fields=["industry"])
    return org


@pytest.fixture
def frank(fruit_company: Organisation) -> User:
    """Frank speaks for 锦江果业."""
    return make_enterprise_user(fruit_company, "frank")


@pytest.fixture
def jinniu() -> Organisation:
    """Another enterprise in the same city (金牛区, 成都市)."""
    return make_enterprise("金牛农业科技有限公司", "510106", "MA6100002")


# --- Creating and editing ----------------------------------------------------------------


def test_the_new_demand_form_shows_guidance_and_defaults_to_the_enterprises_county(
    frank: User,
) -> None:
    response = client_for(frank).get("/demands/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="510104" selected>' in html
    # The organisation's industry, given in words, is chosen in the industry tree by its name.
    assert 'name="industry" value="015" id="id_industry_chosen_015" checked' in html
    for field in ("problem", "current_state", "target_indicators"):
        assert GUIDANCE[field].question in html
        assert f'placeholder="例如：{GUIDANCE[field].example}"' in html
    assert "保存草稿" in html and "提交审核" in html


def test_an_enterprise_saves_a_draft_and_posted_status_or_organisation_fields_have_no_effect(
    frank: User, jinniu: Organisation
) -> None:
    response = client_for(frank).post(
        "/demands/new/",
        form_data(status="published", organisation=str(jinniu.pk), review_flags="[]"),
    )
    demand = Demand.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/demands/{demand.pk}/edit/"
    assert demand.status == Demand.Status.DRAFT
    assert demand.organisation_id == frank.organisation_id
    assert demand.created_by_id == frank.pk
    assert demand.region_id == "510104"
    assert (demand.title, demand.problem, demand.budget) == (
        KIWI_TITLE,
        KIWI_PROBLEM,
        Demand.Budget.FROM_50K,
    )
    assert demand.submitted_at is None
    assert DemandEvent.objects.count() == 0


def test_a_form_with_bad_input_is_refused_and_nothing_is_written(frank: User) -> None:
    response = client_for(frank).post(
        "/demands/new/", form_data(title="", category="rocket", deadline="2000-01-01")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "请填写需求名称。" in html
    assert "所选类别不存在。" in html
    assert "期望完成时间应晚于今天。" in html
    assert Demand.objects.count() == 0


def test_an_incomplete_demand_is_sent_back_with_each_reason_and_not_submitted(
    frank: User,
) -> None:
    description = "需要技术支持，请联系。"
    client = client_for(frank)
    response = client.post(
        "/demands/new/",
        form_data(
            description=description,
            problem="",
            current_state=GUIDANCE["current_state"].example,
            target_indicators="提升企业核心竞争力，实现高质量发展！",
            action="submit",
        ),
    )
    demand = Demand.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/demands/{demand.pk}/edit/"
    assert demand.status == Demand.Status.RETURNED
    assert demand.submitted_at is None
    assert demand.reviewed_by_id is None
    assert demand.return_reasons.split("\n") == [
        "「需求描述」太短：请至少写 30 个字（不计标点和空格），说明产品或工艺、遇到问题的环节和"
        "原因；现在只有 9 个字。",
        "未填写「要解决的问题」：要解决的具体问题是什么？出现在哪道工序、哪种产品上？",
        "「目前现状」照抄了填写提示或示例，请写出贵单位自己的实际情况。",
        "「目标指标」不够具体：去掉套话后只有 0 个字，请至少写 10 个字的实际内容，例如："
        "合格率提高到95%以上，保质期不少于12个月，单位能耗不增加。",
    ]
    event = DemandEvent.objects.get()
    assert (event.from_status, event.to_status, event.automatic, event.actor_id) == (
        Demand.Status.DRAFT,
        Demand.Status.RETURNED,
        True,
        frank.pk,
    )
    # The form shows each reason beside its field; staff never saw this demand.
    html = client.get(f"/demands/{demand.pk}/edit/").content.decode()
    assert html.count('class="text-warning-emphasis small mt-1 review-problem"') == 4
    assert "自动检查未通过，请补充：" in html


def test_punctuation_and_whitespace_do_not_count_as_content(frank: User) -> None:
    text = DemandText(
        title="标题",
        description="。" * 40 + " " * 10,
        problem="！？…… ——  ，，，，，，，，",
        current_state="\n\n\t\t" * 5,
        target_indicators="…………………………………………",
    )
    assert [p.field for p in completeness_problems(text)] == [
        "description",
        "problem",
        "current_state",
        "target_indicators",
    ]


@given(st.text(alphabet=st.characters(categories=["P", "Z", "Cc"]), max_size=200))
def test_text_made_only_of_punctuation_or_spaces_normalises_to_nothing(
    text: str,
) -> None:
    assert normalise(text) == ""


@given(st.text(max_size=200))
def test_normalising_twice_changes_nothing(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


def test_a_complete_demand_is_submitted_without_flags(frank: User) -> None:
    response = client_for(frank).post("/demands/new/", form_data(action="submit"))
    demand = Demand.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/demands/{demand.pk}/"
    assert demand.status == Demand.Status.SUBMITTED
    assert demand.submitted_at is not None
    assert demand.return_reasons == ""
    assert demand.review_flags == []
    assert demand.duplicate_of_id is None
    assert list(DemandEvent.objects.values_list("from_status", "to_status", "automatic")) == [
        (Demand.Status.DRAFT, Demand.Status.SUBMITTED, False)
    ]


def test_a_returned_demand_can_be_fixed_and_submitted_again(frank: User) -> None:
    client = client_for(frank)
    client.post("/demands/new/", form_data(problem="", action="submit"))
    demand = Demand.objects.get()
    assert demand.status == Demand.Status.RETURNED
    response = client.post(f"/demands/{demand.pk}/edit/", form_data(action="submit"))
    demand.refresh_from_db()
    assert response.status_code == 302
    assert demand.status == Demand.Status.SUBMITTED
    assert demand.return_reasons == ""
    assert demand.problem == KIWI_PROBLEM


def test_a_near_duplicate_from_another_company_in_the_same_city_is_flagged_with_the_original(
    frank: User, jinniu: Organisation
) -> None:
    original = make_kiwi_demand(jinniu, status=Demand.Status.PUBLISHED)
    # The same template with two words changed.
    copied = KIWI_DESCRIPTION.replace("红心", "黄心").replace("800亩", "600亩")
    client_for(frank).post("/demands/new/", form_data(description=copied, action="submit"))
    demand = Demand.objects.exclude(pk=original.pk).get()
    assert demand.status == Demand.Status.SUBMITTED  # staff decide; the enterprise is not blocked
    assert demand.duplicate_of_id == original.pk
    assert len(demand.review_flags) == 1
    # The original lies in another county: the flag does not name it to staff who may not
    # be allowed to see it.
    match = re.fullmatch(
        r"疑似重复：与其他区县的一条需求相似度 (0\.\d\d|1\.00)", demand.review_flags[0]
    )
    assert match is not None
    assert float(match.group(1)) >= 0.75


def test_a_copy_from_another_city_in_another_category_is_not_compared(frank: User) -> None:
    qingchuan = make_enterprise("青川农业有限公司", "510822", "MA6100003")
    make_kiwi_demand(qingchuan, status=Demand.Status.PUBLISHED)
    client_for(frank).post("/demands/new/", form_data(action="submit"))
    demand = Demand.objects.get(organisation=frank.organisation)
    assert demand.review_flags == []
    assert demand.duplicate_of_id is None


def test_two_different_demands_of_one_company_are_not_flagged(
    frank: User, fruit_company: Organisation
) -> None:
    make_kiwi_demand(
        fruit_company,
        title=STORE_TITLE,
        description=STORE_DESCRIPTION,
        category=Demand.Category.EQUIPMENT,
        status=Demand.Status.PUBLISHED,
    )
    client_for(frank).post("/demands/new/", form_data(action="submit"))
    demand = Demand.objects.get(title=KIWI_TITLE)
    assert demand.status == Demand.Status.SUBMITTED
    assert demand.review_flags == []
    assert demand.duplicate_of_id is None


def test_the_same_demand_submitted_twice_by_one_company_is_flagged(
    frank: User, fruit_company: Organisation
) -> None:
    first = make_kiwi_demand(fruit_company, status=Demand.Status.SUBMITTED)
    client_for(frank).post("/demands/new/", form_data(action="submit"))
    demand = Demand.objects.exclude(pk=first.pk).get()
    assert demand.duplicate_of_id == first.pk
    assert demand.review_flags == [f"疑似重复：与需求 #{first.pk}《{KIWI_TITLE}》相似度 1.00"]


def test_a_mostly_boilerplate_demand_is_flagged(frank: User) -> None:
    client_for(frank).post(
        "/demands/new/",
        form_data(
            title="关于提升企业核心竞争力的技术合作需求",
            description=(
                "为提升企业核心竞争力，推动产业转型升级，实现高质量发展，我公司希望加强产学研合作，"
                "加快科技成果转化，提高生产效率，降低生产成本，急需相关专家支持，"
                "欢迎有意向的专家团队联系。"
            ),
            problem="包装车间自动化程度低，人工成本高",
            current_state="目前全部依靠人工分拣和装箱",
            target_indicators="分拣效率提高一倍以上",
            action="submit",
        ),
    )
    demand = Demand.objects.get()
    assert demand.status == Demand.Status.SUBMITTED
    assert demand.duplicate_of_id is None
    assert len(demand.review_flags) == 1
    match = re.fullmatch(r"套话比例 (\d+)%", demand.review_flags[0])
    assert match is not None
    assert 50 <= int(match.group(1)) <= 100


def test_a_specific_demand_is_not_flagged_as_boilerplate_even_with_one_generic_phrase(
    frank: User,
) -> None:
    client_for(frank).post(
        "/demands/new/",
        form_data(description=KIWI_DESCRIPTION + "以此提升企业核心竞争力。", action="submit"),
    )
    assert Demand.objects.get().review_flags == []


# --- Withdrawing and editing rules -------------------------------------------------------


def test_a_submitted_demand_cannot_be_edited_and_nothing_changes(
    frank: User, fruit_company: Organisation
) -> None:
    demand = make_kiwi_demand(fruit_company, status=Demand.Status.SUBMITTED)
    before = snapshot()
    client = client_for(frank)
    response = client.post(f"/demands/{demand.pk}/edit/", form_data(title="改过的标题"))
    assert response.status_code == 302
    assert response["Location"] == f"/demands/{demand.pk}/"
    assert snapshot() == before
    page = client.get(response["Location"]).content.decode()
    assert "需求当前状态为「待审核」，只有草稿或退回修改的需求可以编辑。" in page


def test_an_enterprise_withdraws_its_submitted_demand(
    frank: User, fruit_company: Organisation
) -> None:
    demand = make_kiwi_demand(fruit_company, status=Demand.Status.SUBMITTED)
    response = client_for(frank).post(f"/demands/{demand.pk}/withdraw/")
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.status == Demand.Status.WITHDRAWN
    assert list(DemandEvent.objects.values_list("from_status", "to_status", "actor_id")) == [
        (Demand.Status.SUBMITTED, Demand.Status.WITHDRAWN, frank.pk)
    ]


def test_a_published_demand_cannot_be_withdrawn_here_and_nothing_changes(
    frank: User, fruit_company: Organisation
) -> None:
    demand = make_kiwi_demand(fruit_company, status=Demand.Status.PUBLISHED)
    before = snapshot()
    client = client_for(frank)
    response = client.post(f"/demands/{demand.pk}/withdraw/", follow=True)
    assert snapshot() == before
    assert (
        "需求当前状态为「已发布」，不能在此撤回；已受理的需求请联系承办的服务中心。"
        in response.content.decode()
    )


# --- Authorisation -----------------------------------------------------------------------


def test_an_enterprise_cannot_see_or_edit_another_organisations_demand_and_nothing_changes(
    frank: User, jinniu: Organisation
) -> None:
    other = make_kiwi_demand(jinniu, status=Demand.Status.DRAFT)
    before = snapshot()
    client = client_for(frank)
    assert client.get(f"/demands/{other.pk}/").status_code == 404
    assert client.get(f"/demands/{other.pk}/edit/").status_code == 404
    assert client.post(f"/demands/{other.pk}/edit/", form_data()).status_code == 404
    assert client.post(f"/demands/{other.pk}/submit/").status_code == 404
    assert client.post(f"/demands/{other.pk}/withdraw/").status_code == 404
    assert snapshot() == before
    assert KIWI_DESCRIPTION not in client.get("/demands/mine/").content.decode()


def test_only_enterprise_users_reach_the_enterprise_pages(
    frank: User, fruit_company: Organisation, alice: User, dora: User
) -> None:
    demand = make_kiwi_demand(fruit_company)
    urls = ["/demands/mine/", "/demands/new/", f"/demands/{demand.pk}/"]
    for url in urls:
        anonymous = Client().get(url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/accounts/login/")
        assert client_for(alice).get(url).status_code == 404
        assert client_for(dora).get(url).status_code == 404
        assert client_for(frank).get(url).status_code == 200


def test_the_enterprise_list_shows_status_return_reasons_and_the_case(
    frank: User, fruit_company: Organisation, alice: User
) -> None:
    make_kiwi_demand(fruit_company, title="草稿需求")
    returned = make_kiwi_demand(
        fruit_company,
        title="被退回的需求",
        status=Demand.Status.RETURNED,
        return_reasons="请补充指标",
    )
    accepted = make_kiwi_demand(fruit_company, title="已受理的需求", status=Demand.Status.PUBLISHED)
    case = case_open(demand=accepted, actor=alice)
    html = client_for(frank).get("/demands/mine/").content.decode()
    assert "草稿需求" in html and "被退回的需求" in html and "已受理的需求" in html
    assert "修改后重新提交" in html
    assert f'href="/cases/mine/{case.pk}/"' in html
    detail = client_for(frank).get(f"/demands/{returned.pk}/").content.decode()
    assert "请补充指标" in detail


# --- The public hall ---------------------------------------------------------------------


def test_private_demands_are_never_in_the_hall(fruit_company: Organisation) -> None:
    make_kiwi_demand(
        fruit_company,
        title="保密的工艺改进需求",
        status=Demand.Status.PUBLISHED,
        confidentiality=Demand.Confidentiality.PRIVATE,
    )
    make_kiwi_demand(fruit_company, title="公开的需求", status=Demand.Status.PUBLISHED)
    make_kiwi_demand(fruit_company, title="待审核的需求", status=Demand.Status.SUBMITTED)
    for url in ("/demands/", "/demands/?category=problem"):
        html = Client().get(url).content.decode()
        assert "公开的需求" in html
        assert "保密的工艺改进需求" not in html
        assert "待审核的需求" not in html


def test_summary_only_demands_show_no_description_in_the_hall(fruit_company: Organisation) -> None:
    make_kiwi_demand(
        fruit_company,
        title="仅摘要的需求",
        industry="水果种植",
        status=Demand.Status.PUBLISHED,
        confidentiality=Demand.Confidentiality.SUMMARY,
    )
    html = Client().get("/demands/").content.decode()
    assert "仅摘要的需求" in html
    assert "技术难题" in html and "水果种植" in html and "锦江区" in html
    assert KIWI_DESCRIPTION[:20] not in html
    assert KIWI_PROBLEM not in html
    assert fruit_company.name not in html


def test_the_enterprise_list_uses_a_fixed_number_of_queries(
    frank: User, fruit_company: Organisation, alice: User
) -> None:
    client = client_for(frank)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/demands/mine/").status_code == 200
        return len(ctx.captured_queries)

    def add(n: int) -> None:
        for i in range(n):
            demand = make_kiwi_demand(
                fruit_company, title=f"需求{i}", status=Demand.Status.PUBLISHED
            )
            case_open(demand=demand, actor=alice)
            make_kiwi_demand(fruit_company, title=f"草稿{i}")

    add(1)
    client.get("/demands/mine/")  # warm up: the first request also writes the session
    two_rows = count()
    add(2)
    assert Demand.objects.count() == 6
    six_rows = count()
    assert two_rows == six_rows == 5
