"""Thin periodic task for work reports: the reminders service, as the system; safe to run
twice (each reminder has an idempotency key in the outbox)."""

from __future__ import annotations

from celery import shared_task

from kejiyun.ops.reports.services import reports_remind


@shared_task(name="ops.remind_work_reports", ignore_result=True)  # type: ignore[untyped-decorator]
def remind_work_reports() -> int:
    """Enqueue the due reminders for half-year work reports; how many messages were new."""
    return reports_remind()
