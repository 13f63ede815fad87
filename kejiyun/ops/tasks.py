"""Thin periodic tasks: no arguments in, a service called; safe to run twice."""

from __future__ import annotations

from celery import shared_task

from kejiyun.ops.rollups import rollup_refresh as refresh


@shared_task(name="ops.rollup_refresh", ignore_result=True)  # type: ignore[untyped-decorator]
def rollup_refresh() -> int:
    """Bring the operations rollups up to date (from the watermark through today)."""
    return refresh().rows
