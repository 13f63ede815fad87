"""A citizen's targeting preferences and their separate, versioned, one-click consent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.notifications.dispatch import outbox_dispatch
from kejiyun.notifications.models import InboxItem, OutboxMessage
from kejiyun.popsci.models import TOPIC_BITS, CitizenProfile, ConsentRecord, Topic
from kejiyun.popsci.targeting.selectors import consent_is_current
from kejiyun.popsci.targeting.services import campaign_send, citizen_consent_grant
from tests.builders import client_for, make_campaign, make_citizen

pytestmark = pytest.mark.django_db


def profile_of(user: User) -> CitizenProfile:
    return CitizenProfile.objects.get(user=user)


def test_granting_consent_is_one_post_and_writes_a_record_for_the_current_version(
    dora: User,
) -> None:
    response = client_for(dora).post("/popsci/me/consent/")

    profile = profile_of(dora)
    assert response.status_code == 302
    assert (profile.targeting_consent, profile.consent_version) == (True, "2026-11")
    assert list(ConsentRecord.objects.values_list("citizen_id", "version", "granted")) == [
        (profile.pk, "2026-11", True)
    ]


def test_withdrawing_is_one_post_and_keeps_the_history(dora: User) -> None:
    client = client_for(dora)
    client.post("/popsci/me/consent/")

    response = client.post("/popsci/me/consent/withdraw/")

    profile = profile_of(dora)
    assert response.status_code == 302
    assert profile.targeting_consent is False
    assert not consent_is_current(profile)
    assert list(ConsentRecord.objects.order_by("id").values_list("granted", flat=True)) == [
        True,
        False,
    ]


def test_consent_is_never_changed_by_a_get(dora: User) -> None:
    client = client_for(dora)

    assert client.get("/popsci/me/consent/").status_code == 405
    assert client.get("/popsci/me/consent/withdraw/").status_code == 405
    assert ConsentRecord.objects.count() == 0
    assert profile_of(dora).targeting_consent is False


@override_settings(POPSCI_CONSENT_VERSION="2027-03")
def test_consent_to_an_older_version_counts_as_none_and_the_page_asks_again(dora: User) -> None:
    profile = profile_of(dora)
    CitizenProfile.objects.filter(pk=profile.pk).update(
        targeting_consent=True, consent_version="2026-11"
    )
    profile.refresh_from_db()

    html = client_for(dora).get("/popsci/me/").content.decode()

    assert not consent_is_current(profile)
    assert 'data-consent="none"' in html
    assert "推送政策已更新，需重新授权。" in html
    citizen_consent_grant(profile=profile, actor=profile.user)
    assert consent_is_current(profile_of(dora))


def test_the_preference_page_saves_region_occupation_age_band_interests_and_crops(
    dora: User,
) -> None:
    response = client_for(dora).post(
        "/popsci/me/",
        {
            "region": "510104017",
            "occupation": "farmer",
            "age_band": "60_plus",
            "interests": ["flood", "agriculture"],
            "crops": "  水稻、油菜 ",
        },
    )

    profile = profile_of(dora)
    assert response.status_code == 302
    assert (profile.region_id, profile.region_code) == ("510104017", "510104017")
    assert (profile.occupation, profile.age_band, profile.crops) == (
        "farmer",
        "60_plus",
        "水稻、油菜",
    )
    assert profile.interests == ["agriculture", "flood"]
    assert profile.interest_bits == TOPIC_BITS[Topic.AGRICULTURE] | TOPIC_BITS[Topic.FLOOD]
    assert profile.targeting_consent is False  # saving preferences is not consent


def test_a_region_outside_the_province_or_a_city_is_refused(dora: User) -> None:
    client = client_for(dora)
    for code in ("510100", "110101"):
        response = client.post(
            "/popsci/me/", {"region": code, "occupation": "farmer", "age_band": "18_35"}
        )
        assert response.status_code == 200
    assert profile_of(dora).region_id == "510104"


def test_the_preference_page_shows_the_consent_state_and_needs_a_citizen(
    dora: User, alice: User
) -> None:
    html = client_for(dora).get("/popsci/me/").content.decode()

    assert "我的科普偏好" in html
    assert 'data-consent="none"' in html
    assert client_for(alice).get("/popsci/me/").status_code == 404
    assert client_for(alice).post("/popsci/me/consent/").status_code == 404
    assert Client().get("/popsci/me/").status_code == 302


# --- Withdrawal and the outbox ------------------------------------------------------------


def test_a_campaign_message_still_in_the_outbox_is_not_sent_after_consent_is_withdrawn(
    alice: User,
) -> None:
    dora = make_citizen("dora", "510104")  # consents, unlike the `dora` fixture
    campaign = make_campaign(alice)
    campaign_send(campaign=campaign, actor=alice)
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count() == 1

    client_for(dora).post("/popsci/me/consent/withdraw/")
    result = outbox_dispatch(now=timezone.now() + timedelta(minutes=1))

    assert result.sent == 0
    assert InboxItem.objects.filter(user=dora).count() == 0
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.FAILED
