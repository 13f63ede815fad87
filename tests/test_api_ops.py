"""Operations figures and performance scores over the API (ops:read): the indicator
catalogue; a region's figures exactly as the dashboard computes them, 404 outside the
jurisdiction; published schemes and the scores of the centres the caller may see.

Rollups are written directly, as the rollup job would. Cases opened: 锦江区 (510104) 5 in
May 2026 and 4 in April, 青羊区 (510105) 7 in May, 青川县 (510822) 6 in May. Cases closed in
March 2026 (2026H1): 锦江区 12, 青羊区 8, 青川县 4. Alice is staff at 锦江区, Bob at 成都市,
Charlie at 青川县, Pat at the province.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from kejiyun.accounts.models import User
from kejiyun.api.models import ApiToken, Scope
from kejiyun.api.tokens import token_issue
from kejiyun.ops.dashboard.selectors import headlines
from kejiyun.ops.indicators import CATALOGUE
from kejiyun.ops.models import Rollup
from kejiyun.ops.periods import Period
from kejiyun.ops.rollups import rollup_areas_refresh
from kejiyun.performance.models import Scheme
from kejiyun.performance.schemes.services import (
    ItemInput,
    SchemeInput,
    scheme_create,
    scheme_publish,
)
from kejiyun.regions.models import Region, ServiceCentre

pytestmark = pytest.mark.django_db

COVERED_FOREIGN: set[str] = {"ops_figures_get", "performance_scores_list"}

V1 = "/api/v1"


def get(url: str, user: User | None = None, *scopes: str, **params: Any) -> Any:
    headers: dict[str, str] = {}
    if user is not None:
        raw, _ = token_issue(
            user=user,
            kind=ApiToken.Kind.PERSONAL,
            lifetime=timedelta(days=1),
            scopes=list(scopes) or [Scope.OPS_READ],
        )
        headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return Client().get(f"{V1}{url}", params, **headers)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def month_row(code: str, key: str, month: date, num: int, den: int = 0) -> None:
    centre = ServiceCentre.objects.select_related("region").get(region_id=code)
    Rollup.objects.create(
        grain=Rollup.Grain.MONTH,
        start=month,
        indicator=key,
        centre=centre,
        path=centre.region.path,
        num=Decimal(num),
        den=den,
    )


@pytest.fixture
def rollups(db: None) -> None:
    month_row("510104", "cases_opened", date(2026, 5, 1), 5)
    month_row("510104", "cases_opened", date(2026, 4, 1), 4)
    month_row("510105", "cases_opened", date(2026, 5, 1), 7)
    month_row("510822", "cases_opened", date(2026, 5, 1), 6)
    for code, closed in {"510104": 12, "510105": 8, "510822": 4}.items():
        month_row(code, "cases_closed", date(2026, 3, 1), closed)
    for month in (date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)):
        rollup_areas_refresh(month=month)


# --- The catalogue -------------------------------------------------------------------------------


def test_the_indicator_catalogue_for_staff_only(alice: User, dora: User) -> None:
    body = get("/ops/indicators", alice).json()
    assert [i["key"] for i in body["items"]] == [i.key for i in CATALOGUE]
    first = body["items"][0]
    assert first["group_name"] == "注册" and first["kind"] == "count"
    assert_problem(get("/ops/indicators", dora), 403)
    assert_problem(get("/ops/indicators"), 401)
    assert_problem(get("/ops/indicators", alice, Scope.DIRECTORY), 403)


# --- Figures -------------------------------------------------------------------------------------


def row(body: dict[str, Any], key: str) -> dict[str, Any]:
    for group in body["headlines"]:
        for headline in group["rows"]:
            if headline["key"] == key:
                return headline
    raise AssertionError(key)


def test_figures_of_a_county_as_the_dashboard_computes_them(alice: User, rollups: None) -> None:
    body = get("/ops/regions/510104/figures", alice, period="2026-05").json()
    assert body["region_name"] == "锦江区" and body["period"]["label"] == "2026年5月"
    opened = row(body, "cases_opened")
    assert opened["value"] == 5.0 and opened["text"] == "5"
    assert opened["vs_previous"]["delta"] == 1.0 and opened["vs_previous"]["tone"] == "good"
    # The same numbers as the dashboard's own selector.
    expected = headlines(Region.objects.get(code="510104"), Period.parse("2026-05"))
    assert [h.value for g in expected for h in g.rows] == [
        h["value"] for g in body["headlines"] for h in g["rows"]
    ]


def test_city_figures_rank_its_counties(bob: User, rollups: None) -> None:
    body = get("/ops/regions/510100/figures", bob, period="2026-05").json()
    assert row(body, "cases_opened")["value"] == 12.0
    ranking = [(r["code"], r["rank"]) for r in body["ranking"] if r["rank"] is not None]
    assert ranking[:2] == [("510105", 1), ("510104", 2)]


def test_figures_outside_the_jurisdiction_are_404(
    alice: User, charlie: User, pat: User, rollups: None
) -> None:
    for code in ("510100", "510000", "510822"):
        assert_problem(get(f"/ops/regions/{code}/figures", alice, period="2026-05"), 404)
    assert_problem(get("/ops/regions/510104/figures", charlie, period="2026-05"), 404)
    # A township or an unknown code is no ops region either.
    assert_problem(get("/ops/regions/999999/figures", pat), 404)
    assert (
        row(get("/ops/regions/510822/figures", pat, period="2026-05").json(), "cases_opened")[
            "value"
        ]
        == 6.0
    )
    assert Rollup.objects.count() == 7


def test_bad_periods_and_indicators_are_clear_4xx(alice: User) -> None:
    body = assert_problem(get("/ops/regions/510104/figures", alice, period="2026-13"), 400)
    assert body["code"] == "bad_period"
    assert_problem(get("/ops/regions/510104/figures", alice, period="x" * 200), 422)
    assert_problem(get("/ops/regions/510104/figures", alice, indicator="nope"), 422)
    assert_problem(get("/ops/regions/5101/figures", alice), 422)
    default = get("/ops/regions/510104/figures", alice).json()
    assert default["period"]["token"].startswith(str(date.today().year))


# --- Performance scores --------------------------------------------------------------------------


def scheme(pat: User, *, publish: bool = True) -> Scheme:
    pat.user_permissions.add(Permission.objects.get(codename="manage_scheme"))
    manager = User.objects.get(pk=pat.pk)
    draft = scheme_create(
        actor=manager,
        data=SchemeInput(
            name="2026年上半年区县考核",
            period="2026H1",
            level=Scheme.Level.COUNTY,
            note="",
            discount_open_above=None,
            items=[ItemInput("cases_closed", Decimal(100), "target", Decimal(10))],
        ),
    )
    if not publish:
        return draft
    return scheme_publish(actor=manager, scheme=draft, expected_version=draft.version)


def test_published_scores_of_the_centres_the_caller_may_see(
    alice: User, bob: User, pat: User, rollups: None
) -> None:
    published = scheme(pat)
    listed = get("/performance/schemes", alice).json()["items"]
    assert [(s["id"], s["readable"]) for s in listed] == [(published.pk, True)]

    mine = get(f"/performance/schemes/{published.pk}/scores", alice).json()
    assert [(s["code"], s["total"], s["rank"], s["own"]) for s in mine["scores"]] == [
        ("510104", "100.00", 1, True)
    ]
    assert mine["scored"] > 3 and mine["problem"] == ""
    assert mine["scores"][0]["lines"][0]["key"] == "cases_closed"

    city = get(f"/performance/schemes/{published.pk}/scores", bob).json()["scores"]
    assert {s["code"] for s in city} >= {"510104", "510105"}
    assert all(s["code"].startswith("5101") for s in city)
    province = get(f"/performance/schemes/{published.pk}/scores", pat).json()["scores"]
    assert "510822" in {s["code"] for s in province}


def test_scores_of_a_draft_or_of_no_visible_centre_are_404(
    alice: User, charlie: User, pat: User, dora: User, rollups: None
) -> None:
    published = scheme(pat)
    body = get(f"/performance/schemes/{published.pk}/scores", charlie).json()
    assert [s["code"] for s in body["scores"]] == ["510822"]

    Scheme.objects.filter(pk=published.pk).update(level=Scheme.Level.CITY)
    # A city scheme scores no county centre: Alice sees none of it.
    assert_problem(get(f"/performance/schemes/{published.pk}/scores", alice), 404)
    Scheme.objects.filter(pk=published.pk).update(level=Scheme.Level.COUNTY)

    Scheme.objects.filter(pk=published.pk).update(status=Scheme.Status.DRAFT)
    assert_problem(get(f"/performance/schemes/{published.pk}/scores", alice), 404)
    assert_problem(get(f"/performance/schemes/{published.pk}/scores", pat), 404)
    assert get("/performance/schemes", alice).json()["items"] == []
    assert_problem(get(f"/performance/schemes/{published.pk}/scores", dora), 403)
    assert_problem(get("/performance/schemes/2147483647/scores", pat), 404)
    assert Scheme.objects.get(pk=published.pk).version == published.version
