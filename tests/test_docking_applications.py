"""Workers apply for a demand's docking (申请对接) and enterprises ask for one with a
recommended expert; the case's staff approve (or send) or refuse with a reason on the case
page. Another county's staff get 404; whoever asked is told either way; every decision is
audited and on the timeline. The docking reply page shows the demand and why the expert
was matched, with radios that are radios."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import Organisation, User
from kejiyun.audit.models import AuditEvent
from kejiyun.cases.dockings.services import docking_send
from kejiyun.cases.models import Case, CaseEvent, DockingRequest, Step
from kejiyun.cases.workflow.services import case_open
from kejiyun.demands.models import Demand
from kejiyun.matching.stats import expert_feedback
from kejiyun.notifications.models import OutboxMessage
from kejiyun.talent.models import TalentProfile, Team
from kejiyun_match import Outcome as Feedback
from tests.builders import (
    case_to_matching,
    client_for,
    make_demand,
    make_enterprise,
    make_enterprise_user,
    make_pig_expert,
    make_tea_demand,
    make_tea_expert,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("match_index")]

APPLICATION = "我在茶园绿色防控方面有十年经验，可以到现场指导。"


@pytest.fixture
def tina() -> TalentProfile:
    """Tina, a tea expert in 锦江区 who signs in."""
    return make_tea_expert()


@pytest.fixture
def case(alice: User, tea_company: Organisation, erin: User) -> Case:
    """The tea demand of 锦江茶业, accepted by Alice and in the matching step."""
    demand = make_tea_demand(
        tea_company,
        problem="茶小绿叶蝉危害严重，春茶受害芽梢超过两成",
        current_state="每年喷施化学农药四到五次",
        target_indicators="受害芽梢比例降到百分之五以下",
    )
    return case_to_matching(case_open(demand=demand, actor=alice), alice)


def snapshot() -> tuple[object, ...]:
    return (
        list(DockingRequest.objects.order_by("pk").values()),
        list(Case.objects.order_by("pk").values()),
        list(CaseEvent.objects.order_by("pk").values()),
        list(OutboxMessage.objects.order_by("pk").values()),
        list(AuditEvent.objects.filter(action__startswith="docking.").values_list("pk")),
    )


def apply(worker: TalentProfile, case: Case, message: str = APPLICATION) -> object:
    return client_for(worker.user).post(
        f"/cases/apply/{case.demand_id}/", {"message": message}, follow=True
    )


def decide(user: User, case: Case, docking: DockingRequest, **data: str) -> object:
    return client_for(user).post(f"/cases/{case.pk}/dockings/{docking.pk}/decide/", data)


def inapp(user: User) -> list[tuple[str, str]]:
    return list(
        OutboxMessage.objects.filter(recipient=user, channel="inapp")
        .order_by("pk")
        .values_list("title", "body")
    )


def test_a_worker_applies_and_the_owner_approves_it_into_the_docking_step(
    case: Case, alice: User, tina: TalentProfile
) -> None:
    page = apply(tina, case)
    assert "申请已提交，服务中心审核后会通知您。" in page.content.decode()
    docking = DockingRequest.objects.get()
    assert (docking.case_id, docking.expert_id, docking.origin, docking.status) == (
        case.pk,
        tina.pk,
        "worker",
        "applied",
    )
    assert docking.message == APPLICATION
    assert inapp(alice) == [
        ("新的对接申请", "Tina申请对接案例《茶叶病虫害绿色防控技术》，请审核。")
    ]
    # The owner sees it on the case page and approves it.
    html = client_for(alice).get(f"/cases/{case.pk}/").content.decode()
    pending = html[html.index('data-testid="pending-dockings"') :]
    assert "Tina" in pending and APPLICATION in pending and "科技工作者申请" in pending
    response = decide(alice, case, docking, approve="1")
    assert response.status_code == 302
    docking.refresh_from_db()
    case.refresh_from_db()
    assert (docking.status, docking.decided_by_id) == ("accepted", alice.pk)
    assert docking.responded_at is not None
    assert case.step == Step.DOCKING
    reasons = list(case.events.order_by("pk").values_list("kind", "reason"))
    assert ("docking_applied", f"Tina（四川农业大学）申请对接：{APPLICATION}") in reasons
    assert ("docking", "批准 Tina（四川农业大学） 的对接申请，对接已确认") in reasons
    assert reasons[-1][0] == "transition"
    timeline = client_for(alice).get(f"/cases/{case.pk}/").content.decode()
    assert "批准 Tina（四川农业大学） 的对接申请，对接已确认" in timeline
    assert inapp(tina.user) == [
        (
            "对接申请已通过",
            "您对需求《茶叶病虫害绿色防控技术》的对接申请已通过，服务中心会与您联系。",
        )
    ]
    audit = AuditEvent.objects.get(action="docking.approve")
    assert (audit.user_id, audit.object_id, audit.detail) == (
        alice.pk,
        str(docking.pk),
        {"case": case.pk, "expert": tina.pk, "origin": "worker"},
    )
    # An approved application counts towards the expert's load like an accepted request.
    assert expert_feedback([tina.pk]) == {tina.pk: [("problem", Feedback.ACCEPTED)]}


def test_another_countys_staff_get_404_on_deciding_and_nothing_changes(
    case: Case, charlie: User, tina: TalentProfile, erin: User, bob: User
) -> None:
    apply(tina, case)
    docking = DockingRequest.objects.get()
    before = snapshot()
    for user, data in ((charlie, {"approve": "1"}), (charlie, {"approve": "0", "reason": "x"})):
        assert decide(user, case, docking, **data).status_code == 404
    assert client_for(charlie).get(f"/cases/{case.pk}/").status_code == 404
    # Neither the expert nor the enterprise may decide.
    assert decide(tina.user, case, docking, approve="1").status_code == 404
    assert decide(erin, case, docking, approve="1").status_code == 404
    anonymous = Client().post(f"/cases/{case.pk}/dockings/{docking.pk}/decide/", {"approve": "1"})
    assert anonymous.status_code == 302
    # A docking of another case cannot be decided through this one.
    other = case_to_matching(
        case_open(demand=make_demand(erin.organisation, title="另一需求"), actor=bob), bob
    )
    assert decide(bob, other, docking, approve="1").status_code == 404
    assert snapshot()[0] == before[0]
    # The city's staff act on the county's cases.
    assert decide(bob, case, docking, approve="1").status_code == 302
    assert DockingRequest.objects.get(pk=docking.pk).status == "accepted"


def test_a_refusal_needs_a_reason_and_the_worker_is_told_it(
    case: Case, alice: User, tina: TalentProfile
) -> None:
    apply(tina, case)
    docking = DockingRequest.objects.get()
    before = snapshot()
    response = client_for(alice).post(
        f"/cases/{case.pk}/dockings/{docking.pk}/decide/", {"approve": "0"}, follow=True
    )
    assert "请说明不予安排的原因。" in response.content.decode()
    assert snapshot() == before
    decide(alice, case, docking, approve="0", reason="本需求已有专家对接，感谢关注")
    docking.refresh_from_db()
    case.refresh_from_db()
    assert (docking.status, docking.refusal_reason) == ("refused", "本需求已有专家对接，感谢关注")
    assert case.step == Step.MATCHING
    assert inapp(tina.user)[-1] == (
        "对接申请未通过",
        "您对需求《茶叶病虫害绿色防控技术》的对接申请未通过：本需求已有专家对接，感谢关注",
    )
    assert AuditEvent.objects.filter(action="docking.refuse", user=alice).count() == 1
    # The refusal is not the expert declining: it is no feedback on them.
    assert expert_feedback([tina.pk]) == {tina.pk: []}
    # Decided once: a second decision is refused and changes nothing.
    after = snapshot()
    page = client_for(alice).post(
        f"/cases/{case.pk}/dockings/{docking.pk}/decide/", {"approve": "1"}, follow=True
    )
    assert "该对接已经处理过了" in page.content.decode()
    assert snapshot() == after
    # The worker sees the refusal, with its reason, on the demand page.
    slot = client_for(tina.user).get(
        f"/matching/demands/{case.demand_id}/for-me/", headers={"HX-Request": "true"}
    )
    assert "未予安排（本需求已有专家对接，感谢关注）" in slot.content.decode()


def test_one_application_per_worker_and_only_while_the_case_looks_for_experts(
    case: Case, alice: User, tina: TalentProfile, tea_company: Organisation
) -> None:
    apply(tina, case)
    before = snapshot()
    again = apply(tina, case, "我再申请一次，希望能够参与这个项目。")
    assert "您已就这一需求提出过对接，不能重复提交。" in again.content.decode()
    assert snapshot() == before
    # A case still in intake, and a published demand without a case, take no applications.
    intake = case_open(demand=make_demand(tea_company, title="刚受理的需求"), actor=alice)
    page = apply(tina, intake)
    assert "暂不能申请对接" in page.content.decode()
    no_case = make_demand(tea_company, title="没有案例的需求")
    page = client_for(tina.user).post(
        f"/cases/apply/{no_case.pk}/", {"message": APPLICATION}, follow=True
    )
    assert "该需求还没有服务案例，暂不能申请对接。" in page.content.decode()
    assert snapshot()[0] == before[0]


def test_bad_messages_and_people_who_are_not_workers_are_refused_and_nothing_changes(
    case: Case, erin: User, dora: User, alice: User, tina: TalentProfile, tea_company: Organisation
) -> None:
    private = make_demand(
        tea_company, title="保密需求", confidentiality=Demand.Confidentiality.PRIVATE
    )
    case_to_matching(case_open(demand=private, actor=alice), alice)
    before = snapshot()
    short = apply(tina, case, "我能做")
    assert "申请留言至少 10 个字" in short.content.decode()
    long = apply(tina, case, "长" * 501)
    assert "申请留言不能超过 500 字。" in long.content.decode()
    blank = apply(tina, case, "   ")
    assert "请填写申请留言。" in blank.content.decode()
    for user in (erin, dora, alice):
        response = client_for(user).post(
            f"/cases/apply/{case.demand_id}/", {"message": APPLICATION}
        )
        assert response.status_code == 404
    anonymous = Client().post(f"/cases/apply/{case.demand_id}/", {"message": APPLICATION})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    # A private demand is not there for workers at all.
    response = client_for(tina.user).post(f"/cases/apply/{private.pk}/", {"message": APPLICATION})
    assert response.status_code == 404
    assert snapshot() == before


def test_applications_are_rate_limited_per_worker(case: Case, tina: TalentProfile) -> None:
    client = client_for(tina.user)
    url = f"/cases/apply/{case.demand_id}/"
    statuses = [client.post(url, {"message": APPLICATION}).status_code for _ in range(11)]
    assert statuses == [302] * 10 + [429]
    assert "操作过于频繁" in client.post(url, {"message": APPLICATION}).content.decode()
    assert DockingRequest.objects.count() == 1


def test_the_worker_sees_why_the_demand_was_recommended_and_the_application_form(
    case: Case, tina: TalentProfile
) -> None:
    make_pig_expert()
    url = f"/matching/demands/{case.demand_id}/for-me/"
    client = client_for(tina.user)
    html = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "为您推荐的理由" in html
    assert re.search(r"命中词：[^<—]*茶", html)
    assert "地域：本县" in html
    assert f'action="/cases/apply/{case.demand_id}/"' in html
    # Without JavaScript the same view answers a whole page.
    full = client.get(url).content.decode()
    assert "<html" in full and 'data-testid="apply-form"' in full
    apply(tina, case)
    html = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "您已就这一需求提出对接：申请待审核" in html
    assert 'data-testid="apply-form"' not in html
    # Only workers reach it.
    assert client_for(case.owner).get(url).status_code == 404  # type: ignore[arg-type]


def test_the_worker_dashboard_links_recommended_demands(case: Case, tina: TalentProfile) -> None:
    html = client_for(tina.user).get("/dashboard/").content.decode()
    assert f'href="/demands/{case.demand_id}/"' in html


def test_the_enterprise_sees_recommended_experts_with_public_fields_and_asks_for_one(
    case: Case, erin: User, alice: User, tina: TalentProfile
) -> None:
    peter = make_pig_expert()
    url = f"/matching/cases/{case.pk}/for-enterprise/"
    html = client_for(erin).get(url, headers={"HX-Request": "true"}).content.decode()
    row = html[html.index(f'data-expert="{tina.pk}"') :]
    row = row[: row.index("</li>")]
    assert "Tina" in row and "研究员" in row and "四川农业大学" in row and "茶学" in row
    assert "命中词" in row and "地域：本县" in row
    assert f'name="target" value="expert:{tina.pk}"' in row
    assert tina.user.mobile not in html and peter.user.mobile not in html
    assert "13900000001" not in html
    # The enterprise's case page carries the slot.
    page = client_for(erin).get(f"/cases/mine/{case.pk}/").content.decode()
    assert f'hx-get="{url}"' in page

    response = client_for(erin).post(
        f"/cases/mine/{case.pk}/ask/",
        {"target": f"expert:{tina.pk}", "message": "希望专家先来茶园看看"},
        follow=True,
    )
    assert "已提请服务中心安排与 Tina 对接。" in response.content.decode()
    docking = DockingRequest.objects.get()
    assert (docking.origin, docking.status, docking.sent_by_id, docking.message) == (
        "enterprise",
        "requested",
        erin.pk,
        "希望专家先来茶园看看",
    )
    assert inapp(alice)[-1][0] == "企业提议对接专家"
    # The expert is told nothing and sees nothing until staff send it.
    assert inapp(tina.user) == []
    assert client_for(tina.user).get("/cases/dockings/").context["page"].object_list.count() == 0
    assert client_for(tina.user).get(f"/cases/dockings/{docking.pk}/").status_code == 404
    # The enterprise sees its request and that the expert is already asked.
    page = client_for(erin).get(f"/cases/mine/{case.pk}/").content.decode()
    assert "我提议的对接" in page and "企业提议待安排" in page
    html = client_for(erin).get(url, headers={"HX-Request": "true"}).content.decode()
    assert f'value="expert:{tina.pk}"' not in html and "已提出对接" in html

    # The owner sends it: the expert gets a request to answer, the enterprise is told.
    assert (
        "企业说明：希望专家先来茶园看看"
        in client_for(alice).get(f"/cases/{case.pk}/").content.decode()
    )
    decide(alice, case, docking, approve="1")
    docking.refresh_from_db()
    case.refresh_from_db()
    assert (docking.status, case.step) == ("sent", Step.DOCKING)
    assert inapp(tina.user) == [
        ("新的对接请求", "服务中心邀请您对接需求《茶叶病虫害绿色防控技术》。")
    ]
    assert inapp(erin)[-1] == (
        "对接提议已发送给专家",
        "服务中心已按您的提议邀请Tina对接《茶叶病虫害绿色防控技术》。",
    )
    assert client_for(tina.user).get(f"/cases/dockings/{docking.pk}/").status_code == 200


def test_a_refused_enterprise_request_tells_the_enterprise_and_never_the_expert(
    case: Case, erin: User, alice: User, tina: TalentProfile
) -> None:
    team = Team.objects.create(
        kind=Team.Kind.STUDIO, name="茶园植保工作室", lead=tina, region_id="510104"
    )
    client_for(erin).post(f"/cases/mine/{case.pk}/ask/", {"target": f"team:{team.pk}"})
    docking = DockingRequest.objects.get()
    assert (docking.expert_id, docking.message) == (tina.pk, "科创工作室：茶园植保工作室")
    decide(alice, case, docking, approve="0", reason="该工作室本季度已满负荷")
    docking.refresh_from_db()
    assert (docking.status, docking.refusal_reason) == ("refused", "该工作室本季度已满负荷")
    assert inapp(erin)[-1] == (
        "对接提议未予安排",
        "您提议与Tina对接《茶叶病虫害绿色防控技术》，服务中心暂未安排：该工作室本季度已满负荷",
    )
    assert inapp(tina.user) == []
    assert client_for(tina.user).get(f"/cases/dockings/{docking.pk}/").status_code == 404
    page = client_for(erin).get(f"/cases/mine/{case.pk}/").content.decode()
    assert "未予安排" in page and "该工作室本季度已满负荷" in page


def test_enterprise_requests_are_checked_and_another_enterprise_gets_404(
    case: Case, erin: User, alice: User, tina: TalentProfile, tea_company: Organisation
) -> None:
    other = make_enterprise_user(make_enterprise("别家公司", "510104", "MA6100002"), "olga")
    before = snapshot()
    url = f"/cases/mine/{case.pk}/ask/"
    assert client_for(other).post(url, {"target": f"expert:{tina.pk}"}).status_code == 404
    assert client_for(other).get(f"/matching/cases/{case.pk}/for-enterprise/").status_code == 404
    assert client_for(tina.user).post(url, {"target": f"expert:{tina.pk}"}).status_code == 404
    for target, message in (
        ("expert:0", "请选择推荐的专家、团队或成果。"),
        ("person:1", "请选择推荐的专家、团队或成果。"),
        ("expert:999999", "所选的专家、团队或成果不存在。"),
    ):
        page = client_for(erin).post(url, {"target": target}, follow=True)
        assert message in page.content.decode()
    # An expert of the enterprise itself is a conflict of interest.
    own = make_tea_expert("owen", "13900000009", employer="锦江茶业有限公司")
    page = client_for(erin).post(url, {"target": f"expert:{own.pk}"}, follow=True)
    assert "存在利益冲突" in page.content.decode()
    assert snapshot() == before
    # Once the case is past docking, nothing can be asked.
    Case.objects.filter(pk=case.pk).update(step=Step.AGREEMENT)
    page = client_for(erin).post(url, {"target": f"expert:{tina.pk}"}, follow=True)
    assert "暂不能申请对接" in page.content.decode()
    assert DockingRequest.objects.count() == 0


def test_staff_sending_to_an_expert_who_applied_are_pointed_to_the_application(
    case: Case, alice: User, tina: TalentProfile
) -> None:
    apply(tina, case)
    page = (
        client_for(alice)
        .post(f"/cases/{case.pk}/dockings/", {"expert": tina.pk}, follow=True)
        .content.decode()
    )
    assert "这位专家已有待处理的对接申请或企业提议" in page
    assert DockingRequest.objects.get().status == "applied"


def test_the_docking_reply_page_shows_the_demand_why_the_expert_matched_and_real_radios(
    case: Case, alice: User, tina: TalentProfile
) -> None:
    docking = docking_send(case=case, expert=tina, actor=alice)
    html = client_for(tina.user).get(f"/cases/dockings/{docking.pk}/").content.decode()
    assert "茶小绿叶蝉危害严重，春茶受害芽梢超过两成" in html
    assert "每年喷施化学农药四到五次" in html
    assert "受害芽梢比例降到百分之五以下" in html
    assert f'hx-get="/matching/dockings/{docking.pk}/"' in html
    radios = re.findall(r"<input[^>]*type=\"radio\"[^>]*>", html)
    assert len(radios) == 2
    for radio in radios:
        assert 'class="form-check-input"' in radio and "form-control" not in radio
    why = (
        client_for(tina.user)
        .get(f"/matching/dockings/{docking.pk}/", headers={"HX-Request": "true"})
        .content.decode()
    )
    assert "为什么邀请您" in why and "命中词" in why and "地域：本县" in why
    # Someone else's docking is 404.
    peter = make_pig_expert()
    assert client_for(peter.user).get(f"/matching/dockings/{docking.pk}/").status_code == 404
    # A missing answer is a Chinese error, not a 500.
    response = client_for(tina.user).post(f"/cases/dockings/{docking.pk}/", {})
    assert response.status_code == 200
    assert "请选择接受或婉拒。" in response.content.decode()


def test_a_summary_only_demand_shows_a_worker_no_terms_from_the_text_it_keeps_back(
    alice: User, tea_company: Organisation, tina: TalentProfile
) -> None:
    demand = make_demand(
        tea_company,
        title="茶园改造",
        description="茶小绿叶蝉绿色防控（内部）",
        industry="茶学",
        confidentiality=Demand.Confidentiality.SUMMARY,
    )
    case_to_matching(case_open(demand=demand, actor=alice), alice)
    url = f"/matching/demands/{demand.pk}/for-me/"
    html = client_for(tina.user).get(url, headers={"HX-Request": "true"}).content.decode()
    assert "为您推荐的理由" in html and "相关度" in html
    assert "命中词" not in html and "绿色防控" not in html
    dashboard = client_for(tina.user).get("/dashboard/").content.decode()
    assert f'href="/demands/{demand.pk}/"' in dashboard
    assert "绿色防控(" not in dashboard


def test_every_new_url_answers_each_role_as_it_should(
    case: Case,
    alice: User,
    bob: User,
    charlie: User,
    pat: User,
    dora: User,
    erin: User,
    tina: TalentProfile,
) -> None:
    apply(tina, case)
    docking = DockingRequest.objects.get()
    worker_slot = f"/matching/demands/{case.demand_id}/for-me/"
    enterprise_slot = f"/matching/cases/{case.pk}/for-enterprise/"
    why = f"/matching/dockings/{docking.pk}/"
    expected = {
        worker_slot: {"tina": 200, "erin": 404, "dora": 404, "alice": 404, "charlie": 404},
        enterprise_slot: {"tina": 404, "erin": 200, "dora": 404, "alice": 404, "pat": 404},
        why: {"tina": 200, "erin": 404, "dora": 404, "alice": 404, "bob": 404},
    }
    people = {
        "tina": tina.user,
        "erin": erin,
        "dora": dora,
        "alice": alice,
        "bob": bob,
        "charlie": charlie,
        "pat": pat,
    }
    for url, answers in expected.items():
        for name, status in answers.items():
            assert client_for(people[name]).get(url).status_code == status, (url, name)
        assert Client().get(url).status_code == 302
    # Staff who may act on the case decide; the province may too.
    before = snapshot()
    assert decide(charlie, case, docking, approve="1").status_code == 404
    assert snapshot() == before
    assert decide(pat, case, docking, approve="0", reason="省级统筹安排").status_code == 302
    assert DockingRequest.objects.get().status == "refused"


def test_the_case_page_uses_a_fixed_number_of_queries_however_many_wait(
    case: Case, alice: User, tina: TalentProfile
) -> None:
    apply(tina, case)
    client = client_for(alice)
    client.get(f"/cases/{case.pk}/")  # the first request of a session also touches it

    def count() -> int:
        cache.clear()  # the page as built, not its record from the page cache
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/cases/{case.pk}/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(3):
        worker = make_tea_expert(f"w{n}", f"1390000010{n}")
        apply(worker, case)
    assert DockingRequest.objects.filter(status="applied").count() == 4
    assert count() == few


def test_a_workers_own_application_opens_no_more_of_a_summary_only_demand_than_the_hall(
    alice: User, tea_company: Organisation, tina: TalentProfile
) -> None:
    demand = make_demand(
        tea_company,
        title="茶园改造",
        description="茶小绿叶蝉绿色防控（内部）",
        problem="受害芽梢比例超过两成（内部）",
        industry="茶学",
        confidentiality=Demand.Confidentiality.SUMMARY,
    )
    case = case_to_matching(case_open(demand=demand, actor=alice), alice)
    apply(tina, case)
    docking = DockingRequest.objects.get(case=case)
    worker = client_for(tina.user)

    def seen() -> str:
        return "".join(
            worker.get(url).content.decode()
            for url in (
                f"/cases/dockings/{docking.pk}/",
                f"/matching/dockings/{docking.pk}/",
                "/cases/dockings/",
            )
        )

    # Waiting for staff: the summary only, no organisation, no matched words.
    html = seen()
    assert "仅公开摘要" in html and "茶园改造" in html
    assert "内部" not in html and tea_company.name not in html and "命中词" not in html
    # Refused, the same.
    decide(alice, case, docking, approve="0", reason="已有合适专家")
    docking.refresh_from_db()
    assert docking.status == DockingRequest.Status.REFUSED
    html = seen()
    assert "内部" not in html and tea_company.name not in html and "命中词" not in html
