"""精准推送: targeting selects exactly the right recipients; sending is idempotent and scoped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.notifications.models import Channel, InboxItem, OutboxMessage
from kejiyun.popsci.content.services import content_archive, content_withdraw
from kejiyun.popsci.models import (
    TOPIC_BITS,
    AgeBand,
    Article,
    Campaign,
    CitizenProfile,
    Delivery,
    Segment,
    Topic,
)
from kejiyun.popsci.targeting.selectors import (
    audience_count,
    audience_queryset,
    campaign_regions_for_staff,
    current_consent_version,
    region_code_prefix,
)
from kejiyun.popsci.targeting.services import (
    campaign_create,
    campaign_send,
    campaigns_send_due,
    citizen_consent_withdraw,
)
from kejiyun.regions.models import Region
from tests.builders import client_for, make_article, make_campaign, make_citizen

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

# Counties and townships of 成都市 (510100) and 广元市 (510800).
PROFILE_REGIONS = (
    "510104",
    "510104017",
    "510104018",
    "510105",
    "510822",
    "510822100",
    "510822101",
    "510802",
)
TARGET_REGIONS = ("510000", "510100", "510800", "510104", "510104017", "510822", "510822100")
CONSENT_STATES = (
    (True, "current"),
    (True, "2025-01"),  # consent to an old policy version counts as none
    (False, ""),
    (False, "current"),
)


def published_article(title: str = "水稻病虫害绿色防控") -> Article:
    return make_article(title, summary="田间识别与防治要点", body="……", published_at=NOW)


def region(code: str) -> Region:
    return Region.objects.get(code=code)


# --- Targeting ---------------------------------------------------------------------------


profile_strategy = st.tuples(
    st.sampled_from(PROFILE_REGIONS),
    st.sampled_from(Segment.values),
    st.sampled_from(AgeBand.values),
    st.sets(st.sampled_from(Topic.values), max_size=3),
    st.sampled_from(CONSENT_STATES),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    population=st.lists(profile_strategy, max_size=25),
    target=st.sampled_from(TARGET_REGIONS),
    segments=st.sets(st.sampled_from(Segment.values), max_size=3),
    age_bands=st.sets(st.sampled_from(AgeBand.values), max_size=2),
    interests=st.sets(st.sampled_from(Topic.values), max_size=3),
)
def test_the_audience_is_exactly_the_consenting_citizens_matching_every_criterion(
    db: None,
    population: list[tuple[str, str, str, set[str], tuple[bool, str]]],
    target: str,
    segments: set[str],
    age_bands: set[str],
    interests: set[str],
) -> None:
    version = current_consent_version()
    regions = {r.code: r for r in Region.objects.filter(code__in=(*PROFILE_REGIONS, target))}
    with transaction.atomic():
        profiles = CitizenProfile.objects.bulk_create(
            CitizenProfile(
                region_id=code,
                region_code=code,
                occupation=occupation,
                age_band=age_band,
                interests=sorted(topics),
                interest_bits=sum(TOPIC_BITS[t] for t in topics),
                targeting_consent=granted,
                consent_version=version if consent_version == "current" else consent_version,
            )
            for code, occupation, age_band, topics, (granted, consent_version) in population
        )
        expected = {
            p.pk
            for p, (code, occupation, age_band, topics, (granted, consent_version)) in zip(
                profiles, population, strict=True
            )
            if granted
            and consent_version == "current"
            and regions[target].contains(regions[code])
            and (not segments or occupation in segments)
            and (not age_bands or age_band in age_bands)
            and (not interests or topics & interests)
        }

        chosen = audience_queryset(
            region=regions[target], segments=segments, age_bands=age_bands, interests=interests
        )
        count = audience_count(
            region=regions[target], segments=segments, age_bands=age_bands, interests=interests
        )

        assert set(chosen.values_list("pk", flat=True)) == expected
        assert count == len(expected)
        transaction.set_rollback(True)


def test_region_prefixes_follow_the_code_levels() -> None:
    assert [region_code_prefix(region(c)) for c in ("510000", "510100", "510104", "510104017")] == [
        "51",
        "5101",
        "510104",
        "510104017",
    ]


def test_a_citizen_who_withdrew_consent_is_absent_from_the_next_campaign(alice: User) -> None:
    dora = make_citizen("dora", "510104").citizen_profile
    erin = make_citizen("erin", "510104017").citizen_profile
    article = published_article()
    first = campaign_create(
        actor=alice, title="春耕", article=article, channel=Channel.IN_APP, region=region("510104")
    )
    campaign_send(campaign=first, actor=alice)

    citizen_consent_withdraw(profile=dora, actor=dora.user)
    second = campaign_create(
        actor=alice, title="秋收", article=article, channel=Channel.IN_APP, region=region("510104")
    )
    result = campaign_send(campaign=second, actor=alice)

    assert set(first.deliveries.values_list("citizen_id", flat=True)) == {dora.pk, erin.pk}
    assert list(second.deliveries.values_list("citizen_id", flat=True)) == [erin.pk]
    assert (result.audience, result.new_deliveries) == (1, 1)


def test_consent_to_an_older_policy_version_does_not_count(alice: User) -> None:
    make_citizen("dora", "510104")
    kwargs: dict[str, Any] = {"region": region("510104")}

    assert audience_count(**kwargs) == 1
    with override_settings(POPSCI_CONSENT_VERSION="2027-03"):
        assert audience_count(**kwargs) == 0


def test_sending_twice_gives_the_same_deliveries_and_outbox_messages(
    alice: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    citizens = [make_citizen(f"c{i}", "510104").citizen_profile for i in range(3)]
    campaign = campaign_create(
        actor=alice,
        title="春耕",
        article=published_article(),
        channel=Channel.IN_APP,
        region=region("510104"),
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = campaign_send(campaign=campaign, actor=alice, now=NOW)
    deliveries = sorted(Delivery.objects.values_list("pk", "citizen_id"))
    messages = sorted(OutboxMessage.objects.values_list("pk", "idempotency_key", "status"))
    with django_capture_on_commit_callbacks(execute=True):
        second = campaign_send(campaign=campaign, actor=alice, now=NOW + timedelta(hours=1))

    campaign.refresh_from_db()
    assert (first.new_deliveries, second.new_deliveries) == (3, 0)
    assert sorted(Delivery.objects.values_list("pk", "citizen_id")) == deliveries
    assert sorted(OutboxMessage.objects.values_list("pk", "idempotency_key", "status")) == messages
    assert [key for _, key, _ in messages] == sorted(
        f"campaign:{campaign.pk}:citizen:{c.pk}" for c in citizens
    )
    assert {status for _, _, status in messages} == {"sent"}
    assert InboxItem.objects.count() == 3
    assert (campaign.status, campaign.sent_at, campaign.audience_size) == ("sent", NOW, 3)


def test_sms_recipients_without_a_mobile_are_skipped_and_counted(alice: User) -> None:
    with_mobile = make_citizen("dora", "510104", mobile="13712345678").citizen_profile
    make_citizen("erin", "510104")
    campaign = campaign_create(
        actor=alice,
        title="防汛",
        article=published_article(),
        channel=Channel.SMS,
        region=region("510104"),
    )

    result = campaign_send(campaign=campaign, actor=alice)

    assert (result.audience, result.new_deliveries, result.unreachable) == (2, 1, 1)
    assert list(Delivery.objects.values_list("citizen_id", flat=True)) == [with_mobile.pk]
    assert [(m.channel, m.address) for m in OutboxMessage.objects.all()] == [("sms", "13712345678")]


def test_a_citizen_in_another_county_does_not_receive_the_campaign(alice: User) -> None:
    make_citizen("dora", "510104", occupation=Segment.FARMER)
    make_citizen("erin", "510104", occupation=Segment.STUDENT)
    outsider = make_citizen("fred", "510105", occupation=Segment.FARMER)
    campaign = campaign_create(
        actor=alice,
        title="农技",
        article=published_article(),
        channel=Channel.IN_APP,
        region=region("510104"),
        segments=[Segment.FARMER],
    )

    campaign_send(campaign=campaign, actor=alice)

    assert list(Delivery.objects.values_list("citizen__user__username", flat=True)) == ["dora"]
    assert not InboxItem.objects.filter(user=outsider).exists()


def test_staff_of_another_county_cannot_create_a_campaign_for_alices_county(
    charlie: User,
) -> None:
    with pytest.raises(ValidationError) as refused:
        campaign_create(
            actor=charlie,
            title="越权",
            article=published_article(),
            channel=Channel.IN_APP,
            region=region("510104"),
        )

    assert refused.value.code == "region_outside_jurisdiction"
    assert Campaign.objects.count() == 0


def test_a_campaign_can_only_carry_published_content(alice: User) -> None:
    draft = Article.objects.create(title="未审", body="…", topic=Topic.HEALTH)
    with pytest.raises(ValidationError) as refused:
        campaign_create(
            actor=alice, title="x", article=draft, channel=Channel.IN_APP, region=region("510104")
        )

    assert refused.value.code == "article_not_published"
    assert Campaign.objects.count() == 0


def test_scheduled_campaigns_are_sent_by_the_command_when_due(
    alice: User, time_machine: Any
) -> None:
    time_machine.move_to(NOW, tick=False)
    make_citizen("dora", "510104")
    due = campaign_create(
        actor=alice,
        title="到期",
        article=published_article(),
        channel=Channel.IN_APP,
        region=region("510104"),
        scheduled_at=NOW + timedelta(minutes=5),
    )
    later = campaign_create(
        actor=alice,
        title="未到期",
        article=published_article("另一篇"),
        channel=Channel.IN_APP,
        region=region("510104"),
        scheduled_at=NOW + timedelta(days=1),
    )

    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)
    call_command("send_due_campaigns")
    call_command("send_due_campaigns")

    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == ("sent", "scheduled")
    assert Delivery.objects.filter(campaign=due).count() == 1
    assert Delivery.objects.filter(campaign=later).count() == 0


def test_the_audit_row_of_a_send_names_the_person_who_pressed_send_not_the_creator(
    alice: User, bob: User
) -> None:
    make_citizen("dora", "510104")
    campaign = campaign_create(
        actor=alice,
        title="锦江春耕",
        article=published_article(),
        channel=Channel.IN_APP,
        region=region("510104"),
    )

    response = client_for(bob).post(f"/popsci/campaigns/{campaign.pk}/send/")

    assert response.status_code == 302
    [event] = AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_SEND)
    assert (event.user_id, event.object_type, event.object_id, event.detail) == (
        bob.pk,
        "campaign",
        str(campaign.pk),
        {"new_deliveries": 1},
    )


def test_the_audit_row_of_a_scheduled_send_names_no_person_and_says_it_was_scheduled(
    alice: User, time_machine: Any
) -> None:
    time_machine.move_to(NOW, tick=False)
    make_citizen("dora", "510104")
    campaign = campaign_create(
        actor=alice,
        title="到期",
        article=published_article(),
        channel=Channel.IN_APP,
        region=region("510104"),
        scheduled_at=NOW + timedelta(minutes=5),
    )

    [result] = campaigns_send_due(now=NOW + timedelta(minutes=10))

    assert result.new_deliveries == 1
    [event] = AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_SEND)
    assert (event.user_id, event.object_id, event.detail) == (
        None,
        str(campaign.pk),
        {"new_deliveries": 1, "scheduled": True},
    )


def test_the_region_picker_offers_townships_only_to_county_staff(
    alice: User, bob: User, charlie: User
) -> None:
    alice_codes = set(campaign_regions_for_staff(user=alice).values_list("code", flat=True))
    bob_levels = set(campaign_regions_for_staff(user=bob).values_list("level", flat=True))

    assert "510104" in alice_codes
    assert "510104017" in alice_codes
    assert all(code.startswith("510104") for code in alice_codes)
    assert bob_levels == {"city", "county"}
    assert "510104" not in set(
        campaign_regions_for_staff(user=charlie).values_list("code", flat=True)
    )


# --- Staff pages --------------------------------------------------------------------------


def form_data(article: Article, region_code: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": "汛期防灾",
        "article": article.pk,
        "channel": "inapp",
        "region": region_code,
        "segments": ["farmer"],
        **extra,
    }


def test_alice_creates_a_campaign_sees_the_audience_and_sends_it(alice: User) -> None:
    make_citizen("dora", "510104017")
    make_citizen("erin", "510104", occupation=Segment.STUDENT)
    make_citizen("fred", "510104", consent=False)
    article = published_article()
    client = client_for(alice)

    size = client.get(
        "/popsci/campaigns/audience-size/", {"region": "510104", "segments": ["farmer"]}
    )
    created = client.post(
        "/popsci/campaigns/new/",
        # Fields the form does not offer (status, centre, audience size) have no effect.
        form_data(article, "510104", status="sent", centre="1", audience_size="999"),
    )
    campaign = Campaign.objects.get()
    sent = client.post(f"/popsci/campaigns/{campaign.pk}/send/")
    detail = client.get(f"/popsci/campaigns/{campaign.pk}/").content.decode()

    assert 'data-audience-size="1"' in size.content.decode()
    assert created.status_code == 302
    assert (campaign.status, campaign.audience_size) == ("draft", 0)
    assert created["Location"] == f"/popsci/campaigns/{campaign.pk}/"
    assert (campaign.region_id, campaign.segments, campaign.centre.region_id) == (
        "510104",
        ["farmer"],
        "510104",
    )
    assert sent.status_code == 302
    assert list(Delivery.objects.values_list("citizen__user__username", flat=True)) == ["dora"]
    assert 'data-count="deliveries">1<' in detail
    assert 'data-status="sent"' in detail


def test_charlie_cannot_create_a_campaign_for_alices_county_and_nothing_is_saved(
    charlie: User,
) -> None:
    article = published_article()
    client = client_for(charlie)

    response = client.post("/popsci/campaigns/new/", form_data(article, "510104"))
    size = client.get("/popsci/campaigns/audience-size/", {"region": "510104"})

    assert response.status_code == 200
    assert "所选地区不在您的辖区内。" in response.content.decode()
    assert Campaign.objects.count() == 0
    assert "data-audience-size" not in size.content.decode()


def test_the_form_offers_only_published_content(alice: User) -> None:
    published_article("已发布的文章")
    draft = Article.objects.create(title="草稿文章", body="…", topic=Topic.HEALTH)
    client = client_for(alice)

    html = client.get("/popsci/campaigns/new/").content.decode()
    response = client.post("/popsci/campaigns/new/", form_data(draft, "510104"))

    assert "已发布的文章" in html
    assert "草稿文章" not in html
    assert response.status_code == 200
    assert Campaign.objects.count() == 0


def test_charlie_cannot_see_or_send_alices_campaigns(alice: User, bob: User, charlie: User) -> None:
    make_citizen("dora", "510104")
    campaign = campaign_create(
        actor=alice,
        title="锦江春耕",
        article=published_article(),
        channel=Channel.IN_APP,
        region=region("510104"),
    )
    client = client_for(charlie)

    listing = client.get("/popsci/campaigns/").content.decode()
    detail = client.get(f"/popsci/campaigns/{campaign.pk}/")
    send = client.post(f"/popsci/campaigns/{campaign.pk}/send/")

    assert "锦江春耕" not in listing
    assert (detail.status_code, send.status_code) == (404, 404)
    assert Delivery.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    # Bob works at the city centre above alice's county: he sees it.
    assert "锦江春耕" in client_for(bob).get("/popsci/campaigns/").content.decode()


def test_citizens_and_anonymous_users_get_no_campaign_pages(alice: User) -> None:
    dora = make_citizen("dora", "510104")
    for url in ("/popsci/campaigns/", "/popsci/campaigns/new/", "/popsci/campaigns/audience-size/"):
        assert client_for(dora).get(url).status_code == 404
        assert Client().get(url).status_code == 302


def test_the_campaign_list_runs_a_fixed_number_of_queries(
    pat: User, alice: User, charlie: User, django_assert_num_queries: Any
) -> None:
    article = published_article()
    for staff, code in ((alice, "510104"), (charlie, "510822")):
        for i in range(3):
            campaign = campaign_create(
                actor=staff,
                title=f"推送{code}-{i}",
                article=article,
                channel=Channel.IN_APP,
                region=region(code),
            )
            campaign_send(campaign=campaign, actor=staff)
    client = client_for(pat)
    client.get("/popsci/campaigns/")  # warm the session and the cache

    with django_assert_num_queries(4):
        response = client.get("/popsci/campaigns/")

    assert response.content.decode().count("推送510") == 6


# --- Content withdrawn or archived after the campaign was made ----------------------------


def test_a_campaign_whose_content_was_archived_after_creation_delivers_nothing(
    alice: User,
) -> None:
    make_citizen("dora", "510104")
    campaign = make_campaign(alice)
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
    campaign = make_campaign(alice, scheduled_at=timezone.now() + timedelta(hours=1))
    content_withdraw(article=campaign.article, actor=alice)

    results = campaigns_send_due(now=timezone.now() + timedelta(hours=2))

    assert results == []
    assert Delivery.objects.filter(campaign=campaign).count() == 0
    assert OutboxMessage.objects.count() == 0
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED


def test_a_campaign_with_published_content_is_still_sent(alice: User) -> None:
    make_citizen("dora", "510104")
    campaign = make_campaign(alice)

    result = campaign_send(campaign=campaign, actor=alice)

    assert result.new_deliveries == 1
    assert OutboxMessage.objects.count() == 1
