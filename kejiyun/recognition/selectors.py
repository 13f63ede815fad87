"""Reads for recognition pages, with who-may-see-what decided here.

- `applications_for_staff`: the applications (past the draft) a staff member's part of the
  chain covers: a county centre its county's, a city centre its counties', province
  managers all. `access_application` is built on it (and lets the applicant see their own).
- `application_for_reviewer`: an application only for a reviewer assigned to it.
- `application_for_files`: the applicant, staff who may see it, and assigned reviewers.
Everyone else gets a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from kejiyun.accounts.models import Role, User
from kejiyun.recognition.access import MANAGE_PERMISSION, is_province_manager
from kejiyun.recognition.models import (
    Application,
    ApplicationAttachment,
    ApplicationEvent,
    Batch,
    Objection,
)
from kejiyun.regions.models import Region

Status = Application.Status
_RELATED = ("batch", "applicant", "region", "region__parent", "studio", "case__demand", "resource")


def province_managers() -> list[User]:
    """Active province staff holding the recognition role (directly or through a group)."""
    app_label, codename = MANAGE_PERMISSION.split(".")
    perm = Q(
        user_permissions__codename=codename,
        user_permissions__content_type__app_label=app_label,
    ) | Q(
        groups__permissions__codename=codename,
        groups__permissions__content_type__app_label=app_label,
    )
    return list(
        User.objects.filter(
            perm,
            role=Role.STAFF,
            is_active=True,
            centre__region__level=Region.Level.PROVINCE,
        )
        .distinct()
        .order_by("id")
    )


def applications_for_staff(user: User) -> QuerySet[Application]:
    """The applications past the draft that `user`'s part of the chain covers (none for
    anyone but county, city and province recognition staff)."""
    qs = Application.objects.exclude(status=Status.DRAFT).select_related(*_RELATED)
    if is_province_manager(user):
        return qs
    if not user.is_centre_staff or user.centre is None:
        return qs.none()
    region = user.centre.region
    if region.level == Region.Level.COUNTY:
        return qs.filter(region_id=region.pk)
    if region.level == Region.Level.CITY:
        return qs.filter(region__parent_id=region.pk)
    return qs.none()


def applications_of(user: User) -> QuerySet[Application]:
    return Application.objects.filter(applicant=user).select_related(*_RELATED)


def access_application(user: User | AnonymousUser, application_id: int) -> Application:
    """The application if `user` is its applicant or staff whose part of the chain covers
    it; otherwise 404."""
    if not isinstance(user, User) or not user.is_active:
        raise Http404("申报不存在")
    own = applications_of(user).filter(pk=application_id).first()
    if own is not None:
        return own
    found = applications_for_staff(user).filter(pk=application_id).first()
    if found is None:
        raise Http404("申报不存在")
    return found


def application_for_reviewer(user: User | AnonymousUser, application_id: int) -> Application:
    """The application if a `ReviewAssignment` gives it to `user`; otherwise 404."""
    if not isinstance(user, User) or not user.is_active:
        raise Http404("申报不存在")
    found = (
        Application.objects.filter(pk=application_id, assignments__reviewer=user)
        .select_related(*_RELATED)
        .first()
    )
    if found is None:
        raise Http404("申报不存在")
    return found


def application_for_files(user: User | AnonymousUser, application_id: int) -> Application:
    """The application if `user` may fetch its attachments: the applicant, staff whose part
    of the chain covers it, and reviewers assigned to it."""
    try:
        return access_application(user, application_id)
    except Http404:
        return application_for_reviewer(user, application_id)


def attachment_of(application: Application, attachment_id: int) -> ApplicationAttachment:
    try:
        return application.attachments.get(pk=attachment_id)
    except ApplicationAttachment.DoesNotExist:
        raise Http404("文件不存在") from None


def staff_queue(user: User) -> QuerySet[Application]:
    """What waits for `user`: a county centre's submitted applications (to recommend or
    return), a city centre's recommended ones (to endorse or return)."""
    if not user.is_centre_staff or user.centre is None:
        return Application.objects.none()
    region = user.centre.region
    qs = applications_for_staff(user)
    if region.level == Region.Level.COUNTY:
        return qs.filter(status=Status.SUBMITTED).order_by("submitted_at", "id")
    if region.level == Region.Level.CITY:
        return qs.filter(status=Status.RECOMMENDED).order_by("submitted_at", "id")
    return Application.objects.none()


def timeline(application: Application, *, for_applicant: bool) -> list[ApplicationEvent]:
    """The application's events; the applicant never sees who reviewed it nor the review
    events' text (reviewers stay anonymous to applicants)."""
    events = list(application.events.select_related("actor").order_by("created_at", "id"))
    if for_applicant:
        for event in events:
            event.actor = None
            if event.kind in (ApplicationEvent.Kind.ASSIGN, ApplicationEvent.Kind.SCORE):
                event.reason = ""
    return events


# --- Batches ----------------------------------------------------------------------------


def batches_public() -> QuerySet[Batch]:
    """Batches whose call is published (every batch past the draft)."""
    return Batch.objects.exclude(status=Batch.Status.DRAFT).order_by("-year", "-opens_on", "-id")


def batch_public(batch_id: int) -> Batch:
    try:
        return batches_public().prefetch_related("criteria").get(pk=batch_id)
    except Batch.DoesNotExist:
        raise Http404("批次不存在") from None


def batches_open() -> QuerySet[Batch]:
    return Batch.objects.filter(status=Batch.Status.OPEN).order_by("closes_on", "id")


def access_batch(user: User, batch_id: int) -> Batch:
    """A batch for a province manager; 404 for anyone else."""
    if not is_province_manager(user):
        raise Http404("批次不存在")
    try:
        return Batch.objects.select_related("chair", "created_by").get(pk=batch_id)
    except Batch.DoesNotExist:
        raise Http404("批次不存在") from None


def batches_managed() -> QuerySet[Batch]:
    return Batch.objects.annotate(application_count=Count("applications")).order_by("-year", "-id")


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


def batch_status_counts(batch: Batch) -> list[StatusCount]:
    counts = dict(
        batch.applications.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return [StatusCount(s.value, s.label, counts.get(s.value, 0)) for s in Status]


def notice_applications(batch: Batch) -> QuerySet[Application]:
    """The applications a batch puts on notice (公示), best first."""
    return (
        batch.applications.filter(status=Status.NOTICE)
        .select_related(*_RELATED)
        .order_by("rank", "-score", "id")
    )


def result_applications(batch: Batch) -> QuerySet[Application]:
    return (
        batch.applications.filter(status=Status.RECOGNISED)
        .select_related(*_RELATED)
        .order_by("rank", "-score", "id")
    )


def batch_objections(batch: Batch) -> QuerySet[Objection]:
    return (
        Objection.objects.filter(application__batch=batch)
        .select_related("application", "answered_by")
        .order_by("answered_at", "filed_at", "id")
    )


def access_objection(user: User, objection_id: int) -> Objection:
    if not is_province_manager(user):
        raise Http404("异议不存在")
    try:
        return Objection.objects.select_related(
            "application__batch", "answered_by", "application__region"
        ).get(pk=objection_id)
    except Objection.DoesNotExist:
        raise Http404("异议不存在") from None


def subject_name(application: Application) -> str:
    if application.studio_id is not None:
        return application.studio.name  # type: ignore[union-attr]
    if application.case_id is not None:
        return application.case.demand.title  # type: ignore[union-attr]
    if application.resource_id is not None:
        return application.resource.name  # type: ignore[union-attr]
    return application.title
