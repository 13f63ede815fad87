"""Thin periodic tasks: no arguments in, the same service as the management command called;
safe to run twice (a sent campaign is not sent again, a flagged read is not flagged again)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from kejiyun.popsci.content.bots import BOT_WINDOW_HOURS
from kejiyun.popsci.content.services import reads_flag_bots
from kejiyun.popsci.targeting.services import campaigns_send_due


@shared_task(name="popsci.send_due_campaigns", ignore_result=True)  # type: ignore[untyped-decorator]
def send_due_campaigns() -> int:
    """Send the scheduled campaigns whose time has come, as the system; how many went out."""
    return len(campaigns_send_due())


@shared_task(name="popsci.flag_bot_reads", ignore_result=True)  # type: ignore[untyped-decorator]
def flag_bot_reads() -> int:
    """Apply the bot rule to the reads of the last BOT_WINDOW_HOURS; how many changed."""
    now = timezone.now()
    return reads_flag_bots(since=now - timedelta(hours=BOT_WINDOW_HOURS), now=now)
