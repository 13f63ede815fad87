"""What a refused case write raises, whichever part of the case it touches."""

from __future__ import annotations

from kejiyun.common.errors import ServiceError, Stale


class CaseError(ServiceError):
    """A move or edit the case's state does not allow; nothing was written."""


class StaleCase(Stale, CaseError):
    """Someone changed the case after this page was loaded."""

    message_text = "该案例已被他人修改，请刷新页面后再操作。"
