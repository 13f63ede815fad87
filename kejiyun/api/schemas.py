"""Schemas every router shares: the problem document and a cursor page."""

from __future__ import annotations

from typing import Generic, TypeVar

from ninja import Schema
from pydantic import Field

T = TypeVar("T")


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: dict[str, list[str]] | None = None
    scope: str | None = None
    etag: str | None = None


class Page(Schema, Generic[T]):
    """One page of a list, newest first. Pass `next_cursor` as `cursor` for the next page;
    it is null on the last page."""

    items: list[T]
    next_cursor: str | None = Field(None, description="下一页游标；为空表示已到最后一页")
