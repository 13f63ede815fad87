"""SMS channel: one small interface, pluggable backends chosen by settings.SMS_BACKEND.

The default `OutboxBackend` records messages in the database (visible to administrators),
and `ConsoleBackend` logs them with the number masked. Neither touches the network; a real
carrier gateway is another class with the same `send` method.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from kejiyun.common.masking import mask_mobile
from kejiyun.notifications.models import SmsMessage

logger = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, *, mobile: str, body: str) -> None: ...


class OutboxBackend:
    """Keeps every message in the `SmsMessage` table instead of sending it."""

    def send(self, *, mobile: str, body: str) -> None:
        SmsMessage.objects.create(mobile=mobile, body=body)


class ConsoleBackend:
    """Writes messages to the log, with the number masked."""

    def send(self, *, mobile: str, body: str) -> None:
        logger.info("SMS to %s: %s", mask_mobile(mobile), body)


def get_sms_backend() -> SmsBackend:
    backend_class = import_string(settings.SMS_BACKEND)
    backend: SmsBackend = backend_class()
    return backend
