"""`manage.py seed_demo`: deterministic, idempotent demo data for Sichuan."""

from __future__ import annotations

import hashlib
import string
from collections import Counter
from collections.abc import Iterable
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.accounts.validators import is_valid_mobile, is_valid_uscc
from kejiyun.cases.models import Case, Step
from kejiyun.demands.models import Demand
from kejiyun.demo import vocab
from kejiyun.demo.seed import (
    BASE_MOMENT,
    DEMO_PASSWORD,
    QUIZ_EVERY,
    DemoError,
    DemoPlan,
    DemoResult,
    demo_login_usernames,
    demo_plan,
    demo_seed,
    province_region_rows,
)
from kejiyun.demo.workflows import DemoWorkflows, demo_county_codes, demo_workflows_seed
from kejiyun.events.models import Event
from kejiyun.integrity.models import Flag, Kind
from kejiyun.ops.models import Bulletin, Rollup, WorkReport
from kejiyun.performance.models import Allocation, Scheme
from kejiyun.performance.schemes.selectors import scheme_scores
from kejiyun.plans.models import PlanEvent, ServicePlan
from kejiyun.popsci.models import (
    Activity,
    Article,
    CitizenProfile,
    ConsentRecord,
    QuizQuestion,
    Segment,
    Topic,
)
from kejiyun.popsci.targeting.selectors import current_consent_version
from kejiyun.regions.models import Region
from kejiyun.talent.models import TalentProfile

SMALL = DemoResult(
    staff=4,
    workers=600,
    profiles=600,
    enterprises=150,
    enterprise_users=150,
    demands=300,
    articles=80 - 27,  # every third article goes through the content services instead
    citizens=60,
    citizen_profiles=60,
    reviewers=1,
)
NOTHING = DemoResult(
    staff=0,
    workers=0,
    profiles=0,
    enterprises=0,
    enterprise_users=0,
    demands=0,
    articles=0,
    citizens=0,
    citizen_profiles=0,
)


@pytest.fixture
def seeded(db: None) -> DemoResult:
    """The bulk rows and the records that go through the services (not the demo cases)."""
    result = demo_seed(scale="small", seed=1)
    demo_workflows_seed(scale="small", seed=1)
    return result


def small_plan(seed: int = 1) -> DemoPlan:
    return demo_plan(scale="small", seed=seed, regions=province_region_rows("510000"))


def row_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "profiles": TalentProfile.objects.count(),
        "organisations": Organisation.objects.count(),
        "demands": Demand.objects.count(),
        "articles": Article.objects.count(),
        "citizen_profiles": CitizenProfile.objects.count(),
        "consent_records": ConsentRecord.objects.count(),
        "plans": ServicePlan.objects.count(),
        "questions": QuizQuestion.objects.count(),
        "activities": Activity.objects.count(),
        "submitted": Demand.objects.filter(status=Demand.Status.SUBMITTED).count(),
    }


def digest(lines: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def sichuan_county_codes() -> set[str]:
    return set(
        Region.objects.filter(path__startswith="510000/", level=Region.Level.COUNTY).values_list(
            "code", flat=True
        )
    )


@pytest.mark.django_db
def test_a_small_seed_creates_the_stated_number_of_each_kind_of_row(seeded: DemoResult) -> None:
    assert seeded == SMALL
    assert User.objects.filter(role=Role.STAFF, username__startswith="demo_staff_").count() == 4
    assert User.objects.filter(role=Role.WORKER, username__startswith="demo_w_").count() == 600
    assert TalentProfile.objects.filter(user__username__startswith="demo_w_").count() == 600
    assert Organisation.objects.filter(kind=Organisation.Kind.ENTERPRISE).count() == 150
    assert User.objects.filter(role=Role.ENTERPRISE, username__startswith="demo_e_").count() == 150
    assert Demand.objects.count() == 300
    assert Article.objects.count() == 80
    assert User.objects.filter(role=Role.REVIEWER, username="demo_reviewer").count() == 1
    assert User.objects.filter(role=Role.CITIZEN, username__startswith="demo_c_").count() == 60


@pytest.mark.django_db
def test_seeding_again_with_the_same_arguments_creates_nothing(seeded: DemoResult) -> None:
    before = row_counts()

    again = demo_seed(scale="small", seed=1)
    flows = demo_workflows_seed(scale="small", seed=1)

    assert again == NOTHING
    assert flows == DemoWorkflows(plans=0, submitted_demands=0, content=0, activities=0)
    assert row_counts() == before


@pytest.mark.django_db
def test_the_database_holds_exactly_what_the_generator_plans_for_the_seed(
    seeded: DemoResult,
) -> None:
    plan = small_plan()
    planned_workers = [
        f"{w.person.username}|{w.person.display_name}|{w.person.mobile}|{w.person.region_code}|"
        f"{w.employer}|{w.title}|{w.fields}|{w.keywords}|{w.capability}|{w.verified}|"
        f"{sorted(w.industries)}|{sorted(w.disciplines)}|{w.service_modes}"
        for w in plan.workers
    ]
    stored_workers = [
        f"{p.user.username}|{p.user.display_name}|{p.user.mobile}|{p.region_id}|"
        f"{p.employer}|{p.title}|{p.fields}|{p.keywords}|{p.capability}|{p.verified}|"
        f"{sorted(i.code for i in p.industries.all())}|"
        f"{sorted(d.code for d in p.disciplines.all())}|{p.service_modes}"
        for p in TalentProfile.objects.select_related("user").prefetch_related(
            "industries", "disciplines"
        )
    ]
    planned_enterprises = [
        f"{e.uscc}|{e.name}|{e.region_code}|{e.industry}" for e in plan.enterprises
    ]
    stored_enterprises = [
        f"{o.uscc}|{o.name}|{o.region_id}|{o.industry}" for o in Organisation.objects.all()
    ]
    planned_demands = [
        f"{d.uscc}|{d.title}|{d.status}|{d.description}|{d.problem}|{d.target_indicators}"
        for d in plan.demands
    ]
    stored_demands = [
        f"{d.organisation.uscc}|{d.title}|{d.status}|{d.description}|{d.problem}|"
        f"{d.target_indicators}"
        for d in Demand.objects.select_related("organisation")
    ]
    planned_articles = [f"{a.title}|{a.region_code}|{a.body}" for a in plan.articles]
    stored_articles = [f"{a.title}|{a.region_id}|{a.body}" for a in Article.objects.all()]

    assert digest(stored_workers) == digest(planned_workers)
    assert digest(stored_enterprises) == digest(planned_enterprises)
    assert digest(stored_demands) == digest(planned_demands)
    assert digest(stored_articles) == digest(planned_articles)


@pytest.mark.django_db
def test_the_same_seed_always_plans_the_same_content_and_another_seed_does_not() -> None:
    first, again, other = small_plan(1), small_plan(1), small_plan(2)

    assert first == again
    assert [w.person.display_name for w in first.workers] != [
        w.person.display_name for w in other.workers
    ]
    assert {e.uscc for e in first.enterprises}.isdisjoint({e.uscc for e in other.enterprises})


@pytest.mark.django_db
def test_the_small_data_set_is_the_beginning_of_the_large_one_for_the_same_seed() -> None:
    regions = province_region_rows("510000")
    small = demo_plan(scale="small", seed=1, regions=regions)
    large = demo_plan(scale="large", seed=1, regions=regions)

    assert (len(large.workers), len(large.enterprises), len(large.demands)) == (
        100_000,
        20_000,
        40_000,
    )
    assert (len(large.articles), len(large.citizens)) == (500, 2_000)
    assert large.workers[:600] == small.workers
    assert large.enterprises[:150] == small.enterprises
    assert large.demands[:300] == small.demands
    assert large.articles[:80] == small.articles
    assert large.citizens[:60] == small.citizens
    assert large.citizen_profiles[:60] == small.citizen_profiles


@pytest.mark.django_db
def test_every_enterprise_has_a_valid_uscc_registered_in_its_own_county(
    seeded: DemoResult,
) -> None:
    rows = list(
        Organisation.objects.filter(kind=Organisation.Kind.ENTERPRISE).values_list(
            "uscc", "region_id"
        )
    )

    assert len(rows) == 150
    assert [uscc for uscc, _ in rows if not (uscc and is_valid_uscc(uscc))] == []
    assert [uscc for uscc, region in rows if uscc and uscc[:8] != f"91{region}"] == []


@pytest.mark.django_db
def test_every_demo_mobile_is_a_valid_unique_number_with_its_roles_prefix(
    seeded: DemoResult,
) -> None:
    prefixes = {Role.WORKER: "139", Role.ENTERPRISE: "138", Role.CITIZEN: "137", Role.STAFF: "136"}
    rows = [
        (u.mobile, u.role)
        # demo_auditor signs in by username and has no mobile
        for u in User.objects.filter(username__startswith="demo_").exclude(role=Role.AUDITOR)
    ]

    prefixes[Role.REVIEWER] = "135"
    assert len(rows) == 815
    assert [m for m, _ in rows if not (m and is_valid_mobile(m))] == []
    assert [m for m, role in rows if m and not m.startswith(prefixes[Role(role)])] == []
    assert len({m for m, _ in rows}) == 815


@pytest.mark.django_db
def test_workers_cover_all_183_sichuan_counties(seeded: DemoResult) -> None:
    counties = sichuan_county_codes()

    assert len(counties) == 183
    assert set(TalentProfile.objects.values_list("region_id", flat=True)) == counties
    assert (
        set(User.objects.filter(role=Role.WORKER).values_list("region_id", flat=True)) == counties
    )


@pytest.mark.django_db
def test_only_the_demo_login_accounts_can_sign_in_and_they_share_the_demo_password(
    seeded: DemoResult,
) -> None:
    users = list(User.objects.filter(username__startswith="demo_"))
    usable = {u.username for u in users if u.has_usable_password()}

    assert usable == set(demo_login_usernames(scale="small"))
    assert len(usable) == 66  # demo_auditor included
    assert User.objects.get(username="demo_reviewer").check_password(DEMO_PASSWORD)
    assert User.objects.get(username="demo_w_000020").check_password(DEMO_PASSWORD)
    assert User.objects.get(username="demo_staff_jinjiang").check_password(DEMO_PASSWORD)
    assert not User.objects.get(username="demo_w_000021").check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_demo_staff_work_at_the_centre_of_their_own_region(seeded: DemoResult) -> None:
    staff = {
        u.username: (u.centre.region_id if u.centre else None, u.region_id)
        for u in User.objects.filter(role=Role.STAFF).select_related("centre")
    }

    assert staff == {
        "demo_staff_province": ("510000", "510000"),
        "demo_staff_chengdu": ("510100", "510100"),
        "demo_staff_jinjiang": ("510104", "510104"),
        "demo_staff_shuangliu": ("510116", "510116"),
    }


@pytest.mark.django_db
def test_each_enterprise_account_belongs_to_its_enterprise_in_the_same_county(
    seeded: DemoResult,
) -> None:
    accounts = User.objects.filter(role=Role.ENTERPRISE).select_related("organisation")
    mismatched = [
        u.username for u in accounts if u.organisation and u.organisation.region_id != u.region_id
    ]

    assert accounts.count() == 150
    assert mismatched == []
    assert Organisation.objects.filter(members__role=Role.ENTERPRISE).distinct().count() == 150


@pytest.mark.django_db
def test_demands_are_mostly_published_with_every_status_present(seeded: DemoResult) -> None:
    planned = Counter(d.status for d in small_plan().demands)
    stored = Counter(Demand.objects.values_list("status", flat=True))

    assert stored == planned
    assert set(stored) == {"published", "closed", "draft", "submitted"}
    assert stored["published"] > 200
    assert set(Demand.objects.values_list("category", flat=True)) <= set(Demand.Category.values)
    demand = Demand.objects.select_related("organisation").first()
    assert demand is not None
    assert demand.region_id == demand.organisation.region_id
    assert "存在问题：" in demand.description
    assert "目标指标：" in demand.description


@pytest.mark.django_db
def test_articles_are_published_at_fixed_times_for_the_province_cities_and_counties(
    seeded: DemoResult,
) -> None:
    articles = list(Article.objects.select_related("region"))
    levels = Counter(a.region.level if a.region else "province-wide" for a in articles)
    published = [a for a in articles if a.status == Article.Status.PUBLISHED]

    # A few of the centres' quizzed articles wait in the reviewer's queue.
    assert Counter(a.status for a in articles) == {
        Article.Status.PUBLISHED: 77,
        Article.Status.IN_REVIEW: 3,
    }
    assert [a.title for a in published if a.published_at is None] == []
    assert max(a.published_at for a in published if a.published_at) <= BASE_MOMENT
    assert set(levels) == {"province-wide", Region.Level.CITY, Region.Level.COUNTY}
    assert {a.topic for a in articles} == set(Topic.values) - {Topic.DISASTER}
    assert min(a.body.count("\n\n") for a in articles) == 4


@pytest.mark.django_db
def test_citizens_live_in_a_sichuan_county_or_township(seeded: DemoResult) -> None:
    levels = Counter(User.objects.filter(role=Role.CITIZEN).values_list("region__level", flat=True))

    assert set(levels) == {Region.Level.COUNTY, Region.Level.TOWNSHIP}
    assert sum(levels.values()) == 60
    assert (
        User.objects.filter(role=Role.CITIZEN).exclude(region__path__startswith="510000/").count()
        == 0
    )


@pytest.mark.django_db
def test_seeding_over_demo_data_from_another_seed_is_refused_and_changes_nothing(
    seeded: DemoResult,
) -> None:
    before = row_counts()

    with pytest.raises(DemoError, match="another --seed"):
        demo_seed(scale="small", seed=2)

    assert row_counts() == before


@pytest.mark.django_db
def test_an_unknown_scale_is_refused() -> None:
    with pytest.raises(DemoError, match="unknown scale 'huge'"):
        demo_seed(scale="huge", seed=1)


def test_the_vocabulary_has_at_least_12_fields_with_enough_keywords_and_sentences() -> None:
    names = [f.name for f in vocab.FIELDS]

    assert len(names) >= 12
    assert len(set(names)) == len(names)
    assert [f.name for f in vocab.FIELDS if len(f.keywords) < 10] == []
    assert [f.name for f in vocab.FIELDS if len(f.capabilities) < 4] == []
    assert [f.name for f in vocab.FIELDS if len(f.demands) < 4] == []
    for required in (
        "茶叶",
        "白酒酿造",
        "生猪养殖",
        "电子信息",
        "装备制造",
        "新材料",
        "生物医药",
        "中药材",
        "柑橘",
        "猕猴桃",
        "水稻油菜",
        "食品加工",
        "清洁能源",
        "地质灾害防治",
    ):
        assert required in names


def test_every_template_uses_only_the_placeholders_the_generator_fills() -> None:
    def placeholders(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    capability = {"k1", "k2", "k3", "k4", "field", "years", "count", "served", "area", "county"}
    demand = {
        "product",
        "county",
        "small",
        "mid",
        "big",
        "huge",
        "ratio",
        "low",
        "gain",
        "days",
        "people",
    }
    sentences = [*vocab.CAPABILITY_OPENERS, *vocab.CAPABILITY_CLOSERS]
    sentences += [c for f in vocab.FIELDS for c in f.capabilities]
    demand_texts = [
        text
        for f in vocab.FIELDS
        for d in f.demands
        for text in (d.title, d.problem, d.current, d.target)
    ]
    article_texts = [
        text for t in vocab.ARTICLE_THEMES for text in (*t.titles, *t.intros, *t.points)
    ]

    assert [s for s in sentences if not placeholders(s) <= capability] == []
    assert [s for s in demand_texts if not placeholders(s) <= demand] == []
    assert [s for s in article_texts if not placeholders(s) <= {"place"}] == []
    assert {d.category for f in vocab.FIELDS for d in f.demands} <= set(Demand.Category.values)
    # 防灾减灾 content is written under its specific hazards (flood, landslide, …).
    assert {t.topic for t in vocab.ARTICLE_THEMES} == set(Topic.values) - {Topic.DISASTER}
    assert {e.kind for e in vocab.EMPLOYERS} <= {"university", "institute", "hospital", "agency"}
    assert {n for e in vocab.EMPLOYERS for n in e.fields} <= {f.name for f in vocab.FIELDS}


@pytest.mark.django_db
def test_the_command_prints_the_counts_the_demo_password_and_the_login_usernames() -> None:
    out = StringIO()

    call_command("seed_demo", "--scale", "small", "--seed", "1", stdout=out)

    text = out.getvalue()
    assert "created: 4 staff, 1 reviewers, 600 workers (600 profiles), 150 enterprises" in text
    assert "384 service plans, 14 submitted demands, 27 centre articles with quizzes" in text
    assert "reviewer: demo_reviewer" in text
    assert f"demo password for the accounts below: {DEMO_PASSWORD}" in text
    assert (
        "staff: demo_staff_province, demo_staff_chengdu, demo_staff_jinjiang, "
        "demo_staff_shuangliu" in text
    )
    assert "workers: demo_w_000001 … demo_w_000020" in text
    assert "enterprises: demo_e_000001 … demo_e_000020" in text
    assert "citizens: demo_c_000001 … demo_c_000020" in text
    # Demo cases went through the real services: every one has its opening event, a closed
    # one has an outcome, and a second run opens none.
    opened = Case.objects.count()
    assert f"{opened} cases (" in text
    assert opened > 50
    assert Case.objects.filter(events__kind="opened").distinct().count() == opened
    assert not Case.objects.filter(step=Step.CLOSED, outcome="").exists()
    assert set(Case.objects.values_list("step", flat=True)) >= {"intake", "docking", "closed"}
    out = StringIO()
    call_command("seed_demo", "--scale", "small", "--seed", "1", stdout=out)
    assert "0 cases (0 closed), 0 service plans, 0 submitted demands" in out.getvalue()
    assert Case.objects.count() == opened
    # The operations pages have their half-year's work: reports filed (锦江区's accepted by
    # 成都市) and 成都市's bulletin approved by the province and published, with figures.
    assert "3 work reports, 1 bulletins" in text
    assert "0 work reports, 0 bulletins" in out.getvalue()
    assert sorted(
        WorkReport.objects.values_list("centre__region_id", "status").order_by("centre")
    ) == [("510100", "submitted"), ("510104", "accepted"), ("510116", "submitted")]
    bulletin = Bulletin.objects.get()
    assert (bulletin.centre.region_id, bulletin.status) == ("510100", "published")
    assert bulletin.approver is not None and bulletin.approver.username == "demo_staff_province"
    assert bulletin.content is not None and bulletin.content["ranking"]
    assert Rollup.objects.filter(indicator="demands_published").exists()
    # Scoring: the province holds the scheme role, a second province staff member the
    # approver role, and a county scheme of eight outcome indicators is published.
    assert "1 scoring schemes" in text and "0 scoring schemes" in out.getvalue()
    assert "allocation approver: demo_staff_province_approver" in text
    province = User.objects.get(username="demo_staff_province")
    approver = User.objects.get(username="demo_staff_province_approver")
    assert province.has_perm("performance.manage_scheme")
    assert not province.has_perm("performance.approve_allocation")
    assert approver.has_perm("performance.approve_allocation")
    assert approver.check_password(DEMO_PASSWORD)
    assert approver.centre_id == province.centre_id
    scheme = Scheme.objects.get()
    this_year = str(timezone.localdate().year)
    assert (scheme.level, scheme.status, scheme.period) == ("county", "published", this_year)
    assert scheme.items.count() == 8
    assert sum(i.weight for i in scheme.items.all()) == 100
    assert len(scheme_scores(scheme)) > 100
    # Fund allocation: the province's draft on that scheme, submitted through the services,
    # waits for the approver; the amounts sum to the budget exactly.
    assert "1 fund allocations" in text and "0 fund allocations" in out.getvalue()
    allocation = Allocation.objects.get()
    assert (allocation.scheme_id, allocation.status) == (scheme.pk, "pending")
    assert (allocation.created_by_id, allocation.submitted_by_id) == (province.pk, province.pk)
    lines = list(allocation.lines.all())
    assert len(lines) == len(scheme_scores(scheme))
    assert sum(line.amount_fen for line in lines) == allocation.budget_fen
    # A little gaming in 双流区 for the scan to find: a template family of four demands and
    # eight quota accounts, one flag confirmed by 成都市, and nothing else flagged.
    assert "12 gaming flags in 双流区 (1 confirmed)" in text
    assert "12 gaming flags in 双流区 (0 confirmed)" in out.getvalue()
    flags = Counter(Flag.objects.values_list("kind", "centre__region_id", "status"))
    assert flags == {
        (Kind.DUPLICATE_DEMAND, "510116", Flag.Status.CONFIRMED): 1,
        (Kind.DUPLICATE_DEMAND, "510116", Flag.Status.OPEN): 3,
        (Kind.QUOTA_ACCOUNT, "510116", Flag.Status.OPEN): 8,
    }
    assert Rollup.objects.filter(indicator="gaming_confirmed").exists()
    # The province's service conference runs today: exhibits, slots, check-ins, and the
    # agreement that settled a case, which the enterprise confirmed: the case is closed solved.
    assert "1 docking events (15 check-ins, 2 agreements)" in text
    assert "0 docking events (0 check-ins, 0 agreements)" in out.getvalue()
    event = Event.objects.get()
    assert (event.kind, event.status, event.organiser.region_id) == (
        "conference",
        "running",
        "510000",
    )
    assert set(event.exhibits.values_list("kind", "status")) == {
        ("demand", "accepted"),
        ("result", "accepted"),
    }
    assert event.slots.count() == 10
    assert event.bookings.filter(checked_in_at__isnull=False).count() == 15
    settled = event.agreements.get(settles=True)
    assert settled.case is not None and settled.docking is not None
    assert settled.docking.origin == "event" and settled.docking.status == "accepted"
    closed = Case.objects.get(pk=settled.case_id)
    assert (closed.step, closed.outcome, closed.rating) == ("closed", "solved", 5)
    assert closed.contract_number == "TFKJY-DH-001"
    # Recognition (kejiyun/demo/recognition.py), through the services: the province holds the
    # recognition role; a final studio batch with a recognised studio (its badge shows); a
    # case batch in review where demo_reviewer still has to score; a project waiting in
    # 双流区's queue; cases in the library. A second run adds nothing.
    from kejiyun.recognition.library.selectors import library_cases
    from kejiyun.recognition.models import Application, Batch, ReviewAssignment, ReviewerProfile
    from kejiyun.recognition.review.selectors import reviewer_dashboard
    from kejiyun.recognition.selectors import staff_queue
    from kejiyun.talent.models import Team

    assert province.has_perm("recognition.manage_recognition")
    assert ReviewerProfile.objects.filter(active=True).count() == 6
    assert ReviewerProfile.objects.filter(user__username="demo_reviewer").exists()
    assert Batch.objects.count() == 3
    final = Batch.objects.get(programme="studio", status=Batch.Status.FINAL)
    recognised = Application.objects.get(batch=final, status=Application.Status.RECOGNISED)
    assert recognised.final_level == "premium" and recognised.studio is not None
    studio = Team.objects.get(pk=recognised.studio_id)
    assert (studio.recognition_level, studio.recognised_year) == ("premium", final.year)
    assert recognised.events.filter(kind="move").count() == 7  # draft … recognised
    in_review = Batch.objects.get(programme="case", status=Batch.Status.REVIEW)
    reviewer = User.objects.get(username="demo_reviewer")
    pending = ReviewAssignment.objects.filter(
        application__batch=in_review, reviewer=reviewer, submitted_at__isnull=True
    )
    assert pending.count() == in_review.applications.count() >= 1
    assert reviewer_dashboard(reviewer).pending
    shuangliu = User.objects.get(username="demo_staff_shuangliu")
    waiting = list(staff_queue(shuangliu))
    assert [a.status for a in waiting] == [Application.Status.SUBMITTED]
    assert waiting[0].region_id == "510116"
    assert library_cases().count() >= 1
    assert Application.objects.count() == 4
    assert ReviewAssignment.objects.count() == 9


@pytest.mark.django_db
def test_demo_citizens_have_varied_targeting_profiles_and_about_70_percent_consent(
    seeded: DemoResult,
) -> None:
    profiles = list(CitizenProfile.objects.select_related("user"))
    consenting = [p for p in profiles if p.targeting_consent]
    planned = {
        c.username: (c.region_code, c.occupation, c.age_band, list(c.interests), c.consent)
        for c in small_plan().citizen_profiles
    }
    stored = {
        p.user.username: (
            p.region_code,
            p.occupation,
            p.age_band,
            p.interests,
            p.targeting_consent,
        )
        for p in profiles
        if p.user
    }

    assert stored == planned
    assert [p.pk for p in profiles if p.region_code != p.user.region_id] == []
    assert 0.55 <= len(consenting) / len(profiles) <= 0.85
    assert {p.consent_version for p in consenting} == {current_consent_version()}
    assert ConsentRecord.objects.filter(granted=True).count() == len(consenting)
    assert len({p.occupation for p in profiles}) >= 5
    assert Segment.FARMER in {p.occupation for p in profiles}
    assert len({p.age_band for p in profiles}) >= 4
    assert len({t for p in profiles for t in p.interests}) >= 6


# --- Records that go through the services (kejiyun/demo/workflows.py) ----------------------


@pytest.mark.django_db
def test_every_verified_demo_worker_has_a_plan_at_the_centre_serving_their_county(
    seeded: DemoResult,
) -> None:
    verified = TalentProfile.objects.filter(verified=True)
    plans = list(ServicePlan.objects.select_related("profile", "centre", "owner"))

    assert verified.count() == len(plans) > 300
    assert {p.profile_id for p in plans} == set(verified.values_list("id", flat=True))
    assert [p.pk for p in plans if p.centre.region_id != p.profile.region_id] == []
    # The county centres with demo staff own their workers' plans; the others wait for staff.
    owners = {p.owner.username for p in plans if p.owner is not None}
    assert owners == {"demo_staff_jinjiang", "demo_staff_shuangliu"}
    assert [p.pk for p in plans if p.owner is None and p.profile.region_id == "510104"] == []
    assert PlanEvent.objects.filter(kind=PlanEvent.Kind.OPENED).count() == len(plans)


@pytest.mark.django_db
def test_a_third_of_the_articles_carry_a_quiz_and_went_through_science_review(
    seeded: DemoResult,
) -> None:
    quizzed = list(
        Article.objects.filter(questions__isnull=False)
        .distinct()
        .select_related("author", "centre", "reviewer")
    )
    staff = User.objects.get(username="demo_staff_province")

    assert len(quizzed) == 80 // QUIZ_EVERY + 1
    assert {a.author.username for a in quizzed if a.author} <= {
        name for name in demo_login_usernames(scale="small") if name.startswith("demo_staff_")
    }
    assert [a.pk for a in quizzed if a.author is None or a.centre is None] == []
    published = [a for a in quizzed if a.status == Article.Status.PUBLISHED]
    assert {a.reviewer.username for a in published if a.reviewer} == {"demo_reviewer"}
    assert [a.pk for a in published if a.version != 1 or not a.versions.exists()] == []
    assert (
        min(QuizQuestion.objects.filter(article__in=quizzed).values_list("answer", flat=True)) >= 0
    )
    # Every article belongs to a centre, so the centres' staff see their content.
    assert not Article.objects.filter(centre__isnull=True).exists()
    from kejiyun.popsci.content.selectors import content_for_staff, content_review_queue

    assert content_for_staff(user=staff).count() == 80
    chengdu = User.objects.get(username="demo_staff_chengdu")
    assert content_for_staff(user=chengdu).exists()
    assert content_review_queue().count() == 3


@pytest.mark.django_db
def test_each_demo_county_has_an_upcoming_activity_its_citizens_can_see(
    seeded: DemoResult,
) -> None:
    from kejiyun.popsci.outreach.selectors import activities_upcoming_for_citizen

    counties = demo_county_codes(small_plan())
    activities = Counter(Activity.objects.values_list("region_id", flat=True))

    assert {"510104", "510116"} <= set(counties)
    assert len(counties) >= 10
    assert activities == {code: 1 for code in counties}
    for citizen in User.objects.filter(username__in=demo_login_usernames(scale="small")).filter(
        role=Role.CITIZEN
    ):
        assert citizen.region is not None
        assert activities_upcoming_for_citizen(region=citizen.region).exists(), citizen.username


@pytest.mark.django_db
def test_submitted_demo_demands_fill_the_staff_review_queues(seeded: DemoResult) -> None:
    from kejiyun.demands.selectors import demands_review_queue

    province = User.objects.get(username="demo_staff_province")
    queue = list(demands_review_queue(user=province))

    assert len(queue) == 14
    assert {d.source for d in queue} == {Demand.Source.ONLINE}
    assert [d.pk for d in queue if not d.submitted_at or d.events.count() != 1] == []


@pytest.mark.django_db
def test_workers_and_demands_of_a_field_share_its_industries_and_disciplines(
    seeded: DemoResult,
) -> None:
    profiles = list(TalentProfile.objects.prefetch_related("industries", "disciplines"))
    by_field: dict[str, list[TalentProfile]] = {}
    for profile in profiles:
        field = profile.fields.split("、")[0]
        by_field.setdefault(field, []).append(profile)
        assert {i.code for i in profile.industries.all()} >= set(vocab.FIELD_INDUSTRIES[field])
        assert {d.code for d in profile.disciplines.all()} >= set(vocab.FIELD_DISCIPLINES[field])
        assert profile.service_modes > 0
    # Every field a published demand is in has verified experts of that field to answer it.
    for industry in set(
        Demand.objects.filter(status=Demand.Status.PUBLISHED).values_list("industry", flat=True)
    ):
        assert len([p for p in by_field[industry] if p.verified]) >= 5, industry
    food = [p for p in profiles if "食品加工" in p.fields]
    assert all("1371" in {i.code for i in p.industries.all()} for p in food)


def test_the_classification_codes_of_every_field_exist(db: None) -> None:
    from kejiyun.talent.models import Discipline, Industry

    industries = {c for codes in vocab.FIELD_INDUSTRIES.values() for c in codes}
    disciplines = {c for codes in vocab.FIELD_DISCIPLINES.values() for c in codes}

    assert (
        set(vocab.FIELD_INDUSTRIES)
        == set(vocab.FIELD_DISCIPLINES)
        == {f.name for f in vocab.FIELDS}
    )
    assert Industry.objects.filter(code__in=industries).count() == len(industries)
    assert Discipline.objects.filter(code__in=disciplines).count() == len(disciplines)
    assert set(vocab.QUIZZES) == {t.key for t in vocab.ARTICLE_THEMES}
    assert [q.text for qs in vocab.QUIZZES.values() for q in qs if not 0 <= q.answer < 4] == []


def test_service_modes_follow_the_capability_text_and_the_employer() -> None:
    from kejiyun.demo.seed import service_modes_of
    from kejiyun.talent.models import ServiceMode

    agency = service_modes_of("长期驻点茶叶基地开展示范。", employer_kind="agency")
    institute = service_modes_of("主持完成课题3项，成果已推广。", employer_kind="institute")

    assert agency == ServiceMode.ONSITE | ServiceMode.TRAINING
    assert institute == ServiceMode.JOINT_RD | ServiceMode.TRANSFER
