"""Thin periodic tasks: bring the match index up to date, save it, prune the change log;
embed new and changed rows off the request path."""

from __future__ import annotations

from celery import shared_task

from kejiyun.matching.embeddings import PERIODIC_LIMIT, match_embeddings_compute
from kejiyun.matching.index import match_index_sync
from kejiyun.matchlog.services import index_changes_prune


@shared_task(name="matching.sync_index", ignore_result=True)  # type: ignore[untyped-decorator]
def sync_index() -> int:
    applied = match_index_sync()
    index_changes_prune()
    return sum(applied.values())


@shared_task(name="matching.embed_vectors", ignore_result=True)  # type: ignore[untyped-decorator]
def embed_vectors() -> int:
    return sum(match_embeddings_compute(limit=PERIODIC_LIMIT).values())
