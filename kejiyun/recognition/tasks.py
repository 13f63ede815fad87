"""Thin periodic task (`recognition.advance`): moves batches along their dates; safe to run
twice (each move claims the batch's status, each reminder has an idempotency key)."""

from __future__ import annotations

from celery import shared_task

from kejiyun.recognition.services import recognition_advance


@shared_task(name="recognition.advance", ignore_result=True)  # type: ignore[untyped-decorator]
def advance() -> int:
    """Open, close and finalise the batches whose dates have come; how many moved."""
    return recognition_advance()
