"""The directory over the API (/api/v1/): regions and centres (anyone), the public expert
directory, the staff lists of workers, teams and studios and organisations in the caller's
jurisdiction, a worker's own results, an enterprise user's own organisation, and the public
case library.

Alice is county staff at 锦江区 (510104), Bob at 成都市 (510100), Charlie at 青川县 (510822,
广元市), Pat at the province (510000); Erin speaks for 锦江茶业 in 锦江区.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kejiyun.accounts.models import User
from kejiyun.api.models import ApiToken, Scope
from kejiyun.api.tokens import token_issue
from kejiyun.cases.models import Case, Step
from kejiyun.cases.workflow.services import (
    OutcomeInput,
    case_confirm,
    case_library_consent,
    case_open,
    case_outcome_record,
    case_transition,
)
from kejiyun.common.levels import Level
from kejiyun.demands.models import Demand
from kejiyun.talent.models import TalentProfile, Team, TechResult
from tests.builders import (
    make_demand,
    make_enterprise,
    make_enterprise_user,
    make_expert,
    make_worker,
    pdf_upload,
)

pytestmark = pytest.mark.django_db

# Operations with an id in their path, each shown below to answer 404 to a caller who may
# not see the object (another jurisdiction, or not public) and to change nothing.
COVERED_FOREIGN: set[str] = {
    "regions_get",
    "centres_get",
    "workers_get",
    "teams_get",
    "organisations_get",
    "library_cases_get",
}

V1 = "/api/v1"


def bearer(user: User, *scopes: str) -> dict[str, str]:
    raw, _ = token_issue(
        user=user,
        kind=ApiToken.Kind.PERSONAL,
        lifetime=timedelta(days=1),
        scopes=list(scopes) or [Scope.DIRECTORY],
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def get(url: str, user: User | None = None, *scopes: str, **params: Any) -> Any:
    headers = bearer(user, *scopes) if user is not None else {}
    return Client().get(f"{V1}{url}", params, **headers)


def ids(response: Any) -> set[Any]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


# --- Regions and centres -------------------------------------------------------------------------


def test_region_tree_is_public_and_filtered_by_parent_and_level() -> None:
    cities = get("/regions", parent="510000", level="city", limit=100).json()
    codes = {r["code"] for r in cities["items"]}
    assert {"510100", "510800"} <= codes
    assert all(r["level"] == "city" and r["parent_code"] == "510000" for r in cities["items"])
    assert cities["next_cursor"] is None

    counties = get("/regions", parent="510100", limit=100).json()["items"]
    assert "510104" in {r["code"] for r in counties}
    assert all(r["parent_code"] == "510100" for r in counties)


def test_region_tree_pages_with_the_cursor_without_repeats() -> None:
    first = get("/regions", parent="510100", limit=3).json()
    second = get("/regions", parent="510100", limit=3, cursor=first["next_cursor"]).json()
    one = [r["code"] for r in first["items"]]
    two = [r["code"] for r in second["items"]]
    assert len(one) == 3 and two and not set(one) & set(two)


def test_one_region_with_its_lineage_and_centre() -> None:
    body = get("/regions/510104").json()
    assert body["name"] == "锦江区" and body["level"] == "county"
    assert body["lineage"] == ["510000", "510100", "510104"]
    assert body["centre_id"] is not None


def test_unknown_or_malformed_region_codes_are_refused_cleanly() -> None:
    assert_problem(get("/regions/999999"), 404)
    assert_problem(get("/regions/abc"), 422)
    assert_problem(get("/regions", parent="x" * 500), 422)
    assert_problem(get("/regions", level="galaxy"), 422)


def test_service_centres_are_public_and_filtered_by_region() -> None:
    body = get("/centres", region="510100", level="county", limit=100).json()
    assert body["items"] and all(c["region_code"].startswith("5101") for c in body["items"])
    assert all(c["level"] == "county" for c in body["items"])
    centre_id = body["items"][0]["id"]
    assert get(f"/centres/{centre_id}").json()["id"] == centre_id
    assert_problem(get("/centres/2147483647"), 404)
    assert_problem(get("/centres/99999999999999999999"), 422)


# --- The public expert directory -----------------------------------------------------------------


def test_public_directory_shows_no_contact_and_masks_numbers_in_free_text() -> None:
    tina = make_expert(
        "tina",
        "510104",
        "13900001234",
        fields="茶叶栽培",
        keywords="茶园 病虫害",
        capability="茶园绿色防控，联系 13912345678",
    )
    body = get("/experts", q="茶叶").json()
    assert [e["id"] for e in body["items"]] == [tina.pk]
    expert = body["items"][0]
    assert expert["display_name"] == "Tina" and expert["region"] == "成都市锦江区"
    assert "13912345678" not in expert["capability"] and "139****5678" in expert["capability"]
    text = str(body)
    assert "13900001234" not in text and "mobile" not in text
    # Text the database would refuse (a NUL) or too long for the search box is a 422.
    assert_problem(get("/experts", q="茶\x00"), 422)
    assert_problem(get("/experts", q="茶" * 51), 422)


def test_public_directory_filters_by_recognised_studio_level() -> None:
    lead = make_worker("lena", "510104", "13900002222")
    make_worker("other", "510104", "13900003333")
    Team.objects.create(
        kind=Team.Kind.STUDIO,
        name="茶香工作室",
        lead=lead,
        region_id="510104",
        recognition_level=Level.PREMIUM,
        recognised_year=2026,
    )
    body = get("/experts", level="premium").json()
    assert [e["id"] for e in body["items"]] == [lead.pk]
    assert body["items"][0]["studio_name"] == "茶香工作室"
    assert body["items"][0]["studio_level_label"] == "精品"
    assert get("/experts", level="typical").json()["items"] == []


# --- Staff: workers and teams --------------------------------------------------------------------


def test_workers_are_listed_in_the_jurisdiction_only_with_masked_mobiles(
    alice: User, bob: User, charlie: User
) -> None:
    jin = make_worker("jin", "510104", "13800001111")
    qing = make_worker("qing", "510822", "13800002222")
    assert ids(get("/workers", alice)) == {jin.pk}
    assert ids(get("/workers", bob)) == {jin.pk}
    assert ids(get("/workers", charlie)) == {qing.pk}
    item = get("/workers", alice).json()["items"][0]
    assert item["mobile_masked"] == "138****1111"
    assert "13800001111" not in str(get("/workers", alice).json())


def test_worker_profile_of_another_jurisdiction_is_404(alice: User, charlie: User) -> None:
    jin = make_worker("jin", "510104", "13800001111")
    TechResult.objects.create(owner_profile=jin, kind="patent", title="茶树扦插装置", year=2025)
    response = get(f"/workers/{jin.pk}", alice)
    assert response.status_code == 200
    body = response.json()
    assert body["results"][0]["title"] == "茶树扦插装置"
    assert body["mobile_masked"] == "138****1111"
    assert "id_number" not in str(body)
    assert response["ETag"] == f'"talentprofile-{jin.pk}-v1"'
    before = TalentProfile.objects.get(pk=jin.pk).version
    body = assert_problem(get(f"/workers/{jin.pk}", charlie), 404)
    assert "茶树" not in str(body)
    assert TalentProfile.objects.get(pk=jin.pk).version == before


def test_staff_lists_refuse_other_roles_and_missing_scopes(alice: User, erin: User) -> None:
    assert_problem(get("/workers", erin), 403)
    assert_problem(get("/teams", erin), 403)
    assert_problem(get("/organisations", erin), 403)
    assert_problem(get("/workers"), 401)
    body = assert_problem(get("/workers", alice, Scope.POPSCI_READ), 403)
    assert body["code"] == "insufficient_scope"


def test_teams_and_studios_by_kind_and_level_in_the_jurisdiction(
    alice: User, charlie: User
) -> None:
    lead = make_worker("lena", "510104", "13900002222")
    member = make_worker("mia", "510104", "13900004444")
    studio = Team.objects.create(
        kind=Team.Kind.STUDIO,
        name="茶香工作室",
        lead=lead,
        region_id="510104",
        recognition_level=Level.TYPICAL,
        recognised_year=2026,
        description="负责人电话 13900002222",
    )
    studio.members.add(member)
    team = Team.objects.create(kind=Team.Kind.TEAM, name="茶叶团队", lead=lead, region_id="510104")
    assert ids(get("/teams", alice)) == {studio.pk, team.pk}
    assert ids(get("/teams", alice, kind="studio")) == {studio.pk}
    assert ids(get("/teams", alice, level="any")) == {studio.pk}
    assert ids(get("/teams", alice, level="premium")) == set()
    assert ids(get("/teams", charlie)) == set()

    body = get(f"/teams/{studio.pk}", alice).json()
    assert body["team"]["recognition_level_label"] == "典型"
    assert body["members"][0]["mobile_masked"] == "139****4444"
    assert "13900002222" not in body["description"]
    assert_problem(get(f"/teams/{studio.pk}", charlie), 404)
    assert Team.objects.get(pk=studio.pk).members.count() == 1


def test_a_worker_reads_their_own_results_only(alice: User) -> None:
    jin = make_worker("jin", "510104", "13800001111")
    other = make_worker("qing", "510822", "13800002222")
    mine = TechResult.objects.create(owner_profile=jin, kind="paper", title="茶多酚研究")
    TechResult.objects.create(owner_profile=other, kind="paper", title="别人的成果")
    assert ids(get("/me/results", jin.user)) == {mine.pk}
    assert_problem(get("/me/results", alice), 403)


# --- Organisations -------------------------------------------------------------------------------


def test_organisations_in_the_jurisdiction_and_404_outside(
    alice: User, charlie: User, pat: User, tea_company: Any
) -> None:
    far = make_enterprise("青川木耳有限公司", "510822", "MA6100002")
    assert ids(get("/organisations", alice)) == {tea_company.pk}
    assert ids(get("/organisations", pat, kind="enterprise")) == {tea_company.pk, far.pk}
    assert ids(get("/organisations", pat, q="木耳")) == {far.pk}
    assert get(f"/organisations/{tea_company.pk}", alice).json()["name"] == "锦江茶业有限公司"
    assert_problem(get(f"/organisations/{tea_company.pk}", charlie), 404)
    assert_problem(get(f"/organisations/{far.pk}", alice), 404)


def test_an_enterprise_user_reads_their_own_organisation(erin: User, alice: User) -> None:
    body = get("/organisations/mine", erin).json()
    assert body["id"] == erin.organisation_id
    # Another enterprise's organisation is a staff read: the enterprise user is refused it.
    other = make_enterprise("别家公司", "510104", "MA6100003")
    assert_problem(get(f"/organisations/{other.pk}", erin), 403)
    assert_problem(get("/organisations/mine", alice), 403)


# --- The public case library ---------------------------------------------------------------------


def closed_case(actor: User, *, serial: str, title: str, consent: bool = True) -> Case:
    """A case of a new enterprise in 锦江区 taken through the workflow to its close (solved,
    confirmed with 5 stars), consented to the library unless told otherwise."""
    organisation = make_enterprise(f"企业{serial}", "510104", serial)
    user = make_enterprise_user(organisation, f"ent{serial}")
    demand = make_demand(
        organisation,
        title=title,
        description="联系人 13811112222，茶园病虫害",
        created_by=user,
        confidentiality=Demand.Confidentiality.PUBLIC,
    )
    case = case_open(demand=demand, actor=actor)
    for step in (Step.DIAGNOSIS, Step.MATCHING, Step.DOCKING, Step.AGREEMENT, Step.DELIVERY):
        reason = "企业自行找到合作方" if step == Step.AGREEMENT else ""
        case_transition(case=case, to_step=step, actor=actor, reason=reason)
    case_outcome_record(
        case=case,
        outcome=OutcomeInput(
            solved=True,
            contract_number=f"HT-{serial}",
            contract_amount=Decimal("8"),
            evidence=pdf_upload(),
        ),
        actor=actor,
    )
    case_confirm(case=case, actor=user, rating=5, comment="")
    if consent:
        case_library_consent(case=case, actor=user, granted=True, ip="127.0.0.1")
    case.refresh_from_db()
    return case


def test_case_library_lists_only_consented_cases_and_public_fields(pat: User) -> None:
    shown = closed_case(pat, serial="MA6100011", title="茶园绿色防控")
    hidden = closed_case(pat, serial="MA6100012", title="未授权案例", consent=False)
    body = get("/library/cases").json()
    assert {c["id"] for c in body["items"]} == {shown.pk}
    entry = get(f"/library/cases/{shown.pk}").json()
    assert entry["title"] == "茶园绿色防控" and entry["rating"] == 5
    assert "13811112222" not in str(entry)
    assert "HT-MA6100011" not in str(entry) and "contract" not in str(entry)
    # A case not in the library is a 404 for anyone, staff included.
    assert_problem(get(f"/library/cases/{hidden.pk}"), 404)
    assert_problem(get(f"/library/cases/{hidden.pk}", pat), 404)
    assert get("/library/cases", q="绿色").json()["items"][0]["id"] == shown.pk
    assert get("/library/cases", level="premium").json()["items"] == []
    assert_problem(get("/library/cases", year=1800), 422)
