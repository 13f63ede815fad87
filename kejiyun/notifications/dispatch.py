"""The outbox dispatcher: claims due messages, sends them through their channel, and retries
failures with exponential backoff until MAX_ATTEMPTS.

Claims are conditional UPDATEs (pending → sending), so two dispatchers never send one
message. Delivery is at least once only in one corner: a dispatcher that dies after handing a
message to an external gateway and before marking it sent leaves it 'sending'; after
`settings.OUTBOX_CLAIM_TIMEOUT_SECONDS` (10 minutes) the next dispatch reclaims the row and
sends it again. In-app messages are written in the same transaction as the 'sent' mark, so
they are exactly once. A worker killed mid-dispatch therefore loses nothing: its claims
expire and the next run (beat's, every minute, or the task message redelivered after the
broker's visibility timeout) sends the rest (docs/resilience.md).

`outbox_dispatch_all` is the one batch loop, run by the Celery task
(`tasks.dispatch_outbox`) and by cron (`manage.py dispatch_outbox`). Writing messages into
the outbox is `services.outbox_enqueue`; this module never imports services or tasks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kejiyun.notifications.channels import ChannelError, channel_adapter
from kejiyun.notifications.models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(minutes=1)


@dataclass(frozen=True)
class DispatchResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    reclaimed: int = 0

    def __add__(self, other: DispatchResult) -> DispatchResult:
        return DispatchResult(
            claimed=self.claimed + other.claimed,
            sent=self.sent + other.sent,
            retried=self.retried + other.retried,
            failed=self.failed + other.failed,
            reclaimed=self.reclaimed + other.reclaimed,
        )


def backoff_delay(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failures: 1, 2, 4, 8 … minutes."""
    return BACKOFF_BASE * (1 << max(attempts - 1, 0))


def _reclaim_stuck(now: datetime) -> int:
    """Rows left 'sending' by a dispatcher that died count as a failed attempt."""
    claim_timeout = timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT_SECONDS)
    stuck = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENDING, claimed_at__lt=now - claim_timeout
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


def outbox_dispatch_all(*, batch: int = 500, max_rounds: int | None = None) -> DispatchResult:
    """Run `outbox_dispatch` a batch at a time while whole batches come back, at most
    `max_rounds` times (None: until a batch comes back short). Returns the summed result."""
    total = DispatchResult()
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        result = outbox_dispatch(limit=batch)
        total += result
        rounds += 1
        if result.claimed < batch:
            break
    return total
