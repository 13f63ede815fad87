"""DUPLICATE_DEMAND: template and near-duplicate demands (模板或重复需求).

The automatic review of a demand (`kejiyun/demands/review.py`) compares it, when it is
submitted, with the same organisation's demands and with recent demands of its category in
its city. This detector looks wider, over the window's demands and the 365 days before them.
It compares whole demands — title, description and the three guided parts — by the review's
measure (character 3-gram containment): a firm repeats its own introduction in every demand's
description, so title and description alone make a firm's different demands look alike,
while the guided parts (the problem, the current state, the targets) are what make a demand
its own.

Two demands are *near-identical* at containment SAME_PEOPLE_THRESHOLD when they come from one
organisation or from organisations that share a person (a member's mobile or ID number), and
at `review.DUPLICATE_THRESHOLD` otherwise. Chains of near-identical demands form *families*.

- **Template families of one group of people** — at least FAMILY_MIN members of a family come
  from the demand's own organisation and the organisations sharing people with it: one person
  posting one template through several firms, over any stretch of time. Every such member
  is flagged, the first one too.
- **Template families piled on one centre** — at least FAMILY_MIN members, whoever posted
  them, submitted for the demand's centre within FAMILY_DAYS of it: scripts filling one
  centre's figures.
- **Repeats** — a demand near-identical to an earlier one of the same organisation or of an
  organisation sharing people with it. The earlier demand is left alone.
- **Boilerplate** — a demand whose text is mostly generic phrases, echoed prompts or repeated
  runs (`review.boilerplate_share` at least `review.BOILERPLATE_THRESHOLD`).

What it leaves alone: one organisation's different demands that share its vocabulary and
introduction, a follow-up that quotes an earlier title, two firms of one trade asking similar
but different things, and a common kind of request that unrelated firms across the province
word alike over the year (near-identical texts of unrelated organisations count only when
they pile up on one centre within a few weeks).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from kejiyun.demands.review import (
    BOILERPLATE_THRESHOLD,
    DUPLICATE_THRESHOLD,
    DemandText,
    boilerplate_share,
    shingles,
)
from kejiyun.integrity.detectors._similar import Groups, beijing_day, similar_pairs
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import DemandRow, Finding, Snapshot

SAME_PEOPLE_THRESHOLD = 0.55
FAMILY_MIN = 3
FAMILY_DAYS = 30
# Repeats more than this many days apart say so in the reason.
SHOW_GAP_DAYS = 30
# A person key shared by more organisations than this is an agent or a shared office phone,
# not the people behind the firms.
MAX_ORGANISATIONS_PER_KEY = 20

Found = tuple[float, str, dict[str, object]]


def whole_text(d: DemandRow) -> str:
    return "\n".join((d.title, d.description, d.problem, d.current_state, d.target_indicators))


def _linked_organisations(snapshot: Snapshot) -> dict[int, set[int]]:
    """{organisation: the other organisations that share a person key with it}."""
    by_key: dict[str, set[int]] = defaultdict(set)
    for row in snapshot.organisations:
        for key in row.person_keys:
            by_key[key].add(row.id)
    out: dict[int, set[int]] = defaultdict(set)
    for orgs in by_key.values():
        if 1 < len(orgs) <= MAX_ORGANISATIONS_PER_KEY:
            for org in orgs:
                out[org] |= orgs - {org}
    return out


class _Index:
    """The window's demands, their near-identical neighbours and families."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.demands = {d.id: d for d in snapshot.demands}
        self.linked = _linked_organisations(snapshot)
        texts = {d.id: shingles(whole_text(d)) for d in snapshot.demands}
        self.neighbours: dict[int, dict[int, float]] = defaultdict(dict)
        groups = Groups()
        for (a, b), score in similar_pairs(texts, SAME_PEOPLE_THRESHOLD).items():
            if score < DUPLICATE_THRESHOLD and not self.same_people(a, b):
                continue
            self.neighbours[a][b] = score
            self.neighbours[b][a] = score
            groups.join(a, b)
        self.family = {
            member: members
            for members in groups.members(self.demands).values()
            for member in members
        }

    def people(self, d: DemandRow) -> set[int]:
        return {d.organisation_id} | self.linked.get(d.organisation_id, set())

    def same_people(self, a: int, b: int) -> bool:
        return self.demands[b].organisation_id in self.people(self.demands[a])

    def closest(self, d: DemandRow, among: list[int] | None = None) -> tuple[int, float]:
        options = {
            k: v for k, v in self.neighbours[d.id].items() if among is None or k in among
        } or self.neighbours[d.id]
        return max(options.items(), key=lambda kv: (kv[1], -kv[0]))


def detect(snapshot: Snapshot) -> list[Finding]:
    index = _Index(snapshot)
    out: list[Finding] = []
    for d in snapshot.demands:
        if not snapshot.start <= d.submitted_at < snapshot.end:
            continue
        families = [f for f in (_family_of_people(d, index), _family_on_centre(d, index)) if f]
        found = (
            max(families, key=lambda f: f[1])[0]
            if families
            else _repeat(d, index) or _boilerplate(d)
        )
        if found is not None:
            confidence, reason, evidence = found
            out.append(
                Finding(
                    kind=Kind.DUPLICATE_DEMAND,
                    subject_type=Subject.DEMAND,
                    subject_id=d.id,
                    centre_id=d.centre_id,
                    day=beijing_day(d.submitted_at),
                    confidence=round(min(confidence, 0.99), 2),
                    reason=reason,
                    evidence=evidence,
                )
            )
    return out


def _evidence(
    d: DemandRow, members: list[int], index: _Index
) -> tuple[dict[str, object], int, int, float]:
    """The evidence of a family, and its number of firms, closest member and similarity."""
    other, score = index.closest(d, members)
    firms = len({index.demands[m].organisation_id for m in members})
    evidence: dict[str, object] = {
        "demands": [m for m in members if m != d.id][:50],
        "family_size": len(members),
        "organisations": firms,
        "closest": other,
        "similarity": round(score, 3),
    }
    return evidence, firms, other, score


def _family_of_people(d: DemandRow, index: _Index) -> tuple[Found, int] | None:
    if not index.neighbours.get(d.id):
        return None
    people = index.people(d)
    members = [m for m in index.family[d.id] if index.demands[m].organisation_id in people]
    if len(members) < FAMILY_MIN:
        return None
    evidence, firms, other, score = _evidence(d, members, index)
    who = "同一单位" if firms == 1 else f"同一批人名下的 {firms} 家单位"
    reason = (
        f"与{who}的另外 {len(members) - 1} 条需求同出一个模板，与需求 #{other} 相似度 {score:.2f}"
    )
    confidence = 0.8 + 0.03 * (len(members) - FAMILY_MIN) + (0.05 if firms > 1 else 0.0)
    return (confidence, reason, evidence), len(members)


def _family_on_centre(d: DemandRow, index: _Index) -> tuple[Found, int] | None:
    if not index.neighbours.get(d.id):
        return None
    span = timedelta(days=FAMILY_DAYS)
    members = [
        m
        for m in index.family[d.id]
        if index.demands[m].centre_id == d.centre_id
        and abs(index.demands[m].submitted_at - d.submitted_at) <= span
    ]
    if len(members) < FAMILY_MIN:
        return None
    evidence, firms, other, score = _evidence(d, members, index)
    reason = (
        f"与另外 {len(members) - 1} 条需求同出一个模板（{FAMILY_DAYS} 天内在同一服务中心提交，"
        f"来自 {firms} 家单位），与需求 #{other} 相似度 {score:.2f}"
    )
    return (0.75 + 0.04 * (len(members) - FAMILY_MIN), reason, evidence), len(members)


def _repeat(d: DemandRow, index: _Index) -> Found | None:
    people = index.people(d)
    earlier = [
        (other, score)
        for other, score in index.neighbours.get(d.id, {}).items()
        if (index.demands[other].submitted_at, other) < (d.submitted_at, d.id)
        and index.demands[other].organisation_id in people
    ]
    if not earlier:
        return None
    other, score = max(earlier, key=lambda kv: (kv[1], -kv[0]))
    original = index.demands[other]
    gap = (d.submitted_at - original.submitted_at).days
    when = f"（相隔 {gap} 天）" if gap > SHOW_GAP_DAYS else ""
    if original.organisation_id == d.organisation_id:
        who, confidence = "本单位此前的需求", 0.75
    else:
        who, confidence = "同一批人名下另一单位的需求", 0.8
    confidence += 0.5 * (score - SAME_PEOPLE_THRESHOLD)
    return (
        confidence,
        f"与{who} #{other} 相似度 {score:.2f}{when}",
        {"demands": [other], "closest": other, "similarity": round(score, 3), "days_apart": gap},
    )


def _boilerplate(d: DemandRow) -> Found | None:
    share = boilerplate_share(
        DemandText(d.title, d.description, d.problem, d.current_state, d.target_indicators)
    )
    if share < BOILERPLATE_THRESHOLD:
        return None
    return (
        0.5 + (share - BOILERPLATE_THRESHOLD),
        f"套话比例 {round(share * 100)}%：需求内容大多是通用套话、照抄的填写提示或重复的文字",
        {"boilerplate_share": round(share, 3)},
    )
