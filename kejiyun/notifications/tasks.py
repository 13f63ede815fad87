"""Thin tasks: no arguments in, a dispatcher function called; safe to run twice.

This module imports only `dispatch` (never `services`), so `services` can import the task
to queue it after commit without an import cycle.
"""

from __future__ import annotations

from celery import shared_task

from kejiyun.notifications.dispatch import outbox_dispatch_all

MAX_ROUNDS = 20
BATCH = 500


@shared_task(name="notifications.dispatch_outbox", ignore_result=True)  # type: ignore[untyped-decorator]
def dispatch_outbox() -> int:
    """Send due outbox messages, a batch at a time, while whole batches come back."""
    return outbox_dispatch_all(batch=BATCH, max_rounds=MAX_ROUNDS).sent
