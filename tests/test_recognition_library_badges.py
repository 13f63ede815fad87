"""Recognition badges (典型 / 精品) on studios and cases, and the recognition-level filter of
the studio list (staff) and the public expert directory; the library in the public
navigation.

Alice is county staff at 锦江区 (510104); Charlie is county staff at 青川县 (510822).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import Organisation, User
from kejiyun.cases.models import Case
from kejiyun.common.levels import Level
from kejiyun.regions.models import Region
from kejiyun.talent.models import TalentProfile, Team
from kejiyun.talent.services import TeamData, team_create
from tests.builders import (
    client_for,
    make_case,
    make_enterprise_user,
    make_tea_demand,
    make_tea_expert,
    make_worker,
)

pytestmark = pytest.mark.django_db


def studio(lead: TalentProfile, name: str, *, level: str = "", year: int | None = None) -> Team:
    team = team_create(
        lead=lead,
        actor=lead.user,
        data=TeamData(
            kind=Team.Kind.STUDIO,
            name=name,
            region=Region.objects.get(code=lead.region_id),
            fields="茶学",
            keywords="绿色防控、茶园管理",
            description="为茶企提供病虫害绿色防控技术服务。",
        ),
    )
    # The recognition app sets the level when a batch's result is published.
    Team.objects.filter(pk=team.pk).update(recognition_level=level, recognised_year=year)
    team.refresh_from_db()
    return team


def rows(html: str, attribute: str) -> set[int]:
    return {int(chunk.split('"', 1)[0]) for chunk in html.split(f'{attribute}="')[1:]}


@pytest.fixture
def studios() -> dict[str, Team]:
    lena = make_worker("lena", "510104", "13800001001")
    mike = make_worker("mike", "510104", "13800001002")
    nora = make_worker("nora", "510104", "13800001003")
    return {
        "premium": studio(lena, "蒲江茶叶科创工作室", level=Level.PREMIUM, year=2026),
        "typical": studio(mike, "锦江泡菜科创工作室", level=Level.TYPICAL, year=2025),
        "plain": studio(nora, "锦江蔬菜科创工作室"),
    }


def test_a_recognised_studio_shows_its_badge_in_the_filtered_studio_list_and_on_its_page(
    alice: User, charlie: User, studios: dict[str, Team]
) -> None:
    client = client_for(alice)
    premium, typical, plain = studios["premium"], studios["typical"], studios["plain"]
    expectations = {
        "": {premium.pk, typical.pk, plain.pk},
        "?level=any": {premium.pk, typical.pk},
        "?level=premium": {premium.pk},
        "?level=typical&kind=studio": {typical.pk},
        "?level=typical&kind=team": set(),
        "?level=gold": {premium.pk, typical.pk, plain.pk},  # unknown: dropped
    }
    for query, expected in expectations.items():
        html = client.get(f"/talent/staff/teams/{query}").content.decode()
        assert rows(html, "data-team") == expected, query
    html = client.get("/talent/staff/teams/").content.decode()
    assert html.count('data-testid="recognition-badge"') == 2
    assert "精品工作室（2026年度）" in html and "典型工作室（2025年度）" in html
    page = client.get(f"/talent/staff/teams/{premium.pk}/").content.decode()
    assert "精品工作室（2026年度）" in page
    page = client.get(f"/talent/staff/teams/{plain.pk}/").content.decode()
    assert 'data-testid="recognition-badge"' not in page
    # Another county's staff still get 404 on the studio, badge or not.
    assert client_for(charlie).get(f"/talent/staff/teams/{premium.pk}/").status_code == 404
    assert (
        rows(
            client_for(charlie).get("/talent/staff/teams/?level=any").content.decode(), "data-team"
        )
        == set()
    )
    # The lead sees the badge on their own studios page.
    mine = client_for(premium.lead.user).get("/talent/me/teams/").content.decode()
    assert "精品工作室（2026年度）" in mine


def test_the_public_directory_marks_and_filters_the_leads_of_recognised_studios(
    studios: dict[str, Team],
) -> None:
    client = Client()
    lena, mike, nora = (studios[k].lead for k in ("premium", "typical", "plain"))
    expectations = {
        "": {lena.pk, mike.pk, nora.pk},
        "?level=any": {lena.pk, mike.pk},
        "?level=premium": {lena.pk},
        "?level=typical": {mike.pk},
        "?level=typical&q=Lena": set(),
        "?level=premium&q=Lena": {lena.pk},
    }
    for query, expected in expectations.items():
        html = client.get(f"/talent/{query}").content.decode()
        assert rows(html, "data-profile") == expected, query
    html = client.get("/talent/").content.decode()
    card = html[html.index(f'data-profile="{lena.pk}"') :].split("</article>")[0]
    assert "蒲江茶叶科创工作室" in card and "精品工作室（2026年度）" in card
    card = html[html.index(f'data-profile="{nora.pk}"') :].split("</article>")[0]
    assert "recognition-badge" not in card and "锦江蔬菜科创工作室" not in card


def test_the_directory_and_studio_list_use_a_fixed_number_of_queries(alice: User) -> None:
    client = client_for(alice)
    client.get("/")

    def counts() -> list[int]:
        out = []
        for url in ("/talent/?level=any", "/talent/staff/teams/?level=any"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    studio(make_worker("w0", "510104", "13800002000"), "工作室0", level=Level.TYPICAL, year=2026)
    few = counts()
    for i in range(1, 8):
        lead = make_worker(f"w{i}", "510104", f"1380000200{i}")
        studio(lead, f"工作室{i}", level=Level.PREMIUM, year=2026)
    assert counts() == few


@pytest.mark.usefixtures("match_index")
def test_a_recognised_studio_is_marked_among_the_studios_recommended_for_a_demand(
    alice: User, tea_company: Organisation
) -> None:
    team = studio(make_tea_expert(), "茶叶绿色防控科创工作室", level=Level.PREMIUM, year=2026)
    demand = make_tea_demand(tea_company)
    html = client_for(alice).get(f"/matching/demands/{demand.pk}/").content.decode()
    row = html[html.index(f'data-team="{team.pk}"') :].split("</li>")[0]
    assert "精品工作室（2026年度）" in row


def test_a_recognised_case_shows_its_badge_on_the_staff_and_enterprise_case_pages(
    alice: User,
) -> None:
    case = make_case(alice)
    erin = make_enterprise_user(case.demand.organisation, "erin")
    plain = make_case(alice, serial="2", title="泡菜胀袋")
    Case.objects.filter(pk=case.pk).update(recognition_level=Level.TYPICAL, recognised_year=2026)
    staff = client_for(alice).get(f"/cases/{case.pk}/").content.decode()
    assert "典型案例（2026年度）" in staff
    mine = client_for(erin).get(f"/cases/mine/{case.pk}/").content.decode()
    assert "典型案例（2026年度）" in mine
    other = client_for(alice).get(f"/cases/{plain.pk}/").content.decode()
    assert 'data-testid="recognition-badge"' not in other


def test_the_library_is_in_the_public_navigation() -> None:
    html = Client().get("/").content.decode()
    nav = html[html.index('id="nav-main"') :].split("</ul>")[0]
    assert 'href="/recognition/library/"' in nav and "案例库" in nav
