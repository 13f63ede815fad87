"""Writes for recognition applications.

Every status change goes through `application_transition`, which refuses what
`APPLICATION_MOVES` does not list or what the actor's part of the chain (`access.py`) does
not allow, claims the row by its version (a stale page is refused and changes nothing),
writes an `ApplicationEvent` on the timeline and an audit row, all in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.errors import NotPermitted, ServiceError, Stale
from kejiyun.common.versioning import claim_version
from kejiyun.recognition.access import application_roles
from kejiyun.recognition.models import Application, ApplicationEvent
from kejiyun.recognition.transitions import APPLICATION_MOVES

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
    actor: User,
    version: int | None,
    reason: str = "",
    ip: str | None = None,
    updates: dict[str, Any] | None = None,
) -> Application:
    """Move `application` to `to` if the table allows it for one of the actor's parts of the
    chain, applying `updates` in the same conditional UPDATE on the version read, with one
    timeline event and one audit row. A move that `needs_reason` needs a non-empty reason."""
    current = application.status
    reason = reason.strip()
    move = APPLICATION_MOVES.find(current, to)
    if move is None:
        raise RecognitionError(
            f"不能把“{Status(current).label}”的申报改为“{Status(to).label}”。"
            if to in Status.values
            else "目标状态不存在。",
            code="illegal_transition",
        )
    if move.by not in application_roles(actor, application):
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
    return application
