"""SMS channel: one small interface, pluggable backends chosen by settings.SMS_BACKEND.

- `OutboxBackend` (the default in development) records messages in the database, number and
  text sealed (`SmsMessage`), for administrators and tests; it sends nothing.
- `ConsoleBackend` logs that a message went out, the number masked and every run of digits in
  the text masked, so a one-time code never reaches a log.
- `HttpGatewayBackend` hands each message to the carrier gateway (settings.SMS_GATEWAY_URL):
  a JSON POST signed with HMAC-SHA256 (settings.SMS_GATEWAY_SECRET) and a timeout. Production
  refuses to start with either of the first two (kejiyun/settings.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from kejiyun.common.masking import mask_mobile
from kejiyun.notifications.models import SmsMessage

logger = logging.getLogger(__name__)

# Header of the gateway request's signature: hex HMAC-SHA256 of "<timestamp>.<body>".
SIGNATURE_HEADER = "X-Kejiyun-Signature"
TIMESTAMP_HEADER = "X-Kejiyun-Timestamp"
_DIGITS = re.compile(r"\d{4,}")


class SmsBackend(Protocol):
    def send(self, *, mobile: str, body: str) -> None: ...


class SmsGatewayError(RuntimeError):
    """The gateway refused the message or did not answer in time."""


class OutboxBackend:
    """Keeps every message, sealed, in the `SmsMessage` table instead of sending it."""

    def send(self, *, mobile: str, body: str) -> None:
        message = SmsMessage()
        message.mobile = mobile  # sealed, with its lookup hash
        message.body = body  # sealed: it may carry a one-time code
        message.save(force_insert=True)


def _masked_digits(text: str) -> str:
    return _DIGITS.sub(lambda m: "*" * len(m[0]), text)


class ConsoleBackend:
    """Writes to the log that a message went out: number masked, digits of the text masked
    (a code never appears)."""

    def send(self, *, mobile: str, body: str) -> None:
        logger.info("SMS to %s: %s", mask_mobile(mobile), _masked_digits(body))


def gateway_signature(*, secret: str, timestamp: str, payload: bytes) -> str:
    """What the gateway checks: hex HMAC-SHA256 of `<timestamp>.<payload>` under the secret."""
    message = timestamp.encode() + b"." + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class HttpGatewayBackend:
    """POSTs `{"mobile": …, "body": …}` as JSON to settings.SMS_GATEWAY_URL, signed, with a
    timeout of settings.SMS_GATEWAY_TIMEOUT_SECONDS. Any answer but 2xx raises, so the
    outbox retries; nothing about the message is logged but the masked number."""

    def send(self, *, mobile: str, body: str) -> None:
        payload = json.dumps({"mobile": mobile, "body": body}, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 (the URL is a setting, https in production)
            settings.SMS_GATEWAY_URL,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: gateway_signature(
                    secret=settings.SMS_GATEWAY_SECRET, timestamp=timestamp, payload=payload
                ),
            },
        )
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=settings.SMS_GATEWAY_TIMEOUT_SECONDS
            ) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            logger.warning("SMS gateway unreachable for %s", mask_mobile(mobile))
            raise SmsGatewayError("SMS gateway unreachable") from exc
        if not 200 <= status < 300:
            logger.warning("SMS gateway answered %s for %s", status, mask_mobile(mobile))
            raise SmsGatewayError(f"SMS gateway answered {status}")


def get_sms_backend() -> SmsBackend:
    backend_class = import_string(settings.SMS_BACKEND)
    backend: SmsBackend = backend_class()
    return backend
