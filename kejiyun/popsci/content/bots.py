"""The bot rule: which reads (`ReadEvent`) look like bots, as plain functions over plain rows.

`reads_flag_bots` in services.py loads the reads of a window as `ReadRow`s, asks
`bot_reasons` which apply, and writes them to `ReadEvent.flag_reason`. No database here.

A read opened in the window [since, now] is flagged when any of these holds;
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

Accounts with a read flagged under (b) or (c) are *bot accounts* (`bot_account_ids` in
selectors.py): every read, delivery, quiz answer and activity sign-up of theirs is left out
of the outcome figures (`kejiyun.popsci.outreach.selectors`). A read flagged only under (a)
is left out on its own; the account still counts for its other reads. Running the rule
twice flags nothing new (reasons are merged, not repeated).
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

REASON_FAST = "读完过快"
REASON_DEVICE = "同一设备多账号"
REASON_REGULAR = "多账号机械规律阅读"
ACCOUNT_REASONS = (REASON_DEVICE, REASON_REGULAR)

DEVICE_WINDOW = timedelta(hours=24)
REGULAR_MIN_READS = 5
REGULAR_MAX_CV = 0.1
GROUP_MIN_ACCOUNTS = 5
GROUP_MIN_JACCARD = 0.5

# Each run (the hourly task, the command by default) judges the reads opened in the last
# this many hours, so a device or a group is seen across the day boundary.
BOT_WINDOW_HOURS = 48


def _min_read_seconds() -> float:
    return float(settings.POPSCI_MIN_READ_SECONDS)


def _max_chars_per_second() -> float:
    return float(settings.POPSCI_MAX_CHARS_PER_SECOND)


def _max_accounts_per_device() -> int:
    return int(settings.POPSCI_MAX_ACCOUNTS_PER_DEVICE)


@dataclass(frozen=True)
class ReadRow:
    id: int
    user_id: int
    article_id: int
    device: str
    opened_at: datetime
    finished_at: datetime | None
    body_chars: int
    reason: str


def _fast_read_ids(reads: Iterable[ReadRow]) -> set[int]:
    floor, cps = _min_read_seconds(), _max_chars_per_second()
    out = set()
    for r in reads:
        if r.finished_at is None:
            continue
        needed = max(floor, r.body_chars / cps)
        if (r.finished_at - r.opened_at).total_seconds() < needed:
            out.add(r.id)
    return out


def _shared_device_read_ids(reads: Iterable[ReadRow]) -> set[int]:
    limit = _max_accounts_per_device()
    by_device: dict[str, list[ReadRow]] = defaultdict(list)
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


def _regular_group_read_ids(reads: Iterable[ReadRow]) -> set[int]:
    by_user: dict[int, list[ReadRow]] = defaultdict(list)
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


def bot_reasons(reads: Iterable[ReadRow]) -> dict[int, list[str]]:
    """The reasons that apply to each flagged read, by read id, in rule order (a), (b), (c)."""
    rows = list(reads)
    reasons: dict[int, list[str]] = defaultdict(list)
    for reason, ids in (
        (REASON_FAST, _fast_read_ids(rows)),
        (REASON_DEVICE, _shared_device_read_ids(rows)),
        (REASON_REGULAR, _regular_group_read_ids(rows)),
    ):
        for read_id in ids:
            reasons[read_id].append(reason)
    return reasons
