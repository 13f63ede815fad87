"""Optimistic concurrency for records that people edit together.

Such a record has an integer `version` column. Every write claims it with one conditional
UPDATE (`version = the version the page was rendered with` → `version + 1`), so of two
concurrent edits exactly one wins and the other is refused as stale, on SQLite and on
PostgreSQL alike (no `select_for_update`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from django.db.models import F, Model

from kejiyun.common.errors import Stale

M = TypeVar("M", bound=Model)


def claim_version(
    record: M,
    expected_version: int | None,
    *,
    stale: type[Stale] = Stale,
    only_if: Mapping[str, object] | None = None,
    **changes: object,
) -> M:
    """Write `changes` and bump `record.version` if the row still has `expected_version`
    (the record's own version when None) and matches the lookups of `only_if` (a status the
    write needs, say). Updates `record` in memory to match.

    Raises `stale()` and writes nothing when someone else got there first.
    """
    seen = record.serializable_value("version") if expected_version is None else expected_version
    claimed = (
        type(record)
        ._default_manager.filter(pk=record.pk, version=seen, **(only_if or {}))
        .update(version=F("version") + 1, **changes)
    )
    if claimed != 1:
        raise stale()
    for name, value in {**changes, "version": int(seen) + 1}.items():
        setattr(record, name, value)
    return record
