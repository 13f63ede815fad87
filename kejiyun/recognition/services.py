"""Writes for recognition applications.

Every status change goes through `application_transition`, which refuses what
`APPLICATION_MOVES` does not list or what the actor's part of the chain (`access.py`) does
not allow, claims the row by its version (a stale page is refused and changes nothing),
writes an `ApplicationEvent` on the timeline and an audit row, all in one transaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.cases.models import Case
from kejiyun.common.errors import NotPermitted, ServiceError, Stale
from kejiyun.common.files import private_storage, random_name
from kejiyun.common.levels import Level
from kejiyun.common.uploads import JPEG, MIB, OFFICE, PDF, PNG, upload_check
from kejiyun.common.versioning import claim_version
from kejiyun.notifications.models import Channel
from kejiyun.notifications.services import OutboxDraft, outbox_enqueue_many
from kejiyun.pagecache.services import TALENT, content_changed
from kejiyun.recognition.access import application_roles, is_province_manager
from kejiyun.recognition.eligibility import (
    Subject,
    application_reasons,
    case_reasons,
    project_reasons,
    studio_reasons,
    subject_region,
    workstation_reasons,
)
from kejiyun.recognition.models import (
    Application,
    ApplicationAttachment,
    ApplicationEvent,
    Batch,
    Criterion,
    Objection,
    Programme,
)
from kejiyun.recognition.programmes import (
    ANSWER_MAX_LENGTH,
    LEVELS_ASKED,
    QUESTIONS,
    missing_answers,
)
from kejiyun.recognition.selectors import province_managers
from kejiyun.recognition.transitions import APPLICATION_MOVES, BATCH_MOVES, PROVINCE
from kejiyun.talent.models import Team

Status = Application.Status
REASON_MAX_LENGTH = 1000


class RecognitionError(ServiceError):
    """A refused recognition write; nothing was changed."""


class StaleApplication(Stale):
    message_text = "该申报已被他人处理或修改，请刷新后再试。"


def application_transition(
    *,
    application: Application,
    to: str,
    actor: User | None,
    version: int | None,
    reason: str = "",
    ip: str | None = None,
    updates: dict[str, Any] | None = None,
) -> Application:
    """Move `application` to `to` if the table allows it for one of the actor's parts of the
    chain, applying `updates` in the same conditional UPDATE on the version read, with one
    timeline event and one audit row (and, for a return, an in-app message to the
    applicant with the reason). A move that `needs_reason` needs a non-empty reason.
    `actor` None is the system (the periodic job), which may make only the province's moves."""
    current = application.status
    reason = reason.strip()
    if version is not None and version != application.version:
        # The page was drawn before someone else's change: say so, whatever the move.
        raise StaleApplication()
    move = APPLICATION_MOVES.find(current, to)
    if move is None:
        raise RecognitionError(
            f"不能把“{Status(current).label}”的申报改为“{Status(to).label}”。"
            if to in Status.values
            else "目标状态不存在。",
            code="illegal_transition",
        )
    # The system (actor None: the periodic job) acts only for the province.
    allowed = (
        move.by == PROVINCE if actor is None else move.by in application_roles(actor, application)
    )
    if not allowed:
        audit_record(
            action=AuditAction.RECOGNITION_MOVE,
            user=actor,
            ip=ip,
            object_type="recognition.application",
            object_id=str(application.pk),
            outcome="refused",
            detail={"from": current, "to": to},
        )
        raise NotPermitted("您无权办理该申报的这一环节。")
    if move.needs_reason and not reason:
        raise RecognitionError({"reason": "请填写原因。"}, code="reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise RecognitionError({"reason": f"说明不能超过{REASON_MAX_LENGTH}个字。"})
    now = timezone.now()
    with transaction.atomic():
        claim_version(
            application,
            version,
            stale=StaleApplication,
            only_if={"status": current},
            status=to,
            updated_at=now,
            **(updates or {}),
        )
        ApplicationEvent.objects.create(
            application=application,
            actor=actor,
            kind=ApplicationEvent.Kind.MOVE,
            from_status=current,
            to_status=to,
            reason=reason,
            created_at=now,
        )
        audit_record(
            action=AuditAction.RECOGNITION_MOVE,
            user=actor,
            ip=ip,
            object_type="recognition.application",
            object_id=str(application.pk),
            detail={"from": current, "to": to},
        )
        if to == Status.RETURNED:
            _notify_applicant(
                application,
                title=f"申报“{application.title}”被退回修改",
                body=f"退回原因：{reason}",
                key=f"recognition-app:{application.pk}:v{application.version}:returned",
            )
    return application


# --- Notifications ----------------------------------------------------------------------

SOURCE = "recognition"


def _application_url(application: Application) -> str:
    return reverse("recognition:application", args=[application.pk])


def _notify(users: list[User], *, title: str, body: str, url: str, key: str) -> int:
    return outbox_enqueue_many(
        drafts=[
            OutboxDraft(
                channel=Channel.IN_APP,
                recipient_id=user.pk,
                title=title,
                body=body[:500],
                url=url,
                idempotency_key=f"{key}:{user.pk}",
                source=SOURCE,
            )
            for user in users
        ]
    )


def _notify_applicant(application: Application, *, title: str, body: str, key: str) -> None:
    _notify(
        [application.applicant],
        title=title,
        body=body,
        url=_application_url(application),
        key=key,
    )


# --- Batches and criteria ---------------------------------------------------------------


class StaleBatch(Stale):
    message_text = "该批次已被他人修改，请刷新后再试。"


@dataclass(frozen=True)
class BatchInput:
    """A batch's settings as the province edits them (validated by `forms.BatchForm`)."""

    programme: str
    year: int
    name: str
    description: str
    eligibility: str
    opens_on: date
    closes_on: date
    review_closes_on: date | None = None
    notice_days: int = 7
    reviewers_per_application: int = 3
    reviewer_load: int = 10
    exclude_same_county: bool = True
    min_studio_cases: int = 3
    min_case_rating: int = 4
    quota_premium: int = 0
    quota_typical: int = 0
    chair: User | None = None


@dataclass(frozen=True)
class CriterionInput:
    name: str
    weight: int
    description: str = ""


CRITERIA_TOTAL = 100


def _require_manager(actor: User | None) -> None:
    if actor is not None and not is_province_manager(actor):
        raise NotPermitted("只有省级典型选树管理人员可以办理。")


def _batch_fields_check(data: BatchInput) -> None:
    errors: dict[str, str] = {}
    if data.programme not in Programme.values:
        errors["programme"] = "请选择项目类型。"
    if not data.name.strip():
        errors["name"] = "请填写批次名称。"
    if data.closes_on < data.opens_on:
        errors["closes_on"] = "申报截止日期不能早于开始日期。"
    if data.review_closes_on is not None and data.review_closes_on < data.closes_on:
        errors["review_closes_on"] = "评审截止日期不能早于申报截止日期。"
    if data.reviewers_per_application < 1:
        errors["reviewers_per_application"] = "每项评审专家数至少为1。"
    if data.reviewer_load < 1:
        errors["reviewer_load"] = "每位专家最多评审数至少为1。"
    if data.notice_days < 1:
        errors["notice_days"] = "公示天数至少为1天。"
    if not 1 <= data.min_case_rating <= 5:
        errors["min_case_rating"] = "案例最低满意度应在1到5分之间。"
    if errors:
        raise RecognitionError(errors, code="invalid")


def _batch_values(data: BatchInput) -> dict[str, Any]:
    values = asdict(data)
    values["name"] = data.name.strip()
    values["chair"] = data.chair
    return values


def _audit_batch(batch: Batch, actor: User | None, what: str, ip: str | None = None) -> None:
    audit_record(
        action=AuditAction.RECOGNITION_BATCH,
        user=actor,
        ip=ip,
        object_type="recognition.batch",
        object_id=str(batch.pk),
        detail={"what": what, "status": batch.status},
    )


def batch_create(*, actor: User, data: BatchInput, ip: str | None = None) -> Batch:
    """A new batch in draft (筹备中), by a province manager."""
    _require_manager(actor)
    _batch_fields_check(data)
    with transaction.atomic():
        batch = Batch.objects.create(created_by=actor, **_batch_values(data))
        _audit_batch(batch, actor, "create", ip)
    return batch


def batch_update(
    *, batch: Batch, actor: User, data: BatchInput, version: int | None, ip: str | None = None
) -> Batch:
    """Change a batch's settings while it is a draft or open; its programme only as a draft."""
    _require_manager(actor)
    if batch.status not in (Batch.Status.DRAFT, Batch.Status.OPEN):
        raise RecognitionError(
            f"该批次{batch.get_status_display()}，不能再修改。", code="batch_locked"
        )
    if batch.status != Batch.Status.DRAFT and data.programme != batch.programme:
        raise RecognitionError({"programme": "批次开始申报后不能更改项目类型。"}, code="locked")
    _batch_fields_check(data)
    with transaction.atomic():
        claim_version(
            batch,
            version,
            stale=StaleBatch,
            only_if={"status": batch.status},
            **_batch_values(data),
        )
        _audit_batch(batch, actor, "update", ip)
    return batch


def criteria_problems(criteria: list[CriterionInput]) -> list[str]:
    """Why these criteria cannot be published (empty: they can)."""
    problems: list[str] = []
    if not criteria:
        return ["请至少设置一项评审指标。"]
    names = [c.name.strip() for c in criteria]
    if any(not n for n in names):
        problems.append("每项评审指标都要有名称。")
    if len(set(names)) != len(names):
        problems.append("评审指标名称不能重复。")
    if any(not 1 <= c.weight <= CRITERIA_TOTAL for c in criteria):
        problems.append("每项指标的权重应在1到100之间。")
    total = sum(c.weight for c in criteria)
    if total != CRITERIA_TOTAL:
        problems.append(f"评审指标的权重合计须为100（现为{total}）。")
    return problems


def batch_criteria_problems(batch: Batch) -> list[str]:
    return criteria_problems(
        [
            CriterionInput(name=c.name, weight=c.weight, description=c.description)
            for c in batch.criteria.all()
        ]
    )


def batch_criteria_replace(
    *,
    batch: Batch,
    actor: User,
    criteria: list[CriterionInput],
    version: int | None,
    ip: str | None = None,
) -> Batch:
    """Replace a draft batch's criteria (their weights sum to 100). Refused once the batch
    is open: published criteria do not change under the applicants."""
    _require_manager(actor)
    if batch.status != Batch.Status.DRAFT:
        raise RecognitionError(
            "批次已开始申报，评审指标已公布，不能再修改。", code="criteria_locked"
        )
    problems = criteria_problems(criteria)
    if problems:
        raise RecognitionError(problems, code="criteria_invalid")
    with transaction.atomic():
        claim_version(batch, version, stale=StaleBatch, only_if={"status": Batch.Status.DRAFT})
        batch.criteria.all().delete()
        Criterion.objects.bulk_create(
            Criterion(
                batch=batch,
                name=c.name.strip(),
                weight=c.weight,
                description=c.description.strip(),
                order=i,
            )
            for i, c in enumerate(criteria)
        )
        _audit_batch(batch, actor, "criteria", ip)
    return batch


def batch_transition(
    *,
    batch: Batch,
    to: str,
    actor: User | None,
    version: int | None = None,
    ip: str | None = None,
    updates: dict[str, Any] | None = None,
) -> Batch:
    """Move `batch` to `to` if `BATCH_MOVES` lists it (province managers, or the system with
    `actor` None). Opening needs criteria whose weights sum to 100. Audited."""
    current = batch.status
    move = BATCH_MOVES.find(current, to)
    if move is None:
        raise RecognitionError(
            f"不能把“{Batch.Status(current).label}”的批次改为“{Batch.Status(to).label}”。"
            if to in Batch.Status.values
            else "目标状态不存在。",
            code="illegal_transition",
        )
    _require_manager(actor)
    if to == Batch.Status.OPEN:
        problems = batch_criteria_problems(batch)
        if problems:
            raise RecognitionError(problems, code="criteria_invalid")
    with transaction.atomic():
        claim_version(
            batch,
            version,
            stale=StaleBatch,
            only_if={"status": current},
            status=to,
            **(updates or {}),
        )
        audit_record(
            action=AuditAction.RECOGNITION_BATCH,
            user=actor,
            ip=ip,
            object_type="recognition.batch",
            object_id=str(batch.pk),
            detail={"from": current, "to": to},
        )
    return batch


# Applications still in the chain: the notice cannot start while any is.
IN_CHAIN = (Status.SUBMITTED, Status.RECOMMENDED, Status.ENDORSED, Status.REVIEWING)


def batch_notice_start(
    *, batch: Batch, actor: User, version: int | None = None, ip: str | None = None
) -> Batch:
    """Put the proposed result on public notice (公示): every application still in the chain
    must have been scored first; scored applications with a proposed level go on notice, the
    other scored ones are not recognised. The notice lasts `batch.notice_days` days."""
    _require_manager(actor)
    if batch.status != Batch.Status.REVIEW:
        raise RecognitionError("只有评审中的批次可以开始公示。", code="not_in_review")
    waiting = batch.applications.filter(status__in=IN_CHAIN).count()
    if waiting:
        raise RecognitionError(
            f"还有{waiting}项申报未完成评审，不能开始公示。", code="not_all_scored"
        )
    now = timezone.now()
    with transaction.atomic():
        batch_transition(
            batch=batch,
            to=Batch.Status.NOTICE,
            actor=actor,
            version=version,
            ip=ip,
            updates={
                "notice_starts_at": now,
                "notice_ends_at": now + timedelta(days=batch.notice_days),
            },
        )
        for application in batch.applications.filter(status=Status.SCORED).order_by("id"):
            if application.proposed_level:
                application_transition(
                    application=application, to=Status.NOTICE, actor=actor, version=None, ip=ip
                )
            else:
                application_transition(
                    application=application,
                    to=Status.NOT_RECOGNISED,
                    actor=actor,
                    version=None,
                    reason="未列入拟认定名单。",
                    ip=ip,
                    updates={"decided_at": now},
                )
                _notify_applicant(
                    application,
                    title=f"{batch.name}：未获认定",
                    body=f"您的申报“{application.title}”未列入拟认定名单。",
                    key=f"recognition-app:{application.pk}:not-recognised",
                )
    return batch


def batch_finalise(
    *,
    batch: Batch,
    actor: User | None,
    version: int | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Batch:
    """Publish the final result once the notice period is over and every objection is
    answered: applications on notice are recognised at their proposed level, unless an
    objection to them was upheld; recognised studios and cases carry the level and year.
    `actor` None: the periodic job."""
    _require_manager(actor)
    now = now or timezone.now()
    if batch.status != Batch.Status.NOTICE:
        raise RecognitionError("只有公示中的批次可以发布结果。", code="not_in_notice")
    if batch.notice_ends_at is None or now < batch.notice_ends_at:
        ends = timezone.localtime(batch.notice_ends_at) if batch.notice_ends_at else None
        raise RecognitionError(
            f"公示期至 {ends:%Y-%m-%d %H:%M} 结束，结束前不能发布结果。"
            if ends
            else "公示期尚未结束。",
            code="notice_running",
        )
    open_objections = Objection.objects.filter(
        application__batch=batch, answered_at__isnull=True
    ).count()
    if open_objections:
        raise RecognitionError(
            f"还有{open_objections}条公示异议未答复，答复后才能发布结果。",
            code="objections_open",
        )
    with transaction.atomic():
        batch_transition(
            batch=batch,
            to=Batch.Status.FINAL,
            actor=actor,
            version=version,
            ip=ip,
            updates={"published_at": now},
        )
        notice = batch.applications.filter(status=Status.NOTICE).select_related(
            "applicant", "studio", "case"
        )
        for application in notice.order_by("id"):
            upheld = application.objections.filter(upheld=True).order_by("id").first()
            if upheld is not None:
                application_transition(
                    application=application,
                    to=Status.NOT_RECOGNISED,
                    actor=actor,
                    version=None,
                    reason=f"公示异议成立：{upheld.answer}"[:REASON_MAX_LENGTH],
                    ip=ip,
                    updates={"decided_at": now},
                )
                title, body = "未获认定", f"您的申报“{application.title}”因公示异议成立未获认定。"
            else:
                level = application.proposed_level
                application_transition(
                    application=application,
                    to=Status.RECOGNISED,
                    actor=actor,
                    version=None,
                    ip=ip,
                    updates={"final_level": level, "decided_at": now},
                )
                if application.studio_id is not None:
                    Team.objects.filter(pk=application.studio_id).update(
                        recognition_level=level, recognised_year=batch.year
                    )
                if application.case_id is not None:
                    Case.objects.filter(pk=application.case_id).update(
                        recognition_level=level, recognised_year=batch.year
                    )
                title = "已获认定"
                body = f"您的申报“{application.title}”已认定为{Level(level).label}。"
            _notify_applicant(
                application,
                title=f"{batch.name}：{title}",
                body=body,
                key=f"recognition-app:{application.pk}:final",
            )
        # The expert directory shows the level of the studio each worker leads.
        content_changed(TALENT)
        audit_record(
            action=AuditAction.RECOGNITION_PUBLISH,
            user=actor,
            ip=ip,
            object_type="recognition.batch",
            object_id=str(batch.pk),
            detail={"recognised": batch.applications.filter(status=Status.RECOGNISED).count()},
        )
    return batch


# --- Applications -----------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationInput:
    """What the applicant writes (validated by `forms.ApplicationForm`)."""

    title: str
    summary: str
    fields: str = ""
    level: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    named_people: str = ""


EDITABLE = (Status.DRAFT, Status.RETURNED)


def _application_values(programme: str, data: ApplicationInput) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title = data.title.strip()
    if not title:
        errors["title"] = "请填写申报名称。"
    if not data.summary.strip():
        errors["summary"] = "请填写申报材料摘要。"
    levels = LEVELS_ASKED[programme]
    if levels and data.level not in levels:
        errors["level"] = "请选择申报等级（典型或精品）。"
    if not levels and data.level:
        errors["level"] = "该项目不分等级。"
    known = {q.key for q in QUESTIONS[programme]}
    answers = {k: str(v).strip()[:ANSWER_MAX_LENGTH] for k, v in data.answers.items() if k in known}
    if errors:
        raise RecognitionError(errors, code="invalid")
    people = "\n".join(line.strip() for line in data.named_people.splitlines() if line.strip())
    return {
        "title": title[:120],
        "summary": data.summary.strip(),
        "fields": data.fields.strip()[:200],
        "level": data.level,
        "answers": answers,
        "named_people": people,
    }


def application_create(
    *,
    batch: Batch,
    actor: User,
    subject: Subject,
    data: ApplicationInput,
    ip: str | None = None,
) -> Application:
    """A draft application of `actor` to `batch` about `subject`, refused unless they are
    eligible (`eligibility.application_reasons`)."""
    reasons = application_reasons(
        batch=batch, subject=subject, user=actor, today=timezone.localdate()
    )
    if reasons:
        raise RecognitionError(reasons, code="ineligible")
    region = subject_region(subject, actor)
    assert region is not None  # application_reasons refuses otherwise
    organisation_id = actor.organisation_id
    if subject.studio is not None and subject.studio.host_organisation_id is not None:
        organisation_id = subject.studio.host_organisation_id
    elif subject.case is not None:
        organisation_id = subject.case.demand.organisation_id
    elif subject.resource is not None and subject.resource.host_organisation_id is not None:
        organisation_id = subject.resource.host_organisation_id
    values = _application_values(batch.programme, data)
    now = timezone.now()
    try:
        with transaction.atomic():
            application = Application.objects.create(
                batch=batch,
                applicant=actor,
                organisation_id=organisation_id,
                region=region,
                studio=subject.studio,
                case=subject.case,
                resource=subject.resource,
                created_at=now,
                updated_at=now,
                **values,
            )
            ApplicationEvent.objects.create(
                application=application,
                actor=actor,
                kind=ApplicationEvent.Kind.EDIT,
                reason="创建申报草稿",
                created_at=now,
            )
    except IntegrityError:  # two tabs racing for the same subject
        raise RecognitionError("该对象已在本批次申报。", code="duplicate") from None
    return application


def _require_applicant(application: Application, actor: User) -> None:
    if application.applicant_id != actor.pk:
        raise NotPermitted("只有申报人可以修改该申报。")


def application_update(
    *,
    application: Application,
    actor: User,
    data: ApplicationInput,
    version: int | None,
) -> Application:
    """Save the applicant's changes to a draft or returned application."""
    _require_applicant(application, actor)
    if application.status not in EDITABLE:
        raise RecognitionError("只有草稿或退回修改的申报可以修改。", code="not_editable")
    values = _application_values(application.batch.programme, data)
    now = timezone.now()
    with transaction.atomic():
        claim_version(
            application,
            version,
            stale=StaleApplication,
            only_if={"status": application.status},
            updated_at=now,
            **values,
        )
        ApplicationEvent.objects.create(
            application=application,
            actor=actor,
            kind=ApplicationEvent.Kind.EDIT,
            reason="修改申报材料",
            created_at=now,
        )
    return application


def _subject_of(application: Application) -> Subject:
    return Subject(studio=application.studio, case=application.case, resource=application.resource)


def application_submit(
    *, application: Application, actor: User, version: int | None, ip: str | None = None
) -> Application:
    """Submit a draft (while the batch takes applications) or resubmit a returned
    application (while the batch is open or under review), after checking eligibility again
    and that every required question is answered."""
    _require_applicant(application, actor)
    batch = application.batch
    if application.status == Status.RETURNED and batch.status in (
        Batch.Status.OPEN,
        Batch.Status.REVIEW,
    ):
        # A returned application may come back after the call closed: the batch's dates
        # no longer apply to it, the subject's eligibility does.
        reasons = application_reasons_ignoring_batch(application, actor)
    else:
        reasons = application_reasons(
            batch=batch,
            subject=_subject_of(application),
            user=actor,
            today=timezone.localdate(),
            exclude=application,
        )
    if application.status == Status.RETURNED and batch.scoring_closed_at is not None:
        # No reviewer can be assigned any more: it would hold the notice back for good.
        reasons.append("该批次评分已截止，退回的申报不能再提交。")
    missing = missing_answers(batch.programme, application.answers)
    if missing:
        reasons.append(f"请填写：{'、'.join(missing)}。")
    if LEVELS_ASKED[batch.programme] and application.level not in LEVELS_ASKED[batch.programme]:
        reasons.append("请选择申报等级（典型或精品）。")
    if reasons:
        raise RecognitionError(reasons, code="ineligible")
    return application_transition(
        application=application,
        to=Status.SUBMITTED,
        actor=actor,
        version=version,
        ip=ip,
        updates={"submitted_at": timezone.now(), "return_reason": ""},
    )


def application_reasons_ignoring_batch(application: Application, actor: User) -> list[str]:
    """The subject's eligibility for a returned application resubmitted after the call
    closed (the batch's dates no longer apply to it)."""
    batch = application.batch
    if batch.programme == Programme.CASE and application.case is not None:
        return case_reasons(batch=batch, case=application.case, user=actor, exclude=application)
    if batch.programme == Programme.STUDIO and application.studio is not None:
        return studio_reasons(batch=batch, team=application.studio, user=actor, exclude=application)
    if batch.programme == Programme.WORKSTATION and application.resource is not None:
        return workstation_reasons(
            batch=batch, resource=application.resource, user=actor, exclude=application
        )
    if batch.programme == Programme.PROJECT:
        return project_reasons(user=actor)
    return ["申报对象已不存在。"]


def application_move(
    *,
    application: Application,
    to: str,
    actor: User,
    version: int | None,
    reason: str = "",
    ip: str | None = None,
) -> Application:
    """Any move of the chain other than submission (withdraw, recommend, endorse, return),
    through `application_transition` (which tells the applicant of a return)."""
    if to == Status.SUBMITTED:
        return application_submit(application=application, actor=actor, version=version, ip=ip)
    move = APPLICATION_MOVES.find(application.status, to)
    if move is not None and move.by == PROVINCE:
        # The province's moves are made by the batch services only (assignment, closing
        # scoring, notice, finalising), which check what each move needs.
        audit_record(
            action=AuditAction.RECOGNITION_MOVE,
            user=actor,
            ip=ip,
            object_type="recognition.application",
            object_id=str(application.pk),
            outcome="refused",
            detail={"from": application.status, "to": to},
        )
        raise NotPermitted("您无权办理该申报的这一环节。")
    updates: dict[str, Any] = {}
    if to == Status.RETURNED:
        updates["return_reason"] = reason.strip()[:REASON_MAX_LENGTH]
    return application_transition(
        application=application,
        to=to,
        actor=actor,
        version=version,
        reason=reason,
        ip=ip,
        updates=updates,
    )


# --- Attachments ------------------------------------------------------------------------

MAX_ATTACHMENT_BYTES = 10 * MIB
MAX_ATTACHMENTS = 10
ATTACHMENT_TYPES = (PDF, PNG, JPEG, *OFFICE)


def application_attachment_add(
    *, application: Application, actor: User, upload: UploadedFile, name: str = ""
) -> ApplicationAttachment:
    """Attach a file to a draft or returned application: checked by parsing it
    (`kejiyun.common.uploads`), stored privately under a random name."""
    _require_applicant(application, actor)
    if application.status not in EDITABLE:
        raise RecognitionError("只有草稿或退回修改的申报可以上传附件。", code="not_editable")
    if application.attachments.count() >= MAX_ATTACHMENTS:
        raise RecognitionError(f"每项申报最多上传{MAX_ATTACHMENTS}个附件。", code="too_many")
    kind = upload_check(
        upload,
        allowed=ATTACHMENT_TYPES,
        max_bytes=MAX_ATTACHMENT_BYTES,
        too_big="附件不能超过 10 MB。",
        bad_type="只能上传 PDF、图片（PNG/JPEG）或 Office 文档（.docx/.xlsx/.pptx）。",
        error=RecognitionError,
    )
    label = (name.strip() or upload.name or "附件")[:120]
    with transaction.atomic():
        attachment = ApplicationAttachment(
            application=application,
            uploaded_by=actor,
            name=label,
            original_name=(upload.name or "")[:200],
            content_type=kind.content_type,
        )
        attachment.file.save(random_name(kind), upload, save=False)
        attachment.save()
        ApplicationEvent.objects.create(
            application=application,
            actor=actor,
            kind=ApplicationEvent.Kind.EDIT,
            reason=f"上传附件：{label}",
        )
    return attachment


def application_attachment_remove(*, attachment: ApplicationAttachment, actor: User) -> None:
    application = attachment.application
    _require_applicant(application, actor)
    if application.status not in EDITABLE:
        raise RecognitionError("只有草稿或退回修改的申报可以删除附件。", code="not_editable")
    with transaction.atomic():
        ApplicationEvent.objects.create(
            application=application,
            actor=actor,
            kind=ApplicationEvent.Kind.EDIT,
            reason=f"删除附件：{attachment.name}",
        )
        stored = attachment.file.name
        attachment.delete()
        transaction.on_commit(lambda: private_storage().delete(stored))


def application_file_download_record(
    *, attachment: ApplicationAttachment, user: User, ip: str | None = None
) -> None:
    """Audit that `user` fetched an application's attachment (as case files are)."""
    audit_record(
        action=AuditAction.RECOGNITION_FILE_DOWNLOAD,
        user=user,
        ip=ip,
        object_type="recognition.application",
        object_id=str(attachment.application_id),
        detail={"file": "application_attachment", "attachment": attachment.pk},
    )


# --- Public notice: objections ----------------------------------------------------------


@dataclass(frozen=True)
class ObjectionInput:
    contact_name: str
    contact: str
    body: str


OBJECTION_MAX_LENGTH = 2000


def objection_file(
    *,
    application: Application,
    data: ObjectionInput,
    user: User | None,
    now: datetime | None = None,
) -> Objection:
    """File an objection to an application on public notice, during the notice period;
    anyone may (`user` None: an anonymous visitor)."""
    now = now or timezone.now()
    batch = application.batch
    if (
        application.status != Status.NOTICE
        or batch.status != Batch.Status.NOTICE
        or batch.notice_ends_at is None
        or not (batch.notice_starts_at or now) <= now < batch.notice_ends_at
    ):
        raise RecognitionError("该申报不在公示期内，不能提出异议。", code="not_in_notice")
    errors: dict[str, str] = {}
    if not data.contact_name.strip():
        errors["contact_name"] = "请填写联系人。"
    if not data.contact.strip():
        errors["contact"] = "请填写联系方式，以便答复。"
    if not data.body.strip():
        errors["body"] = "请填写异议内容。"
    elif len(data.body.strip()) > OBJECTION_MAX_LENGTH:
        errors["body"] = f"异议内容不能超过{OBJECTION_MAX_LENGTH}个字。"
    if errors:
        raise RecognitionError(errors, code="invalid")
    with transaction.atomic():
        objection = Objection.objects.create(
            application=application,
            filed_by=user if user is not None and user.is_authenticated else None,
            contact_name=data.contact_name.strip()[:40],
            contact=data.contact.strip()[:60],
            body=data.body.strip(),
            filed_at=now,
        )
        ApplicationEvent.objects.create(
            application=application,
            actor=objection.filed_by,
            kind=ApplicationEvent.Kind.OBJECTION,
            reason="公示期间收到异议。",
            created_at=now,
        )
    return objection


def objection_contact_view_record(
    *, objection: Objection, actor: User, ip: str | None = None
) -> None:
    """Audit that a manager opened an objection with the objector's contact in full
    (unmasking is audited; the row holds no contact)."""
    audit_record(
        action=AuditAction.RECOGNITION_OBJECTION,
        user=actor,
        ip=ip,
        object_type="recognition.objection",
        object_id=str(objection.pk),
        detail={"op": "contact_view"},
    )


def objection_answer(
    *,
    objection: Objection,
    actor: User,
    answer: str,
    upheld: bool,
    ip: str | None = None,
) -> Objection:
    """A province manager's answer to an objection (once); an upheld objection keeps the
    application from being recognised when the result is published. Audited."""
    _require_manager(actor)
    answer = answer.strip()
    if not answer:
        raise RecognitionError({"answer": "请填写答复内容。"}, code="invalid")
    if len(answer) > OBJECTION_MAX_LENGTH:
        raise RecognitionError({"answer": f"答复不能超过{OBJECTION_MAX_LENGTH}个字。"})
    if objection.application.status != Status.NOTICE:
        raise RecognitionError("该申报已不在公示中，不能再答复。", code="not_in_notice")
    now = timezone.now()
    with transaction.atomic():
        claimed = Objection.objects.filter(pk=objection.pk, answered_at__isnull=True).update(
            answer=answer, upheld=upheld, answered_by=actor, answered_at=now
        )
        if claimed != 1:
            raise RecognitionError("该异议已经答复。", code="answered")
        objection.answer, objection.upheld = answer, upheld
        objection.answered_by, objection.answered_at = actor, now
        ApplicationEvent.objects.create(
            application=objection.application,
            actor=actor,
            kind=ApplicationEvent.Kind.ANSWER,
            reason="异议成立。" if upheld else "异议不成立。",
            created_at=now,
        )
        audit_record(
            action=AuditAction.RECOGNITION_OBJECTION,
            user=actor,
            ip=ip,
            object_type="recognition.objection",
            object_id=str(objection.pk),
            detail={"application": objection.application_id, "upheld": upheld},
        )
    return objection


# --- The periodic job -------------------------------------------------------------------


def recognition_advance(*, now: datetime | None = None) -> int:
    """Move batches along their dates, as the system: open a draft whose `opens_on` has come
    (if its criteria are complete), close an open one after `closes_on` (to review), and
    publish the result of one whose notice has ended with every objection answered; tell the
    province managers once when objections hold it up. Safe to run again: returns how many
    batches moved (and notices were sent) this time."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    done = 0
    for batch in Batch.objects.filter(status=Batch.Status.DRAFT, opens_on__lte=today):
        if batch_criteria_problems(batch):
            continue
        try:
            batch_transition(batch=batch, to=Batch.Status.OPEN, actor=None)
            done += 1
        except Stale:
            continue
    for batch in Batch.objects.filter(status=Batch.Status.OPEN, closes_on__lt=today):
        try:
            batch_transition(batch=batch, to=Batch.Status.REVIEW, actor=None)
            done += 1
        except Stale:
            continue
    for batch in Batch.objects.filter(status=Batch.Status.NOTICE, notice_ends_at__lte=now):
        pending = Objection.objects.filter(
            application__batch=batch, answered_at__isnull=True
        ).count()
        if pending:
            done += _notify(
                province_managers(),
                title=f"{batch.name}公示已结束，尚有异议未答复",
                body=f"还有{pending}条公示异议未答复，答复后系统将发布认定结果。",
                url=reverse("recognition:batch_manage", args=[batch.pk]),
                key=f"recognition-batch:{batch.pk}:objections-pending",
            )
            continue
        try:
            batch_finalise(batch=batch, actor=None, now=now)
            done += 1
        except Stale:
            continue
    return done
