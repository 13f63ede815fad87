"""Reads for the province panel's review.

Who sees what: province managers (`access.is_province_manager`) see the pool and every
batch's assignments; a batch's chair and province managers see its panel (reviewers'
scores with names, outliers); a reviewer sees only their own assignments
(`assignment_for_reviewer`), and other reviewers' scores only as the panel's means once
scoring has closed. Anyone else gets a 404.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from kejiyun.accounts.models import Role, User
from kejiyun.cases.models import DockingRequest
from kejiyun.matching.adapters import split_terms
from kejiyun.recognition.access import is_province_manager
from kejiyun.recognition.models import (
    Application,
    Batch,
    Criterion,
    CriterionScore,
    Programme,
    ReviewAssignment,
    ReviewerProfile,
)
from kejiyun.recognition.review.conflicts import ApplicationFacts, ReviewerFacts
from kejiyun.recognition.review.ranking import (
    application_score,
    criterion_outliers,
    reviewer_total,
    total_outliers,
)
from kejiyun.regions.models import Region

NOT_FOUND = "页面不存在"
LEVELLED_PROGRAMMES = (Programme.STUDIO, Programme.CASE)


# --- Access -------------------------------------------------------------------------------


def access_batch_for_manager(user: User, batch_id: int) -> Batch:
    """The batch for a province manager; 404 for anyone else."""
    if not is_province_manager(user):
        raise Http404(NOT_FOUND)
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise Http404(NOT_FOUND)
    return batch


def access_batch_for_panel(user: User, batch_id: int) -> Batch:
    """The batch for its panel chair or a province manager; 404 for anyone else."""
    if not user.is_authenticated:
        raise Http404(NOT_FOUND)
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or not (batch.chair_id == user.pk or is_province_manager(user)):
        raise Http404(NOT_FOUND)
    return batch


def access_reviewer_profile(user: User, profile_id: int) -> ReviewerProfile:
    """A pool member for a province manager; 404 for anyone else."""
    if not is_province_manager(user):
        raise Http404(NOT_FOUND)
    profile = (
        ReviewerProfile.objects.select_related("user", "region", "organisation")
        .filter(pk=profile_id)
        .first()
    )
    if profile is None:
        raise Http404(NOT_FOUND)
    return profile


def assignments_of_reviewer(user: User) -> QuerySet[ReviewAssignment]:
    """The reviewer's own assignments (nobody else's), newest batch first."""
    if not user.is_authenticated:
        return ReviewAssignment.objects.none()
    return (
        ReviewAssignment.objects.filter(reviewer_id=user.pk)
        .select_related("application__batch")
        .order_by("submitted_at", "-application__batch__year", "application__title", "id")
    )


def assignment_for_reviewer(user: User, assignment_id: int) -> ReviewAssignment:
    """The assignment if it is `user`'s own; 404 otherwise."""
    assignment = assignments_of_reviewer(user).filter(pk=assignment_id).first()
    if assignment is None:
        raise Http404(NOT_FOUND)
    return assignment


# --- The pool -----------------------------------------------------------------------------


def reviewer_pool() -> QuerySet[ReviewerProfile]:
    """Active pool members with their assignments in batches whose scoring is still open."""
    return (
        ReviewerProfile.objects.filter(active=True)
        .select_related("user", "region", "organisation")
        .annotate(
            open_assignments=Count(
                "user__review_assignments",
                filter=Q(user__review_assignments__application__batch__scoring_closed_at=None),
            )
        )
        .order_by("user__display_name", "id")
    )


def reviewer_users_without_profile() -> QuerySet[User]:
    return User.objects.filter(role=Role.REVIEWER, is_active=True, reviewer_profile=None)


# --- Facts for assignment -----------------------------------------------------------------


def county_code(region: Region | None) -> str:
    """The county of a region (its own code at county level or below); "" above it."""
    if region is None:
        return ""
    codes = [c for c in region.path.split("/") if c]
    return codes[2] if len(codes) >= 3 else ""


def _flatten(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    elif value is not None:
        yield str(value)


def application_text(application: Application) -> str:
    """Title, summary, fields and answers: the query the pool is ranked for."""
    parts = [application.title, application.summary, application.fields]
    parts.extend(_flatten(application.answers))
    return "\n".join(p.strip() for p in parts if p and p.strip())


def reviewer_text(profile: ReviewerProfile) -> str:
    return "\n".join(
        p.strip() for p in (profile.fields, profile.keywords, profile.expertise) if p.strip()
    )


def endorsed_applications(batch: Batch) -> QuerySet[Application]:
    return (
        batch.applications.filter(status=Application.Status.ENDORSED)
        .select_related(
            "applicant__organisation",
            "applicant__talent_profile",
            "organisation",
            "region",
            "studio__host_organisation",
            "studio__lead__user",
            "case__demand__organisation",
        )
        .prefetch_related("studio__members", "assignments")
        .order_by("id")
    )


def active_reviewers() -> QuerySet[ReviewerProfile]:
    return (
        ReviewerProfile.objects.filter(active=True, user__is_active=True)
        .select_related("user", "region", "organisation")
        .order_by("id")
    )


def application_facts(application: Application) -> ApplicationFacts:
    """The conflict facts of one application (loaded with `endorsed_applications`)."""
    people = {application.applicant_id}
    organisations: set[int] = set()
    employers: set[str] = set()
    applicant = application.applicant
    if applicant.organisation is not None:
        organisations.add(applicant.organisation.pk)
        employers.add(applicant.organisation.name)
    applicant_profile = getattr(applicant, "talent_profile", None)
    if applicant_profile is not None and applicant_profile.employer:
        employers.add(applicant_profile.employer)
    if application.organisation is not None:
        organisations.add(application.organisation.pk)
        employers.add(application.organisation.name)
    studio = application.studio
    if studio is not None:
        if studio.host_organisation is not None:
            organisations.add(studio.host_organisation.pk)
            employers.add(studio.host_organisation.name)
        for member in [studio.lead, *studio.members.all()]:
            people.add(member.user_id)
            if member.employer:
                employers.add(member.employer)
    case = application.case
    if case is not None and case.demand.organisation is not None:
        organisations.add(case.demand.organisation.pk)
        employers.add(case.demand.organisation.name)
    return ApplicationFacts(
        id=str(application.pk),
        applicant_id=application.applicant_id,
        people=frozenset(people),
        organisations=frozenset(organisations),
        employers=frozenset(e for e in employers if e.strip()),
        named_people=application.named_people,
        text="\n".join([application.title, application.summary, *_flatten(application.answers)]),
        county=county_code(application.region),
    )


def reviewer_facts(profiles: Sequence[ReviewerProfile]) -> list[ReviewerFacts]:
    """The conflict facts of the pool, with their past cases (two queries)."""
    user_ids = [p.user_id for p in profiles]
    mine = DockingRequest.objects.filter(
        expert__user_id__in=user_ids, status=DockingRequest.Status.ACCEPTED
    ).values_list("expert__user_id", "case_id", "case__demand__organisation_id")
    cases_of: dict[int, set[int]] = defaultdict(set)
    enterprises_of: dict[int, set[int]] = defaultdict(set)
    for user_id, case_id, organisation_id in mine:
        cases_of[user_id].add(case_id)
        if organisation_id is not None:
            enterprises_of[user_id].add(organisation_id)
    all_cases = set().union(*cases_of.values()) if cases_of else set()
    experts_on: dict[int, set[int]] = defaultdict(set)
    for case_id, user_id in DockingRequest.objects.filter(
        case_id__in=all_cases, status=DockingRequest.Status.ACCEPTED
    ).values_list("case_id", "expert__user_id"):
        experts_on[case_id].add(user_id)
    out = []
    for profile in profiles:
        partners: set[int] = set()
        for case_id in cases_of.get(profile.user_id, ()):
            partners |= experts_on[case_id]
        partners.discard(profile.user_id)
        employer = profile.employer or (profile.organisation.name if profile.organisation else "")
        out.append(
            ReviewerFacts(
                id=str(profile.user_id),
                user_id=profile.user_id,
                name=profile.user.display_name,
                employer=employer,
                organisation_id=profile.organisation_id,
                county=county_code(profile.region),
                case_enterprises=frozenset(enterprises_of.get(profile.user_id, ())),
                case_partners=frozenset(partners),
            )
        )
    return out


def review_vocabulary(
    profiles: Iterable[ReviewerProfile], applications: Iterable[Application]
) -> set[str]:
    """The pool's fields and keywords and the applications' fields, for the segmenter."""
    words: set[str] = set()
    for profile in profiles:
        words.update(split_terms(profile.fields))
        words.update(split_terms(profile.keywords))
    for application in applications:
        words.update(split_terms(application.fields))
    return {w for w in words if 2 <= len(w) <= 12}


def batch_used_loads(batch: Batch) -> dict[str, int]:
    """Reviewer id → how many applications of the batch they review."""
    rows = (
        ReviewAssignment.objects.filter(application__batch=batch)
        .values("reviewer_id")
        .annotate(n=Count("id"))
    )
    return {str(r["reviewer_id"]): r["n"] for r in rows}


# --- Pages --------------------------------------------------------------------------------


def batch_applications_with_assignments(batch: Batch) -> list[Application]:
    """The batch's applications from ENDORSED on, with their assignments and reviewers."""
    return list(
        batch.applications.filter(
            status__in=[
                Application.Status.ENDORSED,
                Application.Status.REVIEWING,
                Application.Status.SCORED,
                Application.Status.NOTICE,
                Application.Status.RECOGNISED,
                Application.Status.NOT_RECOGNISED,
            ]
        )
        .select_related("region")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=ReviewAssignment.objects.select_related(
                    "reviewer__reviewer_profile"
                ).order_by("-fit", "id"),
            )
        )
        .order_by("rank", "id")
    )


def batch_criteria(batch: Batch) -> list[Criterion]:
    return list(batch.criteria.order_by("order", "id"))


@dataclass
class ReviewerColumn:
    assignment: ReviewAssignment
    name: str
    scores: list[int | None]
    total: Decimal | None
    total_outlier: bool = False
    criterion_outlier: list[bool] = field(default_factory=list)

    @property
    def pairs(self) -> list[tuple[int | None, bool]]:
        """Each criterion's score with its outlier mark, for the page."""
        marks = self.criterion_outlier or [False] * len(self.scores)
        return list(zip(self.scores, marks, strict=True))


@dataclass
class PanelRow:
    application: Application
    reviewers: list[ReviewerColumn]
    mean: Decimal | None
    spread: Decimal | None

    @property
    def has_outlier(self) -> bool:
        return any(r.total_outlier or any(r.criterion_outlier) for r in self.reviewers)


def _scores_by_assignment(assignment_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for assignment_id, criterion_id, score in CriterionScore.objects.filter(
        assignment_id__in=list(assignment_ids)
    ).values_list("assignment_id", "criterion_id", "score"):
        out[assignment_id][criterion_id] = score
    return out


def panel_rows(batch: Batch) -> list[PanelRow]:
    """Each reviewed application with every submitted score (names visible: the chair's
    view), the mean and spread of the totals, and the outlier marks."""
    criteria = batch_criteria(batch)
    weights = {c.pk: c.weight for c in criteria}
    applications = [a for a in batch_applications_with_assignments(batch) if a.assignments.all()]
    submitted = [s for a in applications for s in a.assignments.all() if s.submitted_at is not None]
    scores = _scores_by_assignment(s.pk for s in submitted)
    rows = []
    for application in applications:
        columns = [
            ReviewerColumn(
                assignment=s,
                name=s.reviewer.display_name,
                scores=[scores[s.pk].get(c.pk) for c in criteria],
                total=reviewer_total(weights, scores[s.pk]),
            )
            for s in sorted(application.assignments.all(), key=lambda s: s.pk)
            if s.submitted_at is not None
        ]
        totals = [c.total for c in columns if c.total is not None]
        for column, outlier in zip(columns, total_outliers(totals), strict=True):
            column.total_outlier = outlier
        per_criterion = [
            criterion_outliers([c.scores[i] for c in columns]) for i in range(len(criteria))
        ]
        for j, column in enumerate(columns):
            column.criterion_outlier = [per_criterion[i][j] for i in range(len(criteria))]
        rows.append(
            PanelRow(
                application=application,
                reviewers=columns,
                mean=application_score(totals),
                spread=(max(totals) - min(totals)) if totals else None,
            )
        )
    return rows


def criterion_means(application: Application) -> dict[int, Decimal]:
    """Criterion id → the panel's mean score over submitted reviews (2 decimals)."""
    sums: dict[int, list[int]] = defaultdict(list)
    for criterion_id, score in CriterionScore.objects.filter(
        assignment__application=application, assignment__submitted_at__isnull=False
    ).values_list("criterion_id", "score"):
        sums[criterion_id].append(score)
    return {
        c: application_score([Decimal(v) for v in values]) or Decimal(0)
        for c, values in sums.items()
    }


def unsubmitted_assignments(batch: Batch) -> QuerySet[ReviewAssignment]:
    return (
        ReviewAssignment.objects.filter(
            application__batch=batch,
            application__status=Application.Status.REVIEWING,
            submitted_at__isnull=True,
        )
        .select_related("application", "reviewer")
        .order_by("application_id", "id")
    )


@dataclass(frozen=True)
class ReviewerDashboard:
    pending: list[ReviewAssignment]
    done: list[ReviewAssignment]


def reviewer_dashboard(user: User, *, limit: int = 20) -> ReviewerDashboard:
    """The reviewer's pending assignments (scoring open, not submitted) and the done ones."""
    mine = assignments_of_reviewer(user)
    pending = mine.filter(
        submitted_at__isnull=True,
        application__status=Application.Status.REVIEWING,
        application__batch__scoring_closed_at=None,
    )
    done = mine.filter(submitted_at__isnull=False).order_by("-submitted_at", "-id")
    return ReviewerDashboard(pending=list(pending[:limit]), done=list(done[:limit]))
