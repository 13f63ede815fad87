"""Cursor pagination (ADR 0015): pages are cut by primary key, so a row written while a
client pages through never repeats or shifts a page. The cursor is opaque to the client."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from kejiyun.api.errors import ApiProblem

M = TypeVar("M", bound=Model)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def encode_cursor(pk: object) -> str:
    return base64.urlsafe_b64encode(f"k{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The primary key a cursor names (digits: ids and region codes are both digits)."""
    bad = ApiProblem(400, "分页游标无效，请从第一页重新获取。", code="bad_cursor")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    # ASCII digits only, and short enough for a 64-bit key: no database error on any cursor.
    key = text[1:]
    if not text.startswith("k") or not (key.isascii() and key.isdigit()) or len(key) > 18:
        raise bad
    return key


def paginate(
    qs: QuerySet[M],
    *,
    cursor: str | None,
    limit: int | None,
    out: Callable[[M], Any],
) -> dict[str, Any]:
    """A page of `qs`, newest (highest id) first: `{"items": [...], "next_cursor": ...}`."""
    size = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= size <= MAX_LIMIT:
        raise ApiProblem(400, f"每页条数应在 1 到 {MAX_LIMIT} 之间。", code="bad_limit")
    qs = qs.order_by("-pk")
    if cursor:
        qs = qs.filter(pk__lt=decode_cursor(cursor))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return {
        "items": [out(row) for row in rows],
        "next_cursor": encode_cursor(rows[-1].pk) if more and rows else None,
    }
