"""Writes for notifications: the transactional outbox and the in-app inbox.

A message is written to the outbox in the same transaction as the change that caused it
(`outbox_enqueue`), so a rolled-back change sends nothing. After commit a dispatch task is
queued; the dispatcher (`outbox_dispatch`, also run by cron via `manage.py dispatch_outbox`)
claims due rows with a conditional UPDATE, so two dispatchers never send one message, and a
failed send is retried with exponential backoff until MAX_ATTEMPTS.

Delivery is at least once only in one corner: a dispatcher that dies after handing a message
to an external gateway and before marking it sent leaves it 'sending'; after CLAIM_TIMEOUT the
row is reclaimed and sent again. In-app messages are written in the same transaction as the
'sent' mark, so they are exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.notifications.channels import ChannelError, channel_adapter
from kejiyun.notifications.models import Channel, InboxItem, OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(minutes=1)
CLAIM_TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True)
class OutboxDraft:
    """One message to enqueue (used by bulk senders such as campaigns)."""

    channel: str
    title: str
    body: str
    idempotency_key: str
    recipient_id: int | None = None
    address: str = ""
    url: str = ""


@dataclass(frozen=True)
class DispatchResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    reclaimed: int = 0


def backoff_delay(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failures: 1, 2, 4, 8 … minutes."""
    return BACKOFF_BASE * (1 << max(attempts - 1, 0))


def _dispatch_soon() -> None:
    """Queue one dispatch after the current transaction commits (once per transaction)."""
    pending = getattr(connection, "run_on_commit", [])
    if connection.in_atomic_block and any(entry[1] is _queue_dispatch for entry in pending):
        return
    transaction.on_commit(_queue_dispatch)


def _queue_dispatch() -> None:
    from kejiyun.notifications.tasks import dispatch_outbox

    try:
        dispatch_outbox.delay()
    except Exception:  # a broker that is down must not fail the request; cron picks it up
        logger.warning("could not queue dispatch_outbox; the cron command will send it")


def _validate_channel(channel: str) -> None:
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")


def outbox_enqueue(
    *,
    channel: str,
    recipient: User | None = None,
    address: str = "",
    title: str,
    body: str,
    url: str = "",
    idempotency_key: str,
) -> OutboxMessage:
    """Write one message to the outbox inside the caller's transaction.

    A second call with the same `idempotency_key` returns the existing row and writes nothing.
    """
    _validate_channel(channel)
    existing = OutboxMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():  # a savepoint: a lost race does not break the caller
            message = OutboxMessage.objects.create(
                channel=channel,
                recipient=recipient,
                address=address,
                title=title[:120],
                body=body,
                url=url,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        return OutboxMessage.objects.get(idempotency_key=idempotency_key)
    _dispatch_soon()
    return message


def outbox_enqueue_many(*, drafts: Sequence[OutboxDraft], batch_size: int = 1000) -> int:
    """Write many messages; keys already in the outbox are skipped. Returns how many were new."""
    if not drafts:
        return 0
    for draft in drafts:
        _validate_channel(draft.channel)
    keys = [d.idempotency_key for d in drafts]
    created = 0
    with transaction.atomic():
        for start in range(0, len(drafts), batch_size):
            chunk = drafts[start : start + batch_size]
            chunk_keys = keys[start : start + batch_size]
            held = set(
                OutboxMessage.objects.filter(idempotency_key__in=chunk_keys).values_list(
                    "idempotency_key", flat=True
                )
            )
            rows = [
                OutboxMessage(
                    channel=d.channel,
                    recipient_id=d.recipient_id,
                    address=d.address,
                    title=d.title[:120],
                    body=d.body,
                    url=d.url,
                    idempotency_key=d.idempotency_key,
                )
                for d in chunk
                if d.idempotency_key not in held
            ]
            OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
            created += len(rows)
        if created:
            _dispatch_soon()
    return created


def outbox_cancel_pending(*, recipient_id: int, key_prefix: str, reason: str) -> int:
    """Give up on the recipient's messages not yet claimed for sending whose idempotency key
    starts with `key_prefix` (e.g. campaign messages after consent is withdrawn)."""
    return OutboxMessage.objects.filter(
        recipient_id=recipient_id,
        idempotency_key__startswith=key_prefix,
        status=OutboxMessage.Status.PENDING,
    ).update(status=OutboxMessage.Status.FAILED, last_error=reason[:300], claimed_at=None)


def _reclaim_stuck(now: datetime) -> int:
    """Rows left 'sending' by a dispatcher that died count as a failed attempt."""
    stuck = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT
    )
    failed = stuck.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
        status=OutboxMessage.Status.FAILED,
        attempts=F("attempts") + 1,
        last_error="claim expired",
        claimed_at=None,
    )
    retried = stuck.update(
        status=OutboxMessage.Status.PENDING,
        attempts=F("attempts") + 1,
        last_error="claim expired",
        next_attempt_at=now,
        claimed_at=None,
    )
    return failed + retried


def _claim_due(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due messages. Each claim is a conditional UPDATE
    (pending → sending); a row another dispatcher claimed first updates nothing here."""
    candidates = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return [
        pk
        for pk in candidates
        if OutboxMessage.objects.filter(pk=pk, status=OutboxMessage.Status.PENDING).update(
            status=OutboxMessage.Status.SENDING, claimed_at=now
        )
        == 1
    ]


def _safe_error(exc: Exception) -> str:
    """Exception class, plus the text only for ChannelError (written to carry no personal data)."""
    if isinstance(exc, ChannelError):
        return f"ChannelError: {exc}"[:300]
    return type(exc).__name__[:300]


class _ClaimLost(Exception):
    """Another dispatcher reclaimed the row while this one was sending it."""


def outbox_dispatch(*, limit: int = 500, now: datetime | None = None) -> DispatchResult:
    """Send due messages once each. Safe to run twice, and concurrently."""
    moment = now or timezone.now()
    reclaimed = _reclaim_stuck(moment)
    claimed = _claim_due(now=moment, limit=limit)
    sent = retried = failed = 0
    messages = OutboxMessage.objects.filter(pk__in=claimed).order_by("id")
    for message in messages:
        try:
            with transaction.atomic():
                channel_adapter(message.channel).send(message)
                # Mark sent only while the claim is still ours: if the row was reclaimed
                # meanwhile, roll back (an in-app message is then not written twice).
                marked = OutboxMessage.objects.filter(
                    pk=message.pk,
                    status=OutboxMessage.Status.SENDING,
                    claimed_at=message.claimed_at,
                ).update(status=OutboxMessage.Status.SENT, sent_at=moment, last_error="")
                if marked != 1:
                    raise _ClaimLost
            sent += 1
        except _ClaimLost:
            logger.warning("outbox message %s: claim lost to another dispatcher", message.pk)
        except Exception as exc:
            attempts = message.attempts + 1
            final = attempts >= MAX_ATTEMPTS
            OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.SENDING).update(
                status=OutboxMessage.Status.FAILED if final else OutboxMessage.Status.PENDING,
                attempts=attempts,
                last_error=_safe_error(exc),
                next_attempt_at=moment + backoff_delay(attempts),
                claimed_at=None,
            )
            logger.warning(
                "outbox message %s: attempt %s failed (%s)%s",
                message.pk,
                attempts,
                type(exc).__name__,
                "; giving up" if final else "",
            )
            if final:
                failed += 1
            else:
                retried += 1
    return DispatchResult(
        claimed=len(claimed), sent=sent, retried=retried, failed=failed, reclaimed=reclaimed
    )


# --- Inbox ----------------------------------------------------------------------------------


def inbox_mark_read(*, user: User, item_id: int, now: datetime | None = None) -> bool:
    """Mark one of the user's own inbox items read; another user's item changes nothing."""
    updated = InboxItem.objects.filter(pk=item_id, user=user, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
    return updated == 1


def inbox_mark_all_read(*, user: User, now: datetime | None = None) -> int:
    return InboxItem.objects.filter(user=user, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
