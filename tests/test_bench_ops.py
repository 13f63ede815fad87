"""The bench-ops generator (bench/generate_ops.py) at a toy scale, on PostgreSQL only: the rows
it writes keep every constraint (foreign keys checked at the end), come in the promised
numbers, and keep their timestamps in order inside the three-year window."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from bench.generate_ops import GENERATED_TABLES, Plan, generate
from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.cases.models import Case, CaseEvent, DockingRequest
from kejiyun.demands.models import Demand, DemandEvent
from kejiyun.ops.compute import compute_days
from kejiyun.ops.indicators import CATALOGUE, Group
from kejiyun.ops.rollups import rollup_days
from kejiyun.plans.models import PlanAction, ServicePlan
from kejiyun.popsci.models import (
    Activity,
    ActivitySignup,
    Article,
    Campaign,
    CitizenProfile,
    Delivery,
    QuizAttempt,
    ReadEvent,
)
from kejiyun.talent.models import TalentProfile, Team

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the generator is PostgreSQL SQL"),
]

SCALE = 0.0001
NOW = datetime(2026, 12, 7, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def one(sql: str, params: list[object] | None = None) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return int(cur.fetchone()[0])


@pytest.fixture(scope="module")
def counts(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, int]]:
    """The toy history, generated once for the module and committed (its foreign keys are
    checked at the commit); the generated tables are emptied afterwards."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            generated = generate(
                scale=SCALE, now=NOW, fresh=False, check_constraints=True, say=lambda _: None
            )
        yield generated
        with connection.cursor() as cur:
            cur.execute("TRUNCATE " + ", ".join(GENERATED_TABLES) + " CASCADE")


def test_the_toy_scale_generates_the_promised_numbers_of_people_and_demands(
    counts: dict[str, int],
) -> None:
    sizes = Plan(SCALE).sizes
    assert sizes["workers"] == 100
    assert sizes["citizens"] == 1000
    assert TalentProfile.objects.count() == 100
    assert User.objects.filter(role=Role.WORKER).count() == 100
    assert CitizenProfile.objects.filter(user__role=Role.CITIZEN).count() == 1000
    assert Organisation.objects.filter(kind=Organisation.Kind.ENTERPRISE).count() >= 20
    assert User.objects.filter(role=Role.ENTERPRISE, username__startswith="b").count() == 20
    assert Demand.objects.count() == 30
    assert Team.objects.count() == 2
    assert Article.objects.count() == 2
    assert Activity.objects.count() == 1
    assert ActivitySignup.objects.count() == 50
    assert ReadEvent.objects.count() == 500
    assert QuizAttempt.objects.count() == 100
    assert counts["demands_demand"] == 30
    assert counts["cases_case"] == Case.objects.count()
    assert counts["popsci_delivery"] == Delivery.objects.count()
    assert Delivery.objects.count() == 500 * Campaign.objects.filter(status="sent").count()


def test_every_closed_demand_has_a_closed_case_and_only_published_demands_have_cases(
    counts: dict[str, int],
) -> None:
    closed = Demand.objects.filter(status=Demand.Status.CLOSED)
    assert Case.objects.filter(demand__in=closed, step="closed").count() == closed.count()
    assert not Case.objects.exclude(demand__status__in=["published", "closed"]).exists()
    assert not Case.objects.filter(step="closed", outcome="").exists()
    assert Case.objects.filter(step="closed").count() == (
        CaseEvent.objects.filter(kind="transition", to_step="closed").count()
    )
    assert Case.objects.count() == CaseEvent.objects.filter(kind="opened").count()
    published = DemandEvent.objects.filter(to_status="published").count()
    assert published == Demand.objects.filter(status__in=["published", "closed"]).count()


def test_timestamps_keep_their_order_inside_the_three_year_window(
    counts: dict[str, int],
) -> None:
    start = NOW - timedelta(days=3 * 365 + 1)
    assert one("SELECT count(*) FROM accounts_user WHERE date_joined > now()") == 0
    assert not User.objects.filter(date_joined__lt=start, username__startswith="b").exists()
    assert not User.objects.filter(date_joined__gt=NOW).exists()
    assert (
        one(
            "SELECT count(*) FROM talent_talentprofile WHERE verified_at < created_at "
            "OR verified_at > %s",
            [NOW],
        )
        == 0
    )
    assert 0 < TalentProfile.objects.filter(verified=True).count() < 100
    assert (
        one(
            "SELECT count(*) FROM demands_demand WHERE submitted_at < created_at "
            "OR published_at < submitted_at"
        )
        == 0
    )
    assert (
        one(
            "SELECT count(*) FROM cases_case c JOIN demands_demand d ON d.id = c.demand_id "
            "WHERE c.opened_at < d.published_at OR c.closed_at < c.opened_at "
            "OR c.escalated_at < c.opened_at OR c.escalated_at > c.closed_at"
        )
        == 0
    )
    assert (
        one(
            "SELECT count(*) FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id "
            "WHERE e.created_at < c.opened_at OR e.created_at > coalesce(c.closed_at, now())"
        )
        == 0
    )
    assert (
        one(
            "SELECT count(*) FROM cases_dockingrequest r JOIN cases_case c ON c.id = r.case_id "
            "WHERE r.created_at < c.opened_at OR r.responded_at < r.created_at "
            "OR r.responded_at > coalesce(c.closed_at, now())"
        )
        == 0
    )
    assert (
        one(
            "SELECT count(*) FROM popsci_readevent e JOIN popsci_article a ON a.id = e.article_id "
            "WHERE a.status <> 'published' OR e.opened_at < a.published_at "
            "OR e.finished_at < e.opened_at"
        )
        == 0
    )
    assert (
        one(
            "SELECT count(*) FROM popsci_delivery d JOIN popsci_campaign c ON c.id = d.campaign_id "
            "WHERE d.opened_at < c.sent_at OR d.read_to_end_at < d.opened_at"
        )
        == 0
    )
    assert (
        one(
            "SELECT count(*) FROM plans_planaction a JOIN plans_serviceplan p ON p.id = a.plan_id "
            "WHERE a.done_at < p.created_at"
        )
        == 0
    )
    assert not PlanAction.objects.filter(done_at__isnull=True, done_by__isnull=False).exists()
    assert ServicePlan.objects.filter(profile__verified=False).count() == 0
    assert not DockingRequest.objects.filter(status="declined", decline_reason="").exists()


def test_every_record_sits_in_a_sichuan_region_served_by_the_centre_it_names(
    counts: dict[str, int],
) -> None:
    assert (
        one(
            "SELECT count(*) FROM demands_demand d JOIN regions_region r ON r.code = d.region_id "
            "WHERE r.path NOT LIKE '510000/%%'"
        )
        == 0
    )
    assert (
        one(
            "SELECT count(*) FROM cases_case c JOIN regions_region r ON r.code = c.region_id "
            "JOIN regions_servicecentre s ON s.id = c.centre_id "
            "JOIN regions_region sr ON sr.code = s.region_id "
            "WHERE sr.level <> 'county' OR r.path NOT LIKE sr.path || '%%'"
        )
        == 0
    )


def test_rollups_of_the_generated_history_pass_ops_verify(counts: dict[str, int]) -> None:
    first, last = date(2026, 10, 1), date(2026, 12, 7)
    rollup_days(start=first, end=last)
    out = io.StringIO()
    call_command("ops_verify", "--from", str(first), "--to", str(last), stdout=out)
    assert "全部一致" in out.getvalue()


def test_the_generated_history_gives_every_indicator_a_figure_over_three_years(
    counts: dict[str, int],
) -> None:
    days = compute_days(date(2023, 12, 7), date(2026, 12, 7))
    empty = [key for key, cells in days.items() if not any(c for c in cells.values())]
    # Docking events (issue 13) are not in the generated history yet: their four indicators
    # are the only ones without a figure (tests/test_ops_rollups.py covers them).
    not_generated = [i.key for i in CATALOGUE if i.group == Group.EVENTS]
    assert len(not_generated) == 4
    assert empty == not_generated
