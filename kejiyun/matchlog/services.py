"""Writes for matching: record that a profile or demand changed, so the index follows it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kejiyun.matchlog.models import IndexChange
from kejiyun.pagecache.services import MATCHING, content_changed

EXPERTS = IndexChange.Kind.EXPERTS
DEMANDS = IndexChange.Kind.DEMANDS
TEAMS = IndexChange.Kind.TEAMS
RESULTS = IndexChange.Kind.RESULTS


def index_change_record(*, kind: str, object_ids: Iterable[int]) -> int:
    """Log changed rows (call inside the transaction that changed them). Returns how many.

    The page cache's matching generation moves on in the same transaction, so rankings
    cached under the older number (`kejiyun.matching.selectors.rankings_for_demand`) are
    never read again once the change commits."""
    if kind not in IndexChange.Kind.values:
        raise ValueError(f"unknown index kind {kind!r}")
    rows = [IndexChange(kind=kind, object_id=pk) for pk in dict.fromkeys(object_ids)]
    if not rows:
        return 0
    with transaction.atomic():
        IndexChange.objects.bulk_create(rows)
        content_changed(MATCHING)
    return len(rows)


def index_changes_prune(
    *, older_than: timedelta = timedelta(days=7), now: datetime | None = None
) -> int:
    """Drop applied history. Processes that fell further behind rebuild instead."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = IndexChange.objects.filter(created_at__lt=cutoff).delete()
    return deleted
