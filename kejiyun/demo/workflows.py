"""Demo records that go through their apps' own services, after the bulk rows of seed.py.

- every verified demo worker gets a 一人一策 plan (`plans_open_many`, as verification opens
  one), owned by the least-loaded staff member of the centre serving the worker's county;
- the demands the plan marks "submitted" are submitted by their enterprise (`demand_submit`,
  with its automatic checks), so the staff review queue is not empty;
- every QUIZ_EVERY-th article is written by the nearest demo centre (`content_create`), given
  its theme's quiz, submitted, and approved by the demo reviewer at its planned time (a few
  stay in the reviewer's queue);
- each demo county (those of the county-level demo staff and of the demo citizens who can
  log in) gets an upcoming science activity (`activity_create`).

Deterministic for a seed, apart from the activities' dates, which lie in the weeks after the
run so citizens can sign up; idempotent: a second run creates nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.demands.models import Demand
from kejiyun.demands.services import demand_submit
from kejiyun.demo import vocab
from kejiyun.demo.seed import (
    LOGIN_ACCOUNTS_PER_ROLE,
    REVIEWER_ACCOUNTS,
    STAFF_ACCOUNTS,
    WORKER_PREFIX,
    DemoError,
    DemoPlan,
    demo_plan,
    province_region_rows,
)
from kejiyun.plans.services import plans_open_many
from kejiyun.popsci.content.services import (
    QuestionInput,
    content_approve,
    content_create,
    content_submit,
    quiz_questions_replace,
)
from kejiyun.popsci.models import Activity, Article
from kejiyun.popsci.outreach.services import activity_create
from kejiyun.regions.models import Region
from kejiyun.talent.models import TalentProfile

PLAN_BATCH = 2000
ACTIVITY_HOURS = 2


@dataclass(frozen=True)
class DemoWorkflows:
    """How many records of each kind this run created through the services."""

    plans: int
    submitted_demands: int
    content: int
    activities: int


def demo_workflows_seed(*, scale: str, seed: int, now: datetime | None = None) -> DemoWorkflows:
    """Run the demo's service-driven records for the data `demo_seed` wrote."""
    now = now or timezone.now()
    plan = demo_plan(
        scale=scale,
        seed=seed,
        regions=province_region_rows(settings.DEPLOYMENT_PROVINCE),
        with_workers=False,
    )
    staff = {u.username: u for u in User.objects.filter(username__in=dict(STAFF_ACCOUNTS))}
    reviewer = User.objects.filter(username=REVIEWER_ACCOUNTS[0], role=Role.REVIEWER).first()
    if len(staff) != len(STAFF_ACCOUNTS) or reviewer is None:
        raise DemoError("the demo staff and reviewer accounts are missing; run demo_seed first")
    with transaction.atomic():
        plans = _open_plans(staff[STAFF_ACCOUNTS[0][0]])
        submitted = _submit_demands(plan)
        content = _publish_content(plan, staff, reviewer)
        activities = _hold_activities(plan, staff, seed=seed, now=now)
    return DemoWorkflows(
        plans=plans, submitted_demands=submitted, content=content, activities=activities
    )


def _open_plans(province_staff: User) -> int:
    """A plan for each verified demo worker who has none (province staff see them all)."""
    waiting = (
        TalentProfile.objects.filter(
            user__username__startswith=WORKER_PREFIX, verified=True, service_plan__isnull=True
        )
        .select_related("user")
        .order_by("id")
    )
    opened = 0
    profiles = list(waiting)
    for start in range(0, len(profiles), PLAN_BATCH):
        opened += plans_open_many(
            profiles=profiles[start : start + PLAN_BATCH], actor=province_staff
        )
    return opened


def _submit_demands(plan: DemoPlan) -> int:
    """The planned "submitted" demands still in draft, submitted by their enterprise."""
    wanted = {(d.uscc, d.title) for d in plan.demands if d.status == Demand.Status.SUBMITTED}
    drafts = Demand.objects.filter(
        status=Demand.Status.DRAFT, organisation__uscc__in={uscc for uscc, _ in wanted}
    ).select_related("organisation")
    contacts = {
        u.organisation_id: u
        for u in User.objects.filter(
            role=Role.ENTERPRISE, organisation__uscc__in={uscc for uscc, _ in wanted}
        ).order_by("-id")
    }
    submitted = 0
    for demand in drafts.order_by("id"):
        actor = contacts.get(demand.organisation_id)
        if (demand.organisation.uscc, demand.title) in wanted and actor is not None:
            submitted += demand_submit(demand=demand, actor=actor).submitted
    return submitted


def _publish_content(plan: DemoPlan, staff: dict[str, User], reviewer: User) -> int:
    existing = set(Article.objects.values_list("title", "region_id"))
    quizzed = [a for a in plan.articles if a.quiz and (a.title, a.region_code) not in existing]
    regions = Region.objects.in_bulk({a.region_code for a in quizzed if a.region_code})
    for spec in quizzed:
        author = staff[spec.author]
        article = content_create(
            actor=author,
            kind=Article.Kind.ARTICLE,
            title=spec.title,
            topic=spec.topic,
            body=spec.body,
            summary=spec.summary,
            region=regions[spec.region_code] if spec.region_code else None,
        )
        quiz_questions_replace(
            article=article,
            actor=author,
            questions=[
                QuestionInput(
                    text=q.text, options=q.options, answer=q.answer, explanation=q.explanation
                )
                for q in spec.quiz
            ],
        )
        content_submit(article=article, actor=author)
        if not spec.pending_review:
            content_approve(
                article=article,
                actor=reviewer,
                note="内容科学准确，同意发布。",
                now=spec.published_at,
            )
    return len(quizzed)


def demo_county_codes(plan: DemoPlan) -> list[str]:
    """The counties of the county-level demo staff and of the demo citizens who can log in
    (a township resident counts for the township's county), in code order."""
    codes = {code for _, code in STAFF_ACCOUNTS}
    codes |= {c.region_code for c in plan.citizens[:LOGIN_ACCOUNTS_PER_ROLE]}
    regions = Region.objects.filter(code__in=codes)
    return sorted(
        {r.ancestor_codes[2] for r in regions if len(r.ancestor_codes) >= 3}  # county and below
    )


def _nearest_staff(county: Region, staff: dict[str, User]) -> User:
    by_region = {code: staff[username] for username, code in STAFF_ACCOUNTS}
    for code in reversed(county.ancestor_codes):
        if code in by_region:
            return by_region[code]
    return by_region[settings.DEPLOYMENT_PROVINCE]


def _hold_activities(plan: DemoPlan, staff: dict[str, User], *, seed: int, now: datetime) -> int:
    """An upcoming activity in each demo county that has none of the demo's yet, organised
    by the nearest demo centre's staff."""
    titles = {t.title for t in vocab.ACTIVITY_TEMPLATES}
    counties = Region.objects.in_bulk(demo_county_codes(plan))
    held = 0
    today = timezone.localdate(now)
    for code, county in sorted(counties.items()):
        rng = random.Random(f"{seed}:activity:{code}")
        template = rng.choice(vocab.ACTIVITY_TEMPLATES)
        place = county.name
        if Activity.objects.filter(
            region=county, title__in=[t.format(place=place) for t in titles]
        ).exists():
            continue
        day = today + timedelta(days=rng.randint(7, 35))
        starts_at = timezone.make_aware(datetime.combine(day, time(rng.choice((9, 14)), 30)))
        activity_create(
            actor=_nearest_staff(county, staff),
            title=template.title.format(place=place),
            region=county,
            place=template.place.format(place=place),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=ACTIVITY_HOURS),
            capacity=template.capacity,
            segments=template.segments,
            resource=template.resource,
            description=template.description,
        )
        held += 1
    return held
