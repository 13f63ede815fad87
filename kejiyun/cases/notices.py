"""What a case tells people: the message to one user (in-app, plus SMS) and the link it
carries to the staff case page. Messages go through the transactional outbox, so a
rolled-back change sends nothing."""

from __future__ import annotations

from django.urls import reverse

from kejiyun.accounts.models import User
from kejiyun.cases.models import Case
from kejiyun.notifications.models import Channel
from kejiyun.notifications.services import outbox_enqueue


def case_url(case: Case) -> str:
    """The staff case page."""
    return reverse("cases:detail", args=[case.pk])


def notice_send(*, user: User | None, title: str, body: str, url: str, key: str) -> None:
    """In-app message, plus an SMS when the user has a mobile number; no user, no message."""
    if user is None:
        return
    outbox_enqueue(
        channel=Channel.IN_APP,
        recipient=user,
        title=title,
        body=body,
        url=url,
        idempotency_key=f"{key}:inapp",
        source="case",
    )
    if user.mobile:
        outbox_enqueue(
            channel=Channel.SMS,
            recipient=user,
            address=user.mobile,
            title=title,
            body=body,
            idempotency_key=f"{key}:sms",
            source="case",
        )
