"""Write, verify and purge the audit hash chain (docs/security.md items 11-13).

The chain: each row carries the hash of the row before it. The seal (`AuditSeal`) keeps the
newest row's id and hash, so deleting the newest rows or appending a forged one is seen too.
A purge deletes a prefix of rows older than the retention and first records an AUDIT_PURGE row
holding the hash of the last row it deletes (the anchor): the first surviving row's prev_hash
is accepted only when it equals the anchor of the latest purge.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from kejiyun.audit.context import current_ip, note_refusal_recorded
from kejiyun.audit.models import AuditAction, AuditEvent, AuditSeal


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
    """Append one event to the chain. `detail` must never hold personal data.

    Without `ip`, the address of the request being served (`kejiyun.audit.context`) is used."""
    event = AuditEvent(
        created_at=timezone.now(),
        user_id=user.pk if user is not None else None,
        ip=ip or current_ip(),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        outcome=outcome,
        detail=detail or {},
    )
    with transaction.atomic():
        # Locking the seal keeps the chain linear when two writers race (PostgreSQL); SQLite
        # serialises writes anyway.
        seal = _seal_locked()
        if seal.last_id:
            # The seal holds the newest row's hash: a row deleted behind its back leaves the
            # next row pointing at it, so the deletion shows as a break.
            event.prev_hash = seal.last_hash
        else:
            latest = AuditEvent.objects.order_by("-id").only("id", "hash").first()
            event.prev_hash = latest.hash if latest is not None else ""
        # Round-trip the stored JSON shape so the hash matches what verification reads back.
        event.detail = json.loads(json.dumps(event.detail))
        event.hash = audit_hash(event)
        event.save(force_insert=True)
        AuditSeal.objects.filter(pk=seal.pk).update(
            last_id=event.pk, last_hash=event.hash, updated_at=event.created_at
        )
    if outcome == AuditEvent.Outcome.REFUSED:
        note_refusal_recorded()
    return event


def _seal_locked() -> AuditSeal:
    seal = AuditSeal.objects.select_for_update().filter(pk=1).first()
    if seal is None:  # a database emptied by hand (or a test's flush)
        AuditSeal.objects.get_or_create(pk=1)
        seal = AuditSeal.objects.select_for_update().get(pk=1)
    return seal


def _purge_anchor() -> str | None:
    """The anchor of the latest purge: the hash of the last row it deleted."""
    purge = (
        AuditEvent.objects.filter(action=AuditAction.AUDIT_PURGE, outcome=AuditEvent.Outcome.OK)
        .order_by("-id")
        .only("detail")
        .first()
    )
    if purge is None:
        return None
    anchor = purge.detail.get("anchor_hash") if isinstance(purge.detail, dict) else None
    return anchor if isinstance(anchor, str) and anchor else None


def audit_verify() -> list[int]:
    """Ids of events whose hash does not match their content or whose prev_hash breaks the
    chain, and the seal's id when the newest row is not the one the seal names (the newest
    rows were deleted, or a row was appended behind the chain's back). An empty list means
    the chain is intact."""
    broken: list[int] = []
    first = True
    previous = ""
    newest: AuditEvent | None = None
    anchor = _purge_anchor()
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if first and event.prev_hash and anchor is not None:
            # Rows before this one were purged: its link must be the purge's anchor.
            previous = anchor
        first = False
        if event.prev_hash != previous or event.hash != audit_hash(event):
            broken.append(event.pk)
        previous = event.hash
        newest = event
    seal = AuditSeal.objects.filter(pk=1).first()
    head_moved = seal is not None and bool(seal.last_id)
    if head_moved and seal is not None:
        head_moved = newest is None or (newest.pk, newest.hash) != (seal.last_id, seal.last_hash)
    if head_moved and seal is not None and seal.last_id not in broken:
        broken.append(seal.last_id)
    return broken


def audit_purge(*, now: datetime | None = None) -> int:
    """Delete the rows older than settings.AUDIT_RETENTION_DAYS (at least 183), keeping the
    chain verifiable; returns how many were deleted.

    Only a prefix goes: the rows before the first row inside the retention, so a younger row
    is never deleted even if clocks made ids and times disagree. The AUDIT_PURGE row is written
    first (it is young, so it survives) and carries the anchor: the hash of the last deleted
    row, which is the prev_hash of the first row that remains."""
    now = now or timezone.now()
    days = max(int(settings.AUDIT_RETENTION_DAYS), 183)
    cutoff = now - timedelta(days=days)
    with transaction.atomic():
        _seal_locked()
        first_young = (
            AuditEvent.objects.filter(created_at__gte=cutoff).order_by("id").only("id").first()
        )
        old = AuditEvent.objects.all()
        if first_young is not None:
            old = old.filter(id__lt=first_young.pk)
        last = old.order_by("-id").only("id", "hash", "created_at").first()
        if last is None:
            return 0
        doomed = AuditEvent.objects.filter(id__lte=last.pk)
        count = doomed.count()
        audit_record(
            action=AuditAction.AUDIT_PURGE,
            object_type="auditevent",
            object_id=str(last.pk),
            detail={
                "anchor_hash": last.hash,
                "anchor_id": last.pk,
                "deleted": count,
                "retention_days": days,
                "before": cutoff.isoformat(),
            },
        )
        doomed.delete()
    return count
