"""Refusals of 精准科普 writes (content, reading, consent, campaigns, activities)."""

from __future__ import annotations

from kejiyun.common.errors import ServiceError


class PopsciError(ServiceError):
    """A refused science-popularisation write; nothing was changed."""
