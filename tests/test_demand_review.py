"""Staff review submitted demands: the queue (flagged first), accepting (a case is opened) and
sending back with reasons (the enterprise is told). Moves outside the table are refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kejiyun.accounts.models import Organisation, User
from kejiyun.cases.errors import CaseError
from kejiyun.cases.models import Case
from kejiyun.cases.workflow.services import case_open_from_demand
from kejiyun.demands.models import Demand, DemandEvent
from kejiyun.demands.services import (
    DEMAND_MOVES,
    DemandError,
    demand_flags_refresh,
    demand_return,
    demand_transition,
)
from kejiyun.notifications.models import OutboxMessage
from tests.builders import client_for, make_demand, make_enterprise

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[object, ...]:
    return (
        list(Demand.objects.order_by("pk").values()),
        list(DemandEvent.objects.order_by("pk").values()),
        list(Case.objects.order_by("pk").values()),
        list(OutboxMessage.objects.order_by("pk").values()),
    )


def make_drying_demand(organisation: Organisation, title: str, **fields: Any) -> Demand:
    """A complete tea-drying demand of `organisation`, submitted for review just now unless
    `status` and `submitted_at` say otherwise."""
    values: dict[str, Any] = {
        "description": f"{title}：详细描述现有工艺、遇到的问题和希望达到的效果。",
        "problem": "烘干后茶叶碎末率高达12%",
        "current_state": "使用链板式烘干机，温度靠人工调节",
        "target_indicators": "碎末率降到5%以下，单位能耗降低10%",
        "status": Demand.Status.SUBMITTED,
        "submitted_at": timezone.now(),
        **fields,
    }
    return make_demand(organisation, title=title, **values)


@pytest.fixture
def qingchuan() -> Organisation:
    return make_enterprise("青川茶业有限公司", "510822", "MA6200002")


@pytest.fixture
def submitted(tea_company: Organisation, erin: User) -> Demand:
    return make_drying_demand(tea_company, "茶叶烘干碎末率高", created_by=erin)


# --- The queue ---------------------------------------------------------------------------


def test_the_review_queue_lists_submitted_demands_in_jurisdiction_flagged_first(
    alice: User, tea_company: Organisation, qingchuan: Organisation
) -> None:
    earlier = timezone.now() - timezone.timedelta(days=2)
    plain = make_drying_demand(tea_company, "普通需求", submitted_at=earlier)
    flagged = make_drying_demand(tea_company, "套话需求", review_flags=["套话比例 64%"])
    make_drying_demand(tea_company, "草稿需求", status=Demand.Status.DRAFT, submitted_at=None)
    make_drying_demand(tea_company, "已发布需求", status=Demand.Status.PUBLISHED)
    make_drying_demand(qingchuan, "青川的需求")
    response = client_for(alice).get("/demands/staff/review/")
    assert response.status_code == 200
    assert [d.pk for d in response.context["page"]] == [flagged.pk, plain.pk]
    html = response.content.decode()
    assert "套话比例 64%" in html
    assert f'href="/demands/staff/{flagged.pk}/"' in html
    assert "青川的需求" not in html


def test_the_review_queue_follows_jurisdiction_for_every_staff_member(
    alice: User, bob: User, charlie: User, pat: User, dora: User, submitted: Demand
) -> None:
    def listed(user: User) -> list[int]:
        return [d.pk for d in client_for(user).get("/demands/staff/review/").context["page"]]

    assert listed(alice) == [submitted.pk]
    assert listed(bob) == [submitted.pk]
    assert listed(pat) == [submitted.pk]
    assert listed(charlie) == []
    assert client_for(dora).get("/demands/staff/review/").status_code == 404
    assert Client().get("/demands/staff/review/").status_code == 302


def test_the_staff_detail_shows_the_review_panel_and_keeps_the_ranked_experts(
    alice: User, submitted: Demand, tea_company: Organisation
) -> None:
    original = make_drying_demand(tea_company, "原需求", status=Demand.Status.PUBLISHED)
    submitted.review_flags = [f"疑似重复：与需求 #{original.pk}《原需求》相似度 0.91"]
    submitted.duplicate_of = original
    submitted.save(update_fields=["review_flags", "duplicate_of"])
    DemandEvent.objects.create(
        demand=submitted,
        from_status=Demand.Status.DRAFT,
        to_status=Demand.Status.RETURNED,
        automatic=True,
        reason="未填写「目标指标」",
    )
    html = client_for(alice).get(f"/demands/staff/{submitted.pk}/").content.decode()
    assert "草稿 → 退回修改 · 系统自动检查 · 未填写「目标指标」" in html
    assert 'data-testid="review-panel"' in html
    assert f"疑似重复：与需求 #{original.pk}《原需求》相似度 0.91" in html
    assert f'href="/demands/staff/{original.pk}/"' in html
    assert f'hx-get="/matching/demands/{submitted.pk}/"' in html  # the ranked experts' slot
    assert "烘干后茶叶碎末率高达12%" in html
    published = client_for(alice).get(f"/demands/staff/{original.pk}/").content.decode()
    assert 'data-testid="review-panel"' not in published
    assert f'hx-get="/matching/demands/{original.pk}/"' in published
    for demand in (submitted, original):
        ranked = client_for(alice).get(
            f"/matching/demands/{demand.pk}/", headers={"HX-Request": "true"}
        )
        assert 'data-testid="matched-experts"' in ranked.content.decode()


# --- Accepting ---------------------------------------------------------------------------


def test_accepting_publishes_the_demand_and_opens_exactly_one_case(
    alice: User, submitted: Demand
) -> None:
    client = client_for(alice)
    response = client.post(f"/cases/open/{submitted.pk}/")
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    submitted.refresh_from_db()
    assert submitted.status == Demand.Status.PUBLISHED
    assert submitted.published_at is not None
    assert submitted.reviewed_by_id == alice.pk
    assert case.demand_id == submitted.pk
    assert case.centre.region_id == "510104"
    assert case.owner_id == alice.pk
    assert list(
        DemandEvent.objects.values_list("from_status", "to_status", "actor_id", "automatic")
    ) == [(Demand.Status.SUBMITTED, Demand.Status.PUBLISHED, alice.pk, False)]
    # Accepting again is refused and opens no second case.
    before = snapshot()
    again = client.post(f"/cases/open/{submitted.pk}/", follow=True)
    assert "只有待审核的需求可以受理；该需求当前状态为「已发布」。" in again.content.decode()
    assert snapshot() == before
    assert Case.objects.count() == 1


def test_city_staff_accept_a_demand_of_a_county_in_their_city(
    bob: User, alice: User, submitted: Demand
) -> None:
    case = case_open_from_demand(demand=submitted, actor=bob)
    assert case.centre.region_id == "510104"  # routed to the enterprise's county centre
    assert case.owner_id == alice.pk  # the county centre's staff member, not Bob
    assert Case.objects.count() == 1


def test_county_staff_cannot_accept_or_return_another_countys_demand_and_nothing_changes(
    charlie: User, submitted: Demand
) -> None:
    before = snapshot()
    client = client_for(charlie)
    assert client.get(f"/demands/staff/{submitted.pk}/").status_code == 404
    assert client.post(f"/cases/open/{submitted.pk}/").status_code == 404
    assert (
        client.post(f"/demands/staff/{submitted.pk}/return/", {"reasons": "不清楚"}).status_code
        == 404
    )
    assert snapshot() == before


def test_non_staff_cannot_accept_or_return_and_nothing_changes(
    erin: User, dora: User, submitted: Demand
) -> None:
    before = snapshot()
    for client in (client_for(erin), client_for(dora)):
        assert client.post(f"/cases/open/{submitted.pk}/").status_code == 404
        assert (
            client.post(f"/demands/staff/{submitted.pk}/return/", {"reasons": "x"}).status_code
            == 404
        )
    anonymous = Client().post(f"/cases/open/{submitted.pk}/")
    assert anonymous.status_code == 302
    assert snapshot() == before


def test_accepting_a_draft_is_refused_and_nothing_changes(
    alice: User, tea_company: Organisation
) -> None:
    draft = make_drying_demand(
        tea_company, "草稿需求", status=Demand.Status.DRAFT, submitted_at=None
    )
    before = snapshot()
    response = client_for(alice).post(f"/cases/open/{draft.pk}/", follow=True)
    assert response.status_code == 200
    assert "只有待审核的需求可以受理；该需求当前状态为「草稿」。" in response.content.decode()
    assert snapshot() == before
    with pytest.raises(CaseError, match="只有待审核的需求可以受理"):
        case_open_from_demand(demand=draft, actor=alice)
    assert snapshot() == before


def test_a_get_request_cannot_accept(alice: User, submitted: Demand) -> None:
    before = snapshot()
    assert client_for(alice).get(f"/cases/open/{submitted.pk}/").status_code == 405
    assert snapshot() == before


# --- Returning ---------------------------------------------------------------------------


def test_returning_needs_a_reason_and_nothing_changes_without_one(
    alice: User, submitted: Demand
) -> None:
    before = snapshot()
    response = client_for(alice).post(f"/demands/staff/{submitted.pk}/return/", {"reasons": "  "})
    assert response.status_code == 400
    assert "请填写退回原因，告诉企业需要补充或修改什么。" in response.content.decode()
    assert snapshot() == before
    with pytest.raises(DemandError, match="请填写退回原因"):
        demand_return(demand=submitted, actor=alice, reasons="")
    assert snapshot() == before


def test_returning_with_a_reason_sends_it_back_and_notifies_the_enterprise(
    alice: User, erin: User, submitted: Demand
) -> None:
    reasons = "目标指标缺少产能数据，请补充每小时处理量。"
    response = client_for(alice).post(
        f"/demands/staff/{submitted.pk}/return/", {"reasons": reasons}
    )
    assert response.status_code == 302
    assert response["Location"] == "/demands/staff/review/"
    submitted.refresh_from_db()
    assert submitted.status == Demand.Status.RETURNED
    assert submitted.return_reasons == reasons
    assert submitted.reviewed_by_id == alice.pk
    message = OutboxMessage.objects.get()
    assert (message.channel, message.recipient_id, message.idempotency_key, message.url) == (
        "inapp",
        erin.pk,
        f"demand-returned:{submitted.pk}:1",
        f"/demands/{submitted.pk}/",
    )
    assert message.title == "需求《茶叶烘干碎末率高》被退回修改"
    assert message.body == f"退回原因：{reasons}"
    # The enterprise sees the reasons on its page.
    page = client_for(erin).get(f"/demands/{submitted.pk}/").content.decode()
    assert "服务中心退回了该需求，原因：" in page
    assert reasons in page


def test_a_second_return_after_resubmission_sends_a_second_message(
    alice: User, erin: User, submitted: Demand
) -> None:
    demand_return(demand=submitted, actor=alice, reasons="第一次退回")
    demand_transition(demand=submitted, to_status=Demand.Status.SUBMITTED, actor=erin)
    demand_return(demand=submitted, actor=alice, reasons="第二次退回")
    assert list(OutboxMessage.objects.order_by("pk").values_list("idempotency_key", "body")) == [
        (f"demand-returned:{submitted.pk}:1", "退回原因：第一次退回"),
        (f"demand-returned:{submitted.pk}:2", "退回原因：第二次退回"),
    ]


def test_returning_a_published_demand_is_refused_and_nothing_changes(
    alice: User, tea_company: Organisation
) -> None:
    published = make_drying_demand(tea_company, "已发布需求", status=Demand.Status.PUBLISHED)
    before = snapshot()
    response = client_for(alice).post(
        f"/demands/staff/{published.pk}/return/", {"reasons": "补充材料"}, follow=True
    )
    assert "只有待审核的需求可以退回；该需求当前状态为「已发布」。" in response.content.decode()
    assert snapshot() == before


# --- The transition table ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [
        (s_from, s_to)
        for s_from in Demand.Status.values
        for s_to in Demand.Status.values
        if s_to not in DEMAND_MOVES[s_from]
    ],
)
def test_a_move_outside_the_table_is_refused_and_nothing_changes(
    tea_company: Organisation, alice: User, from_status: str, to_status: str
) -> None:
    demand = make_drying_demand(tea_company, "需求", status=from_status, return_reasons="原因")
    before = snapshot()
    with pytest.raises(DemandError, match="不能改为"):
        demand_transition(demand=demand, to_status=to_status, actor=alice)
    assert snapshot() == before


def test_a_move_from_a_stale_status_is_refused(tea_company: Organisation, alice: User) -> None:
    demand = make_drying_demand(tea_company, "需求")
    Demand.objects.filter(pk=demand.pk).update(status=Demand.Status.WITHDRAWN)
    before = snapshot()
    with pytest.raises(CaseError):
        case_open_from_demand(demand=demand, actor=alice)  # the in-memory copy still says submitted
    assert snapshot() == before


def test_a_returned_demand_must_say_why_in_the_database(tea_company: Organisation) -> None:
    with pytest.raises(IntegrityError):
        make_drying_demand(tea_company, "需求", status=Demand.Status.RETURNED, return_reasons="")


# --- Staff list --------------------------------------------------------------------------


def test_the_staff_list_filters_by_status(alice: User, tea_company: Organisation) -> None:
    sub = make_drying_demand(tea_company, "待审核需求")
    pub = make_drying_demand(tea_company, "已发布需求", status=Demand.Status.PUBLISHED)
    client = client_for(alice)
    assert [d.pk for d in client.get("/demands/staff/?status=submitted").context["page"]] == [
        sub.pk
    ]
    assert [d.pk for d in client.get("/demands/staff/?status=published").context["page"]] == [
        pub.pk
    ]
    assert {d.pk for d in client.get("/demands/staff/?status=bogus").context["page"]} == {
        sub.pk,
        pub.pk,
    }


@pytest.mark.parametrize("url", ["/demands/staff/review/", "/demands/staff/?status=submitted"])
def test_the_staff_lists_use_a_fixed_number_of_queries(
    alice: User, tea_company: Organisation, url: str
) -> None:
    client = client_for(alice)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def add(n: int, offset: int) -> None:
        for i in range(n):
            other = make_enterprise(f"企业{offset + i}", "510104", f"MA63{offset + i:05d}")
            make_drying_demand(
                other, f"需求{offset + i}", review_flags=["套话比例 60%"] if i % 2 else []
            )

    add(2, 0)
    client.get(url)  # warm up: the first request also writes the session
    two_rows = count()
    add(4, 2)
    assert len(client.get(url).context["page"]) == 6
    six_rows = count()
    assert two_rows == six_rows == 4


def test_a_demand_that_arrives_submitted_can_be_flagged_without_moving_it(
    tea_company: Organisation,
) -> None:
    original = make_drying_demand(tea_company, "茶叶烘干碎末率高", status=Demand.Status.PUBLISHED)
    other_county = make_enterprise("锦江另一家茶企", "510104", "MA6200009")
    paper = make_drying_demand(other_county, "茶叶烘干碎末率高", source=Demand.Source.PAPER)
    flags = demand_flags_refresh(demand=paper)
    paper.refresh_from_db()
    assert flags == [f"疑似重复：与需求 #{original.pk}《茶叶烘干碎末率高》相似度 1.00"]
    assert paper.review_flags == flags
    assert paper.duplicate_of_id == original.pk
    assert paper.status == Demand.Status.SUBMITTED
    assert DemandEvent.objects.count() == 0
