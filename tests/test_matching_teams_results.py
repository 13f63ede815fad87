"""Teams, studios and S&T results are ranked for a demand with reasons, and follow edits."""

from __future__ import annotations

from typing import Any

import pytest

from kejiyun.accounts.models import Organisation, User
from kejiyun.cases.models import Step
from kejiyun.cases.workflow.services import case_open, case_transition
from kejiyun.matching.selectors import results_for_demand, teams_for_demand
from kejiyun.regions.models import Region
from kejiyun.talent.services import (
    ResultData,
    TeamData,
    team_create,
    team_update,
    tech_result_create,
    tech_result_delete,
)
from tests.builders import client_for, make_pig_expert, make_tea_demand, make_tea_expert

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("match_index")]


def tea_studio(lead: Any) -> Any:
    return team_create(
        lead=lead,
        actor=lead.user,
        data=TeamData(
            kind="studio",
            name="茶叶绿色防控科创工作室",
            region=Region.objects.get(code="510104"),
            fields="茶学",
            keywords="绿色防控、茶园管理",
            description="为茶企提供病虫害绿色防控技术服务。",
        ),
    )


def test_a_tea_demand_ranks_the_tea_studio_above_the_pig_team(tea_company: Organisation):
    tea = tea_studio(make_tea_expert())
    pig = make_pig_expert()
    pigs = team_create(
        lead=pig,
        actor=pig.user,
        data=TeamData(
            kind="team",
            name="生猪养殖团队",
            region=Region.objects.get(code="510104"),
            fields="畜牧学",
            keywords="生猪、养殖",
            description="生猪规模化养殖技术。",
        ),
    )
    rows = teams_for_demand(demand=make_tea_demand(tea_company))
    assert rows[0].team == tea
    assert "绿色防控" in rows[0].matched_terms_label
    assert pigs not in [r.team for r in rows[:1]]


def test_results_follow_creation_and_deletion_through_the_change_log(tea_company: Organisation):
    tina = make_tea_expert()
    demand = make_tea_demand(tea_company)
    assert results_for_demand(demand=demand) == []
    result = tech_result_create(
        profile=tina,
        actor=tina.user,
        data=ResultData(
            kind="patent",
            title="一种茶小绿叶蝉绿色防控方法",
            identifier="ZL202310000001.2",
            year=2023,
            for_transfer=True,
            transfer_mode="licence",
            summary="利用色板诱杀与生物农药结合的茶园绿色防控方法。",
            fields="茶学、植物保护",
        ),
    )
    rows = results_for_demand(demand=demand)
    assert [r.tech_result for r in rows] == [result]
    tech_result_delete(result=result, actor=tina.user)
    assert results_for_demand(demand=demand) == []


def test_a_team_edit_is_followed(tea_company: Organisation):
    studio = tea_studio(make_tea_expert())
    demand = make_tea_demand(tea_company)
    assert [r.team for r in teams_for_demand(demand=demand)] == [studio]
    team_update(
        team=studio,
        actor=studio.lead.user,
        data=TeamData(
            kind="studio",
            name="川菜调味品工作室",
            region=studio.region,
            fields="食品科学",
            keywords="调味品、发酵",
            description="川菜复合调味料研发。",
        ),
    )
    assert "绿色防控" not in "".join(r.matched_terms_label for r in teams_for_demand(demand=demand))


def test_the_case_page_lists_experts_teams_and_results_while_matching(
    alice: User, tea_company: Organisation
):
    tina = make_tea_expert()
    studio = tea_studio(tina)
    case = case_open(demand=make_tea_demand(tea_company), actor=alice)
    client = client_for(alice)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="matches-slot"' not in html  # not yet: the case is in intake
    slot = client.get(f"/matching/cases/{case.pk}/", headers={"HX-Request": "true"})
    assert 'data-testid="matched-experts"' not in slot.content.decode()
    for step in (Step.DIAGNOSIS, Step.MATCHING):
        case_transition(case=case, to_step=step, actor=alice)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'hx-get="/matching/cases/{case.pk}/"' in html
    html = client.get(
        f"/matching/cases/{case.pk}/", headers={"HX-Request": "true"}
    ).content.decode()
    assert f'data-expert="{tina.pk}"' in html
    assert f'data-team="{studio.pk}"' in html
    assert "科创工作室" in html


def test_the_staff_demand_page_lists_studios_and_results_with_reasons(
    alice: User, tea_company: Organisation
):
    tina = make_tea_expert()
    studio = tea_studio(tina)
    result = tech_result_create(
        profile=tina,
        actor=tina.user,
        data=ResultData(kind="variety", title="川茶绿色防控示范技术", fields="茶学、绿色防控"),
    )
    demand = make_tea_demand(tea_company)
    html = client_for(alice).get(f"/matching/demands/{demand.pk}/").content.decode()
    assert f'data-team="{studio.pk}"' in html
    assert f'data-result="{result.pk}"' in html
    assert "推荐科技成果" in html
