"""Confirmed gaming is taken off before scoring (`kejiyun/performance/discounts.py`), on a real
database: cases, demands, accounts and deliveries are real rows, the rollups are computed by
the rollup job, and the flags are Flag rows written directly.

The county scheme for 2026H1 has two items:

    cases_closed       weight 60, TARGET 5 (higher is better)
    satisfaction_mean  weight 40, MINMAX across the counties with ratings

In March 2026 锦江区 (510104) closes 3 honest cases rated 4 and 3 hollow ones rated 5;
青羊区 (510105) closes 5 honest cases rated 4. No other county has cases.

Without discounts (hand-computed):
    锦江区 cases 6 → min(6/5, 1) = 1 → 60.00; satisfaction (3·4 + 3·5)/6 = 4.50, the highest
           → 1 → 40.00; total 100.00, rank 1
    青羊区 cases 5 → 1 → 60.00; satisfaction 4.00, the lowest → 0 → 0.00; total 60.00, rank 2
With the 3 hollow closures confirmed:
    锦江区 cases 3 → 3/5 = 0.6 → 36.00; satisfaction 12/3 = 4.00; 青羊区 4.00 too: all equal
           → 1 → 40.00; total 76.00, rank 2
    青羊区 60.00 + 40.00 = 100.00, rank 1
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from kejiyun.accounts.models import User
from kejiyun.cases.models import Case, Outcome, Step
from kejiyun.common.workdays import BEIJING
from kejiyun.integrity.models import Flag, Kind, Subject
from kejiyun.ops.indicators import BY_KEY
from kejiyun.ops.periods import Period
from kejiyun.ops.rollups import rollup_days
from kejiyun.ops.selectors import Figure
from kejiyun.performance.discounts import Removal, removals
from kejiyun.performance.models import Normalisation, Scheme, SchemeItem
from kejiyun.performance.schemes.selectors import measure, scheme_measures, scheme_scores
from kejiyun.popsci.models import Campaign, CitizenProfile, Delivery
from kejiyun.regions.models import ServiceCentre
from tests.builders import (
    make_campaign,
    make_case,
    make_citizen,
    make_demand,
    make_enterprise,
    make_staff,
    make_worker,
)

CLOSED_AT = datetime(2026, 3, 10, 10, 0, tzinfo=BEIJING)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
H1 = Period.parse("2026H1")


def _closed(county: str, serial: str, rating: int) -> Case:
    case = make_case(None, county=county, serial=serial)
    Case.objects.filter(pk=case.pk).update(
        step=Step.CLOSED,
        outcome=Outcome.SOLVED,
        closed_at=CLOSED_AT,
        rating=rating,
        contract_amount=Decimal("1.5"),
        contract_number=f"HT-{serial}",
    )
    return case


@pytest.fixture
def world(pat: User) -> dict[str, object]:
    honest = [_closed("510104", f"1{i}", 4) for i in range(3)]
    hollow = [_closed("510104", f"2{i}", 5) for i in range(3)]
    other = [_closed("510105", f"3{i}", 4) for i in range(5)]
    rollup_days(start=MARCH[0], end=MARCH[1])
    scheme = Scheme.objects.create(
        name="2026年上半年区县考核", period="2026H1", level=Scheme.Level.COUNTY, created_by=pat
    )
    SchemeItem.objects.create(
        scheme=scheme,
        indicator="cases_closed",
        weight=Decimal(60),
        normalisation=Normalisation.TARGET,
        target=Decimal(5),
        position=0,
    )
    SchemeItem.objects.create(
        scheme=scheme,
        indicator="satisfaction_mean",
        weight=Decimal(40),
        normalisation=Normalisation.MINMAX,
        position=1,
    )
    return {"scheme": scheme, "honest": honest, "hollow": hollow, "other": other}


def _flag(kind: str, subject: str, pk: int, *, status: str, confidence: float = 0.9) -> Flag:
    return Flag.objects.create(
        kind=kind,
        subject_type=subject,
        subject_id=pk,
        centre=ServiceCentre.objects.get(region_id="510104"),
        day=CLOSED_AT.date(),
        reason="结案过快且佐证材料重复",
        confidence=confidence,
        status=status,
    )


def _by_code(scheme: Scheme) -> dict[str, tuple[Decimal, int]]:
    return {s.code: (s.total, s.rank) for s in scheme_scores(scheme)}


@pytest.mark.django_db
def test_without_flags_the_gamed_centre_leads(world: dict[str, object]) -> None:
    scores = _by_code(world["scheme"])  # type: ignore[arg-type]
    assert scores["510104"] == (Decimal("100.00"), 1)
    assert scores["510105"] == (Decimal("60.00"), 2)
    # Every county centre of the province is scored; those without figures score 0.
    assert (
        len(scores)
        == ServiceCentre.objects.filter(
            region__level="county", region__path__startswith="510000/"
        ).count()
    )
    assert scores["510822"][0] == Decimal("0.00")


@pytest.mark.django_db
def test_confirmed_gaming_changes_score_and_rank(world: dict[str, object]) -> None:
    scheme: Scheme = world["scheme"]  # type: ignore[assignment]
    for case in world["hollow"]:  # type: ignore[attr-defined]
        _flag(Kind.HOLLOW_CLOSURE, Subject.CASE, case.pk, status=Flag.Status.CONFIRMED)
    scores = _by_code(scheme)
    assert scores["510104"] == (Decimal("76.00"), 2)
    assert scores["510105"] == (Decimal("100.00"), 1)
    jinjiang = next(s for s in scheme_scores(scheme) if s.code == "510104")
    cases = jinjiang.lines[0]
    assert (cases.raw, cases.discount, cases.net) == (Decimal(6), Decimal(3), Decimal(3))
    assert cases.how == (
        "结案 3 件（原始 6 件，扣除已确认的空壳结案 3 件）÷ 目标 5 件 = 0.60，"
        "得 60.00 × 0.60 = 36.00 分"
    )
    mean = jinjiang.lines[1]
    assert (mean.raw, mean.net, mean.discount) == (
        Decimal("4.50"),
        Decimal("4.00"),
        Decimal("0.50"),
    )
    assert "分子减 15，分母减 3" in mean.how


@pytest.mark.django_db
def test_cleared_and_open_flags_do_not_count(world: dict[str, object]) -> None:
    scheme: Scheme = world["scheme"]  # type: ignore[assignment]
    hollow = world["hollow"]
    _flag(Kind.HOLLOW_CLOSURE, Subject.CASE, hollow[0].pk, status=Flag.Status.CLEARED)  # type: ignore[index]
    _flag(Kind.HOLLOW_CLOSURE, Subject.CASE, hollow[1].pk, status=Flag.Status.OPEN)  # type: ignore[index]
    _flag(Kind.RATING_RING, Subject.CASE, hollow[2].pk, status=Flag.Status.OPEN, confidence=0.5)  # type: ignore[index]
    assert _by_code(scheme)["510104"] == (Decimal("100.00"), 1)
    # With the threshold at 0.8 the open flag at 0.9 counts; the one at 0.5 and the cleared
    # one do not: 锦江区 5 cases (1 → 60.00), mean (3·4 + 2·5)/5 = 4.40 still the highest.
    scheme.discount_open_above = Decimal("0.80")
    scheme.save()
    _items, centres = scheme_measures(scheme)
    jinjiang = next(c for c in centres if c.code == "510104")
    assert jinjiang.measures["cases_closed"].net == Decimal(5)
    assert jinjiang.measures["satisfaction_mean"].net == Decimal("4.40")
    assert "置信度不低于 0.80 的待复核" in jinjiang.measures["cases_closed"].discount_note


@pytest.mark.django_db
def test_flags_outside_the_period_or_on_cases_closed_outside_it_do_not_count(
    world: dict[str, object],
) -> None:
    scheme: Scheme = world["scheme"]  # type: ignore[assignment]
    flag = _flag(
        Kind.HOLLOW_CLOSURE,
        Subject.CASE,
        world["hollow"][0].pk,
        status=Flag.Status.CONFIRMED,  # type: ignore[index]
    )
    Flag.objects.filter(pk=flag.pk).update(day=date(2026, 7, 1))
    assert _by_code(scheme)["510104"] == (Decimal("100.00"), 1)


@pytest.mark.django_db
def test_a_case_flagged_twice_is_taken_off_once(world: dict[str, object]) -> None:
    case = world["hollow"][0]  # type: ignore[index]
    _flag(Kind.HOLLOW_CLOSURE, Subject.CASE, case.pk, status=Flag.Status.CONFIRMED)
    _flag(Kind.SELF_DEALING, Subject.CASE, case.pk, status=Flag.Status.CONFIRMED)
    taken = removals(H1, {"510000/510100/510104/": 1}, None)
    assert taken[1]["cases_closed"].num == 1
    assert taken[1]["contract_amount"].num == Decimal(15000)
    assert taken[1]["closed_on_time_share"].num == 1
    assert taken[1]["closed_on_time_share"].den == 1
    assert taken[1]["rated_share"].den == 1
    assert "solved_with_evidence" not in taken[1]  # no evidence file on these cases
    assert dict(taken[1]["cases_closed"].records) == {Kind.SELF_DEALING: 1}


@pytest.mark.django_db
def test_demands_accounts_and_reads(pat: User) -> None:
    """Duplicate demands, quota accounts of each role and scripted reading reduce their
    indicators for the centre the record counts for."""
    alice = make_staff("alice", "510104")
    when = datetime(2026, 2, 3, 9, 0, tzinfo=BEIJING)
    org = make_enterprise("模板公司", "510104", "77")
    demand = make_demand(org, title="模板需求", published_at=when)
    worker = make_worker("w1", "510104", "13800000001")
    type(worker).objects.filter(pk=worker.pk).update(created_at=when)
    citizen = make_citizen("c1", "510104", mobile="13800000002", consent=True)
    CitizenProfile.objects.filter(user=citizen).update(created_at=when)
    enterprise_user = User.objects.create_user(
        username="e1", password="x", role="enterprise", organisation=org, region_id="510104"
    )
    type(org).objects.filter(pk=org.pk).update(created_at=when)
    campaign = make_campaign(alice)
    Campaign.objects.filter(pk=campaign.pk).update(sent_at=when)
    Delivery.objects.create(
        campaign=campaign,
        citizen=citizen.citizen_profile,
        created_at=when,
        read_to_end_at=when + timedelta(hours=1),
    )
    for kind, subject, pk in [
        (Kind.DUPLICATE_DEMAND, Subject.DEMAND, demand.pk),
        (Kind.QUOTA_ACCOUNT, Subject.ACCOUNT, worker.user_id),
        (Kind.QUOTA_ACCOUNT, Subject.ACCOUNT, citizen.pk),
        (Kind.QUOTA_ACCOUNT, Subject.ACCOUNT, enterprise_user.pk),
        (Kind.SCRIPTED_READING, Subject.ACCOUNT, citizen.pk),
    ]:
        Flag.objects.create(
            kind=kind,
            subject_type=subject,
            subject_id=pk,
            day=when.date(),
            reason="测试",
            confidence=0.99,
            status=Flag.Status.CONFIRMED,
        )
    centre = ServiceCentre.objects.get(region_id="510104")
    taken = removals(H1, {centre.region.path: centre.pk}, None)[centre.pk]
    assert taken["demands_published"].num == 1
    assert taken["workers_registered"].num == 1
    assert taken["citizens_registered"].num == 1
    assert taken["enterprises_registered"].num == 1
    assert taken["campaign_reach"].num == 1
    assert (taken["read_to_end_share"].num, taken["read_to_end_share"].den) == (1, 1)
    assert (
        taken["demands_published"].note("已确认", ratio=False) == "扣除已确认的模板或重复需求 1 项"
    )
    # A city scheme counts the same records for the city (成都市) they lie in.
    city = ServiceCentre.objects.get(region_id="510100")
    assert removals(H1, {city.region.path: city.pk}, None)[city.pk]["demands_published"].num == 1
    # Another half-year: nothing.
    assert removals(Period.parse("2026H2"), {centre.region.path: centre.pk}, None) == {}


def test_a_discount_never_makes_a_share_above_100_percent_nor_a_count_negative() -> None:
    """The rollup and the flagged records are read separately: when they disagree (a case
    counted under another centre or day since), taking the records off must not push a
    share above 100 % nor a count below 0."""
    on_time = Figure(BY_KEY["closed_on_time_share"], num=Decimal(3), den=3)
    gone = Removal()
    gone.take(Kind.HOLLOW_CLOSURE, 0, 1)  # an escalated case: 0 on time out of 1
    result = measure(on_time, gone, "已确认")
    assert result.raw == Decimal("100.00")
    assert result.net == Decimal("100.00")
    assert result.discount == Decimal(0)
    closed = Figure(BY_KEY["cases_closed"], num=Decimal(1), den=0)
    more = Removal()
    more.take(Kind.HOLLOW_CLOSURE, 2)
    assert measure(closed, more, "已确认").net == Decimal(0)


def test_taking_gaming_off_never_raises_a_share() -> None:
    """A confirmed hollow closure that was late would, taken off, lift the on-time share
    from 2/4 to 2/3: the net stays at the raw 50 % (gaming never helps), while a flagged
    case that was on time lowers it (3/4 → 2/3)."""
    on_time = Figure(BY_KEY["closed_on_time_share"], num=Decimal(2), den=4)
    late = Removal()
    late.take(Kind.HOLLOW_CLOSURE, 0, 1)
    result = measure(on_time, late, "已确认")
    assert (result.raw, result.net, result.discount) == (
        Decimal("50.00"),
        Decimal("50.00"),
        Decimal(0),
    )
    was_on_time = Figure(BY_KEY["closed_on_time_share"], num=Decimal(3), den=4)
    punctual = Removal()
    punctual.take(Kind.HOLLOW_CLOSURE, 1, 1)
    lowered = measure(was_on_time, punctual, "已确认")
    assert (lowered.raw, lowered.net) == (Decimal("75.00"), Decimal("66.67"))
    assert lowered.discount == Decimal("8.33")
