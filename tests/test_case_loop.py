"""A loop that closes: agreement needs an accepted docking or a reason, ending a case closes
its dockings and tells the experts, the enterprise sees who helped and rates them with no
score chosen in advance, and the rating reaches the expert's track record in matching."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kejiyun.accounts.models import User
from kejiyun.cases.dockings.services import docking_respond, docking_send
from kejiyun.cases.errors import CaseError
from kejiyun.cases.models import Case, DockingRequest, Step
from kejiyun.cases.workflow.services import (
    OutcomeInput,
    case_confirm,
    case_outcome_record,
    case_transition,
)
from kejiyun.matching.stats import expert_feedback, expert_stats
from kejiyun.notifications.models import OutboxMessage
from kejiyun.talent.models import TalentProfile
from tests.builders import client_for, make_case, make_enterprise_user, make_tea_expert, pdf_upload


def to_docking(case: Case, actor: User, *experts: TalentProfile) -> Case:
    for step in (Step.DIAGNOSIS, Step.MATCHING):
        case_transition(case=case, to_step=step, actor=actor)
    for expert in experts:
        docking_send(case=case, expert=expert, actor=actor)
    if not experts:
        case_transition(case=case, to_step=Step.DOCKING, actor=actor)
    return case


def experts() -> tuple[TalentProfile, TalentProfile, TalentProfile]:
    return (
        make_tea_expert("tina", "13900000001", employer="四川农业大学"),
        make_tea_expert("nina", "13900000002", employer="四川省农业科学院茶叶研究所"),
        make_tea_expert("dina", "13900000003", employer="雅安职业技术学院"),
    )


def test_agreement_without_an_accepted_docking_or_a_reason_is_refused_and_changes_nothing(
    alice: User,
):
    tina, *_ = experts()
    case = to_docking(make_case(alice), alice, tina)  # sent, not answered
    before = (case.version, case.events.count())
    with pytest.raises(CaseError, match="还没有专家接受对接请求"):
        case_transition(case=case, to_step=Step.AGREEMENT, actor=alice, reason="  ")
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.version, fresh.events.count()) == (Step.DOCKING, *before)


def test_agreement_through_the_page_without_a_reason_shows_the_refusal(alice: User):
    case = to_docking(make_case(alice), alice)
    response = client_for(alice).post(
        f"/cases/{case.pk}/transition/",
        {"version": case.version, "to_step": Step.AGREEMENT, "reason": ""},
        follow=True,
    )
    assert "还没有专家接受对接请求" in response.content.decode()
    assert Case.objects.get(pk=case.pk).step == Step.DOCKING
    # The page asks for the reason beside the agreement button.
    page = client_for(alice).get(f"/cases/{case.pk}/").content.decode()
    assert "企业自行找到合作方" in page


def test_agreement_with_an_accepted_docking_or_a_recorded_reason_goes_ahead(alice: User):
    tina, *_ = experts()
    accepted = to_docking(make_case(alice, serial="1"), alice, tina)
    docking_respond(docking=accepted.dockings.get(), actor=tina.user, accept=True)
    case_transition(case=accepted, to_step=Step.AGREEMENT, actor=alice)
    assert Case.objects.get(pk=accepted.pk).step == Step.AGREEMENT

    own = to_docking(make_case(alice, serial="2", title="企业自己找到专家"), alice)
    case_transition(case=own, to_step=Step.AGREEMENT, actor=alice, reason="企业自行找到合作方")
    fresh = Case.objects.get(pk=own.pk)
    assert fresh.step == Step.AGREEMENT
    assert fresh.events.filter(to_step=Step.AGREEMENT, reason="企业自行找到合作方").exists()


@pytest.mark.parametrize("ending", [Step.WITHDRAWN, Step.UNSOLVABLE])
def test_ending_a_case_closes_its_open_dockings_and_tells_the_experts(alice: User, ending: str):
    tina, nina, dina = experts()
    case = to_docking(make_case(alice), alice, tina, nina, dina)
    docking_respond(docking=case.dockings.get(expert=nina), actor=nina.user, accept=True)
    docking_respond(
        docking=case.dockings.get(expert=dina), actor=dina.user, accept=False, reason="档期已满"
    )
    case_transition(case=case, to_step=ending, actor=alice, reason="企业经营调整")
    statuses = dict(case.dockings.values_list("expert__user__username", "status"))
    assert statuses == {"tina": "closed", "nina": "accepted", "dina": "declined"}
    assert case.dockings.get(expert=tina).get_status_display() == "随案结束"
    told = OutboxMessage.objects.filter(title="对接的案例已结束", channel="inapp")
    assert sorted(told.values_list("recipient__username", flat=True)) == ["nina", "tina"]
    # The expert's list shows the closed request, and it can no longer be answered.
    page = client_for(tina.user).get("/cases/dockings/").content.decode()
    assert "随案结束" in page
    with pytest.raises(CaseError, match="已经结束"):
        docking_respond(docking=case.dockings.get(expert=tina), actor=tina.user, accept=True)


def solved_case(
    alice: User, expert: TalentProfile, *decliners: TalentProfile, serial: str = "1"
) -> Case:
    title = f"茶园绿色防控{serial}"
    case = to_docking(make_case(alice, serial=serial, title=title), alice, expert, *decliners)
    docking_respond(docking=case.dockings.get(expert=expert), actor=expert.user, accept=True)
    for other in decliners:
        docking = case.dockings.get(expert=other)
        docking_respond(docking=docking, actor=other.user, accept=False, reason="档期已满")
    for step in (Step.AGREEMENT, Step.DELIVERY):
        case_transition(case=case, to_step=step, actor=alice)
    evidence = pdf_upload("contract.pdf")
    outcome = OutcomeInput(
        solved=True, contract_number=f"HT-{serial}", contract_amount=Decimal("8"), evidence=evidence
    )
    case_outcome_record(case=case, outcome=outcome, actor=alice)
    return case


def test_the_enterprise_sees_who_helped_and_rates_with_no_score_chosen_in_advance(alice: User):
    tina, nina, _ = experts()
    case = solved_case(alice, tina, nina)  # nina declined: she did not help
    erin = make_enterprise_user(case.demand.organisation, "erin")
    html = client_for(erin).get(f"/cases/mine/{case.pk}/").content.decode()
    helpers = html[html.index('data-testid="helpers"') :][:400]
    assert "Tina" in helpers and "四川农业大学" in helpers
    assert "Nina" not in html
    # Five radios, none checked, required.
    assert html.count('type="radio" name="rating"') == 5
    assert " checked" not in html[html.index('data-testid="confirm-form"') :]
    assert "<select" not in html[html.index('data-testid="confirm-form"') :].split("</form>")[0]
    # Confirming without a score is refused and changes nothing.
    response = client_for(erin).post(
        f"/cases/mine/{case.pk}/confirm/", {"version": case.version}, follow=True
    )
    assert "请选择 1 到 5 分的评分" in response.content.decode()
    assert Case.objects.get(pk=case.pk).step == Step.ACCEPTANCE
    response = client_for(erin).post(
        f"/cases/mine/{case.pk}/confirm/", {"version": case.version, "rating": "4"}, follow=True
    )
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.rating) == (Step.CLOSED, 4)


def test_ratings_reach_the_experts_track_record_and_unanswered_requests_do_not(alice: User):
    tina, nina, _ = experts()
    first = solved_case(alice, tina, serial="1")
    second = solved_case(alice, tina, serial="2")
    erin = make_enterprise_user(first.demand.organisation, "erin")
    eric = make_enterprise_user(second.demand.organisation, "eric")
    case_confirm(case=first, actor=erin, rating=5)
    case_confirm(case=second, actor=eric, rating=2)
    stats = expert_stats([tina.pk])[tina.pk]
    assert (stats.closed_cases, stats.mean_rating, stats.load) == (2, 3.5, 0)

    # A request closed with its case is no answer: no feedback for nina.
    third = to_docking(make_case(alice, serial="3", title="第三件"), alice, nina)
    case_transition(case=third, to_step=Step.WITHDRAWN, actor=alice, reason="企业撤回")
    assert third.dockings.get().status == DockingRequest.Status.CLOSED
    assert expert_feedback([nina.pk]) == {nina.pk: []}


def test_an_expert_cannot_accept_a_request_once_the_case_has_moved_past_docking(
    alice: User,
) -> None:
    tina, nina, _dina = experts()
    case = to_docking(make_case(alice), alice, tina, nina)
    docking_respond(docking=case.dockings.get(expert=nina), actor=nina.user, accept=True)
    case_transition(case=case, to_step=Step.AGREEMENT, actor=alice)
    late = case.dockings.get(expert=tina)
    # Agreement closed the request nobody answered and told its expert.
    assert late.status == "closed"
    told = OutboxMessage.objects.filter(title="对接已结束", channel="inapp")
    assert list(told.values_list("recipient__username", flat=True)) == ["tina"]
    with pytest.raises(CaseError):
        docking_respond(docking=late, actor=tina.user, accept=True)
    late.refresh_from_db()
    assert late.status == "closed"
    # Were it still open (a row from before this rule), the step check refuses it too.
    DockingRequest.objects.filter(pk=late.pk).update(status="sent")
    late.refresh_from_db()
    with pytest.raises(CaseError, match="已过对接阶段"):
        docking_respond(docking=late, actor=tina.user, accept=True)


def test_an_acceptance_from_before_the_docking_fell_through_does_not_open_agreement(
    alice: User,
) -> None:
    tina, nina, _dina = experts()
    case = to_docking(make_case(alice), alice, tina)
    docking_respond(docking=case.dockings.get(expert=tina), actor=tina.user, accept=True)
    # The docking came to nothing: back to matching; a new request takes it back to docking.
    case_transition(case=case, to_step=Step.MATCHING, actor=alice, reason="专家档期冲突，未能成行")
    docking_send(case=case, expert=nina, actor=alice)
    case.refresh_from_db()
    assert case.step == Step.DOCKING
    with pytest.raises(CaseError, match="还没有专家接受对接请求"):
        case_transition(case=case, to_step=Step.AGREEMENT, actor=alice)
    case.refresh_from_db()
    assert case.step == Step.DOCKING
    docking_respond(docking=case.dockings.get(expert=nina), actor=nina.user, accept=True)
    case_transition(case=case, to_step=Step.AGREEMENT, actor=alice)
    case.refresh_from_db()
    assert case.step == Step.AGREEMENT
