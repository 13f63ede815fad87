from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kejiyun.notifications.dispatch import outbox_dispatch_all


class Command(BaseCommand):
    help = (
        "Send due outbox messages (notifications), retrying failed ones with backoff. "
        "Run from cron every minute; safe to run concurrently."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=500, help="messages per batch")

    def handle(self, *args: Any, **options: Any) -> None:
        limit: int = options["limit"]
        totals = outbox_dispatch_all(batch=limit)
        self.stdout.write(
            f"outbox: {totals.sent} sent, {totals.retried} to retry, "
            f"{totals.failed} failed, {totals.reclaimed} reclaimed"
        )
