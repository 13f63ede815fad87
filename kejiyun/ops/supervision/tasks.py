"""Thin periodic task of supervision: keep the supply-demand gap's expert counts fresh."""

from __future__ import annotations

from celery import shared_task

from kejiyun.ops.supervision.services import gap_coverage_refresh


@shared_task(name="ops.gap_coverage_refresh", ignore_result=True)  # type: ignore[untyped-decorator]
def refresh_gap_coverage() -> int:
    return gap_coverage_refresh()
