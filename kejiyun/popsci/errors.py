"""Refusals of 精准科普 writes (content, reading, consent, campaigns, activities)."""

from __future__ import annotations

from kejiyun.common.errors import ServiceError, Stale


class PopsciError(ServiceError):
    """A refused science-popularisation write; nothing was changed."""


class StaleContent(Stale, PopsciError):
    """Someone moved the content since the page was read."""

    message_text = "内容状态已被他人更改，请刷新后重试。"
