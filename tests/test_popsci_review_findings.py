"""Defects found in review of 精准科普 and notifications, each pinned by a test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.notifications.dispatch import outbox_dispatch
from kejiyun.notifications.models import Channel, InboxItem, OutboxMessage
from kejiyun.popsci.content.services import content_archive, content_withdraw
from kejiyun.popsci.models import Campaign, CitizenProfile, Delivery, ReadEvent
from kejiyun.popsci.targeting.selectors import feed_context
from kejiyun.popsci.targeting.services import campaign_create, campaign_send, campaigns_send_due
from kejiyun.regions.models import Region
from tests.conftest import client_for
from tests.outreach_factories import make_citizen
from tests.popsci_content_helpers import make_published, make_reviewer

pytestmark = pytest.mark.django_db


def _campaign_for(alice: User, *, scheduled: bool = False) -> Campaign:
    article = make_published(alice, make_reviewer())
    return campaign_create(
        actor=alice,
        title="汛期避险",
        article=article,
        channel=Channel.IN_APP,
        region=Region.objects.get(code="510104"),
        scheduled_at=timezone.now() + timedelta(hours=1) if scheduled else None,
    )


# --- Unreviewed content leaking through a campaign send -----------------------------------


def test_a_campaign_whose_content_was_archived_after_creation_delivers_nothing(
    alice: User,
) -> None:
    make_citizen("dora", "510104")
    campaign = _campaign_for(alice)
    content_archive(article=campaign.article, actor=alice)

    response = client_for(alice).post(f"/popsci/campaigns/{campaign.pk}/send/")

    assert response.status_code == 302
    assert Delivery.objects.filter(campaign=campaign).count() == 0
    assert OutboxMessage.objects.count() == 0
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_a_scheduled_campaign_whose_content_was_withdrawn_for_edits_is_not_sent_when_due(
    alice: User,
) -> None:
    make_citizen("dora", "510104")
    campaign = _campaign_for(alice, scheduled=True)
    content_withdraw(article=campaign.article, actor=alice)

    results = campaigns_send_due(now=timezone.now() + timedelta(hours=2))

    assert results == []
    assert Delivery.objects.filter(campaign=campaign).count() == 0
    assert OutboxMessage.objects.count() == 0
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED


def test_a_campaign_with_published_content_is_still_sent(alice: User) -> None:
    make_citizen("dora", "510104")
    campaign = _campaign_for(alice)

    result = campaign_send(campaign=campaign, actor=alice)

    assert result.new_deliveries == 1
    assert OutboxMessage.objects.count() == 1


# --- Consent ------------------------------------------------------------------------------


def test_consent_to_an_older_policy_version_gives_no_personal_ranking_in_the_feed() -> None:
    user = make_citizen("dora", "510104", consent_version="2025-01")
    profile = CitizenProfile.objects.select_related("region").get(user=user)

    ctx = feed_context(profile=profile, now=timezone.now())

    assert ctx.consent is False


def test_current_consent_gives_personal_ranking_in_the_feed() -> None:
    user = make_citizen("dora", "510104")
    profile = CitizenProfile.objects.select_related("region").get(user=user)

    assert feed_context(profile=profile, now=timezone.now()).consent is True


# --- Bad input is a 4xx, never a 500 ------------------------------------------------------


@pytest.mark.parametrize("raw", ["²", "9" * 5000])
def test_a_campaign_id_that_int_refuses_on_the_reading_page_is_ignored(
    alice: User, raw: str
) -> None:
    article = make_published(alice, make_reviewer())
    dora = make_citizen("dora", "510104")

    response = client_for(dora).get(f"/popsci/read/{article.pk}/", {"campaign": raw})

    assert response.status_code == 200
    assert ReadEvent.objects.get(user=dora).campaign_id is None


@pytest.mark.parametrize("raw", ["²", "9" * 5000])
def test_an_answer_or_event_that_int_refuses_in_the_quiz_is_a_400_not_a_500(
    alice: User, raw: str
) -> None:
    article = make_published(alice, make_reviewer())
    dora = make_citizen("dora", "510104")
    data = {f"q{q.pk}": raw for q in article.questions.all()}
    data["event"] = raw

    response = client_for(dora).post(f"/popsci/read/{article.pk}/quiz/", data)

    assert response.status_code == 400
    assert not article.attempts.exists()


def test_a_campaign_message_still_in_the_outbox_is_not_sent_after_consent_is_withdrawn(
    alice: User,
) -> None:
    dora = make_citizen("dora", "510104")
    campaign = _campaign_for(alice)
    campaign_send(campaign=campaign, actor=alice)
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count() == 1

    client_for(dora).post("/popsci/me/consent/withdraw/")
    result = outbox_dispatch(now=timezone.now() + timedelta(minutes=1))

    assert result.sent == 0
    assert InboxItem.objects.filter(user=dora).count() == 0
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.FAILED
