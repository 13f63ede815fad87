"""Popsci's periodic jobs run under Celery: scheduled campaigns go out and bot-like reads are
flagged by the same services as the management commands, and every task the beat schedule
names is one the worker knows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings

from kejiyun.accounts.models import User
from kejiyun.celery import app
from kejiyun.notifications.models import Channel
from kejiyun.popsci.content.bots import REASON_FAST
from kejiyun.popsci.models import Campaign, Delivery, ReadEvent
from kejiyun.popsci.targeting.services import campaign_create
from kejiyun.popsci.tasks import flag_bot_reads, send_due_campaigns
from kejiyun.regions.models import Region
from tests.builders import make_article, make_citizen

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_the_due_campaigns_task_sends_the_scheduled_campaigns_whose_time_has_come(
    alice: User, time_machine: Any
) -> None:
    time_machine.move_to(NOW, tick=False)
    dora = make_citizen("dora", "510104")
    article = make_article("汛期避险", published_at=NOW - timedelta(days=1))
    due, later = (
        campaign_create(
            actor=alice,
            title=title,
            article=article,
            channel=Channel.IN_APP,
            region=Region.objects.get(code="510104"),
            scheduled_at=NOW + delay,
        )
        for title, delay in (("到期", timedelta(minutes=5)), ("未到期", timedelta(days=1)))
    )
    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)

    result = send_due_campaigns.delay()  # eager without REDIS_URL

    assert result.get() == 1
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == (Campaign.Status.SENT, Campaign.Status.SCHEDULED)
    assert list(Delivery.objects.values_list("campaign_id", "citizen__user_id")) == [
        (due.pk, dora.pk)
    ]


def test_the_bot_reads_task_flags_a_read_finished_too_fast(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    dora = make_citizen("dora", "510104")
    article = make_article("汛期避险", body="字" * 400, published_at=NOW - timedelta(days=3))
    opened = NOW - timedelta(hours=1)
    fast = ReadEvent.objects.create(
        article=article, user=dora, opened_at=opened, finished_at=opened + timedelta(seconds=2)
    )
    slow = ReadEvent.objects.create(
        article=article,
        user=dora,
        opened_at=opened + timedelta(minutes=5),
        finished_at=opened + timedelta(minutes=8),
    )

    result = flag_bot_reads.delay()

    assert result.get() == 1
    fast.refresh_from_db()
    slow.refresh_from_db()
    assert (fast.flagged, fast.flag_reason) == (True, REASON_FAST)
    assert (slow.flagged, slow.flag_reason) == (False, "")


def test_every_task_in_the_beat_schedule_is_a_registered_task() -> None:
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery

    named = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {"popsci.send_due_campaigns", "popsci.flag_bot_reads"} <= named
    assert named - set(app.tasks) == set()
