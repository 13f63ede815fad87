"""The periodic scan (`integrity.scan`): thin, no arguments, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from kejiyun.integrity.services import integrity_scan_due


@shared_task(name="integrity.scan", ignore_result=True)  # type: ignore[untyped-decorator]
def scan() -> int:
    """Scan the last days for gaming and bring the flags up to date; the number of flags
    created, updated or withdrawn."""
    result = integrity_scan_due()
    return result.created + result.updated + result.withdrawn
