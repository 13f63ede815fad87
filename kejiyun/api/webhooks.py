"""Webhook subscriptions and their deliveries (ADR 0015, docs/api.md "事件推送").

A partner subscribes a URL to events (`WebhookEvent`). The platform makes the signing secret,
shows it once and keeps it sealed (`kejiyun.common.crypto.seal`, purpose "webhook-secret").
Each event becomes one outbox message per subscription (`kejiyun/api/receivers.py`); the
outbox dispatcher sends it through `WebhookChannel`, which POSTs the JSON body with

    Kejiyun-Event: demand.published
    Kejiyun-Delivery: <outbox message id>
    Kejiyun-Timestamp: <unix seconds>
    Kejiyun-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>

and raises `ChannelError` on anything but a 2xx answer, so the outbox retries with backoff.
Receivers check a delivery with `verify_signature`."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.api.models import ApiClient, WebhookEvent, WebhookSubscription
from kejiyun.common.crypto import seal, unseal
from kejiyun.notifications.channels import ChannelError
from kejiyun.notifications.models import Channel, OutboxMessage

SECRET_PURPOSE = "webhook-secret"  # noqa: S105  (a sealing purpose label)
TIMEOUT_SECONDS = 5
ADDRESS_PREFIX = "webhook:"
SOURCE = "webhook"
MAX_SUBSCRIPTIONS_PER_OWNER = 20


class WebhookError(ValidationError):
    """A refused subscription; nothing was saved."""


# --- Signing -------------------------------------------------------------------------------


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def sign(secret: str, timestamp: str | int, body: str | bytes) -> str:
    """The `Kejiyun-Signature` header value for a body sent at `timestamp`."""
    message = str(timestamp).encode() + b"." + _as_bytes(body)
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: str | bytes,
    signature: str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> bool:
    """True if `signature` (the `Kejiyun-Signature` header) signs `body` at `timestamp`
    (the `Kejiyun-Timestamp` header) with `secret`, and the timestamp is within `tolerance`
    seconds of now (an old delivery replayed is refused). Pass the body exactly as received."""
    try:
        sent_at = int(str(timestamp))
    except ValueError:
        return False
    moment = time.time() if now is None else now
    if abs(moment - sent_at) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent_at, body), str(signature).strip())


# --- Subscriptions -------------------------------------------------------------------------


def _address_refused(host: str) -> bool:
    """True if `host` is, or resolves to, an address a production server must not call:
    loopback, private, link-local, reserved, multicast or unspecified."""
    try:
        candidates = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except (OSError, UnicodeError):
            return True
        candidates = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    return not candidates or any(_internal(ip) for ip in candidates)


def _internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Not a public unicast address. `is_global` also catches what `is_private` misses, such
    as the shared address space 100.64.0.0/10, where cloud metadata services live (Alibaba
    Cloud's 100.100.100.200); an IPv4 address written as IPv6 is judged as itself."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def _local_addresses_allowed() -> bool:
    # The tests' receiver and a developer's listen on 127.0.0.1.
    return bool(settings.DEBUG or settings.TESTING)


def webhook_url_check(url: str) -> str:
    """The URL if a subscription may deliver to it; else `WebhookError`."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("接收地址须为 http:// 或 https:// 开头的完整网址。", code="bad_url")
    if parts.username or parts.password:
        raise WebhookError("接收地址中不能包含用户名或密码。", code="bad_url")
    if not _local_addresses_allowed() and _address_refused(parts.hostname):
        raise WebhookError(
            "接收地址不能是内网、本机或无法解析的地址，请使用公网可达的网址。", code="bad_url"
        )
    return url


def webhook_subscription_create(
    *, owner: User, url: str, events: list[str], client: ApiClient | None = None
) -> tuple[WebhookSubscription, str]:
    """Subscribe `url` to `events`; returns the row and the signing secret (shown once)."""
    url = webhook_url_check(url)
    wanted = sorted(set(events))
    if not wanted:
        raise WebhookError("请至少选择一个事件。", code="no_events")
    unknown = sorted(set(wanted) - set(WebhookEvent.values))
    if unknown:
        raise WebhookError(f"未知的事件：{'、'.join(unknown)}。", code="bad_event")
    if WebhookSubscription.objects.filter(owner=owner).count() >= MAX_SUBSCRIPTIONS_PER_OWNER:
        raise WebhookError(
            f"每个账号最多 {MAX_SUBSCRIPTIONS_PER_OWNER} 个事件订阅。", code="too_many"
        )
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    row = WebhookSubscription.objects.create(
        owner=owner,
        client=client,
        url=url,
        events=wanted,
        secret_sealed=seal(secret, purpose=SECRET_PURPOSE),
    )
    return row, secret


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Delete a subscription; its deliveries not yet sent are given up."""
    with transaction.atomic():
        # The address is sealed (security item 16): the subscription's deliveries are found
        # by their idempotency key, "webhook:<subscription id>:<event>:<object id>".
        OutboxMessage.objects.filter(
            channel=Channel.WEBHOOK,
            idempotency_key__startswith=f"webhook:{subscription.pk}:",
            status=OutboxMessage.Status.PENDING,
        ).update(status=OutboxMessage.Status.FAILED, last_error="订阅已删除", claimed_at=None)
        subscription.delete()


def webhook_secret(subscription: WebhookSubscription) -> str:
    return unseal(subscription.secret_sealed, purpose=SECRET_PURPOSE)


# --- Delivery ------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an invitation to post elsewhere (an internal address)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class WebhookChannel:
    """The outbox adapter of channel `webhook`: POSTs the message body, signed."""

    def send(self, message: OutboxMessage, *, now: datetime | None = None) -> None:
        pk = message.address.removeprefix(ADDRESS_PREFIX)
        subscription = (
            WebhookSubscription.objects.live().filter(pk=int(pk)).first() if pk.isdigit() else None
        )
        if subscription is None:
            raise ChannelError("webhook subscription gone, inactive or its client revoked")
        host = urlsplit(subscription.url).hostname or ""
        if not _local_addresses_allowed() and _address_refused(host):
            raise ChannelError("webhook address refused (private or unresolvable)")
        body = message.body.encode()
        timestamp = str(int((now or timezone.now()).timestamp()))
        request = urllib.request.Request(  # noqa: S310  (scheme checked: http or https only)
            subscription.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Kejiyun-Webhook/1",
                "Kejiyun-Event": message.title,
                "Kejiyun-Delivery": str(message.pk),
                "Kejiyun-Timestamp": timestamp,
                "Kejiyun-Signature": sign(webhook_secret(subscription), timestamp, body),
            },
        )
        try:
            with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise ChannelError(f"webhook answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ChannelError(f"webhook not reached ({type(exc).__name__})") from None
        if not 200 <= status < 300:
            raise ChannelError(f"webhook answered HTTP {status}")
