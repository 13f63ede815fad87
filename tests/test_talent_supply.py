"""科技所能: classifications, the worker's own profile, results and teams, staff verification,
staff lists of workers, teams and resources."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import User
from kejiyun.common.errors import NotPermitted
from kejiyun.notifications.models import OutboxMessage
from kejiyun.plans.models import ServicePlan
from kejiyun.talent.models import (
    Discipline,
    Industry,
    Resource,
    ServiceMode,
    TalentProfile,
    Team,
    TechResult,
)
from kejiyun.talent.services import (
    ResourceData,
    ResultData,
    TeamData,
    disciplines_load,
    industries_load,
    team_create,
    team_member_add,
    team_member_remove,
    team_update,
    tech_result_create,
    tech_result_delete,
)
from tests.builders import client_for, make_staff, make_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def classifications() -> None:
    disciplines_load()
    industries_load()


def profile_snapshot() -> tuple[object, ...]:
    return (
        list(TalentProfile.objects.order_by("pk").values()),
        sorted(
            TalentProfile.disciplines.through.objects.values_list(
                "talentprofile_id", "discipline_id"
            )
        ),
        sorted(
            TalentProfile.industries.through.objects.values_list("talentprofile_id", "industry_id")
        ),
        sorted(
            TalentProfile.regions_served.through.objects.values_list(
                "talentprofile_id", "region_id"
            )
        ),
        list(ServicePlan.objects.order_by("pk").values()),
    )


def profile_post(profile: TalentProfile, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": profile.version,
        "employer": "四川农业大学",
        "title": "研究员",
        "fields_text": "茶树栽培, 植物保护",
        "keywords": "茶园 病虫害",
        "capability": "茶园绿色防控技术指导",
        "disciplines": "",
        "industries": "",
        "service_modes": [],
        "capacity": 3,
    }
    data.update(overrides)
    return data


# --- Classifications ---------------------------------------------------------------------


def test_the_classification_loader_loads_every_nsfc_and_gbt4754_code_and_is_idempotent() -> None:
    call_command("load_classifications", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Discipline.objects.count() == 2916
    assert Industry.objects.count() == 1971
    assert Discipline.objects.filter(level=1).count() == 86
    assert Industry.objects.filter(level=4).count() == 1381
    assert Discipline.objects.get(code="A010101").parent_id == "A0101"
    assert Industry.objects.get(code="0111").parent.parent.parent.code == "A"  # type: ignore[union-attr]
    first = (disciplines_load(), industries_load())
    assert (first[0].created, first[0].updated, first[0].unchanged) == (0, 0, 2916)
    assert (first[1].created, first[1].updated, first[1].unchanged) == (0, 0, 1971)
    Discipline.objects.filter(code="A0101").update(name="改过的名字")
    again = disciplines_load()
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2915)
    assert Discipline.objects.get(code="A0101").name == "数论"
    assert Discipline.objects.count() == 2916


# --- The worker's own profile ------------------------------------------------------------


def test_a_worker_saves_their_profile_with_classifications_service_modes_and_regions(
    classifications: None,
) -> None:
    profile = make_worker("wang", "510104", "13900000101")
    client = client_for(profile.user)
    response = client.post(
        "/talent/me/",
        profile_post(
            profile,
            disciplines="c1502, f0201",
            industries="0111, a",
            service_modes=[ServiceMode.CONSULTING, ServiceMode.ONSITE],
            regions_served=["510104", "510100"],
            capacity=5,
        ),
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.service_modes == ServiceMode.CONSULTING | ServiceMode.ONSITE
    assert profile.service_mode_labels == ["咨询", "现场指导"]
    assert sorted(profile.disciplines.values_list("code", flat=True)) == ["C1502", "F0201"]
    assert sorted(profile.industries.values_list("code", flat=True)) == ["0111", "A"]
    assert profile.capacity == 5
    assert profile.version == 2
    assert sorted(profile.regions_served.values_list("code", flat=True)) == ["510100", "510104"]


def test_a_bad_service_mode_is_refused_and_nothing_changes(classifications: None) -> None:
    profile = make_worker("wang", "510104", "13900000101")
    before = profile_snapshot()
    response = client_for(profile.user).post(
        "/talent/me/", profile_post(profile, title="教授", service_modes=["1", "64"])
    )
    assert response.status_code == 200
    assert response.context["form"].errors["service_modes"] == [
        "选择一个有效的选项。 64 不在可用的选项中。"
    ]
    assert profile_snapshot() == before


def test_an_unknown_discipline_code_is_refused_and_nothing_changes(classifications: None) -> None:
    profile = make_worker("wang", "510104", "13900000101")
    before = profile_snapshot()
    response = client_for(profile.user).post(
        "/talent/me/", profile_post(profile, disciplines="C1502, Z9999")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["disciplines"] == ["未知的学科代码：Z9999"]
    assert profile_snapshot() == before


def test_a_stale_profile_page_is_refused_with_409_and_nothing_changes() -> None:
    profile = make_worker("wang", "510104", "13900000101")
    client = client_for(profile.user)
    assert client.post("/talent/me/", profile_post(profile, title="副研究员")).status_code == 302
    before = profile_snapshot()
    response = client.post("/talent/me/", profile_post(profile, title="研究员"))  # version 1
    assert response.status_code == 409
    assert "档案已被他人修改，请刷新后再试。" in response.content.decode()
    assert profile_snapshot() == before


def test_posting_verification_or_region_fields_on_the_profile_page_has_no_effect() -> None:
    profile = make_worker("wang", "510104", "13900000101")
    client_for(profile.user).post(
        "/talent/me/",
        profile_post(profile, verified="on", region="510822", verified_by="1", version=1),
    )
    profile.refresh_from_db()
    assert (profile.verified, profile.region_id, profile.verified_by_id) == (False, "510104", None)


def test_completeness_goes_up_as_the_profile_is_filled_in(classifications: None) -> None:
    user = User.objects.create_user(
        username="empty", password="x", display_name="空", role="worker"
    )
    profile = TalentProfile.objects.create(user=user, region_id="510104")
    steps = []

    def measure() -> int:
        return TalentProfile.objects.get(pk=profile.pk).completeness()

    steps.append(measure())
    TalentProfile.objects.filter(pk=profile.pk).update(employer="四川大学", title="教授")
    steps.append(measure())
    profile.disciplines.add("C1502")
    steps.append(measure())
    TalentProfile.objects.filter(pk=profile.pk).update(service_modes=ServiceMode.TRAINING)
    steps.append(measure())
    TechResult.objects.create(owner_profile=profile, kind="patent", title="一种茶园诱虫装置")
    steps.append(measure())
    TalentProfile.objects.filter(pk=profile.pk).update(fields="茶", keywords="茶", capability="茶")
    profile.industries.add("A")
    profile.regions_served.add("510104")
    steps.append(measure())
    assert steps == [0, 20, 30, 40, 50, 100]


def test_a_worker_adds_edits_and_deletes_a_result_and_cannot_touch_anothers() -> None:
    profile = make_worker("wang", "510104", "13900000101")
    other = make_worker("li", "510104", "13900000102")
    theirs = TechResult.objects.create(owner_profile=other, kind="paper", title="别人的论文")
    client = client_for(profile.user)
    response = client.post(
        "/talent/me/results/",
        {
            "kind": "patent",
            "title": "一种茶园诱虫装置",
            "identifier": "ZL202010000001.1",
            "year": 2021,
            "for_transfer": "on",
            "transfer_mode": "licence",
        },
    )
    assert response.status_code == 302
    mine = TechResult.objects.get(owner_profile=profile)
    assert (mine.kind, mine.identifier, mine.for_transfer, mine.transfer_mode) == (
        "patent",
        "ZL202010000001.1",
        True,
        "licence",
    )
    assert (
        client.post(
            f"/talent/me/results/{mine.pk}/", {"kind": "patent", "title": "改名后的专利"}
        ).status_code
        == 302
    )
    mine.refresh_from_db()
    assert (mine.title, mine.for_transfer, mine.transfer_mode) == ("改名后的专利", False, "")
    assert client.get(f"/talent/me/results/{theirs.pk}/").status_code == 404
    assert client.post(f"/talent/me/results/{theirs.pk}/delete/").status_code == 404
    assert TechResult.objects.filter(pk=theirs.pk).exists()
    assert client.post(f"/talent/me/results/{mine.pk}/delete/").status_code == 302
    assert not TechResult.objects.filter(pk=mine.pk).exists()


def test_a_transfer_mode_without_for_transfer_is_refused_and_nothing_is_saved() -> None:
    profile = make_worker("wang", "510104", "13900000101")
    response = client_for(profile.user).post(
        "/talent/me/results/", {"kind": "patent", "title": "专利", "transfer_mode": "licence"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["transfer_mode"] == [
        "未勾选“可转化”时不能选择转化方式。"
    ]
    assert TechResult.objects.count() == 0


def test_a_worker_creates_a_studio_adds_a_member_by_mobile_and_others_cannot_edit_it() -> None:
    lead = make_worker("wang", "510104", "13900000101")
    member = make_worker("li", "510104", "13900000102")
    client = client_for(lead.user)
    response = client.post(
        "/talent/me/teams/new/",
        {"kind": "studio", "name": "茶产业科创工作室", "region": "510104", "fields_text": "茶"},
    )
    assert response.status_code == 302
    team = Team.objects.get()
    assert (team.kind, team.lead_id, team.region_id) == ("studio", lead.pk, "510104")
    assert list(team.members.values_list("pk", flat=True)) == [lead.pk]
    url = f"/talent/me/teams/{team.pk}/members/"
    # A wrong name and an unknown number get the same answer and add nobody.
    for wrong in (
        {"name": "张三", "mobile": "13900000102"},
        {"name": "Li", "mobile": "13999999999"},
    ):
        html = client.post(url, wrong, follow=True).content.decode()
        assert "未找到姓名与手机号都相符的科技工作者" in html
    assert team.members.count() == 1
    assert client.post(url, {"name": "Li", "mobile": "139 0000 0102"}).status_code == 302
    assert sorted(team.members.values_list("pk", flat=True)) == sorted([lead.pk, member.pk])
    # Told in the inbox (through the outbox), with a way out.
    assert OutboxMessage.objects.filter(recipient=member.user, channel="inapp").count() == 1
    assert team.members.count() == 2
    outsider = client_for(member.user)
    assert outsider.get(f"/talent/me/teams/{team.pk}/").status_code == 404
    assert outsider.post(f"/talent/me/teams/{team.pk}/members/{lead.pk}/remove/").status_code == 404
    assert team.members.count() == 2
    assert "茶产业科创工作室" in outsider.get("/talent/me/teams/").content.decode()
    # The member may leave; the lead may not.
    assert outsider.post(f"/talent/me/teams/{team.pk}/leave/").status_code == 302
    assert list(team.members.values_list("pk", flat=True)) == [lead.pk]
    client.post(f"/talent/me/teams/{team.pk}/leave/")
    assert list(team.members.values_list("pk", flat=True)) == [lead.pk]


@pytest.mark.parametrize(
    "url",
    ["/talent/me/", "/talent/me/results/", "/talent/me/teams/", "/talent/me/teams/new/"],
)
def test_people_without_a_worker_profile_get_404_on_the_worker_pages(
    url: str, alice: User, dora: User
) -> None:
    assert client_for(alice).get(url).status_code == 404
    assert client_for(dora).get(url).status_code == 404
    anonymous = client_for(dora)
    anonymous.logout()
    assert anonymous.get(url).status_code == 302


# --- Staff verification ------------------------------------------------------------------


def test_staff_verify_opens_exactly_one_plan_owned_by_staff_of_the_workers_county_centre(
    alice: User, bob: User
) -> None:
    colleague = make_staff("alice2", "510104")
    busy = make_worker("busy", "510104", "13900000109")
    ServicePlan.objects.create(profile=busy, centre=alice.centre, owner=alice)  # type: ignore[misc]
    profile = make_worker("wang", "510104", "13900000101")
    client = client_for(bob)
    response = client.post(f"/plans/verify/{profile.pk}/")
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.verified, profile.verified_by_id) == (True, bob.pk)
    assert profile.verified_at is not None
    plan = ServicePlan.objects.get(profile=profile)
    assert plan.centre.region_id == "510104"
    assert plan.owner_id == colleague.pk  # alice already owns a plan
    assert plan.version == 1
    first_verified_at = profile.verified_at
    assert client_for(alice).post(f"/plans/verify/{profile.pk}/").status_code == 302
    profile.refresh_from_db()
    assert ServicePlan.objects.filter(profile=profile).count() == 1
    assert (profile.verified_by_id, profile.verified_at) == (bob.pk, first_verified_at)
    page = client.get(f"/talent/staff/{profile.pk}/").content.decode()
    assert f'href="/plans/{plan.pk}/"' in page


def test_county_staff_cannot_see_or_verify_another_countys_worker_and_nothing_changes(
    alice: User, charlie: User
) -> None:
    profile = make_worker("qing", "510822", "13900000201")
    before = profile_snapshot()
    client = client_for(alice)
    assert client.get(f"/talent/staff/{profile.pk}/").status_code == 404
    assert client.post(f"/plans/verify/{profile.pk}/").status_code == 404
    assert profile_snapshot() == before
    assert client_for(charlie).post(f"/plans/verify/{profile.pk}/").status_code == 302
    assert ServicePlan.objects.filter(profile=profile).count() == 1


def test_verify_answers_only_post(alice: User) -> None:
    profile = make_worker("wang", "510104", "13900000101")
    assert client_for(alice).get(f"/plans/verify/{profile.pk}/").status_code == 405
    profile.refresh_from_db()
    assert profile.verified is False


# --- Staff: teams and resources ----------------------------------------------------------


def make_team(name: str, county: str, mobile: str) -> Team:
    lead = make_worker(f"lead{mobile[-4:]}", county, mobile)
    return team_create(
        lead=lead, actor=lead.user, data=TeamData(kind="studio", name=name, region=lead.region)
    )


def test_staff_see_teams_and_resources_only_in_their_jurisdiction(
    alice: User, bob: User, charlie: User
) -> None:
    jinjiang = make_team("锦江茶工作室", "510104", "13900000301")
    qingchuan = make_team("青川茶工作室", "510822", "13900000302")
    res = Resource.objects.create(
        kind="courtyard", name="青川科技小院", host_name="青川县农业农村局", region_id="510822"
    )
    alice_teams = client_for(alice).get("/talent/staff/teams/").content.decode()
    assert "锦江茶工作室" in alice_teams
    assert "青川茶工作室" not in alice_teams
    assert client_for(alice).get(f"/talent/staff/teams/{qingchuan.pk}/").status_code == 404
    assert client_for(bob).get(f"/talent/staff/teams/{jinjiang.pk}/").status_code == 200
    assert client_for(alice).get(f"/talent/staff/resources/{res.pk}/").status_code == 404
    assert client_for(alice).get(f"/talent/staff/resources/{res.pk}/edit/").status_code == 404
    assert "青川科技小院" not in client_for(alice).get("/talent/staff/resources/").content.decode()
    assert client_for(charlie).get(f"/talent/staff/resources/{res.pk}/").status_code == 200


def test_staff_create_and_edit_a_resource_in_their_county_with_linked_experts(
    alice: User,
) -> None:
    expert = make_worker("wang", "510104", "13900000101")
    client = client_for(alice)
    response = client.post(
        "/talent/staff/resources/new/",
        {
            "kind": "workstation",
            "name": "锦江院士工作站",
            "region": "510104",
            "host_name": "锦江区科协",
            "capacity": 20,
            "expert_mobiles": "13900000101\n",
        },
    )
    assert response.status_code == 302
    resource = Resource.objects.get()
    assert (resource.kind, resource.host_name, resource.capacity) == (
        "workstation",
        "锦江区科协",
        20,
    )
    assert list(resource.experts.values_list("pk", flat=True)) == [expert.pk]
    response = client.post(
        f"/talent/staff/resources/{resource.pk}/edit/",
        {"kind": "workstation", "name": "锦江专家工作站", "region": "510104", "host_name": "x"},
    )
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.name == "锦江专家工作站"
    assert resource.experts.count() == 0


def test_county_staff_cannot_create_a_resource_in_another_county_or_link_its_experts(
    alice: User,
) -> None:
    make_worker("qing", "510822", "13900000201")
    client = client_for(alice)
    response = client.post(
        "/talent/staff/resources/new/",
        {"kind": "courtyard", "name": "越界小院", "region": "510822", "host_name": "x"},
    )
    assert response.status_code == 200
    assert "region" in response.context["form"].errors
    response = client.post(
        "/talent/staff/resources/new/",
        {
            "kind": "courtyard",
            "name": "越界小院",
            "region": "510104",
            "host_name": "x",
            "expert_mobiles": "13900000201",
        },
    )
    assert response.status_code == 200
    # The same answer whichever county holds them (no oracle), and a check to the level above.
    assert "该人员已在平台登记，请联系上级服务中心核查" in response.content.decode()
    assert Resource.objects.count() == 0


def test_resource_service_requires_a_host() -> None:
    from django.core.exceptions import ValidationError

    from kejiyun.regions.models import Region
    from kejiyun.talent.services import resource_create

    admin = User.objects.create_user(username="root", password="x", role="admin")
    with pytest.raises(ValidationError):
        resource_create(
            data=ResourceData(
                kind="courtyard", name="无依托", region=Region.objects.get(code="510104")
            ),
            actor=admin,
        )
    assert Resource.objects.count() == 0


# --- Query counts ------------------------------------------------------------------------


def test_talent_team_and_resource_staff_lists_use_a_fixed_number_of_queries(pat: User) -> None:
    client = client_for(pat)
    client.get("/")
    urls = ("/talent/staff/", "/talent/staff/teams/", "/talent/staff/resources/")

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            team = make_team(f"团队{i}", "510104", f"1380000{i:04d}")
            member = make_worker(f"m{i}", "510822", f"1370000{i:04d}")
            team.members.add(member)
            res = Resource.objects.create(
                kind="courtyard", name=f"小院{i}", host_name="科协", region_id="510104"
            )
            res.experts.add(member)

    def counts() -> list[int]:
        out = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    add(2, 0)
    few = counts()
    add(4, 2)
    many = counts()
    assert few == many == [4, 4, 4]


@pytest.mark.parametrize(
    "url",
    [
        "/talent/staff/teams/",
        "/talent/staff/resources/",
        "/talent/staff/resources/new/",
        "/plans/",
    ],
)
def test_people_who_are_not_staff_cannot_open_the_new_staff_pages(url: str, dora: User) -> None:
    worker = make_worker("wang", "510104", "13900000101")
    assert client_for(worker.user).get(url).status_code == 404
    assert client_for(dora).get(url).status_code == 404
    anonymous = client_for(dora)
    anonymous.logout()
    response = anonymous.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_in_another_city_get_404_on_every_staff_url_of_a_worker_team_and_resource(
    charlie: User, alice: User
) -> None:
    profile = make_worker("wang", "510104", "13900000101")
    team = team_create(
        lead=profile,
        actor=profile.user,
        data=TeamData(kind="team", name="锦江团队", region=profile.region),
    )
    res = Resource.objects.create(
        kind="courtyard", name="锦江小院", host_name="x", region_id="510104"
    )
    plan = talent_verify_for_test(profile, alice)
    before = (profile_snapshot(), list(Resource.objects.values()), list(Team.objects.values()))
    client = client_for(charlie)
    for method, url in (
        ("get", f"/talent/staff/{profile.pk}/"),
        ("post", f"/plans/verify/{profile.pk}/"),
        ("get", f"/talent/staff/teams/{team.pk}/"),
        ("get", f"/talent/staff/resources/{res.pk}/"),
        ("get", f"/talent/staff/resources/{res.pk}/edit/"),
        ("post", f"/talent/staff/resources/{res.pk}/edit/"),
        ("get", f"/plans/{plan.pk}/"),
        ("post", f"/plans/{plan.pk}/needs/"),
        ("post", f"/plans/{plan.pk}/actions/"),
        ("post", f"/plans/{plan.pk}/followups/"),
        ("post", f"/plans/{plan.pk}/reassign/"),
    ):
        assert getattr(client, method)(url, {"version": 1}).status_code == 404, url
    assert (
        profile_snapshot(),
        list(Resource.objects.values()),
        list(Team.objects.values()),
    ) == before


def talent_verify_for_test(profile: TalentProfile, actor: User) -> ServicePlan:
    from kejiyun.plans.services import worker_verify

    return worker_verify(profile=profile, actor=actor)


def test_self_service_writes_refuse_anyone_but_the_owner_and_change_nothing() -> None:
    lead = make_worker("lead", "510104", "13900000301")
    other = make_worker("other", "510104", "13900000302")
    team = team_create(
        lead=lead, actor=lead.user, data=TeamData(kind="team", name="锦江团队", region=lead.region)
    )
    result = tech_result_create(
        profile=lead, actor=lead.user, data=ResultData(kind="patent", title="一种茶叶杀青方法")
    )
    before = (list(Team.objects.values()), list(TechResult.objects.values()))
    refused = [
        lambda: tech_result_create(
            profile=lead, actor=other.user, data=ResultData(kind="patent", title="冒名成果")
        ),
        lambda: tech_result_delete(result=result, actor=other.user),
        lambda: team_update(
            team=team,
            actor=other.user,
            data=TeamData(kind="team", name="改名", region=lead.region),
        ),
        lambda: team_member_add(team=team, member=other, actor=other.user),
        lambda: team_member_remove(team=team, member=lead, actor=other.user),
        lambda: team_create(
            lead=lead, actor=other.user, data=TeamData(kind="team", name="冒名", region=lead.region)
        ),
    ]
    for write in refused:
        with pytest.raises(NotPermitted):
            write()
    assert (list(Team.objects.values()), list(TechResult.objects.values())) == before
    assert list(team.members.values_list("pk", flat=True)) == [lead.pk]
