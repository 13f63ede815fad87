"""Thin periodic task: empty the stored rows of import batches nobody confirmed."""

from __future__ import annotations

from celery import shared_task

from kejiyun.spreadsheets.services import import_batches_purge


@shared_task(name="spreadsheets.purge_batches", ignore_result=True)  # type: ignore[untyped-decorator]
def purge_batches() -> int:
    return import_batches_purge()
