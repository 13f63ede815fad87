"""Outcomes of science popularisation, measured by understanding and attendance, with
bot-like reading left out.

The bot rule (`reads_flag_bots`)
--------------------------------
A read (`ReadEvent`) opened in the window [since, now] is flagged when any of these holds;
`flag_reason` lists every reason that applied, separated by "；".

(a) 读完过快 — read to the end implausibly fast: `finished_at − opened_at` is below
    max(POPSCI_MIN_READ_SECONDS, characters in the body / POPSCI_MAX_CHARS_PER_SECOND),
    defaults 8 s and 40 characters a second (a fast skim; people read Chinese at about
    5-10 characters a second).
(b) 同一设备多账号 — one device behind many accounts: the read's device identifier was
    used by more than POPSCI_MAX_ACCOUNTS_PER_DEVICE (3) accounts within some 24-hour
    window containing the read. Reads without a device identifier never match.
(c) 多账号机械规律阅读 — machine-regular reading by a group: an account is *regular* when
    it has at least 5 reads in the window and the gaps between its consecutive reads have
    a coefficient of variation (standard deviation / mean) below 0.1. A regular account is
    flagged — all its reads in the window — when at least 4 other regular accounts read
    largely the same items (Jaccard similarity of the item sets ≥ 0.5), i.e. a group of
    ≥ 5 accounts. A lone person reading at a steady pace is never flagged by (c).

Accounts with a read flagged under (b) or (c) are *bot accounts*: every read, delivery,
quiz answer and activity sign-up of theirs is left out of the outcome figures. A read
flagged only under (a) is left out on its own; the account still counts for its other
reads. Running the rule twice flags nothing new (reasons are merged, not repeated).

Outcome figures (`outcomes_for`, `outcomes_by_article`, `outcomes_by_campaign`)
------------------------------------------------------------------------------
For a scope — one piece of content, one campaign, a region subtree (where the citizen
lives) or a service centre (content, campaigns and activities it runs):
- delivered: distinct citizens a campaign delivered to; readers: distinct accounts with an
  unflagged read (reach is both figures);
- read-to-end rate: readers who finished at least one unflagged read / readers;
- quiz accuracy before and after: only over (content, account) pairs that answered both
  the before and the after quiz; accuracy = questions right / questions asked;
- attendance: checked-in / signed-up (region and centre scopes; activities are not tied to
  content or campaigns);
- flagged reads: reads in the scope that the rule flagged, for staff review.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Length
from django.utils import timezone

from kejiyun.popsci.models import (
    ActivitySignup,
    Article,
    Campaign,
    Delivery,
    QuizAttempt,
    ReadEvent,
)
from kejiyun.regions.models import Region, ServiceCentre

REASON_FAST = "读完过快"
REASON_DEVICE = "同一设备多账号"
REASON_REGULAR = "多账号机械规律阅读"
ACCOUNT_REASONS = (REASON_DEVICE, REASON_REGULAR)

DEVICE_WINDOW = timedelta(hours=24)
REGULAR_MIN_READS = 5
REGULAR_MAX_CV = 0.1
GROUP_MIN_ACCOUNTS = 5
GROUP_MIN_JACCARD = 0.5


def _min_read_seconds() -> float:
    return float(getattr(settings, "POPSCI_MIN_READ_SECONDS", 8))


def _max_chars_per_second() -> float:
    return float(getattr(settings, "POPSCI_MAX_CHARS_PER_SECOND", 40))


def _max_accounts_per_device() -> int:
    return int(getattr(settings, "POPSCI_MAX_ACCOUNTS_PER_DEVICE", 3))


@dataclass(frozen=True)
class _Read:
    id: int
    user_id: int
    article_id: int
    device: str
    opened_at: datetime
    finished_at: datetime | None
    body_chars: int
    reason: str


def _fast_read_ids(reads: Iterable[_Read]) -> set[int]:
    floor, cps = _min_read_seconds(), _max_chars_per_second()
    out = set()
    for r in reads:
        if r.finished_at is None:
            continue
        needed = max(floor, r.body_chars / cps)
        if (r.finished_at - r.opened_at).total_seconds() < needed:
            out.add(r.id)
    return out


def _shared_device_read_ids(reads: Iterable[_Read]) -> set[int]:
    limit = _max_accounts_per_device()
    by_device: dict[str, list[_Read]] = defaultdict(list)
    for r in reads:
        if r.device:
            by_device[r.device].append(r)
    out: set[int] = set()
    for device_reads in by_device.values():
        device_reads.sort(key=lambda r: r.opened_at)
        if len({r.user_id for r in device_reads}) <= limit:
            continue
        end = 0
        for start, first in enumerate(device_reads):
            while (
                end < len(device_reads)
                and device_reads[end].opened_at - first.opened_at <= DEVICE_WINDOW
            ):
                end += 1
            window = device_reads[start:end]
            if len({r.user_id for r in window}) > limit:
                out.update(r.id for r in window)
    return out


def _is_regular(times: list[datetime]) -> bool:
    if len(times) < REGULAR_MIN_READS:
        return False
    times = sorted(times)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    mean = statistics.fmean(gaps)
    if mean <= 0:
        return True  # all at the same instant: no person reads like that
    return statistics.pstdev(gaps) / mean < REGULAR_MAX_CV


def _regular_group_read_ids(reads: Iterable[_Read]) -> set[int]:
    by_user: dict[int, list[_Read]] = defaultdict(list)
    for r in reads:
        by_user[r.user_id].append(r)
    regular = {
        uid: frozenset(r.article_id for r in rs)
        for uid, rs in by_user.items()
        if _is_regular([r.opened_at for r in rs])
    }
    out: set[int] = set()
    for uid, items in regular.items():
        peers = sum(
            1
            for other, theirs in regular.items()
            if other != uid and len(items & theirs) / len(items | theirs) >= GROUP_MIN_JACCARD
        )
        if peers + 1 >= GROUP_MIN_ACCOUNTS:
            out.update(r.id for r in by_user[uid])
    return out


def reads_flag_bots(*, since: datetime, now: datetime | None = None) -> int:
    """Apply the bot rule to reads opened in [since, now]; return how many reads were
    newly flagged or got a new reason."""
    now = now or timezone.now()
    rows = (
        ReadEvent.objects.filter(opened_at__gte=since, opened_at__lte=now)
        .annotate(body_chars=Length("article__body"))
        .values_list(
            "id",
            "user_id",
            "article_id",
            "device",
            "opened_at",
            "finished_at",
            "body_chars",
            "flag_reason",
        )
    )
    reads = [_Read(*row) for row in rows]
    reasons: dict[int, list[str]] = defaultdict(list)
    for reason, ids in (
        (REASON_FAST, _fast_read_ids(reads)),
        (REASON_DEVICE, _shared_device_read_ids(reads)),
        (REASON_REGULAR, _regular_group_read_ids(reads)),
    ):
        for read_id in ids:
            reasons[read_id].append(reason)
    changed = []
    for r in reads:
        if r.id not in reasons:
            continue
        existing = [p for p in r.reason.split("；") if p]
        merged = existing + [p for p in reasons[r.id] if p not in existing]
        if merged != existing or not existing:
            changed.append(ReadEvent(id=r.id, flagged=True, flag_reason="；".join(merged)[:120]))
    ReadEvent.objects.bulk_update(changed, ["flagged", "flag_reason"], batch_size=500)
    return len(changed)


def bot_account_ids() -> QuerySet[ReadEvent, Any]:
    """Subquery of user ids flagged as bot accounts (reasons (b) and (c))."""
    q = Q()
    for reason in ACCOUNT_REASONS:
        q |= Q(flag_reason__contains=reason)
    return ReadEvent.objects.filter(q, flagged=True).values("user_id")


# --- Outcome figures ---------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    delivered: int = 0
    readers: int = 0
    finished: int = 0
    quiz_pairs: int = 0
    quiz_before: float | None = None
    quiz_after: float | None = None
    signed_up: int = 0
    checked_in: int = 0
    flagged_reads: int = 0
    has_attendance: bool = False

    @property
    def read_to_end_rate(self) -> float | None:
        return self.finished / self.readers if self.readers else None

    @property
    def attendance_rate(self) -> float | None:
        return self.checked_in / self.signed_up if self.signed_up else None

    @property
    def quiz_gain(self) -> float | None:
        if self.quiz_before is None or self.quiz_after is None:
            return None
        return self.quiz_after - self.quiz_before


@dataclass(frozen=True)
class _Scope:
    reads: Q
    read_key: str | None
    deliveries: Q
    delivery_key: str | None
    attempts: Q
    attempt_key: str | None
    signups: Q | None = None
    signup_key: str | None = None


def _grouped(qs: QuerySet, key: str | None, **aggregates: Any) -> dict[Hashable, dict[str, Any]]:
    if key is None:
        return {None: qs.aggregate(**aggregates)}
    return {row.pop("_k"): row for row in qs.values(_k=F(key)).annotate(**aggregates)}


def _compute(scope: _Scope) -> dict[Hashable, dict[str, Any]]:
    bots = bot_account_ids()
    out: dict[Hashable, dict[str, Any]] = defaultdict(dict)
    reads = ReadEvent.objects.filter(scope.reads)
    for k, row in _grouped(
        reads.exclude(user_id__in=bots),
        scope.read_key,
        readers=Count("user_id", distinct=True, filter=Q(flagged=False)),
        finished=Count(
            "user_id", distinct=True, filter=Q(flagged=False, finished_at__isnull=False)
        ),
    ).items():
        out[k].update(row)
    for k, row in _grouped(
        reads, scope.read_key, flagged_reads=Count("id", filter=Q(flagged=True))
    ).items():
        out[k].update(row)
    deliveries = Delivery.objects.filter(scope.deliveries).exclude(citizen__user_id__in=bots)
    for k, row in _grouped(
        deliveries, scope.delivery_key, delivered=Count("citizen_id", distinct=True)
    ).items():
        out[k].update(row)
    attempts = (
        QuizAttempt.objects.filter(scope.attempts)
        .exclude(user_id__in=bots)
        .annotate(_k=F(scope.attempt_key) if scope.attempt_key else F("article_id"))
        .values_list("_k", "article_id", "user_id", "phase", "correct", "total")
    )
    pairs: dict[tuple[Any, int, int], dict[str, tuple[int, int]]] = defaultdict(dict)
    for k, article_id, user_id, phase, correct, total in attempts:
        pairs[(k if scope.attempt_key else None, article_id, user_id)][phase] = (correct, total)
    quiz: dict[Hashable, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for (k, _, _), phases in pairs.items():
        if QuizAttempt.Phase.BEFORE in phases and QuizAttempt.Phase.AFTER in phases:
            acc = quiz[k]
            acc[0] += 1
            acc[1] += phases[QuizAttempt.Phase.BEFORE][0]
            acc[2] += phases[QuizAttempt.Phase.BEFORE][1]
            acc[3] += phases[QuizAttempt.Phase.AFTER][0]
            acc[4] += phases[QuizAttempt.Phase.AFTER][1]
    for k, (n, bc, bt, ac, at) in quiz.items():
        out[k].update(
            quiz_pairs=n,
            quiz_before=bc / bt if bt else None,
            quiz_after=ac / at if at else None,
        )
    if scope.signups is not None:
        signups = ActivitySignup.objects.filter(scope.signups).exclude(user_id__in=bots)
        for k, row in _grouped(
            signups,
            scope.signup_key,
            signed_up=Count("id"),
            checked_in=Count("id", filter=Q(checked_in_at__isnull=False)),
        ).items():
            out[k].update(row)
    return out


def _outcome(row: dict[str, Any] | None, *, has_attendance: bool = False) -> Outcome:
    row = {k: v for k, v in (row or {}).items() if v is not None}
    return Outcome(has_attendance=has_attendance, **row)


def _article_scope(ids: list[int] | None) -> _Scope:
    def q(field: str) -> Q:
        return Q() if ids is None else Q(**{f"{field}__in": ids})

    return _Scope(
        reads=q("article_id"),
        read_key="article_id",
        deliveries=q("campaign__article_id"),
        delivery_key="campaign__article_id",
        attempts=q("article_id"),
        attempt_key="article_id",
    )


def outcomes_by_article(articles: Iterable[Article]) -> dict[int, Outcome]:
    """Outcome figures for each piece of content (a fixed number of queries)."""
    ids = [a.pk for a in articles]
    rows = _compute(_article_scope(ids)) if ids else {}
    return {pk: _outcome(rows.get(pk)) for pk in ids}


def outcomes_by_campaign(campaigns: Iterable[Campaign]) -> dict[int, Outcome]:
    """Outcome figures for each campaign: its deliveries, the reads it led to, and the
    quiz answers of its recipients on its content."""
    items = list(campaigns)
    ids = [c.pk for c in items]
    if not ids:
        return {}
    rows = _compute(
        _Scope(
            reads=Q(campaign_id__in=ids),
            read_key="campaign_id",
            deliveries=Q(campaign_id__in=ids),
            delivery_key="campaign_id",
            attempts=Q(
                user__citizen_profile__deliveries__campaign_id__in=ids,
                article_id=F("user__citizen_profile__deliveries__campaign__article_id"),
            ),
            attempt_key="user__citizen_profile__deliveries__campaign_id",
        )
    )
    return {pk: _outcome(rows.get(pk)) for pk in ids}


def outcomes_for(
    *,
    article: Article | None = None,
    campaign: Campaign | None = None,
    region: Region | None = None,
    centre: ServiceCentre | None = None,
) -> Outcome:
    """Outcome figures for exactly one scope: content, campaign, region subtree or centre."""
    given = [x for x in (article, campaign, region, centre) if x is not None]
    if len(given) != 1:
        raise ValueError("outcomes_for takes exactly one of article, campaign, region, centre")
    if article is not None:
        return outcomes_by_article([article])[article.pk]
    if campaign is not None:
        return outcomes_by_campaign([campaign])[campaign.pk]
    if region is not None:
        path = region.path
        scope = _Scope(
            reads=Q(user__citizen_profile__region__path__startswith=path),
            read_key=None,
            deliveries=Q(citizen__region__path__startswith=path),
            delivery_key=None,
            attempts=Q(user__citizen_profile__region__path__startswith=path),
            attempt_key=None,
            signups=Q(activity__region__path__startswith=path),
        )
    else:
        assert centre is not None
        scope = _Scope(
            reads=Q(article__centre=centre),
            read_key=None,
            deliveries=Q(campaign__centre=centre),
            delivery_key=None,
            attempts=Q(article__centre=centre),
            attempt_key=None,
            signups=Q(activity__centre=centre),
        )
    return _outcome(_compute(scope).get(None), has_attendance=True)
