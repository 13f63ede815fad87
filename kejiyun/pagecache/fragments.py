"""Public page fragments kept in the cache (issue 16, "fast pages").

What every visitor sees of a public page (the home page's figures and lists, the demand
hall, a demand's page, the expert directory, the science list and an article) is rendered
once and kept under a key made of:

- the fragment's name and what the page was asked for (filters, page number, object id),
- the active language (zh-hans and en differ),
- the generation of every kind of content it shows (`ContentGeneration`), which the
  services that publish, edit, withdraw or remove that content move on in the same
  transaction (`kejiyun.pagecache.services.content_changed`).

So a change shows at once, in every process, whatever the cache backend (in-process LocMem
on the embedded default, where each gunicorn worker has its own, or Redis in production).
Every fragment also lives at most `FRAGMENT_SECONDS`: a change made without a service (the
admin site, a shell) shows within that time, and so do the home page's live counts of
workers and enterprises. A fragment never holds anything personal to the visitor (the
sign-in buttons, the CSRF token, messages and the navigation stay outside it), and masking
is the same for everyone on public pages.

The cache is never needed for a right answer: when it fails (Redis down), the fragment is
built from the database as if it were not cached, and the failure is logged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.core.cache import cache
from django.db import connection
from django.utils import translation

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The longest a fragment lives; changes made through the services show at once.
FRAGMENT_SECONDS = 300


def generations() -> dict[str, int]:
    """Every topic's generation (one query); a topic without a row is 0. A plain cursor:
    this runs on every public page, and the ORM would take seven times as long to ask."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT topic, number FROM pagecache_contentgeneration")
        return {str(topic): int(number) for topic, number in cursor.fetchall()}


def fragment_key(name: str, *, topics: Sequence[str], parts: Sequence[object]) -> str:
    numbers = generations()
    raw = "|".join(
        [
            name,
            translation.get_language() or "",
            *(f"{topic}={numbers.get(topic, 0)}" for topic in sorted(topics)),
            *(str(part) for part in parts),
        ]
    )
    return f"pagecache:{name}:{hashlib.sha256(raw.encode()).hexdigest()[:40]}"


def fragment(
    name: str,
    *,
    topics: Sequence[str],
    parts: Sequence[object] = (),
    build: Callable[[], T],
    seconds: int = FRAGMENT_SECONDS,
) -> T:
    """`build()`'s value for `name` and `parts` under the current generations of `topics`,
    from the cache when it is there; `build()` must not depend on who asks."""
    key = fragment_key(name, topics=topics, parts=parts)
    try:
        found: T | None = cache.get(key)
    except Exception as exc:  # a cache that is down answers every read as a miss
        logger.warning("page cache unavailable (%s); building %s", type(exc).__name__, name)
        return build()
    if found is not None:
        return found
    value = build()
    try:
        cache.set(key, value, seconds)
    except Exception as exc:
        logger.warning("page cache unavailable (%s); %s not kept", type(exc).__name__, name)
    return value
