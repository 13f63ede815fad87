"""Second-person approval of bulk exports of personal data (docs/security.md item 21).

An export of a list with personal columns above settings.BULK_EXPORT_APPROVAL_ROWS rows becomes
an `ExportRequest` (EXPORT_REQUEST audited). Another user who holds
`accounts.approve_bulk_export` and whose jurisdiction covers the requester's (the same centre
or one above it; administrators cover all) approves or refuses it (EXPORT_APPROVE /
EXPORT_REFUSE); approving one's own request is refused (403). The requester then downloads the
file once within settings.BULK_EXPORT_DOWNLOAD_HOURS; the file is written at download time,
as the requester then sees the list, and that export is audited as SHEETS_EXPORT.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.audit.services import audit_record
from kejiyun.common.errors import NotPermitted, ServiceError
from kejiyun.regions.selectors import region_in_jurisdiction, user_jurisdiction
from kejiyun.spreadsheets.exporters import get_export_list
from kejiyun.spreadsheets.models import ExportRequest
from kejiyun.spreadsheets.services import ExportFile, ProgressReport, list_export

APPROVE_PERMISSION = "accounts.approve_bulk_export"


class ExportRequestError(ServiceError):
    """A refused step of a bulk-export request; nothing changed."""


# --- Reads ---------------------------------------------------------------------------------


def export_needs_approval(*, name: str, actor: User) -> int | None:
    """The row count when exporting `name` as `actor` needs a second person, else None."""
    export = get_export_list(name)
    if not export.personal:
        return None
    rows = export.queryset(user=actor).count()
    return rows if rows > settings.BULK_EXPORT_APPROVAL_ROWS else None


def may_decide(user: User, request: ExportRequest) -> bool:
    """Whether `user` may approve or refuse `request` (the requester aside)."""
    if not (user.is_active and user.has_perm(APPROVE_PERMISSION)):
        return False
    if user.sees_everything:
        return True
    return request.region is not None and region_in_jurisdiction(user, request.region)


def export_requests_for(user: User) -> QuerySet[ExportRequest]:
    """The requests `user` may see: their own, and those they may decide."""
    qs = ExportRequest.objects.select_related("requester", "decided_by", "region")
    if not user.has_perm(APPROVE_PERMISSION):
        return qs.filter(requester=user)
    if user.sees_everything:
        return qs
    region = user_jurisdiction(user) if user.is_centre_staff else None
    if region is None:
        return qs.filter(requester=user)
    return qs.filter(Q(requester=user) | Q(region__path__startswith=region.path))


def access_export_request(user: User, request_id: int) -> ExportRequest:
    """The request if `user` may see it; otherwise 404."""
    try:
        return export_requests_for(user).get(pk=request_id)
    except ExportRequest.DoesNotExist:
        raise Http404("导出申请不存在或不在您的辖区内") from None


# --- Writes --------------------------------------------------------------------------------


def export_request_create(*, name: str, actor: User, row_count: int) -> ExportRequest:
    export = get_export_list(name)
    with transaction.atomic():
        request = ExportRequest.objects.create(
            requester=actor,
            region=None if actor.sees_everything else user_jurisdiction(actor),
            list_name=export.name,
            filters={},  # the lists export the whole jurisdiction; no filters yet
            row_count=row_count,
        )
        audit_record(
            action=AuditAction.EXPORT_REQUEST,
            user=actor,
            object_type="export_request",
            object_id=str(request.pk),
            detail={"list": export.name, "rows": row_count},
        )
    return request


def export_request_decide(
    *, request: ExportRequest, actor: User, approve: bool, reason: str = ""
) -> ExportRequest:
    """Approve or refuse; the requester may do neither (403), nor may anyone outside."""
    reason = reason.strip()[:200]
    if actor.pk == request.requester_id:
        audit_record(
            action=AuditAction.EXPORT_APPROVE if approve else AuditAction.EXPORT_REFUSE,
            user=actor,
            object_type="export_request",
            object_id=str(request.pk),
            outcome=AuditEvent.Outcome.REFUSED,
            detail={"reason": "self"},
        )
        raise NotPermitted("不能审批自己的导出申请，请由同级或上级有审批权限的人员审批。")
    if not may_decide(actor, request):
        raise NotPermitted("您没有审批此导出申请的权限。")
    if not approve and not reason:
        raise ExportRequestError("驳回时请填写原因。", code="reason_required")
    now = timezone.now()
    with transaction.atomic():
        changed = ExportRequest.objects.filter(
            pk=request.pk, status=ExportRequest.Status.PENDING
        ).update(
            status=ExportRequest.Status.APPROVED if approve else ExportRequest.Status.REFUSED,
            decided_by=actor,
            decided_at=now,
            reason="" if approve else reason,
        )
        if not changed:
            raise ExportRequestError("该申请已处理，请刷新页面查看。", code="decided")
        audit_record(
            action=AuditAction.EXPORT_APPROVE if approve else AuditAction.EXPORT_REFUSE,
            user=actor,
            object_type="export_request",
            object_id=str(request.pk),
            detail={"list": request.list_name, "rows": request.row_count},
        )
    request.refresh_from_db()
    return request


def export_request_check(
    *, request: ExportRequest, actor: User, now: datetime | None = None
) -> None:
    """Refuse (and change nothing) unless `actor` may take the approved export now: its
    requester, approved, not taken, within the download window."""
    now = now or timezone.now()
    if actor.pk != request.requester_id:
        raise NotPermitted("只有申请人可以下载批准的导出。")
    until = request.download_until()
    if request.status == ExportRequest.Status.DOWNLOADED:
        raise ExportRequestError("该导出已下载过一次；如需再次导出，请重新申请。", code="used")
    if request.status != ExportRequest.Status.APPROVED or until is None:
        raise ExportRequestError("该申请尚未获批准，暂不能下载。", code="not_approved")
    if now > until:
        raise ExportRequestError(
            f"批准后 {settings.BULK_EXPORT_DOWNLOAD_HOURS} 小时内未下载，已失效；请重新申请。",
            code="expired",
        )


def export_request_download(
    *,
    request: ExportRequest,
    actor: User,
    now: datetime | None = None,
    progress: ProgressReport | None = None,
) -> ExportFile:
    """The approved export, once, by its requester, within the download window. The claim
    and the file are made in one transaction: work that dies half-way claimed nothing."""
    now = now or timezone.now()
    export_request_check(request=request, actor=actor, now=now)
    with transaction.atomic():
        claimed = ExportRequest.objects.filter(
            pk=request.pk, status=ExportRequest.Status.APPROVED
        ).update(status=ExportRequest.Status.DOWNLOADED, downloaded_at=now)
        if not claimed:
            raise ExportRequestError("该导出已下载过一次；如需再次导出，请重新申请。", code="used")
        return list_export(
            name=request.list_name, actor=actor, approved_request=request.pk, progress=progress
        )
