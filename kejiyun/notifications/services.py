"""Writes for notifications: the transactional outbox and the in-app inbox.

A message is written to the outbox in the same transaction as the change that caused it
(`outbox_enqueue`), so a rolled-back change sends nothing. After commit one dispatch task is
queued per transaction; the dispatcher itself lives in `dispatch.py` (`outbox_dispatch`, also
run by cron via `manage.py dispatch_outbox`).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from kejiyun.common.crypto import seal
from kejiyun.notifications.models import (
    OUTBOX_ADDRESS_PURPOSE,
    Channel,
    InboxItem,
    OutboxMessage,
)
from kejiyun.notifications.tasks import dispatch_outbox

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxDraft:
    """One message to enqueue (used by bulk senders such as campaigns)."""

    channel: str
    title: str
    body: str
    idempotency_key: str
    source: str
    recipient_id: int | None = None
    address: str = ""
    url: str = ""


def _queue_dispatch() -> None:
    """Queue the dispatch task.

    The task object is imported from `tasks.py` (which imports only `dispatch.py`, never this
    module), rather than sent by name with `send_task`: `delay()` honours
    CELERY_TASK_ALWAYS_EAGER, so without Redis the messages are still sent in-process right
    after commit, while `send_task` would leave them on the in-memory broker until cron.
    """
    try:
        dispatch_outbox.delay()
    except Exception:  # a broker that is down must not fail the request; cron picks it up
        logger.warning("could not queue dispatch_outbox; the cron command will send it")


class _DispatchAfterCommit:
    """The on-commit callback of one transaction: queues one dispatch when it runs."""

    def __init__(self) -> None:
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        _queue_dispatch()


_scheduled = threading.local()


def _dispatch_soon() -> None:
    """Queue one dispatch after the current transaction commits (once per transaction).

    The callback registered for this thread's open transaction is remembered through a weak
    reference only. Django holds the callback until the transaction (or the savepoint it was
    registered in) commits or rolls back, then drops it, so the weak reference is dead (or
    the callback has run) by the time a later transaction enqueues again: that one registers
    a callback of its own. Outside a transaction `on_commit` runs the callback at once.
    Worst case (a runtime without reference counting keeps a dropped callback alive for a
    while) a message waits for the next scheduled dispatch or cron run.
    """
    ref: weakref.ref[_DispatchAfterCommit] | None = getattr(_scheduled, "callback", None)
    pending = ref() if ref is not None else None
    if pending is not None and not pending.ran:
        return
    callback = _DispatchAfterCommit()
    _scheduled.callback = weakref.ref(callback)
    transaction.on_commit(callback)


def _validate_channel(channel: str) -> None:
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")


def outbox_enqueue(
    *,
    channel: str,
    recipient: AbstractBaseUser | None = None,
    address: str = "",
    title: str,
    body: str,
    url: str = "",
    idempotency_key: str,
    source: str,
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
            message = OutboxMessage(
                channel=channel,
                recipient_id=recipient.pk if recipient is not None else None,
                title=title[:120],
                body=body,
                url=url,
                idempotency_key=idempotency_key,
                source=source,
            )
            message.address = address  # sealed
            message.save(force_insert=True)
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
                    address_sealed=seal(d.address, purpose=OUTBOX_ADDRESS_PURPOSE),
                    title=d.title[:120],
                    body=d.body,
                    url=d.url,
                    idempotency_key=d.idempotency_key,
                    source=d.source,
                )
                for d in chunk
                if d.idempotency_key not in held
            ]
            OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
            created += len(rows)
        if created:
            _dispatch_soon()
    return created


def outbox_cancel_pending(*, recipient_id: int, source: str, reason: str) -> int:
    """Give up on the recipient's messages from `source` not yet claimed for sending (e.g.
    campaign messages after consent is withdrawn)."""
    return OutboxMessage.objects.filter(
        recipient_id=recipient_id,
        source=source,
        status=OutboxMessage.Status.PENDING,
    ).update(status=OutboxMessage.Status.FAILED, last_error=reason[:300], claimed_at=None)


# --- Inbox ----------------------------------------------------------------------------------


def inbox_mark_read(*, user: AbstractBaseUser, item_id: int, now: datetime | None = None) -> bool:
    """Mark one of the user's own inbox items read; another user's item changes nothing."""
    updated = InboxItem.objects.filter(pk=item_id, user_id=user.pk, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
    return updated == 1


def inbox_mark_all_read(*, user: AbstractBaseUser, now: datetime | None = None) -> int:
    return InboxItem.objects.filter(user_id=user.pk, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
