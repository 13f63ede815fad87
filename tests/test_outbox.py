"""The notifications outbox: nothing sent for a rolled-back change, exactly once under retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from kejiyun.accounts.models import Role, User
from kejiyun.notifications import channels
from kejiyun.notifications.dispatch import MAX_ATTEMPTS, backoff_delay, outbox_dispatch
from kejiyun.notifications.models import Channel, InboxItem, OutboxMessage, SmsMessage
from kejiyun.notifications.services import (
    OutboxDraft,
    outbox_cancel_pending,
    outbox_enqueue,
    outbox_enqueue_many,
)
from tests.builders import DORA_MOBILE, PASSWORD, client_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _clock(time_machine: Any) -> None:
    """Messages are written at NOW; each test passes later moments to the dispatcher."""
    time_machine.move_to(NOW, tick=False)


class FlakyChannel:
    """Fails the first `failures` sends, then writes an inbox row like the real adapter."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def send(self, message: OutboxMessage) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"gateway down for {DORA_MOBILE}")
        channels.InAppChannel().send(message)


def enqueue(user: User, key: str = "k1", channel: str = Channel.IN_APP) -> OutboxMessage:
    return outbox_enqueue(
        channel=channel,
        recipient=user,
        address=user.mobile or "",
        title="汛期防灾提醒",
        body="请关注天气预报。",
        url="/popsci/1/",
        idempotency_key=key,
        source="test",
    )


def test_a_message_enqueued_in_a_committed_transaction_is_sent_after_commit(
    dora: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        enqueue(dora)
        assert InboxItem.objects.count() == 0

    assert len(callbacks) == 1
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.SENT
    assert message.sent_at is not None
    assert list(InboxItem.objects.values_list("user_id", "title", "url")) == [
        (dora.pk, "汛期防灾提醒", "/popsci/1/")
    ]


def test_nothing_is_written_or_sent_for_a_rolled_back_transaction(
    dora: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        enqueue(dora)
        raise Boom

    assert callbacks == []
    assert OutboxMessage.objects.count() == 0
    assert InboxItem.objects.count() == 0
    assert outbox_dispatch(now=NOW).claimed == 0


def test_many_messages_in_one_transaction_queue_a_single_dispatch(
    dora: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for i in range(3):
            enqueue(dora, key=f"k{i}")
        outbox_enqueue_many(
            drafts=[
                OutboxDraft(
                    channel=Channel.IN_APP,
                    title="批量",
                    body="…",
                    idempotency_key=f"bulk{i}",
                    source="test",
                    recipient_id=dora.pk,
                )
                for i in range(2)
            ]
        )

    assert len(callbacks) == 1
    assert InboxItem.objects.count() == 5


def test_a_duplicate_idempotency_key_creates_nothing_and_returns_the_first_message(
    dora: User,
) -> None:
    first = enqueue(dora, key="case:1:escalated")
    second = enqueue(dora, key="case:1:escalated")
    new = outbox_enqueue_many(
        drafts=[
            OutboxDraft(
                channel=Channel.IN_APP, title="x", body="y", idempotency_key=key, source="test"
            )
            for key in ("case:1:escalated", "case:2:escalated")
        ]
    )

    assert second.pk == first.pk
    assert new == 1
    assert sorted(OutboxMessage.objects.values_list("idempotency_key", flat=True)) == [
        "case:1:escalated",
        "case:2:escalated",
    ]


def test_a_failing_channel_is_retried_with_backoff_and_sends_exactly_once_after_recovery(
    dora: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = FlakyChannel(failures=2)
    monkeypatch.setitem(channels.CHANNEL_ADAPTERS, Channel.IN_APP, flaky)
    message = enqueue(dora)

    first = outbox_dispatch(now=NOW)
    message.refresh_from_db()
    assert (first.claimed, first.sent, first.retried) == (1, 0, 1)
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 1
    assert message.next_attempt_at == NOW + timedelta(minutes=1)
    # The error names the failure, never the number or the text.
    assert message.last_error == "ConnectionError"

    assert outbox_dispatch(now=NOW + timedelta(seconds=59)).claimed == 0
    second = outbox_dispatch(now=NOW + timedelta(minutes=1))
    message.refresh_from_db()
    assert (second.claimed, second.retried) == (1, 1)
    assert message.next_attempt_at == NOW + timedelta(minutes=1) + timedelta(minutes=2)

    third = outbox_dispatch(now=NOW + timedelta(minutes=3))
    again = outbox_dispatch(now=NOW + timedelta(hours=1))
    message.refresh_from_db()
    assert (third.sent, again.claimed) == (1, 0)
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 2
    assert message.last_error == ""
    assert flaky.calls == 3
    assert InboxItem.objects.filter(user=dora).count() == 1


def test_backoff_doubles_and_the_fifth_failure_marks_the_message_failed(
    dora: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = FlakyChannel(failures=100)
    monkeypatch.setitem(channels.CHANNEL_ADAPTERS, Channel.IN_APP, flaky)
    message = enqueue(dora)
    moment = NOW
    waits = []
    for _ in range(MAX_ATTEMPTS):
        outbox_dispatch(now=moment)
        message.refresh_from_db()
        waits.append(message.next_attempt_at - moment)
        moment = message.next_attempt_at

    assert [backoff_delay(n) for n in range(1, 5)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == MAX_ATTEMPTS
    assert outbox_dispatch(now=moment + timedelta(days=1)).claimed == 0
    assert flaky.calls == MAX_ATTEMPTS
    assert InboxItem.objects.count() == 0


def test_running_dispatch_twice_never_sends_a_message_twice(dora: User) -> None:
    for i in range(3):
        enqueue(dora, key=f"k{i}")

    first = outbox_dispatch(now=NOW)
    second = outbox_dispatch(now=NOW)

    assert (first.sent, second.claimed) == (3, 0)
    assert InboxItem.objects.count() == 3


def test_a_row_claimed_by_another_dispatcher_is_not_sent_again(
    dora: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two dispatchers race: the second one's conditional UPDATE claims nothing."""
    enqueue(dora, key="a")
    enqueue(dora, key="b")
    sent: list[str] = []

    class RacingChannel:
        def send(self, message: OutboxMessage) -> None:
            if not sent:
                # While the first dispatcher holds its claims, a second one runs.
                inner = outbox_dispatch(now=NOW)
                assert inner.claimed == 0
            sent.append(message.idempotency_key)

    monkeypatch.setitem(channels.CHANNEL_ADAPTERS, Channel.IN_APP, RacingChannel())

    result = outbox_dispatch(now=NOW)

    assert result.sent == 2
    assert sent == ["a", "b"]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_a_message_stuck_in_sending_is_reclaimed_after_ten_minutes(dora: User) -> None:
    message = enqueue(dora)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.SENDING, claimed_at=NOW
    )

    early = outbox_dispatch(now=NOW + timedelta(minutes=9))
    late = outbox_dispatch(now=NOW + timedelta(minutes=11))

    message.refresh_from_db()
    assert (early.reclaimed, early.claimed) == (0, 0)
    assert (late.reclaimed, late.sent) == (1, 1)
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 1
    assert InboxItem.objects.count() == 1


def test_sms_goes_through_the_sms_backend_and_needs_a_number(dora: User) -> None:
    enqueue(dora, key="sms1", channel=Channel.SMS)
    outbox_enqueue(
        channel=Channel.SMS, title="t", body="b", idempotency_key="sms2", address="", source="test"
    )

    result = outbox_dispatch(now=NOW)

    assert (result.sent, result.retried) == (1, 1)
    assert [m.mobile for m in SmsMessage.objects.all()] == [DORA_MOBILE]
    assert "汛期防灾提醒" in SmsMessage.objects.get().body
    failed = OutboxMessage.objects.get(idempotency_key="sms2")
    assert failed.last_error == "ChannelError: SMS message without a mobile number"


def test_wechat_console_backend_logs_the_openid_masked(
    dora: User, caplog: pytest.LogCaptureFixture
) -> None:
    openid = "oABCD1234567890WXYZ"
    outbox_enqueue(
        channel=Channel.WECHAT,
        recipient=dora,
        address=openid,
        title="汛期防灾提醒",
        body="…",
        idempotency_key="wx1",
        source="test",
    )
    with caplog.at_level("INFO"):
        result = outbox_dispatch(now=NOW)

    assert result.sent == 1
    assert openid not in caplog.text
    assert "oABC***********WXYZ" in caplog.text


def test_an_unknown_channel_is_refused_at_enqueue(dora: User) -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        outbox_enqueue(channel="fax", title="t", body="b", idempotency_key="x", source="test")
    assert OutboxMessage.objects.count() == 0


def test_the_cron_command_sends_due_messages(dora: User) -> None:
    enqueue(dora)
    call_command("dispatch_outbox")

    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT
    assert InboxItem.objects.count() == 1


def test_the_inbox_lists_only_my_messages_and_marks_them_read(dora: User) -> None:
    erin = User.objects.create_user(
        username="erin", password=PASSWORD, display_name="Erin", role=Role.CITIZEN
    )
    mine = InboxItem.objects.create(user=dora, title="我的消息", url="/popsci/")
    theirs = InboxItem.objects.create(user=erin, title="别人的消息")
    client = client_for(dora)

    html = client.get("/notifications/").content.decode()
    refused = client.post(f"/notifications/{theirs.pk}/read/")
    followed = client.post(f"/notifications/{mine.pk}/read/", {"next": "/popsci/"})
    offsite = client.post(f"/notifications/{mine.pk}/read/", {"next": "https://evil.example/"})

    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert "我的消息" in html
    assert "别人的消息" not in html
    assert 'data-unread="1"' in html
    assert refused.status_code == 302
    assert theirs.read_at is None
    assert mine.read_at == NOW
    assert followed["Location"] == "/popsci/"
    assert offsite["Location"] == "/notifications/"


def test_mark_all_read_touches_only_my_messages(dora: User) -> None:
    erin = User.objects.create_user(
        username="erin", password=PASSWORD, display_name="Erin", role=Role.CITIZEN
    )
    InboxItem.objects.create(user=dora, title="a")
    InboxItem.objects.create(user=dora, title="b")
    InboxItem.objects.create(user=erin, title="c")

    client_for(dora).post("/notifications/read-all/")

    assert InboxItem.objects.filter(read_at__isnull=True).count() == 1
    assert client_for(dora).get("/notifications/read-all/").status_code == 405
    assert Client().get("/notifications/").status_code == 302


class ReclaimedWhileSending:
    """Writes the inbox item, but meanwhile another dispatcher reclaims the row."""

    def send(self, message: OutboxMessage) -> None:
        channels.InAppChannel().send(message)
        OutboxMessage.objects.filter(pk=message.pk).update(claimed_at=NOW + timedelta(minutes=11))


def test_a_dispatcher_that_lost_its_claim_rolls_back_and_sends_nothing(
    dora: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(channels.CHANNEL_ADAPTERS, Channel.IN_APP, ReclaimedWhileSending())
    message = enqueue(dora)
    result = outbox_dispatch(now=NOW)
    message.refresh_from_db()
    assert (result.claimed, result.sent, result.retried, result.failed) == (1, 0, 0, 0)
    assert message.status == OutboxMessage.Status.SENDING
    assert InboxItem.objects.filter(user=dora).count() == 0
    # The row is reclaimed after the claim timeout and then sent once.
    monkeypatch.setitem(channels.CHANNEL_ADAPTERS, Channel.IN_APP, channels.InAppChannel())
    later = outbox_dispatch(now=NOW + timedelta(minutes=11))
    assert (later.reclaimed, later.sent) == (1, 1)
    assert InboxItem.objects.filter(user=dora).count() == 1


def test_cancelling_by_source_gives_up_only_that_sources_pending_messages(dora: User) -> None:
    for key, source in (("c1", "campaign"), ("c2", "campaign"), ("p1", "plan")):
        outbox_enqueue(
            channel=Channel.IN_APP,
            recipient=dora,
            title="t",
            body="b",
            idempotency_key=key,
            source=source,
        )
    OutboxMessage.objects.filter(idempotency_key="c2").update(status=OutboxMessage.Status.SENT)

    cancelled = outbox_cancel_pending(recipient_id=dora.pk, source="campaign", reason="withdrawn")

    assert cancelled == 1
    assert dict(OutboxMessage.objects.values_list("idempotency_key", "status")) == {
        "c1": "failed",
        "c2": "sent",
        "p1": "pending",
    }
