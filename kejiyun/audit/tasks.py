"""Thin periodic task: purge audit rows older than the retention (docs/security.md item 13)."""

from __future__ import annotations

import logging

from celery import shared_task

from kejiyun.audit.services import audit_purge

logger = logging.getLogger("kejiyun.audit")


@shared_task(name="audit.purge", ignore_result=True)  # type: ignore[untyped-decorator]
def purge() -> int:
    deleted = audit_purge()
    if deleted:
        logger.info("audit purge: %d rows older than the retention deleted", deleted)
    return deleted
