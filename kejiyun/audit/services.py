"""Write and verify the audit hash chain."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from kejiyun.audit.models import AuditAction, AuditEvent


def _canonical(event: AuditEvent) -> str:
    return json.dumps(
        {
            "created_at": event.created_at.isoformat(),
            "user": event.user_id,
            "ip": event.ip,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "outcome": event.outcome,
            "detail": event.detail,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def audit_hash(event: AuditEvent) -> str:
    """The hash a row must carry: sha256 over its prev_hash and its canonical content."""
    return hashlib.sha256((event.prev_hash + _canonical(event)).encode()).hexdigest()


def audit_record(
    *,
    action: AuditAction,
    user: AbstractBaseUser | None = None,
    ip: str | None = None,
    object_type: str = "",
    object_id: str = "",
    outcome: str = AuditEvent.Outcome.OK,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. `detail` must never hold personal data."""
    event = AuditEvent(
        created_at=timezone.now(),
        user_id=user.pk if user is not None else None,
        ip=ip or None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        outcome=outcome,
        detail=detail or {},
    )
    with transaction.atomic():
        # Locking the latest row keeps the chain linear when two writers race (PostgreSQL);
        # SQLite serialises writes anyway.
        latest = AuditEvent.objects.select_for_update().order_by("-id").only("id", "hash").first()
        event.prev_hash = latest.hash if latest is not None else ""
        # Round-trip the stored JSON shape so the hash matches what verification reads back.
        event.detail = json.loads(json.dumps(event.detail))
        event.hash = audit_hash(event)
        event.save(force_insert=True)
    return event


def audit_verify() -> list[int]:
    """Ids of events whose hash does not match their content or whose prev_hash breaks the
    chain. An empty list means the chain is intact."""
    broken: list[int] = []
    previous = ""
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != previous or event.hash != audit_hash(event):
            broken.append(event.pk)
        previous = event.hash
    return broken
