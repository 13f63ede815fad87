"""Bot-like reading is flagged and left out of outcomes; human reading is kept and counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from kejiyun.accounts.models import User
from kejiyun.popsci.content.bots import REASON_DEVICE, REASON_FAST, REASON_REGULAR
from kejiyun.popsci.content.services import reads_flag_bots
from kejiyun.popsci.models import (
    Activity,
    ActivitySignup,
    Article,
    Campaign,
    Delivery,
    QuizAttempt,
    ReadEvent,
)
from kejiyun.popsci.outreach.selectors import outcomes_by_article, outcomes_for
from kejiyun.regions.models import Region, ServiceCentre
from tests.builders import client_for, make_article, make_citizen

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SINCE = T0 - timedelta(days=1)
NOW = T0 + timedelta(days=1)


def read(
    user: User,
    article: Article,
    at: datetime,
    seconds: float | None = 120,
    device: str = "",
    campaign: Campaign | None = None,
) -> ReadEvent:
    return ReadEvent.objects.create(
        article=article,
        user=user,
        campaign=campaign,
        device=device or f"dev-{user.username}",
        opened_at=at,
        finished_at=at + timedelta(seconds=seconds) if seconds is not None else None,
    )


def articles(n: int) -> list[Article]:
    return [
        make_article(f"科普文章{i}", body="字" * 400, published_at=T0 - timedelta(days=3))
        for i in range(n)
    ]


def human_reading(user: User, items: list[Article], start: datetime) -> None:
    """Irregular gaps (3 to 25 minutes) and reading times (1 to 5 minutes)."""
    gaps = [0, 180, 660, 420, 1500, 240, 900, 300]
    durations = [95, 240, 61, 300, 150, 75, 200, 130]
    at = start
    for article, gap, seconds in zip(items, gaps, durations, strict=False):
        at += timedelta(seconds=gap)
        read(user, article, at, seconds)


def test_many_accounts_reading_the_same_items_every_60_seconds_are_flagged() -> None:
    items = articles(10)
    bots = [make_citizen(f"bot{i:02}", "510104") for i in range(20)]
    for b, bot in enumerate(bots):
        for i, article in enumerate(items):
            read(bot, article, T0 + timedelta(seconds=b * 7 + i * 60), seconds=30)
    people = [make_citizen(f"person{i}", "510104") for i in range(3)]
    for p, person in enumerate(people):
        human_reading(person, items[p : p + 6], T0 + timedelta(hours=p + 1))

    assert reads_flag_bots(since=SINCE, now=NOW) == 200
    flagged = ReadEvent.objects.filter(flagged=True)
    assert set(flagged.values_list("user_id", flat=True)) == {b.pk for b in bots}
    assert {r.flag_reason for r in flagged} == {REASON_REGULAR}
    assert ReadEvent.objects.filter(user__in=people, flagged=False).count() == 18

    # Outcomes count the three people only.
    by_article = outcomes_by_article(items)
    assert [by_article[a.pk].readers for a in items] == [1, 2, 3, 3, 3, 3, 2, 1, 0, 0]
    assert by_article[items[0].pk].flagged_reads == 20
    assert by_article[items[0].pk].read_to_end_rate == 1.0
    region = outcomes_for(region=Region.objects.get(code="510104"))
    assert region.readers == 3
    assert region.flagged_reads == 200


def test_running_the_rule_twice_flags_nothing_new() -> None:
    items = articles(5)
    for b in range(5):
        bot = make_citizen(f"bot{b}", "510104")
        for i, article in enumerate(items):
            read(bot, article, T0 + timedelta(minutes=i * 2), seconds=30)
    assert reads_flag_bots(since=SINCE, now=NOW) == 25
    assert reads_flag_bots(since=SINCE, now=NOW) == 0
    assert ReadEvent.objects.filter(flag_reason=REASON_REGULAR).count() == 25


def test_fewer_than_five_regular_accounts_are_not_a_group() -> None:
    items = articles(6)
    for b in range(4):
        steady = make_citizen(f"steady{b}", "510104")
        for i, article in enumerate(items):
            read(steady, article, T0 + timedelta(minutes=10 * i), seconds=120)
    assert reads_flag_bots(since=SINCE, now=NOW) == 0


def test_regular_accounts_reading_different_items_are_not_a_group() -> None:
    items = articles(30)
    for b in range(5):
        steady = make_citizen(f"steady{b}", "510104")
        for i, article in enumerate(items[b * 6 : b * 6 + 6]):
            read(steady, article, T0 + timedelta(minutes=10 * i), seconds=120)
    assert reads_flag_bots(since=SINCE, now=NOW) == 0


def test_implausibly_fast_read_to_end_is_flagged_and_only_that_read_is_left_out() -> None:
    short = make_article("短文", body="字" * 100, published_at=T0 - timedelta(days=3))
    long = make_article("长文", body="字" * 2000, published_at=T0 - timedelta(days=3))
    skimmer = make_citizen("skimmer", "510104")
    reader = make_citizen("reader", "510104")
    fast_short = read(skimmer, short, T0, seconds=5)  # under the 8 s floor
    fast_long = read(skimmer, long, T0 + timedelta(minutes=5), seconds=40)  # under 2000/40 s
    ok_short = read(reader, short, T0, seconds=9)
    ok_long = read(reader, long, T0 + timedelta(minutes=5), seconds=55)
    unfinished = read(skimmer, long, T0 + timedelta(minutes=9), seconds=None)

    assert reads_flag_bots(since=SINCE, now=NOW) == 2
    assert {r.pk: r.flag_reason for r in ReadEvent.objects.filter(flagged=True)} == {
        fast_short.pk: REASON_FAST,
        fast_long.pk: REASON_FAST,
    }
    for r in (ok_short, ok_long, unfinished):
        r.refresh_from_db()
        assert not r.flagged
    figures = outcomes_by_article([short, long])
    assert (figures[short.pk].readers, figures[short.pk].finished) == (1, 1)
    # The skimmer still counts as a reader of the long text (the unfinished read is fine),
    # but not as having read it to the end.
    assert (figures[long.pk].readers, figures[long.pk].finished) == (2, 1)
    assert figures[long.pk].read_to_end_rate == 0.5


@override_settings(POPSCI_MIN_READ_SECONDS=30)
def test_the_minimum_reading_time_is_a_setting() -> None:
    short = make_article("短文", body="字" * 100, published_at=T0 - timedelta(days=3))
    read(make_citizen("reader", "510104"), short, T0, seconds=20)
    assert reads_flag_bots(since=SINCE, now=NOW) == 1


def test_one_device_behind_more_than_three_accounts_in_a_day_is_flagged() -> None:
    items = articles(3)
    farm = [make_citizen(f"farm{i}", "510104") for i in range(5)]
    for i, user in enumerate(farm):
        read(user, items[i % 3], T0 + timedelta(hours=i * 4), device="shared-phone")
    family = [make_citizen(f"family{i}", "510104") for i in range(3)]
    for i, user in enumerate(family):
        read(user, items[0], T0 + timedelta(hours=i), device="family-tablet")
    # The same phone, used by four accounts, but spread over four days.
    slow = [make_citizen(f"slow{i}", "510104") for i in range(4)]
    for i, user in enumerate(slow):
        read(user, items[1], T0 - timedelta(days=3) + timedelta(hours=25 * i), device="kiosk")

    assert reads_flag_bots(since=T0 - timedelta(days=5), now=NOW) == 5
    assert set(ReadEvent.objects.filter(flagged=True).values_list("flag_reason", flat=True)) == {
        REASON_DEVICE
    }
    # A device-sharing account is a bot account: its other reads do not count either.
    read(farm[0], items[2], T0 + timedelta(hours=30), device="farm0-own-phone")
    figures = outcomes_by_article(items)
    assert figures[items[0].pk].readers == 3  # the family only
    assert figures[items[2].pk].readers == 0


def test_outcome_figures_are_exact_on_a_small_fixture(alice: User) -> None:
    centre = ServiceCentre.objects.get(region_id="510104")
    article = make_article(
        "稻田防汛",
        body="字" * 400,
        centre=centre,
        region_id="510104",
        published_at=T0 - timedelta(days=3),
    )
    other = make_article("其他文章", body="字" * 400, published_at=T0 - timedelta(days=3))
    campaign = Campaign.objects.create(
        title="锦江区农户防汛推送",
        article=article,
        channel="inapp",
        region_id="510104",
        segments=["farmer"],
        centre=centre,
        created_by=alice,
        status=Campaign.Status.SENT,
    )
    ann, ben, cai, dan = (make_citizen(n, "510104") for n in ("ann", "ben", "cai", "dan"))
    eve = make_citizen("eve", "510822")  # another county, not in the campaign
    bot = make_citizen("bot", "510104")
    for user in (ann, ben, cai, dan, bot):
        Delivery.objects.create(campaign=campaign, citizen=user.citizen_profile)
    read(ann, article, T0, 200, campaign=campaign)
    read(ben, article, T0 + timedelta(hours=1), None, campaign=campaign)  # opened only
    read(cai, article, T0 + timedelta(hours=2), 90, campaign=campaign)
    read(eve, article, T0 + timedelta(hours=3), 120)
    read(ann, other, T0 + timedelta(hours=5), 100)
    # the bot shares a phone with three throwaway accounts
    read(bot, article, T0, 60, device="phone-x", campaign=campaign)
    for i in range(3):
        read(
            make_citizen(f"throw{i}", "510104"),
            other,
            T0 + timedelta(minutes=i),
            60,
            device="phone-x",
        )
    for user, before, after in ((ann, 1, 3), (cai, 2, 2), (bot, 0, 3)):
        QuizAttempt.objects.create(
            article=article, user=user, phase="before", answers=[], correct=before, total=3
        )
        QuizAttempt.objects.create(
            article=article, user=user, phase="after", answers=[], correct=after, total=3
        )
    QuizAttempt.objects.create(
        article=article, user=eve, phase="after", answers=[], correct=0, total=3
    )  # no "before": not in the comparison
    activity = Activity.objects.create(
        title="防汛演练",
        region_id="510104",
        place="锦江区某社区",
        centre=centre,
        starts_at=T0,
        ends_at=T0 + timedelta(hours=2),
        capacity=10,
    )
    for user, came in ((ann, True), (ben, False), (dan, True), (bot, True)):
        ActivitySignup.objects.create(
            activity=activity, user=user, checked_in_at=T0 if came else None
        )

    assert reads_flag_bots(since=SINCE, now=NOW) == 4

    by_campaign = outcomes_for(campaign=campaign)
    assert (by_campaign.delivered, by_campaign.readers, by_campaign.finished) == (4, 3, 2)
    assert by_campaign.read_to_end_rate == pytest.approx(2 / 3)
    assert by_campaign.quiz_pairs == 2
    assert by_campaign.quiz_before == pytest.approx(3 / 6)
    assert by_campaign.quiz_after == pytest.approx(5 / 6)
    assert by_campaign.flagged_reads == 1
    assert by_campaign.attendance_rate is None

    by_article = outcomes_for(article=article)
    assert (by_article.delivered, by_article.readers, by_article.finished) == (4, 4, 3)
    assert (by_article.quiz_pairs, by_article.quiz_before, by_article.quiz_after) == (
        2,
        0.5,
        pytest.approx(5 / 6),
    )

    county = outcomes_for(region=Region.objects.get(code="510104"))
    assert (county.delivered, county.readers, county.finished) == (4, 3, 2)
    assert (county.signed_up, county.checked_in) == (3, 2)
    assert county.attendance_rate == pytest.approx(2 / 3)
    assert county.flagged_reads == 4

    by_centre = outcomes_for(centre=centre)
    assert (by_centre.delivered, by_centre.readers, by_centre.finished) == (4, 4, 3)
    assert (by_centre.signed_up, by_centre.checked_in) == (3, 2)

    with pytest.raises(ValueError, match="exactly one"):
        outcomes_for(article=article, campaign=campaign)


def test_the_management_command_flags_recent_reads() -> None:
    short = make_article("短文", body="字" * 100)
    r = read(
        make_citizen("skimmer", "510104"),
        short,
        datetime.now(tz=UTC) - timedelta(hours=1),
        seconds=2,
    )
    call_command("flag_bot_reads", "--hours", "24")
    r.refresh_from_db()
    assert (r.flagged, r.flag_reason) == (True, REASON_FAST)


def test_the_outcomes_page_shows_figures_for_the_jurisdiction_only(
    alice: User, charlie: User
) -> None:
    mine = make_article("锦江区防汛知识", region_id="510104", body="字" * 100)
    theirs = make_article("青川县茶园管理", region_id="510822", body="字" * 100)
    reader = make_citizen("reader", "510104")
    read(reader, mine, datetime.now(tz=UTC) - timedelta(hours=1), seconds=2)
    reads_flag_bots(since=datetime.now(tz=UTC) - timedelta(days=1))
    html = client_for(alice).get("/popsci/outcomes/").content.decode()
    assert "锦江区防汛知识" in html
    assert "青川县茶园管理" not in html
    assert REASON_FAST in html
    html = client_for(charlie).get("/popsci/outcomes/").content.decode()
    assert "青川县茶园管理" in html
    assert "锦江区防汛知识" not in html
    assert theirs.pk


def test_the_outcomes_page_is_for_staff_only() -> None:
    citizen = make_citizen("reader", "510104")
    assert client_for(citizen).get("/popsci/outcomes/").status_code == 404
    response = Client().get("/popsci/outcomes/")
    assert response.status_code == 302


def test_outcomes_per_content_take_four_queries_however_many_items(
    django_assert_num_queries: Any,
) -> None:
    items = articles(6)
    people = [make_citizen(f"person{i}", "510104") for i in range(3)]
    for p, person in enumerate(people):
        human_reading(person, items[p : p + 3], T0)
    with django_assert_num_queries(4):
        figures = outcomes_by_article(items)
    assert [figures[a.pk].readers for a in items] == [1, 2, 3, 2, 1, 0]
