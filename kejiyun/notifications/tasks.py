"""Thin tasks: no arguments in, a service called; safe to run twice."""

from __future__ import annotations

from celery import shared_task

from kejiyun.notifications.services import outbox_dispatch

MAX_ROUNDS = 20
BATCH = 500


@shared_task(name="notifications.dispatch_outbox", ignore_result=True)  # type: ignore[untyped-decorator]
def dispatch_outbox() -> int:
    """Send due outbox messages, a batch at a time, while whole batches come back."""
    sent = 0
    for _ in range(MAX_ROUNDS):
        result = outbox_dispatch(limit=BATCH)
        sent += result.sent
        if result.claimed < BATCH:
            break
    return sent
