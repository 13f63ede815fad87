"""Supervision (运营数据 · 督办): the supervision table of a region's centres and the cases
behind each figure, the escalation inbox of city and province staff, the supply-demand gap.

The cast (tests/builders.py): Alice is county staff in 锦江区 (510104), Bob at the 成都市
(510100) centre, Charlie in 青川县 (510822, 广元市), Pat at the province (510000).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.cases.models import Case, DockingRequest, Outcome, Step
from kejiyun.demands.models import Demand
from kejiyun.ops.models import GapCoverage, Rollup
from kejiyun.ops.rollups import rollup_areas_refresh
from kejiyun.ops.supervision.gap import region_gap
from kejiyun.ops.supervision.services import gap_coverage_refresh
from kejiyun.plans.services import worker_verify
from kejiyun.regions.models import ServiceCentre
from kejiyun.talent.models import TalentProfile
from tests.builders import (
    client_for,
    make_case,
    make_demand,
    make_enterprise,
    make_expert,
    make_pig_expert,
    make_tea_expert,
    make_worker,
)

pytestmark = pytest.mark.django_db

# Every test runs on 2026-06-15 (Beijing); the period is May 2026.
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))
MAY = "2026-05"
IN_MAY = datetime(2026, 5, 12, 9, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))
IN_APRIL = datetime(2026, 4, 20, 9, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def centre(code: str) -> ServiceCentre:
    return ServiceCentre.objects.select_related("region").get(region_id=code)


def rollup(code: str, indicator: str, num: int, den: int = 0, *, start: date = date(2026, 5, 1)):
    """A month row of `indicator` for the centre of region `code`."""
    c = centre(code)
    row = Rollup.objects.create(
        grain=Rollup.Grain.MONTH,
        start=start,
        indicator=indicator,
        centre=c,
        path=c.region.path,
        num=Decimal(num),
        den=den,
    )
    rollup_areas_refresh(month=start)
    return row


def close(case: Case, *, at: datetime, solved: bool, rating: int | None, escalations: int = 0):
    """End a case at 已办结 at `at` (solved with evidence, or not solved)."""
    fields: dict[str, Any] = {
        "step": Step.CLOSED,
        "closed_at": at,
        "due_at": None,
        "rating": rating,
        "escalations": escalations,
    }
    if solved:
        fields |= {
            "outcome": Outcome.SOLVED,
            "contract_number": "HT-1",
            "evidence": "cases/evidence/contract.pdf",
        }
    else:
        fields |= {"outcome": Outcome.NOT_SOLVED, "outcome_reason": "企业搬迁"}
    Case.objects.filter(pk=case.pk).update(**fields)


def ids_listed(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'data-case="(\d+)"', html)}


def figure_links(html: str, row: str) -> dict[str, str]:
    """{figure: href} of one table row (data-row), with &amp; unescaped."""
    match = re.search(rf'<tr data-row="{re.escape(row)}">(.*?)</tr>', html, flags=re.S)
    assert match is not None, row
    return {
        name: href.replace("&amp;", "&")
        for name, href in re.findall(r'<a data-figure="(\w+)" href="([^"]+)"', match[1])
    }


def row_text(html: str, row: str) -> list[str]:
    """The text of each cell of one row, tags stripped and spaces squeezed."""
    match = re.search(rf'<tr data-row="{re.escape(row)}">(.*?)</tr>', html, flags=re.S)
    assert match is not None, row
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", match[1], flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]


def cells(text: str) -> list[str]:
    """A row as written in the tests: the cells separated by "|"."""
    return text.split("|")


@pytest.fixture
def world(alice: User, bob: User, charlie: User) -> dict[str, Case]:
    """Cases in 锦江区 (Alice's), 青羊区 (510105, no staff: its cases go to the city centre
    but stay 青羊区's) and 青川县 (Charlie's, another city), with the May rollups that match
    the cases closed in May."""
    cases = {
        # 锦江区: three open (one overdue, one unowned), three closed in May, one in April.
        "open": make_case(alice, serial="1", title="在办"),
        "overdue": make_case(alice, serial="2", title="超时"),
        "unowned": make_case(alice, serial="3", title="待指派"),
        "on_time": make_case(alice, serial="4", title="按时解决"),
        "late": make_case(alice, serial="5", title="升级后解决"),
        "not_solved": make_case(alice, serial="6", title="未解决"),
        "april": make_case(alice, serial="7", title="四月结案"),
        "withdrawn": make_case(alice, serial="10", title="撤回"),
        # 青羊区: one open and overdue.
        "qingyang": make_case(None, county="510105", serial="8", title="青羊在办"),
        # 青川县: one open and overdue, elsewhere.
        "qingchuan": make_case(charlie, county="510822", serial="9", title="青川在办"),
    }
    past = NOW - timedelta(days=2)
    Case.objects.filter(pk__in=[cases[k].pk for k in ("overdue", "qingyang", "qingchuan")]).update(
        due_at=past
    )
    Case.objects.filter(pk=cases["unowned"].pk).update(owner=None)
    close(cases["on_time"], at=IN_MAY, solved=True, rating=5)
    close(cases["late"], at=IN_MAY, solved=True, rating=4, escalations=1)
    close(cases["not_solved"], at=IN_MAY, solved=False, rating=None)
    close(cases["april"], at=IN_APRIL, solved=True, rating=3)
    Case.objects.filter(pk=cases["withdrawn"].pk).update(
        step=Step.WITHDRAWN, closed_at=IN_MAY, due_at=None
    )
    # The May rollups of 锦江区's centre, as the rollup job would write them: four ended
    # (one withdrawn), three of them never escalated; three ended at 办结, two rated.
    rollup("510104", "cases_closed", 4)
    rollup("510104", "closed_on_time_share", 3, 4)
    rollup("510104", "solved_with_evidence", 2)
    rollup("510104", "satisfaction_mean", 9, 2)
    rollup("510104", "rated_share", 2, 3)
    # The city's own centre closed one case in May, unrated; 青川县 closed two.
    rollup("510100", "cases_closed", 1)
    rollup("510100", "closed_on_time_share", 0, 1)
    rollup("510100", "rated_share", 0, 1)
    rollup("510822", "cases_closed", 2)
    rollup("510822", "closed_on_time_share", 2, 2)
    # An April row, outside the period.
    rollup("510104", "cases_closed", 7, start=date(2026, 4, 1))
    for case in cases.values():
        case.refresh_from_db()
    return cases


# --- The supervision table ------------------------------------------------------------------


def test_the_city_table_shows_its_own_centre_and_each_county_with_exact_figures(
    bob: User, world: dict[str, Case]
) -> None:
    page = client_for(bob).get(f"/ops/510100/supervision/?period={MAY}")
    assert page.status_code == 200
    html = page.content.decode()
    own = centre("510100")
    # name | open | overdue | unowned | closed | on time (share and count) | solved |
    # satisfaction | rated (share and count)
    mine = row_text(html, f"centre-{own.pk}")
    assert mine == [f"{own.name}（本级）", *cells("0|0|0|1|0% (0)|0|—|0% (0)")]
    assert row_text(html, "510104") == cells("锦江区|3|1|1|4|75% (3)|2|4.50|67% (2)")
    assert row_text(html, "510105") == cells("青羊区|1|1|0|0|— (0)|0|—|— (0)")
    assert row_text(html, "total") == cells("合计|4|2|1|5|60% (3)|2|4.50|50% (2)")
    # One row for the city's own centre and one per county of 成都市 (20), and the total.
    assert html.count("<tr data-row=") == 1 + 20 + 1
    assert "青川县" not in html


def test_the_province_table_groups_the_counties_under_their_city_and_links_to_drill(
    pat: User, world: dict[str, Case]
) -> None:
    html = client_for(pat).get(f"/ops/510000/supervision/?period={MAY}").content.decode()
    assert row_text(html, "510100") == cells("成都市|4|2|1|5|60% (3)|2|4.50|50% (2)")
    assert row_text(html, "510800") == cells("广元市|1|1|0|2|100% (2)|0|—|— (0)")
    assert row_text(html, "total") == cells("合计|5|3|1|7|71% (5)|2|4.50|50% (2)")
    assert html.count("<tr data-row=") == 1 + 21 + 1
    assert f'href="/ops/510100/supervision/?period={MAY}"' in html


def test_a_county_table_is_its_own_centre_alone(alice: User, world: dict[str, Case]) -> None:
    html = client_for(alice).get(f"/ops/510104/supervision/?period={MAY}").content.decode()
    own = centre("510104")
    mine = row_text(html, f"centre-{own.pk}")
    assert mine == [f"{own.name}（本级）", *cells("3|1|1|4|75% (3)|2|4.50|67% (2)")]
    assert html.count("<tr data-row=") == 2


def test_every_figure_links_to_a_case_list_showing_exactly_those_cases(
    bob: User, world: dict[str, Case]
) -> None:
    client = client_for(bob)
    html = client.get(f"/ops/510100/supervision/?period={MAY}").content.decode()
    w = {k: c.pk for k, c in world.items()}
    expected = {
        "open": {w["open"], w["overdue"], w["unowned"]},
        "overdue": {w["overdue"]},
        "unowned": {w["unowned"]},
        "closed": {w["on_time"], w["late"], w["not_solved"], w["withdrawn"]},
        "on_time": {w["on_time"], w["not_solved"], w["withdrawn"]},
        "solved": {w["on_time"], w["late"]},
        "satisfaction": {w["on_time"], w["late"]},
        "rated": {w["on_time"], w["late"]},
    }
    links = figure_links(html, "510104")
    assert set(links) == set(expected)
    for figure, cases in expected.items():
        listed = client.get(links[figure])
        assert listed.status_code == 200
        assert ids_listed(listed.content.decode()) == cases, figure
    # The total's links cover the whole city: 青羊区's overdue case too, not 青川县's.
    total = figure_links(html, "total")
    assert ids_listed(client.get(total["overdue"]).content.decode()) == {
        w["overdue"],
        w["qingyang"],
    }
    # The city's own centre has no case of its own region: its open list is empty.
    own = figure_links(html, f"centre-{centre('510100').pk}")
    assert ids_listed(client.get(own["open"]).content.decode()) == set()


def test_the_declines_of_the_period_are_listed_with_their_reasons_within_the_region(
    alice: User, bob: User, world: dict[str, Case]
) -> None:
    expert = make_worker("ernie", "510104", "13800000031")
    other = make_worker("erica", "510104", "13800000032")

    def decline(case: Case, who: Any, at: datetime, reason: str) -> None:
        DockingRequest.objects.create(
            case=case,
            expert=who,
            status=DockingRequest.Status.DECLINED,
            decline_reason=reason,
            responded_at=at,
        )

    decline(world["open"], expert, IN_MAY, "五月档期已满")
    decline(world["qingyang"], expert, IN_MAY + timedelta(days=1), "不熟悉该工艺")
    decline(world["overdue"], expert, IN_APRIL, "四月的婉拒")  # outside the period
    decline(world["qingchuan"], expert, IN_MAY, "广元的婉拒")  # outside 成都市
    DockingRequest.objects.create(  # accepted: not a decline
        case=world["open"], expert=other, status=DockingRequest.Status.ACCEPTED, responded_at=IN_MAY
    )

    page = client_for(bob).get(f"/ops/510100/supervision/?period={MAY}").content.decode()
    section = page[page.index('data-testid="declined-dockings"') :]
    assert "2026年5月共 2 次婉拒" in section
    assert section.index("不熟悉该工艺") < section.index("五月档期已满")  # newest first
    for elsewhere in ("四月的婉拒", "广元的婉拒"):
        assert elsewhere not in section
    # 锦江区 sees its own decline only.
    county = client_for(alice).get(f"/ops/510104/supervision/?period={MAY}").content.decode()
    assert "五月档期已满" in county and "不熟悉该工艺" not in county


def test_the_table_sorts_by_a_column_and_keeps_the_total_last(
    bob: User, world: dict[str, Case]
) -> None:
    html = client_for(bob).get(f"/ops/510100/supervision/?period={MAY}&sort=open").content.decode()
    rows = re.findall(r'<tr data-row="([^"]+)"', html)
    assert rows[:2] == ["510104", "510105"]
    assert rows[-1] == "total"
    html = (
        client_for(bob)
        .get(f"/ops/510100/supervision/?period={MAY}&sort=on_time&dir=asc")
        .content.decode()
    )
    rows = re.findall(r'<tr data-row="([^"]+)"', html)
    # 本级 0% before 锦江区 67%; the counties without closed cases (no share) last.
    assert rows[:2] == [f"centre-{centre('510100').pk}", "510104"]


def test_a_bad_period_is_refused_with_a_chinese_message(bob: User, world: dict[str, Case]) -> None:
    page = client_for(bob).get("/ops/510100/supervision/?period=2026-13")
    assert page.status_code == 400
    assert "统计期中的日期无效" in page.content.decode()


def test_a_county_user_gets_404_on_another_countys_and_the_citys_supervision_page(
    alice: User, world: dict[str, Case]
) -> None:
    client = client_for(alice)
    assert client.get("/ops/510105/supervision/").status_code == 404
    assert client.get("/ops/510100/supervision/").status_code == 404
    assert client.get("/ops/510822/supervision/").status_code == 404
    assert client.get("/ops/510104/supervision/").status_code == 200


def test_a_city_user_gets_404_on_another_citys_supervision_page(
    bob: User, world: dict[str, Case]
) -> None:
    assert client_for(bob).get("/ops/510800/supervision/").status_code == 404
    assert client_for(bob).get("/ops/510822/supervision/").status_code == 404


def test_the_supervision_table_reads_a_fixed_number_of_queries(
    pat: User, world: dict[str, Case]
) -> None:
    client = client_for(pat)
    client.get(f"/ops/510000/supervision/?period={MAY}")  # the session, once
    with CaptureQueriesContext(connection) as few:
        client.get(f"/ops/510000/supervision/?period={MAY}")
    for n in range(10, 14):
        make_case(None, county="510822", serial=str(n), title=f"青川{n}")
    with CaptureQueriesContext(connection) as many:
        client.get(f"/ops/510000/supervision/?period={MAY}")
    assert len(few.captured_queries) == len(many.captured_queries) == 12


# --- The case list's new filters ------------------------------------------------------------


def test_the_case_list_refuses_a_centre_or_an_area_outside_the_jurisdiction(
    alice: User, world: dict[str, Case]
) -> None:
    client = client_for(alice)
    other = centre("510822")
    page = client.get(f"/cases/?scope=all&state=overdue&centre={other.pk}")
    html = page.content.decode()
    assert "该服务中心不在您的辖区内。" in html
    assert world["qingchuan"].pk not in ids_listed(html)
    page = client.get("/cases/?scope=all&state=overdue&area=510822")
    html = page.content.decode()
    assert "该区域不在您的辖区内。" in html
    assert world["qingchuan"].pk not in ids_listed(html)


def test_the_case_list_refuses_closing_dates_in_the_wrong_order(
    alice: User, world: dict[str, Case]
) -> None:
    html = (
        client_for(alice)
        .get("/cases/?scope=all&state=closed&closed_from=2026-05-31&closed_to=2026-05-01")
        .content.decode()
    )
    assert "办结起始日期不能晚于截止日期。" in html


def test_a_closed_state_lists_ended_cases_within_the_closing_dates(
    alice: User, world: dict[str, Case]
) -> None:
    html = (
        client_for(alice)
        .get("/cases/?scope=all&state=closed&closed_from=2026-04-01&closed_to=2026-04-30")
        .content.decode()
    )
    assert ids_listed(html) == {world["april"].pk}


# --- The escalation inbox -------------------------------------------------------------------


def escalate(case: Case, to: str, *, at: datetime, step: str = Step.INTAKE, due: datetime) -> None:
    """Put a case where `case_escalate` would: at the centre of `to`, escalated at `at`."""
    Case.objects.filter(pk=case.pk).update(
        centre=centre(to),
        escalations=1,
        escalated_at=at,
        step=step,
        due_at=due,
        owner=None,
    )


@pytest.fixture
def escalated(alice: User, bob: User, charlie: User, pat: User) -> dict[str, Case]:
    cases = {
        "jinjiang": make_case(alice, serial="1", title="锦江升级"),
        "qingyang": make_case(None, county="510105", serial="2", title="青羊升级"),
        "qingchuan": make_case(charlie, county="510822", serial="3", title="青川升级"),
        "province": make_case(alice, serial="4", title="升到省"),
        "not_escalated": make_case(alice, serial="5", title="未升级"),
    }
    escalate(cases["jinjiang"], "510100", at=NOW - timedelta(days=3), due=NOW - timedelta(hours=5))
    escalate(
        cases["qingyang"],
        "510100",
        at=NOW - timedelta(days=1),
        step=Step.DIAGNOSIS,
        due=NOW + timedelta(hours=10),
    )
    escalate(cases["qingchuan"], "510800", at=NOW - timedelta(days=1), due=NOW - timedelta(hours=1))
    escalate(cases["province"], "510000", at=NOW - timedelta(days=2), due=NOW - timedelta(days=1))
    return cases


def test_city_staff_see_only_the_cases_escalated_to_their_city_newest_first(
    bob: User, escalated: dict[str, Case]
) -> None:
    html = client_for(bob).get("/ops/escalations/").content.decode()
    assert re.findall(r'<tr data-case="(\d+)"', html) == [
        str(escalated["qingyang"].pk),
        str(escalated["jinjiang"].pk),
    ]
    assert re.search(r'data-testid="escalation-count"[^>]*>2<', html)
    # 锦江区's case is 5 hours past its due time at the city centre.
    assert "已超时 5 小时 0 分钟" in html


def test_province_staff_see_the_cases_escalated_to_the_province(
    pat: User, escalated: dict[str, Case]
) -> None:
    html = client_for(pat).get("/ops/escalations/").content.decode()
    assert ids_listed(html) == {escalated["province"].pk}
    assert "已超时 1 天 0 小时" in html


def test_the_escalation_inbox_filters_by_county_and_step(
    bob: User, escalated: dict[str, Case]
) -> None:
    client = client_for(bob)
    assert ids_listed(client.get("/ops/escalations/?county=510105").content.decode()) == {
        escalated["qingyang"].pk
    }
    assert ids_listed(client.get("/ops/escalations/?step=intake").content.decode()) == {
        escalated["jinjiang"].pk
    }
    refused = client.get("/ops/escalations/?county=510822")
    assert refused.status_code == 400
    assert "不在您的辖区内" in refused.content.decode()
    assert ids_listed(refused.content.decode()) == {
        escalated["qingyang"].pk,
        escalated["jinjiang"].pk,
    }


def test_county_staff_have_no_escalation_inbox(alice: User, escalated: dict[str, Case]) -> None:
    assert client_for(alice).get("/ops/escalations/").status_code == 404


# --- The supply-demand gap ------------------------------------------------------------------


def verified(profile: TalentProfile, by: User) -> TalentProfile:
    worker_verify(profile=profile, actor=by)
    profile.refresh_from_db()
    return profile


@pytest.fixture
def market(alice: User, bob: User, charlie: User, match_index: Any) -> dict[str, Any]:
    """Demands in 锦江区, 青羊区 and 青川县; two verified tea experts, a pig expert who is not
    verified, a verified chip expert."""
    tea_firm = make_enterprise("锦江茶业有限公司", "510104", "1")
    pig_firm = make_enterprise("青羊养殖有限公司", "510105", "2")
    far_firm = make_enterprise("青川茶业有限公司", "510822", "3")
    demands = {
        "tea": make_demand(
            tea_firm,
            title="茶叶病虫害绿色防控技术",
            description="茶园茶小绿叶蝉危害严重，需要茶叶病虫害绿色防控方案。",
            industry="茶叶种植",
            industry_class_id="01",
        ),
        "pig": make_demand(
            pig_firm,
            title="生猪养殖疫病防控",
            description="规模化生猪养殖场需要非洲猪瘟疫病防控指导。",
            industry="生猪养殖",
            industry_class_id="03",
        ),
        "far_tea": make_demand(
            far_firm,
            title="茶园绿色防控",
            description="茶叶病虫害绿色防控。",
            industry="茶叶种植",
            industry_class_id="01",
        ),
        "draft": make_demand(
            tea_firm, title="茶叶加工", industry_class_id="01", status=Demand.Status.DRAFT
        ),
    }
    experts = {
        "tina": verified(make_tea_expert(), alice),
        "tom": verified(make_tea_expert("tom", "13900000003", employer="西南茶研所"), alice),
        "peter": make_pig_expert(),
        "chip": verified(
            make_expert(
                "chen",
                "510104",
                "13900000004",
                fields="微电子",
                keywords="芯片、封装",
                capability="集成电路芯片封装测试。",
            ),
            alice,
        ),
    }
    assert gap_coverage_refresh() == 3  # the three published demands
    return {"demands": demands, "experts": experts}


def test_the_city_gap_counts_open_demands_and_the_verified_experts_who_could_answer_them(
    bob: User, market: dict[str, Any]
) -> None:
    gap = region_gap(region=centre("510100").region)
    areas = {line.code: line.cell for line in gap.areas}
    # 锦江区: the tea demand, answered by Tina and Tom.
    assert (areas["510104"].demands, areas["510104"].answerable) == (1, 1)
    assert areas["510104"].experts == {market["experts"]["tina"].pk, market["experts"]["tom"].pk}
    # 青羊区: the pig demand; Peter could answer it but is not verified.
    assert (areas["510105"].demands, areas["510105"].answerable, areas["510105"].experts) == (
        1,
        0,
        set(),
    )
    assert areas["510105"].gap_ratio == 1.0
    # Every county of the city has a line; 青川县 is another city's.
    assert len(gap.areas) == 20
    assert (gap.total.demands, gap.total.answerable, gap.total.expert_count) == (2, 1, 2)
    fields = {line.code: line.cell for line in gap.fields}
    assert set(fields) == {"A"}
    assert (fields["A"].demands, fields["A"].answerable) == (2, 1)
    assert gap.unanswerable == [(market["demands"]["pig"].pk, "生猪养殖疫病防控", "510105", "A")]


def test_the_gap_page_and_map_data_show_the_same_figures(bob: User, market: dict[str, Any]) -> None:
    client = client_for(bob)
    html = client.get("/ops/510100/gap/").content.decode()
    assert re.search(r'data-testid="gap-demands">2<', html)
    assert re.search(r'data-testid="gap-answerable">1<', html)
    assert re.search(r'data-testid="gap-experts">2<', html)
    assert re.search(r'data-testid="gap-ratio">50%<', html)
    assert 'data-geo-url="/static/geo/counties/510100.json"' in html
    data = client.get("/ops/510100/gap.json").json()
    by_code = {a["code"]: a for a in data["areas"]}
    assert by_code["510104"] == {
        "code": "510104",
        "name": "锦江区",
        "demands": 1,
        "answerable": 1,
        "pending": 0,
        "experts": 2,
        "gap": 0.0,
        "url": "/ops/510104/gap/",
    }
    assert by_code["510105"]["gap"] == 1.0
    assert by_code["510106"]["gap"] is None


def test_the_gap_narrowed_to_a_field_leaves_the_others_out(
    pat: User, market: dict[str, Any]
) -> None:
    client = client_for(pat)
    data = client.get("/ops/510000/gap.json?field=C").json()
    assert sum(a["demands"] for a in data["areas"]) == 0
    data = client.get("/ops/510000/gap.json?field=A").json()
    by_code = {a["code"]: a for a in data["areas"]}
    assert (by_code["510100"]["demands"], by_code["510100"]["answerable"]) == (2, 1)
    # 青川县's tea demand: Tina and Tom too (a province-wide search).
    assert (by_code["510800"]["demands"], by_code["510800"]["answerable"]) == (1, 1)
    refused = client.get("/ops/510000/gap/?field=ZZ")
    assert refused.status_code == 400
    assert "无法识别的领域" in refused.content.decode()


def test_a_demand_published_since_the_job_ran_is_pending_until_its_next_run(
    bob: User, market: dict[str, Any]
) -> None:
    region = centre("510100").region
    Demand.objects.filter(pk=market["demands"]["draft"].pk).update(status=Demand.Status.PUBLISHED)
    gap = region_gap(region=region)
    assert (gap.total.demands, gap.total.pending, gap.total.answerable) == (3, 1, 1)
    assert gap.total.gap_ratio == 0.5  # of the two computed
    page = client_for(bob).get("/ops/510100/gap/").content.decode()
    assert "1 项新发布的需求尚待计算可答专家" in page
    assert gap_coverage_refresh() == 1
    gap = region_gap(region=region)
    assert (gap.total.demands, gap.total.pending) == (3, 0)


def test_the_job_recomputes_stale_rows_and_drops_those_of_unpublished_demands(
    bob: User, market: dict[str, Any]
) -> None:
    assert gap_coverage_refresh() == 0  # nothing new, nothing stale: a second run is a no-op
    with time_machine.travel(NOW + timedelta(hours=7), tick=False):
        assert gap_coverage_refresh() == 3
    Demand.objects.filter(pk=market["demands"]["pig"].pk).update(status=Demand.Status.CLOSED)
    assert gap_coverage_refresh() == 0
    assert set(GapCoverage.objects.values_list("demand_id", flat=True)) == {
        market["demands"]["tea"].pk,
        market["demands"]["far_tea"].pk,
    }


def test_a_county_user_gets_404_on_another_countys_gap(alice: User, market: dict[str, Any]) -> None:
    client = client_for(alice)
    assert client.get("/ops/510105/gap/").status_code == 404
    assert client.get("/ops/510100/gap.json").status_code == 404
    assert client.get("/ops/510104/gap/").status_code == 200


def test_people_who_are_not_staff_get_404_everywhere(
    market: dict[str, Any],
) -> None:
    tina = market["experts"]["tina"].user
    client = client_for(tina)
    for url in ("/ops/510104/supervision/", "/ops/510104/gap/", "/ops/escalations/"):
        assert client.get(url).status_code == 404


def test_staff_of_a_centre_without_jurisdiction_over_a_region_see_no_gap_of_it(
    charlie: User, market: dict[str, Any]
) -> None:
    assert client_for(charlie).get("/ops/510100/gap/").status_code == 404
    assert client_for(charlie).get("/ops/510800/gap/").status_code == 404
    assert client_for(charlie).get("/ops/510822/gap/").status_code == 200


def test_the_escalation_inbox_reads_a_fixed_number_of_queries(
    bob: User, escalated: dict[str, Case]
) -> None:
    client = client_for(bob)
    client.get("/ops/escalations/")  # the session, once
    with CaptureQueriesContext(connection) as few:
        client.get("/ops/escalations/")
    for n in range(10, 14):
        case = make_case(None, county="510105", serial=str(n), title=f"青羊{n}")
        escalate(case, "510100", at=NOW - timedelta(hours=n), due=NOW - timedelta(hours=1))
    with CaptureQueriesContext(connection) as many:
        page = client.get("/ops/escalations/")
    assert len(ids_listed(page.content.decode())) == 6
    assert len(few.captured_queries) == len(many.captured_queries)


def test_the_gap_reads_four_queries_however_many_demands(
    bob: User, market: dict[str, Any], django_assert_num_queries: Any
) -> None:
    region = centre("510100").region
    # The counties, the open demands, their experts, the section names.
    with django_assert_num_queries(4):
        region_gap(region=region)
    firm = make_enterprise("又一家茶企", "510104", "7")
    for n in range(4):
        make_demand(firm, title=f"茶叶{n}", industry_class_id="01")
    gap_coverage_refresh()
    with django_assert_num_queries(4):
        assert region_gap(region=region).total.demands == 6
