"""Thin periodic tasks: no arguments in, a service called; safe to run twice."""

from __future__ import annotations

from celery import shared_task

from kejiyun.cases.clock.services import cases_escalate_overdue, cases_owner_ensure


@shared_task(name="cases.escalate_overdue", ignore_result=True)  # type: ignore[untyped-decorator]
def escalate_overdue() -> int:
    return cases_escalate_overdue()


@shared_task(name="cases.own_unowned", ignore_result=True)  # type: ignore[untyped-decorator]
def own_unowned() -> int:
    """Give every open case nobody owns an owner (up the chain of centres if need be)."""
    return cases_owner_ensure()
