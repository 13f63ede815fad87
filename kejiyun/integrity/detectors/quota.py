"""QUOTA_ACCOUNT: accounts registered to make up a quota (凑数账号).

An account registered in the window is looked at through four signals:

- **device** — at least DEVICE_MIN accounts were registered from its browser (the long-lived
  device cookie of the registration footprint);
- **template** — its profile is a copy: near-identical (character 3-gram containment at
  least TEMPLATE_SIMILARITY) to the profiles of at least TEMPLATE_MIN − 1 other accounts of
  the window; a profile too short to compare by shingles (a citizen's occupation and age
  band, a blank profile) counts only when it is the same as TEMPLATE_MIN − 1 others made from
  the same device or network, since many real citizens are "农民, 40-59";
- **rhythm** — it was registered in a run of at least RUN_MIN registrations from the same
  device, the same network or the same template, each within SESSION_GAP of the previous,
  that is a burst (all within BURST_SPAN) or machine-regular (gaps with a coefficient of
  variation below REGULAR_CV);
- **idle** — no real activity since (`AccountRow.activity == 0`).

It is flagged only when it is idle and at least two of device, template and rhythm hold.
One signal alone never flags: thirty students registering from the university network, each
with their own profile, or a family sharing a phone, are left alone. Confidence grows with
the number of signals and the size of the group.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from kejiyun.demands.review import DUPLICATE_MIN_SHINGLES, normalise, shingles
from kejiyun.integrity.detectors._similar import Groups, beijing_day, similar_pairs
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import AccountRow, Finding, Snapshot

DEVICE_MIN = 4
TEMPLATE_MIN = 3
TEMPLATE_SIMILARITY = 0.75
TOGETHER_DAYS = 7
MAX_ACTIVITY = 1
PROFILE_RAREST = 16
RUN_MIN = 4
SESSION_GAP = timedelta(hours=1)
BURST_SPAN = timedelta(minutes=10)
REGULAR_CV = 0.25


def _runs(accounts: list[AccountRow]) -> tuple[set[int], dict[int, str]]:
    """Members of bursts or machine-regular runs among `accounts`, and how each ran."""
    members: set[int] = set()
    how: dict[int, str] = {}
    ordered = sorted(accounts, key=lambda a: (a.created_at, a.id))
    session: list[AccountRow] = []

    def close() -> None:
        if len(session) < RUN_MIN:
            return
        span = session[-1].created_at - session[0].created_at
        gaps = [
            (b.created_at - a.created_at).total_seconds() for a, b in itertools.pairwise(session)
        ]
        mean = statistics.fmean(gaps)
        if span <= BURST_SPAN:
            minutes = max(1, round(span.total_seconds() / 60))
            label = f"{len(session)} 个账号在 {minutes} 分钟内集中注册"
        elif mean > 0 and statistics.pstdev(gaps) / mean < REGULAR_CV:
            label = f"{len(session)} 个账号每隔约 {max(1, round(mean / 60))} 分钟注册一个"
        else:
            return
        for a in session:
            members.add(a.id)
            how.setdefault(a.id, label)

    for a in ordered:
        if session and a.created_at - session[-1].created_at > SESSION_GAP:
            close()
            session = []
        session.append(a)
    close()
    return members, how


def _groups(accounts: Iterable[AccountRow], key: dict[int, str]) -> dict[str, list[AccountRow]]:
    out: dict[str, list[AccountRow]] = defaultdict(list)
    for a in accounts:
        if key.get(a.id):
            out[key[a.id]].append(a)
    return out


def detect(snapshot: Snapshot) -> list[Finding]:
    accounts = [a for a in snapshot.accounts if snapshot.start <= a.created_at < snapshot.end]
    if not accounts:
        return []
    by_id = {a.id: a for a in accounts}
    device: dict[int, str] = {}
    network: dict[int, str] = {}
    for f in sorted(snapshot.footprints, key=lambda f: f.at):
        if f.kind == "register" and f.account_id in by_id and f.account_id not in device:
            device[f.account_id] = f.device
            network[f.account_id] = f.network
    device_groups = _groups(accounts, device)
    network_groups = _groups(accounts, network)

    # Templates: long profiles compared by shingles anywhere; short ones by exact text within
    # a device or network group.
    long_texts = {}
    short_text: dict[int, str] = {}
    for a in accounts:
        sh = shingles(a.profile_text)
        if len(sh) >= DUPLICATE_MIN_SHINGLES:
            long_texts[a.id] = sh
        else:
            short_text[a.id] = normalise(a.profile_text)
    joined = Groups()
    for first, second in similar_pairs(long_texts, TEMPLATE_SIMILARITY, rarest=PROFILE_RAREST):
        joined.join(first, second)
    # {account: the accounts sharing its template profile (itself included)}
    template_of: dict[int, list[int]] = {}
    template_groups: list[list[int]] = []
    for members in joined.members(long_texts).values():
        if len(members) >= TEMPLATE_MIN:
            template_groups.append(members)
            for m in members:
                template_of[m] = members
    for group in device_groups.values():
        if len(group) >= DEVICE_MIN:
            same: dict[str, list[int]] = defaultdict(list)
            for a in group:
                if a.id in short_text:
                    same[short_text[a.id]].append(a.id)
            for members in same.values():
                if len(members) >= TEMPLATE_MIN:
                    for m in members:
                        if len(members) > len(template_of.get(m, [])):
                            template_of[m] = members

    rhythm: set[int] = set()
    rhythm_how: dict[int, str] = {}
    clusters = [*device_groups.values(), *network_groups.values()]
    clusters += [[by_id[m] for m in members] for members in template_groups]
    for cluster in clusters:
        if len(cluster) >= RUN_MIN:
            in_run, how = _runs(cluster)
            rhythm |= in_run
            for k, v in how.items():
                rhythm_how.setdefault(k, v)

    span = timedelta(days=TOGETHER_DAYS)
    out: list[Finding] = []
    for a in sorted(accounts, key=lambda a: a.id):
        mates = template_of.get(a.id)
        if a.activity > MAX_ACTIVITY or not mates:
            continue
        on_device = len(device_groups[device[a.id]]) if device.get(a.id) else 0
        on_network = len(network_groups[network[a.id]]) if network.get(a.id) else 0
        # Template mates made from the same device or network within a few days of it.
        together = [
            m
            for m in mates
            if abs(by_id[m].created_at - a.created_at) <= span
            and (
                (device.get(a.id) and device.get(m) == device[a.id])
                or (network.get(a.id) and network.get(m) == network[a.id])
            )
        ]
        signals = {
            "template": True,
            "device": on_device >= DEVICE_MIN,
            "network": len(together) >= TEMPLATE_MIN,
            "rhythm": a.id in rhythm,
        }
        if not (signals["device"] or signals["network"] or signals["rhythm"]):
            continue
        parts = [f"资料与另外 {len(mates) - 1} 个账号几乎相同（模板资料）"]
        if signals["device"]:
            parts.append(f"同一设备注册了 {on_device} 个账号")
        if signals["network"]:
            parts.append(f"其中 {len(together)} 个在 {TOGETHER_DAYS} 天内从同一设备或网络注册")
        if signals["rhythm"]:
            parts.append(rhythm_how[a.id])
        parts.append(
            "注册后没有任何实际使用" if a.activity == 0 else "注册后只有 1 次操作，没有实际使用"
        )
        count = sum(signals.values())
        confidence = 0.6 + 0.1 * (count - 2) + min(0.2, 0.02 * len(mates))
        if a.activity == 0:
            confidence += 0.05
        related = sorted(
            {
                b.id
                for b in (
                    device_groups.get(device.get(a.id, ""), [])
                    + network_groups.get(network.get(a.id, ""), [])
                )
                if b.id != a.id
            }
        )
        out.append(
            Finding(
                kind=Kind.QUOTA_ACCOUNT,
                subject_type=Subject.ACCOUNT,
                subject_id=a.id,
                centre_id=a.centre_id,
                day=beijing_day(a.created_at),
                confidence=round(min(confidence, 0.99), 2),
                reason="疑似凑数账号：" + "；".join(parts),
                evidence={
                    "signals": sorted(k for k, v in signals.items() if v),
                    "device_accounts": on_device,
                    "network_accounts": on_network,
                    "template_accounts": len(mates),
                    "accounts": related[:50],
                },
            )
        )
    return out
