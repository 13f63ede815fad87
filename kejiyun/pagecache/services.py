"""Writes for the public page cache: say that public content changed."""

from __future__ import annotations

import time

from django.db import transaction
from django.db.models import F

from kejiyun.pagecache.models import ContentGeneration

DEMANDS = ContentGeneration.Topic.DEMANDS
TALENT = ContentGeneration.Topic.TALENT
POPSCI = ContentGeneration.Topic.POPSCI


def content_changed(*topics: str) -> None:
    """Move the generation of each topic on, so every cached fragment that shows it is
    rebuilt from the database on its next read.

    Call it inside the transaction that changed the content, and name every topic the
    change touches in one call: the rows are updated in one statement, in one order, and
    the new numbers become visible together with the change (no reader can cache the old
    content under the new number). A topic whose row is missing (a database emptied by a
    test) gets one."""
    names = sorted(set(topics))
    unknown = [t for t in names if t not in ContentGeneration.Topic.values]
    if unknown:
        raise ValueError(f"unknown public content {unknown!r}")
    with transaction.atomic():
        moved = ContentGeneration.objects.filter(topic__in=names).update(number=F("number") + 1)
        if moved != len(names):
            have = set(
                ContentGeneration.objects.filter(topic__in=names).values_list("topic", flat=True)
            )
            ContentGeneration.objects.bulk_create(
                [
                    ContentGeneration(topic=t, number=generation_start())
                    for t in names
                    if t not in have
                ],
                ignore_conflicts=True,
            )


def generation_start() -> int:
    """A first number unlike any an earlier database used (milliseconds since 1970), so a
    database restored or recreated under a live cache does not meet its old fragments."""
    return int(time.time() * 1000)
