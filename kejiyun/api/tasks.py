"""Thin periodic task: delete API tokens long past their expiry or revocation."""

from __future__ import annotations

from celery import shared_task

from kejiyun.api.tokens import tokens_purge


@shared_task(name="api.purge_tokens", ignore_result=True)  # type: ignore[untyped-decorator]
def purge_tokens() -> int:
    return tokens_purge()
