"""Thin periodic tasks: no arguments in, a service called; safe to run twice. Celery and
the embedded runner find every ops task through this module."""

from __future__ import annotations

from celery import shared_task

from kejiyun.ops.reports.tasks import remind_work_reports
from kejiyun.ops.rollups import rollup_refresh as refresh
from kejiyun.ops.supervision.tasks import refresh_gap_coverage

__all__ = ["refresh_gap_coverage", "remind_work_reports", "rollup_refresh"]


@shared_task(name="ops.rollup_refresh", ignore_result=True)  # type: ignore[untyped-decorator]
def rollup_refresh() -> int:
    """Bring the operations rollups up to date (from the watermark through today)."""
    return refresh().rows
