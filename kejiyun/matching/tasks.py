"""Thin periodic task: bring the match index up to date, save it, prune the change log."""

from __future__ import annotations

from celery import shared_task

from kejiyun.matching.index import match_index_sync
from kejiyun.matchlog.services import index_changes_prune


@shared_task(name="matching.sync_index", ignore_result=True)  # type: ignore[untyped-decorator]
def sync_index() -> int:
    applied = match_index_sync()
    index_changes_prune()
    return sum(applied.values())
