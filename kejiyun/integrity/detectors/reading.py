"""SCRIPTED_READING: accounts that read by script (脚本刷阅读).

The reads of the window go through the popsci bot rule (`kejiyun/popsci/content/bots.py`
`bot_reasons`, the same rule that marks `ReadEvent.flagged`). An account is flagged, once,
when

- any of its reads is flagged as one of many accounts on one device, or as part of a
  machine-regular group (the rule's account reasons: the account itself is a bot); or
- at least FAST_MIN of its reads were read to the end implausibly fast, and they are at
  least FAST_SHARE of its finished reads (one hurried skim is a person, a habit is not).

The flag counts on the day of the account's first flagged read, for the centre whose content
most of its flagged reads were (ties: the earliest read's centre).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from kejiyun.integrity.detectors._similar import beijing_day
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import Finding, ReadRow, Snapshot
from kejiyun.popsci.content import bots

FAST_MIN = 3
FAST_SHARE = 0.5


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


def detect(snapshot: Snapshot) -> list[Finding]:
    reads = [r for r in snapshot.reads if snapshot.start <= r.opened_at < snapshot.end]
    reasons = bots.bot_reasons(_bot_row(r) for r in reads)
    by_account: dict[int, list[ReadRow]] = defaultdict(list)
    for r in reads:
        by_account[r.account_id].append(r)
    out: list[Finding] = []
    for account_id, rows in sorted(by_account.items()):
        flagged = sorted((r for r in rows if reasons.get(r.id)), key=lambda r: (r.opened_at, r.id))
        if not flagged:
            continue
        why: Counter[str] = Counter(reason for r in flagged for reason in reasons[r.id])
        finished = sum(1 for r in rows if r.finished_at is not None)
        fast = why[bots.REASON_FAST]
        account_level = any(why[reason] for reason in bots.ACCOUNT_REASONS)
        habitual_fast = fast >= FAST_MIN and fast >= FAST_SHARE * max(finished, 1)
        if not (account_level or habitual_fast):
            continue
        parts = []
        if why[bots.REASON_DEVICE]:
            parts.append(f"{why[bots.REASON_DEVICE]} 次阅读与多个账号共用同一设备")
        if why[bots.REASON_REGULAR]:
            parts.append(f"{why[bots.REASON_REGULAR]} 次阅读与一批账号步调一致、间隔机械")
        if fast:
            parts.append(f"{fast} 次读完快得不可能（共读完 {finished} 次）")
        confidence = 0.6
        if why[bots.REASON_DEVICE]:
            confidence += 0.2
        if why[bots.REASON_REGULAR]:
            confidence += 0.2
        if habitual_fast:
            confidence += 0.15 * fast / max(finished, 1)
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
                    "articles": sorted({r.article_id for r in flagged})[:20],
                },
            )
        )
    return out
