"""Reads for the security pages. Only the security auditor (Role.AUDITOR) and users given
`accounts.view_audit_trail` read the audit trail (docs/security.md item 11)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditEvent


def may_view_audit(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.role == Role.AUDITOR or user.has_perm("accounts.view_audit_trail"))
    )


def actor_ids(text: str) -> list[int]:
    """Users an actor filter names: a user id, or users whose name or username contains it."""
    text = text.strip()
    if text.isdigit():
        return [int(text)]
    return list(
        User.objects.filter(Q(display_name__icontains=text) | Q(username__icontains=text))
        .order_by("id")
        .values_list("id", flat=True)[:200]
    )


def _day_start(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events(filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """The audit rows the filters select, newest first."""
    qs = AuditEvent.objects.order_by("-id")
    if "date_from" in filters:
        qs = qs.filter(created_at__gte=_day_start(filters["date_from"]))
    if "date_to" in filters:
        qs = qs.filter(created_at__lt=_day_start(filters["date_to"]) + timedelta(days=1))
    for name in ("action", "outcome", "ip", "object_type", "object_id"):
        if name in filters:
            qs = qs.filter(**{name: filters[name]})
    if "actor" in filters:
        qs = qs.filter(user_id__in=actor_ids(str(filters["actor"])))
    return qs


def user_names(ids: set[int]) -> dict[int, str]:
    return dict(User.objects.filter(pk__in=ids).values_list("id", "display_name"))
