"""`/api/v1/demands`: the hall for anyone, the enterprise's own demands, staff review. The
same rules as the pages: confidentiality in the hall, the form's checks, the automatic
review, jurisdiction (another's demand is 404 and stays as it was), roles and scopes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kejiyun.accounts.models import Organisation, User
from kejiyun.api.etag import etag_of
from kejiyun.api.models import Scope
from kejiyun.cases.models import Case
from kejiyun.demands.models import Demand, DemandEvent
from tests.api_casework import Api, problem_of
from tests.builders import make_demand, make_enterprise, make_enterprise_user, make_worker

pytestmark = pytest.mark.django_db

# Every operation with an id in its path whose foreign-object test is in this module.
COVERED_FOREIGN: set[str] = {
    "demands_hall_detail",
    "demands_mine_detail",
    "demands_update",
    "demands_submit",
    "demands_withdraw",
    "demands_staff_detail",
    "demands_publish",
    "demands_return",
}

KIWI_TITLE = "猕猴桃果园溃疡病绿色防控技术需求"
KIWI_DESCRIPTION = (
    "我公司在蒲江县种植红心猕猴桃800亩，近三年溃疡病发病率逐年上升，去年发病株率达到18%，"
    "减产约120吨。目前主要依靠铜制剂喷施防治，效果不稳定且造成土壤铜残留，"
    "希望引进生物防治与栽培管理相结合的综合防控技术。"
)


def tag(demand: Demand) -> str:
    """The demand's ETag as it stands in the database now."""
    demand.refresh_from_db()
    return etag_of(demand)


def kiwi(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": KIWI_TITLE,
        "category": "problem",
        "industry": "水果种植",
        "region": "510104",
        "description": KIWI_DESCRIPTION,
        "problem": "溃疡病发病株率达18%，每年减产约120吨",
        "current_state": "每年春秋两季喷施铜制剂四次，防效只有六成左右",
        "target_indicators": "三年内发病株率降到5%以下，农药用量减少30%",
        "budget": "5-20",
        "confidentiality": "public",
    }
    body.update(overrides)
    return body


def kiwi_draft(organisation: Organisation, **fields: Any) -> Demand:
    values: dict[str, Any] = {
        "description": KIWI_DESCRIPTION,
        "problem": "溃疡病发病株率达18%，每年减产约120吨",
        "current_state": "每年春秋两季喷施铜制剂四次，防效只有六成左右",
        "target_indicators": "三年内发病株率降到5%以下，农药用量减少30%",
        "status": Demand.Status.DRAFT,
        **fields,
    }
    return make_demand(organisation, title=KIWI_TITLE, **values)


@pytest.fixture
def other_company(db: None) -> Organisation:
    return make_enterprise("青川木耳合作社", "510822", "MA6100002")


@pytest.fixture
def olga(other_company: Organisation) -> User:
    """Olga speaks for another enterprise, in 青川县."""
    return make_enterprise_user(other_company, "olga")


def snapshot(demand: Demand) -> tuple[Any, ...]:
    demand.refresh_from_db()
    return (
        demand.status,
        demand.title,
        demand.description,
        demand.return_reasons,
        demand.published_at,
        DemandEvent.objects.filter(demand=demand).count(),
    )


# --- The hall ----------------------------------------------------------------------------------


def test_hall_lists_published_demands_and_keeps_back_what_confidentiality_hides(
    tea_company: Organisation,
) -> None:
    public = make_demand(
        tea_company,
        title="茶叶加工自动化",
        description="联系人电话 13812345678，需要揉捻机改造",
        budget="5-20",
    )
    summary = make_demand(
        tea_company,
        title="仅摘要的需求",
        description="秘密工艺细节",
        confidentiality=Demand.Confidentiality.SUMMARY,
        budget="gt100",
    )
    make_demand(tea_company, title="不公开", confidentiality=Demand.Confidentiality.PRIVATE)
    make_demand(tea_company, title="草稿", status=Demand.Status.DRAFT)

    response = Api(None).get("/demands/hall")
    assert response.status_code == 200
    items = {row["id"]: row for row in response.json()["items"]}
    assert set(items) == {public.pk, summary.pk}
    assert items[public.pk]["organisation"] == "锦江茶业有限公司"
    assert "13812345678" not in items[public.pk]["description"]
    assert "138****5678" in items[public.pk]["description"]
    assert items[public.pk]["budget"] == "5-20"
    row = items[summary.pk]
    assert row["summary_only"] is True
    assert (row["organisation"], row["description"], row["budget"]) == ("", "", "")

    detail = Api(None).get(f"/demands/hall/{summary.pk}").json()
    assert detail["summary_only"] is True
    assert "秘密" not in str(detail)


def test_hall_filters_as_the_page_does(tea_company: Organisation) -> None:
    tea = make_demand(tea_company, title="茶园病虫害防控", category="problem")
    make_demand(tea_company, title="招聘食品工程师", category="talent")
    api = Api(None)
    found = api.get("/demands/hall", category="problem").json()["items"]
    assert [row["id"] for row in found] == [tea.pk]
    found = api.get("/demands/hall", q="病虫害").json()["items"]
    assert [row["id"] for row in found] == [tea.pk]
    # An unknown filter widens, never errs (the page's rule).
    assert len(api.get("/demands/hall", category="nonsense").json()["items"]) == 2


def test_hall_detail_of_an_unpublished_or_private_demand_is_404(tea_company: Organisation) -> None:
    draft = make_demand(tea_company, title="草稿", status=Demand.Status.DRAFT)
    private = make_demand(tea_company, title="不公开", confidentiality="private")
    for demand in (draft, private):
        problem_of(Api(None).get(f"/demands/hall/{demand.pk}"), 404)
    problem_of(Api(None).get("/demands/hall/999999999"), 404)
    problem_of(Api(None).get("/demands/hall/0"), 422)
    problem_of(Api(None).get("/demands/hall/abc"), 422)
    problem_of(Api(None).get(f"/demands/hall/{2**64}"), 422)


def test_list_bounds_are_checked(tea_company: Organisation) -> None:
    for params in ({"limit": 0}, {"limit": 101}, {"limit": -5}, {"cursor": "不是游标"}):
        problem_of(Api(None).get("/demands/hall", **params), 422)
    problem_of(Api(None).get("/demands/hall", cursor="abc"), 400)
    make_demand(tea_company, title="一")
    second = make_demand(tea_company, title="二")
    page = Api(None).get("/demands/hall", limit=1).json()
    assert [row["id"] for row in page["items"]] == [second.pk] and page["next_cursor"]
    rest = Api(None).get("/demands/hall", limit=1, cursor=page["next_cursor"]).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


# --- The enterprise's own demands --------------------------------------------------------------


def test_create_writes_a_draft_of_the_callers_organisation_and_ignores_what_it_may_not_set(
    erin: User, other_company: Organisation, alice: User
) -> None:
    body = kiwi(
        status="published",
        organisation_id=other_company.pk,
        organisation=other_company.pk,
        created_by=alice.pk,
        review_flags=["x"],
        return_reasons="y",
        published_at="2026-01-01T00:00:00Z",
    )
    response = Api(erin).post("/demands/mine", body)
    assert response.status_code == 201, response.content
    out = response.json()
    demand = Demand.objects.get(pk=out["id"])
    assert demand.status == Demand.Status.DRAFT
    assert demand.organisation_id == erin.organisation_id
    assert demand.created_by_id == erin.pk
    assert (demand.review_flags, demand.return_reasons, demand.published_at) == ([], "", None)
    assert demand.industry == "水果种植" and demand.industry_class_id is not None
    assert out["status"] == "draft" and out["editable"] is True and out["case_id"] is None


def test_create_refuses_what_the_form_refuses(erin: User) -> None:
    api = Api(erin)
    body = problem_of(api.post("/demands/mine", kiwi(region="110101")), 400)
    assert "region" in body["errors"]
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    body = problem_of(api.post("/demands/mine", kiwi(deadline=yesterday)), 400)
    assert body["errors"]["deadline"] == ["期望完成时间应晚于今天。"]
    problem_of(api.post("/demands/mine", kiwi(title="长" * 121)), 422)
    problem_of(api.post("/demands/mine", kiwi(category="spaceship")), 422)
    assert not Demand.objects.exists()


def test_roles_and_scopes(erin: User, alice: User) -> None:
    worker = make_worker("wendy", "510104", "13900000001").user
    problem_of(Api(worker).get("/demands/mine"), 403)
    problem_of(Api(alice).post("/demands/mine", kiwi()), 403)
    problem_of(Api(erin).get("/demands/staff"), 403)
    read_only = Api(erin, scopes=[Scope.DEMANDS_READ])
    assert problem_of(read_only.post("/demands/mine", kiwi()), 403)["code"] == "insufficient_scope"
    assert read_only.get("/demands/mine").status_code == 200
    problem_of(Api(None).get("/demands/mine"), 401)
    assert not Demand.objects.exists()


def test_own_list_and_detail_show_only_the_organisations_demands(
    erin: User, olga: User, tea_company: Organisation, other_company: Organisation
) -> None:
    mine = kiwi_draft(tea_company)
    theirs = kiwi_draft(other_company)
    items = Api(erin).get("/demands/mine").json()["items"]
    assert [row["id"] for row in items] == [mine.pk]
    assert Api(erin).get(f"/demands/mine/{mine.pk}").json()["title"] == KIWI_TITLE
    problem_of(Api(erin).get(f"/demands/mine/{theirs.pk}"), 404)


def test_update_edits_a_draft_and_ignores_status(erin: User, tea_company: Organisation) -> None:
    demand = kiwi_draft(tea_company)
    read = Api(erin).get(f"/demands/mine/{demand.pk}")
    assert read["ETag"] == tag(demand)
    response = Api(erin).put(
        f"/demands/mine/{demand.pk}",
        kiwi(title="新的名称", status="published", version=99),
        if_match=read["ETag"],
    )
    assert response.status_code == 200, response.content
    demand.refresh_from_db()
    assert (demand.title, demand.status) == ("新的名称", Demand.Status.DRAFT)
    assert response["ETag"] == etag_of(demand) != read["ETag"]


def test_edits_need_the_current_etag_and_a_stale_one_changes_nothing(
    erin: User, alice: User, tea_company: Organisation
) -> None:
    demand = kiwi_draft(tea_company)
    first_read = tag(demand)
    before = snapshot(demand)
    body = problem_of(Api(erin).put(f"/demands/mine/{demand.pk}", kiwi(title="甲")), 428)
    assert "If-Match" in body["detail"] and snapshot(demand) == before
    # Two editors read the same version; the second to write is refused, not lost.
    ok = Api(erin).put(f"/demands/mine/{demand.pk}", kiwi(title="甲"), if_match=first_read)
    assert ok.status_code == 200
    after_first = snapshot(demand)
    body = problem_of(
        Api(erin).put(f"/demands/mine/{demand.pk}", kiwi(title="乙"), if_match=first_read), 412
    )
    assert body["code"] == "stale" and body["etag"] == tag(demand)
    assert snapshot(demand) == after_first
    for path in ("submit", "withdraw"):
        problem_of(Api(erin).post(f"/demands/mine/{demand.pk}/{path}", if_match=first_read), 412)
        problem_of(Api(erin).post(f"/demands/mine/{demand.pk}/{path}"), 428)
    assert snapshot(demand) == after_first
    submitted = kiwi_draft(tea_company, status=Demand.Status.SUBMITTED)
    stale = tag(submitted)
    Demand.objects.filter(pk=submitted.pk).update(version=submitted.version + 1)
    before = snapshot(submitted)
    problem_of(Api(alice).post(f"/demands/staff/{submitted.pk}/publish", if_match=stale), 412)
    problem_of(
        Api(alice).post(f"/demands/staff/{submitted.pk}/return", {"reasons": "补"}, if_match=stale),
        412,
    )
    assert snapshot(submitted) == before and not Case.objects.exists()


def test_update_of_another_enterprises_demand_is_404_and_changes_nothing(
    erin: User, other_company: Organisation
) -> None:
    theirs = kiwi_draft(other_company)
    before = snapshot(theirs)
    problem_of(Api(erin).put(f"/demands/mine/{theirs.pk}", kiwi(title="改掉")), 404)
    assert snapshot(theirs) == before


def test_update_of_a_submitted_demand_is_refused(erin: User, tea_company: Organisation) -> None:
    demand = kiwi_draft(tea_company, status=Demand.Status.SUBMITTED)
    before = snapshot(demand)
    body = problem_of(
        Api(erin).put(f"/demands/mine/{demand.pk}", kiwi(title="改掉"), if_match=tag(demand)), 400
    )
    assert "只有草稿或退回修改" in body["detail"]
    assert snapshot(demand) == before


def test_submit_runs_the_automatic_review(erin: User, tea_company: Organisation) -> None:
    complete = kiwi_draft(tea_company)
    vague = make_demand(
        tea_company, title="需要技术", description="帮忙", status=Demand.Status.DRAFT
    )
    out = Api(erin).post(f"/demands/mine/{complete.pk}/submit", if_match=tag(complete)).json()
    assert out["submitted"] is True and out["demand"]["status"] == "submitted"
    out = Api(erin).post(f"/demands/mine/{vague.pk}/submit", if_match=tag(vague)).json()
    assert out["submitted"] is False and out["problems"]
    assert out["demand"]["status"] == "returned"
    vague.refresh_from_db()
    assert vague.status == Demand.Status.RETURNED and vague.return_reasons


def test_submit_and_withdraw_of_another_enterprises_demand_are_404(
    erin: User, other_company: Organisation
) -> None:
    theirs = kiwi_draft(other_company)
    before = snapshot(theirs)
    problem_of(Api(erin).post(f"/demands/mine/{theirs.pk}/submit"), 404)
    problem_of(Api(erin).post(f"/demands/mine/{theirs.pk}/withdraw"), 404)
    assert snapshot(theirs) == before


def test_withdraw(erin: User, tea_company: Organisation) -> None:
    demand = kiwi_draft(tea_company, status=Demand.Status.SUBMITTED)
    out = Api(erin).post(f"/demands/mine/{demand.pk}/withdraw", if_match=tag(demand)).json()
    assert out["status"] == "withdrawn" and out["events"][-1]["to_status"] == "withdrawn"
    demand.refresh_from_db()
    assert demand.status == Demand.Status.WITHDRAWN
    # Twice: refused, nothing more written.
    problem_of(Api(erin).post(f"/demands/mine/{demand.pk}/withdraw", if_match=tag(demand)), 400)
    assert DemandEvent.objects.filter(demand=demand).count() == 1


# --- Staff ---------------------------------------------------------------------------------


def test_staff_list_keeps_to_the_jurisdiction(
    alice: User, charlie: User, tea_company: Organisation, other_company: Organisation
) -> None:
    here = kiwi_draft(tea_company, status=Demand.Status.SUBMITTED)
    there = kiwi_draft(other_company, status=Demand.Status.SUBMITTED)
    kiwi_draft(tea_company)
    items = Api(alice).get("/demands/staff", status="submitted").json()["items"]
    assert [row["id"] for row in items] == [here.pk]
    assert len(Api(alice).get("/demands/staff").json()["items"]) == 2
    assert [row["id"] for row in Api(charlie).get("/demands/staff").json()["items"]] == [there.pk]
    problem_of(Api(alice).get("/demands/staff", status="bogus"), 422)


def test_staff_detail_of_another_jurisdiction_is_404(
    alice: User, charlie: User, tea_company: Organisation
) -> None:
    demand = kiwi_draft(tea_company, status=Demand.Status.SUBMITTED)
    assert Api(alice).get(f"/demands/staff/{demand.pk}").json()["reviewable"] is True
    problem_of(Api(charlie).get(f"/demands/staff/{demand.pk}"), 404)


def test_publish_opens_the_case_and_refuses_another_jurisdiction(
    alice: User, charlie: User, tea_company: Organisation
) -> None:
    demand = kiwi_draft(tea_company, status=Demand.Status.SUBMITTED)
    before = snapshot(demand)
    problem_of(Api(charlie).post(f"/demands/staff/{demand.pk}/publish"), 404)
    assert snapshot(demand) == before and not Case.objects.exists()

    out = Api(alice).post(f"/demands/staff/{demand.pk}/publish", if_match=tag(demand)).json()
    case = Case.objects.get(demand=demand)
    assert out["case_id"] == case.pk and out["demand"]["status"] == "published"
    demand.refresh_from_db()
    assert demand.status == Demand.Status.PUBLISHED and demand.reviewed_by_id == alice.pk
    # Twice: refused as the page refuses it.
    problem_of(Api(alice).post(f"/demands/staff/{demand.pk}/publish", if_match=tag(demand)), 400)
    assert Case.objects.count() == 1


def test_return_with_reasons_and_refuses_another_jurisdiction(
    alice: User, charlie: User, tea_company: Organisation
) -> None:
    demand = kiwi_draft(tea_company, status=Demand.Status.SUBMITTED)
    before = snapshot(demand)
    problem_of(Api(charlie).post(f"/demands/staff/{demand.pk}/return", {"reasons": "补充"}), 404)
    assert snapshot(demand) == before
    problem_of(Api(alice).post(f"/demands/staff/{demand.pk}/return", {"reasons": ""}), 422)
    assert snapshot(demand) == before

    out = (
        Api(alice)
        .post(f"/demands/staff/{demand.pk}/return", {"reasons": "请补充指标"}, if_match=tag(demand))
        .json()
    )
    assert out["status"] == "returned" and out["return_reasons"] == "请补充指标"
    demand.refresh_from_db()
    assert demand.status == Demand.Status.RETURNED and demand.reviewed_by_id == alice.pk
