"""Writes of the province panel's review: the reviewer pool, assignment through the
matching engine, scoring, closing scoring with the ranking and the proposed result.

Every write is refused with a `RecognitionError` (or `NotPermitted`) that has changed
nothing. Status moves go through `application_transition` (ENDORSED → REVIEWING when an
application has all its reviewers, REVIEWING → SCORED when scoring closes), so they are on
the timeline and audited like every other move. Timeline lines written here never name a
reviewer: the applicant reads the timeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.errors import NotPermitted, Stale
from kejiyun.common.versioning import claim_version
from kejiyun.matching.fields import place_names
from kejiyun.matching.vectors import configured_embedder
from kejiyun.recognition.access import is_province_manager
from kejiyun.recognition.models import (
    Application,
    ApplicationEvent,
    Batch,
    CriterionScore,
    ReviewAssignment,
    ReviewerProfile,
)
from kejiyun.recognition.review.assignment import expertise_fits, plan_assignments
from kejiyun.recognition.review.ranking import (
    Entry,
    Marks,
    application_score,
    rank_entries,
    reviewer_total,
)
from kejiyun.recognition.review.selectors import (
    LEVELLED_PROGRAMMES,
    active_reviewers,
    application_facts,
    application_text,
    batch_used_loads,
    endorsed_applications,
    review_vocabulary,
    reviewer_facts,
    reviewer_text,
    unsubmitted_assignments,
)
from kejiyun.recognition.services import RecognitionError, application_transition
from kejiyun.regions.models import Region

Status = Application.Status
SCORE_MIN, SCORE_MAX = 0, 100
# A score below LOW or above HIGH needs a comment saying why.
COMMENT_BELOW, COMMENT_ABOVE = 60, 95
COMMENT_MAX_LENGTH = 2000
MAX_LOAD = 100

ONLY_PROVINCE = "只有省级评审管理人员可以办理。"


class StaleBatch(Stale):
    message_text = "该批次已被他人处理，请刷新后再试。"


def _require_manager(actor: User) -> None:
    if not is_province_manager(actor):
        raise NotPermitted(ONLY_PROVINCE)


# --- The pool -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewerDetails:
    """What a manager types about a pool member (validated by the form)."""

    employer: str
    organisation: Organisation | None
    region: Region | None
    title: str
    fields: str
    keywords: str
    expertise: str
    load: int


def _check_details(details: ReviewerDetails) -> None:
    if not 1 <= details.load <= MAX_LOAD:
        raise RecognitionError({"load": f"每批最多评审数应在1到{MAX_LOAD}之间。"})
    if not (details.fields.strip() or details.keywords.strip() or details.expertise.strip()):
        raise RecognitionError("请至少填写专业领域、关键词或专长介绍之一，才能按专长分配。")


def reviewer_profile_create(
    *, actor: User, user: User, details: ReviewerDetails, ip: str | None = None
) -> ReviewerProfile:
    """Put a reviewer (a user with the REVIEWER role) into the pool, or back into it."""
    _require_manager(actor)
    if user.role != Role.REVIEWER or not user.is_active:
        raise RecognitionError({"username": "该用户不是评审专家账号。"})
    _check_details(details)
    values = {
        "employer": details.employer.strip(),
        "organisation": details.organisation,
        "region": details.region,
        "title": details.title.strip(),
        "fields": details.fields.strip(),
        "keywords": details.keywords.strip(),
        "expertise": details.expertise.strip(),
        "load": details.load,
    }
    with transaction.atomic():
        existing = ReviewerProfile.objects.filter(user=user).first()
        if existing is not None and existing.active:
            raise RecognitionError({"username": "该专家已在专家库中。"})
        if existing is not None:
            for name, value in values.items():
                setattr(existing, name, value)
            existing.active = True
            existing.save(update_fields=[*values, "active"])
            profile = existing
        else:
            profile = ReviewerProfile.objects.create(user=user, **values)
        audit_record(
            action=AuditAction.RECOGNITION_POOL,
            user=actor,
            ip=ip,
            object_type="recognition.reviewer",
            object_id=str(profile.pk),
            detail={"op": "pool_add"},
        )
    return profile


def reviewer_profile_update(
    *, actor: User, profile: ReviewerProfile, details: ReviewerDetails, ip: str | None = None
) -> ReviewerProfile:
    _require_manager(actor)
    _check_details(details)
    profile.employer = details.employer.strip()
    profile.organisation = details.organisation
    profile.region = details.region
    profile.title = details.title.strip()
    profile.fields = details.fields.strip()
    profile.keywords = details.keywords.strip()
    profile.expertise = details.expertise.strip()
    profile.load = details.load
    with transaction.atomic():
        profile.save(
            update_fields=[
                "employer",
                "organisation",
                "region",
                "title",
                "fields",
                "keywords",
                "expertise",
                "load",
            ]
        )
        audit_record(
            action=AuditAction.RECOGNITION_POOL,
            user=actor,
            ip=ip,
            object_type="recognition.reviewer",
            object_id=str(profile.pk),
            detail={"op": "pool_edit"},
        )
    return profile


def reviewer_profile_deactivate(
    *, actor: User, profile: ReviewerProfile, ip: str | None = None
) -> ReviewerProfile:
    """Take a reviewer out of the pool: no new assignments (the existing ones stay)."""
    _require_manager(actor)
    with transaction.atomic():
        if not ReviewerProfile.objects.filter(pk=profile.pk, active=True).update(active=False):
            raise RecognitionError("该专家已不在专家库中。")
        profile.active = False
        audit_record(
            action=AuditAction.RECOGNITION_POOL,
            user=actor,
            ip=ip,
            object_type="recognition.reviewer",
            object_id=str(profile.pk),
            detail={"op": "pool_remove"},
        )
    return profile


# --- Assignment ---------------------------------------------------------------------------


@dataclass
class AssignOutcome:
    """What one run of `review_assign` did."""

    created: int = 0
    moved: list[Application] = field(default_factory=list)
    # Applications left ENDORSED, with why.
    short: list[tuple[Application, str]] = field(default_factory=list)


def review_assign(*, batch: Batch, actor: User, ip: str | None = None) -> AssignOutcome:
    """Assign reviewers to every ENDORSED application of `batch` through the matching
    engine, and move each one that has all its reviewers to REVIEWING. Safe to run again: it
    only fills the places still open and never assigns a reviewer twice. The batch is locked
    for the run: two runs at once would plan on the same loads."""
    _require_manager(actor)
    with transaction.atomic():
        Batch.objects.select_for_update().filter(pk=batch.pk).first()
        batch.refresh_from_db(fields=["scoring_closed_at"])
        return _assign(batch=batch, actor=actor, ip=ip)


def _assign(*, batch: Batch, actor: User, ip: str | None) -> AssignOutcome:
    if batch.scoring_closed_at is not None:
        raise RecognitionError("该批次评分已截止，不能再分配评审专家。")
    applications = list(endorsed_applications(batch))
    if not applications:
        raise RecognitionError("该批次没有待分配评审专家的申报。")
    # The chair sees every reviewer's scores while scoring runs: the chair never reviews.
    profiles = [p for p in active_reviewers() if p.user_id != batch.chair_id]
    fits = expertise_fits(
        {str(p.user_id): reviewer_text(p) for p in profiles},
        {str(a.pk): application_text(a) for a in applications},
        vocabulary=review_vocabulary(profiles, applications),
        place_names=place_names(),
        embedder=configured_embedder(),
    )
    already = {
        str(a.pk): frozenset(str(s.reviewer_id) for s in a.assignments.all()) for a in applications
    }
    plan = plan_assignments(
        reviewers=reviewer_facts(profiles),
        applications=[application_facts(a) for a in applications],
        loads={str(p.user_id): p.load for p in profiles},
        fits=fits,
        already=already,
        used=batch_used_loads(batch),
        per_application=batch.reviewers_per_application,
        batch_load=batch.reviewer_load,
        exclude_same_county=batch.exclude_same_county,
    )
    outcome = AssignOutcome()
    now = timezone.now()
    by_id = {str(a.pk): a for a in applications}
    with transaction.atomic():
        new_counts: dict[str, int] = {}
        for planned in plan.assignments:
            ReviewAssignment.objects.create(
                application_id=int(planned.application_id),
                reviewer_id=int(planned.reviewer_id),
                assigned_by=actor,
                fit=planned.fit.score,
                reasons=planned.fit.reasons[:300],
                assigned_at=now,
            )
            new_counts[planned.application_id] = new_counts.get(planned.application_id, 0) + 1
        outcome.created = len(plan.assignments)
        for application_id, application in by_id.items():
            added = new_counts.get(application_id, 0)
            have = len(already[application_id]) + added
            if added:
                ApplicationEvent.objects.create(
                    application=application,
                    actor=actor,
                    kind=ApplicationEvent.Kind.ASSIGN,
                    reason=f"已分配{have}位评审专家",
                    created_at=now,
                )
            if application_id in plan.shortfalls:
                outcome.short.append((application, plan.shortfalls[application_id]))
                continue
            if have >= batch.reviewers_per_application:
                application_transition(
                    application=application,
                    to=Status.REVIEWING,
                    actor=actor,
                    version=application.version,
                    ip=ip,
                )
                outcome.moved.append(application)
        audit_record(
            action=AuditAction.RECOGNITION_ASSIGN,
            user=actor,
            ip=ip,
            object_type="recognition.batch",
            object_id=str(batch.pk),
            detail={
                "assignments": outcome.created,
                "reviewing": len(outcome.moved),
                "short": len(outcome.short),
            },
        )
    return outcome


# --- Scoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionInput:
    score: int | None
    comment: str = ""


def _check_scores(
    batch: Batch, scores: Mapping[int, CriterionInput], *, submit: bool
) -> dict[str, str]:
    """Field errors (form field name → message) for a set of criterion scores."""
    errors: dict[str, str] = {}
    criteria = {c.pk: c for c in batch.criteria.all()}
    for criterion_id in scores:
        if criterion_id not in criteria:
            errors["__all__"] = "评审指标不属于本批次。"
    for criterion_id, criterion in criteria.items():
        entry = scores.get(criterion_id, CriterionInput(None))
        if entry.score is None:
            if submit:
                errors[f"score_{criterion_id}"] = f"请为“{criterion.name}”打分后再提交。"
            continue
        if not SCORE_MIN <= entry.score <= SCORE_MAX:
            errors[f"score_{criterion_id}"] = "分数应在0到100之间。"
        elif (entry.score < COMMENT_BELOW or entry.score > COMMENT_ABOVE) and not (
            entry.comment.strip()
        ):
            errors[f"comment_{criterion_id}"] = (
                f"低于{COMMENT_BELOW}分或高于{COMMENT_ABOVE}分须填写评语说明理由。"
            )
        if len(entry.comment) > COMMENT_MAX_LENGTH:
            errors[f"comment_{criterion_id}"] = f"评语不能超过{COMMENT_MAX_LENGTH}个字。"
    return errors


def review_deadline_passed(batch: Batch) -> bool:
    """Whether the batch's review deadline (评审截止, inclusive) is behind us."""
    return batch.review_closes_on is not None and timezone.localdate() > batch.review_closes_on


def review_score_save(
    *,
    assignment: ReviewAssignment,
    actor: User,
    scores: Mapping[int, CriterionInput],
    submit: bool,
    ip: str | None = None,
) -> ReviewAssignment:
    """Save the reviewer's scores as a draft, or submit them (every criterion scored; read
    only afterwards). Only the assigned reviewer, only while the application is in review
    and scoring is open."""
    if assignment.reviewer_id != actor.pk:
        raise NotPermitted("这不是您的评审任务。")
    application = assignment.application
    batch = application.batch
    if application.status == Status.ENDORSED and batch.scoring_closed_at is None:
        raise RecognitionError("该申报的评审专家尚未分配齐，暂不能评分。")
    if batch.scoring_closed_at is not None or application.status != Status.REVIEWING:
        raise RecognitionError("评分已截止，不能再修改。")
    if review_deadline_passed(batch):
        raise RecognitionError(f"评审已于 {batch.review_closes_on:%Y-%m-%d} 截止，不能再评分。")
    errors = _check_scores(batch, scores, submit=submit)
    if errors:
        raise RecognitionError(errors)
    now = timezone.now()
    with transaction.atomic():
        # Claim the row while it is still unsubmitted: a submit racing a draft (or a second
        # submit) finds it taken and changes nothing.
        changes: dict[str, object] = {"submitted_at": now} if submit else {"fit": F("fit")}
        claimed = ReviewAssignment.objects.filter(
            pk=assignment.pk, submitted_at__isnull=True
        ).update(**changes)
        if not claimed:
            raise RecognitionError("评分已提交，不能再修改。")
        for criterion_id, entry in scores.items():
            if entry.score is None:
                CriterionScore.objects.filter(
                    assignment=assignment, criterion_id=criterion_id
                ).delete()
                continue
            CriterionScore.objects.update_or_create(
                assignment=assignment,
                criterion_id=criterion_id,
                defaults={"score": entry.score, "comment": entry.comment.strip()},
            )
        if submit:
            assignment.submitted_at = now
            ApplicationEvent.objects.create(
                application=application,
                actor=None,  # the timeline never names a reviewer
                kind=ApplicationEvent.Kind.SCORE,
                reason="一位评审专家已提交评分",
                created_at=now,
            )
            audit_record(
                action=AuditAction.RECOGNITION_SCORE,
                user=actor,
                ip=ip,
                object_type="recognition.assignment",
                object_id=str(assignment.pk),
            )
    return assignment


# --- Closing scoring ----------------------------------------------------------------------


@dataclass
class CloseOutcome:
    scored: list[Application] = field(default_factory=list)


def review_scoring_close(
    *, batch: Batch, actor: User, version: int | None = None, ip: str | None = None
) -> CloseOutcome:
    """Close scoring: every application in review gets its score (the mean over its
    reviewers of Σ weight × score / 100), its rank in the batch and its proposed level, and
    moves to SCORED. Refused, changing nothing, while any of its reviewers has not
    submitted."""
    _require_manager(actor)
    if batch.scoring_closed_at is not None:
        raise RecognitionError("该批次评分已截止。")
    missing = list(unsubmitted_assignments(batch))
    if missing:
        titles = "、".join(dict.fromkeys(f"《{m.application.title}》" for m in missing))
        raise RecognitionError(
            f"还有{len(missing)}份评分未提交，不能截止评分：{titles}。", code="scores_missing"
        )
    in_chain = batch.applications.filter(
        status__in=(Status.SUBMITTED, Status.RECOMMENDED, Status.ENDORSED)
    ).count()
    if in_chain:
        # After the close no reviewer can be assigned, and the notice waits for them.
        raise RecognitionError(
            f"还有{in_chain}项申报未完成审核或评审分配，不能截止评分。", code="chain_open"
        )
    applications = list(
        batch.applications.filter(status=Status.REVIEWING).prefetch_related("assignments__scores")
    )
    if not applications:
        raise RecognitionError("该批次没有评审中的申报。")
    weights = {c.pk: c.weight for c in batch.criteria.all()}
    entries = []
    for application in applications:
        totals = [
            reviewer_total(weights, {s.criterion_id: s.score for s in a.scores.all()})
            for a in application.assignments.all()
        ]
        score = application_score(totals) or Decimal(0)
        entries.append(
            Entry(
                id=application.pk,
                score=score,
                requested=application.level,
                submitted_at=application.submitted_at,
            )
        )
    ranked = rank_entries(
        entries,
        Marks(
            premium=Decimal(batch.pass_mark_premium),
            typical=Decimal(batch.pass_mark_typical),
            quota_premium=batch.quota_premium,
            quota_typical=batch.quota_typical,
            has_levels=batch.programme in LEVELLED_PROGRAMMES,
        ),
    )
    by_id = {a.pk: a for a in applications}
    now = timezone.now()
    outcome = CloseOutcome()
    with transaction.atomic():
        claim_version(
            batch,
            version,
            stale=StaleBatch,
            only_if={"scoring_closed_at": None},
            scoring_closed_at=now,
        )
        for row in ranked:
            application = by_id[row.id]
            application_transition(
                application=application,
                to=Status.SCORED,
                actor=actor,
                version=application.version,
                ip=ip,
                updates={"score": row.score, "rank": row.rank, "proposed_level": row.proposed},
            )
            outcome.scored.append(application)
        audit_record(
            action=AuditAction.RECOGNITION_BATCH,
            user=actor,
            ip=ip,
            object_type="recognition.batch",
            object_id=str(batch.pk),
            detail={"op": "scoring_close", "scored": len(ranked)},
        )
    return outcome
