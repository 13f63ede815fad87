"""SCRIPTED_READING: accounts that read by script (脚本刷阅读).

The reads of the window go through the popsci bot rule (`kejiyun/popsci/content/bots.py`
`bot_reasons`, the same rule that marks `ReadEvent.flagged`). An account is flagged, once,
when

- any of its reads is flagged as one of many accounts on one device, or as part of a
  machine-regular group (the rule's account reasons: the account itself is a bot); or
- at least FAST_MIN of its reads were read to the end implausibly fast, and they are at
  least FAST_SHARE of its finished reads (one hurried skim is a person, a habit is not); or
- it reads in lockstep with a group (what the popsci rule misses when each farm account has
  its own device and reads at random times): a *group session* is LOCKSTEP_ACCOUNTS or more
  accounts opening one article within LOCKSTEP_MINUTES of the first; an account is flagged
  when at least LOCKSTEP_PEERS other accounts were in LOCKSTEP_TIMES or more group sessions
  with it, and it read to the end at least LOCKSTEP_FINISHED of the time. A class reading
  one article together once, or readers of a pushed article who happen to open it at the
  same time, are different people each time and never reach it.

The flag counts on the day of the account's first flagged read, for the centre whose content
most of its flagged reads were (ties: the earliest read's centre).
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import timedelta

from kejiyun.integrity.detectors._similar import beijing_day
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import Finding, ReadRow, Snapshot
from kejiyun.popsci.content import bots

FAST_MIN = 3
FAST_SHARE = 0.8
LOCKSTEP_MINUTES = 10
LOCKSTEP_ACCOUNTS = 4
LOCKSTEP_PEERS = 3
LOCKSTEP_TIMES = 3
LOCKSTEP_FINISHED = 0.9
# Group sessions larger than this (a campaign push read by hundreds at once) are not
# compared pair by pair.
LOCKSTEP_MAX_ACCOUNTS = 200


def _bot_row(r: ReadRow) -> bots.ReadRow:
    return bots.ReadRow(
        id=r.id,
        user_id=r.account_id,
        article_id=r.article_id,
        device=r.device,
        opened_at=r.opened_at,
        finished_at=r.finished_at,
        body_chars=r.body_chars,
        reason="",
    )


def _lockstep(reads: list[ReadRow]) -> dict[int, tuple[int, int]]:
    """{account: (peers, group sessions)} of the accounts reading in lockstep."""
    by_article: dict[int, list[ReadRow]] = defaultdict(list)
    for r in reads:
        by_article[r.article_id].append(r)
    window = timedelta(minutes=LOCKSTEP_MINUTES)
    together: Counter[tuple[int, int]] = Counter()
    sessions: Counter[int] = Counter()
    for rows in by_article.values():
        rows.sort(key=lambda r: (r.opened_at, r.id))
        i = 0
        while i < len(rows):
            j = i
            while j < len(rows) and rows[j].opened_at - rows[i].opened_at <= window:
                j += 1
            accounts = sorted({r.account_id for r in rows[i:j]})
            if LOCKSTEP_ACCOUNTS <= len(accounts) <= LOCKSTEP_MAX_ACCOUNTS:
                for a in accounts:
                    sessions[a] += 1
                for a, b in itertools.combinations(accounts, 2):
                    together[(a, b)] += 1
            i = j
    peers: Counter[int] = Counter()
    for (a, b), n in together.items():
        if n >= LOCKSTEP_TIMES:
            peers[a] += 1
            peers[b] += 1
    return {a: (n, sessions[a]) for a, n in peers.items() if n >= LOCKSTEP_PEERS}


def detect(snapshot: Snapshot) -> list[Finding]:
    reads = [r for r in snapshot.reads if snapshot.start <= r.opened_at < snapshot.end]
    reasons = bots.bot_reasons(_bot_row(r) for r in reads)
    lockstep = _lockstep(reads)
    by_account: dict[int, list[ReadRow]] = defaultdict(list)
    for r in reads:
        by_account[r.account_id].append(r)
    out: list[Finding] = []
    for account_id, rows in sorted(by_account.items()):
        flagged = sorted((r for r in rows if reasons.get(r.id)), key=lambda r: (r.opened_at, r.id))
        why: Counter[str] = Counter(reason for r in flagged for reason in reasons[r.id])
        finished = sum(1 for r in rows if r.finished_at is not None)
        fast = why[bots.REASON_FAST]
        account_level = any(why[reason] for reason in bots.ACCOUNT_REASONS)
        habitual_fast = fast >= FAST_MIN and fast >= FAST_SHARE * max(finished, 1)
        in_step = account_id in lockstep and finished >= LOCKSTEP_FINISHED * len(rows)
        if not (account_level or habitual_fast or in_step):
            continue
        if in_step and not flagged:
            flagged = sorted(rows, key=lambda r: (r.opened_at, r.id))
        parts = []
        if why[bots.REASON_DEVICE]:
            parts.append(f"{why[bots.REASON_DEVICE]} 次阅读与多个账号共用同一设备")
        if why[bots.REASON_REGULAR]:
            parts.append(f"{why[bots.REASON_REGULAR]} 次阅读与一批账号步调一致、间隔机械")
        if fast:
            parts.append(f"{fast} 次读完快得不可能（共读完 {finished} 次）")
        if in_step:
            peers, sessions = lockstep[account_id]
            parts.append(
                f"与另外 {peers} 个账号多次在 {LOCKSTEP_MINUTES} 分钟内同时打开同一篇文章"
                f"（{sessions} 次），每次都读完"
            )
        confidence = 0.6
        if why[bots.REASON_DEVICE]:
            confidence += 0.2
        if why[bots.REASON_REGULAR]:
            confidence += 0.2
        if habitual_fast:
            confidence += 0.15 * fast / max(finished, 1)
        if in_step:
            confidence += 0.2
        centres = Counter(r.centre_id for r in flagged)
        top = max(centres.values())
        centre = next(r.centre_id for r in flagged if centres[r.centre_id] == top)
        out.append(
            Finding(
                kind=Kind.SCRIPTED_READING,
                subject_type=Subject.ACCOUNT,
                subject_id=account_id,
                centre_id=centre,
                day=beijing_day(flagged[0].opened_at),
                confidence=round(min(confidence, 0.99), 2),
                reason="疑似脚本刷阅读：" + "；".join(parts),
                evidence={
                    "bot_reads": len(flagged),
                    "reads": len(rows),
                    "fast": fast,
                    "shared_device": why[bots.REASON_DEVICE],
                    "regular_group": why[bots.REASON_REGULAR],
                    "lockstep_peers": lockstep.get(account_id, (0, 0))[0],
                    "articles": sorted({r.article_id for r in flagged})[:20],
                },
            )
        )
    return out
