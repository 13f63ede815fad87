"""The case timeline's one writer: every change to a case adds one immutable `CaseEvent`."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.cases.models import Case, CaseEvent


def case_event_add(
    *,
    case: Case,
    kind: str,
    actor: User | None,
    from_step: str = "",
    to_step: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> CaseEvent:
    """One timeline row: who (None for the system) did what to the case, from and to which
    step, when and why."""
    return CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=kind,
        from_step=from_step,
        to_step=to_step,
        reason=reason,
        created_at=now or timezone.now(),
    )
