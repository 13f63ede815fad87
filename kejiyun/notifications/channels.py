"""Notification channels: one interface, one adapter per channel
(docs/requirements/style.md rule 19).

Every adapter has the same `send(message)` method and raises on failure; the outbox
dispatcher catches the exception, records a retry and never leaks the message's personal
data into `last_error`. The default adapters touch no network: in-app writes an inbox row,
SMS goes through the pluggable SMS backend (`notifications/sms.py`), WeChat logs the template
message with the openid masked (a real WeChat gateway is another class with the same method).
"""

from __future__ import annotations

import logging
from typing import Protocol

from kejiyun.notifications.models import Channel, InboxItem, OutboxMessage
from kejiyun.notifications.sms import get_sms_backend

logger = logging.getLogger(__name__)


class ChannelError(Exception):
    """A message cannot be sent. Its text is stored as `last_error`: never put personal
    data (numbers, names, message text) into it."""


class ChannelAdapter(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


class InAppChannel:
    """Writes the message into the recipient's inbox (站内信)."""

    def send(self, message: OutboxMessage) -> None:
        if message.recipient_id is None:
            raise ChannelError("in-app message without a recipient")
        InboxItem.objects.create(
            user_id=message.recipient_id, title=message.title, body=message.body, url=message.url
        )


class SmsChannel:
    """Sends through `settings.SMS_BACKEND`; the address is the mobile number."""

    def send(self, message: OutboxMessage) -> None:
        if not message.address:
            raise ChannelError("SMS message without a mobile number")
        text = f"【科技云】{message.title}：{message.body}"
        if message.url:
            text += f" {message.url}"
        get_sms_backend().send(mobile=message.address, body=text)


def mask_openid(openid: str) -> str:
    if len(openid) <= 8:
        return "*" * len(openid)
    return f"{openid[:4]}{'*' * (len(openid) - 8)}{openid[-4:]}"


class WeChatChannel:
    """Console backend for WeChat template messages: logs them, openid masked."""

    def send(self, message: OutboxMessage) -> None:
        if not message.address:
            raise ChannelError("WeChat message without an openid")
        logger.info(
            "WeChat template message to %s: %s %s",
            mask_openid(message.address),
            message.title,
            message.url,
        )


CHANNEL_ADAPTERS: dict[str, ChannelAdapter] = {
    Channel.IN_APP: InAppChannel(),
    Channel.SMS: SmsChannel(),
    Channel.WECHAT: WeChatChannel(),
}


def channel_adapter(channel: str) -> ChannelAdapter:
    try:
        return CHANNEL_ADAPTERS[channel]
    except KeyError:
        raise ChannelError(f"unknown channel {channel!r}") from None
