"""DUPLICATE_DEMAND: template and near-duplicate demands (模板或重复需求).

The automatic review of a demand (`kejiyun/demands/review.py`) compares it, when it is
submitted, with the same organisation's demands and with recent demands of its category in
its city. This detector looks wider, over the window's demands and the 365 days before them,
with the review's own measure (character 3-gram containment of title and description at
least `review.DUPLICATE_THRESHOLD`, "near-identical" below):

- **Template families** — demands linked in a chain of near-identical texts (one template
  with a few words changed) of which at least FAMILY_MIN were submitted for one centre within
  FAMILY_DAYS: scripts mass-publish one template to fill one centre's figures. Every such
  member is flagged, the first one too.
- **Repeats** — a demand near-identical to an earlier one of the same organisation or of an
  organisation that shares people with it (a member's mobile or ID number), even months
  earlier. The earlier demand is left alone.
- **Boilerplate** — a demand whose text is mostly generic phrases, echoed prompts or
  repeated runs (`review.boilerplate_share` at least `review.BOILERPLATE_THRESHOLD`).

What it leaves alone: one organisation's different demands that share its vocabulary, two
firms of one trade asking similar but different things (their containment stays well below
the threshold, since each says what its own product and process are), and a common kind of
request (a training on one crop, say) that unrelated firms across the province word alike
over the year: near-identical texts of unrelated organisations count only when they pile up
on one centre within a few weeks.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from kejiyun.demands.review import (
    BOILERPLATE_THRESHOLD,
    DUPLICATE_THRESHOLD,
    DemandText,
    boilerplate_share,
    comparable_text,
    shingles,
)
from kejiyun.integrity.detectors._similar import Groups, beijing_day, similar_pairs
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import DemandRow, Finding, Snapshot

FAMILY_MIN = 3
FAMILY_DAYS = 30
# Repeats more than this many days apart say so in the reason.
SHOW_GAP_DAYS = 30


def _linked_organisations(snapshot: Snapshot) -> dict[int, set[int]]:
    """{organisation: the other organisations that share a person key with it}."""
    by_key: dict[str, set[int]] = defaultdict(set)
    for org in snapshot.organisations:
        for key in org.person_keys:
            by_key[key].add(org.id)
    out: dict[int, set[int]] = defaultdict(set)
    for orgs in by_key.values():
        if 1 < len(orgs) <= 50:  # a key shared by dozens of firms is an agent, not owners
            for org in orgs:
                out[org] |= orgs - {org}
    return out


def _order(d: DemandRow) -> tuple[object, int]:
    return (d.submitted_at, d.id)


def detect(snapshot: Snapshot) -> list[Finding]:
    demands = {d.id: d for d in snapshot.demands}
    texts = {d.id: shingles(comparable_text(d.title, d.description)) for d in snapshot.demands}
    pairs = similar_pairs(texts, DUPLICATE_THRESHOLD)
    neighbours: dict[int, dict[int, float]] = defaultdict(dict)
    groups = Groups()
    for (a, b), score in pairs.items():
        neighbours[a][b] = score
        neighbours[b][a] = score
        groups.join(a, b)
    families = {
        member: members for members in groups.members(demands).values() for member in members
    }
    linked = _linked_organisations(snapshot)

    out: list[Finding] = []
    for d in snapshot.demands:
        if not snapshot.start <= d.submitted_at < snapshot.end:
            continue
        found = _family(d, families, demands, neighbours) or _repeat(d, demands, neighbours, linked)
        if found is None:
            found = _boilerplate(d)
        if found is not None:
            confidence, reason, evidence = found
            out.append(
                Finding(
                    kind=Kind.DUPLICATE_DEMAND,
                    subject_type=Subject.DEMAND,
                    subject_id=d.id,
                    centre_id=d.centre_id,
                    day=beijing_day(d.submitted_at),
                    confidence=round(confidence, 2),
                    reason=reason,
                    evidence=evidence,
                )
            )
    return out


Found = tuple[float, str, dict[str, object]]


def _closest(d: DemandRow, neighbours: dict[int, dict[int, float]]) -> tuple[int, float]:
    return max(neighbours[d.id].items(), key=lambda kv: (kv[1], -kv[0]))


def _family(
    d: DemandRow,
    families: dict[int, list[int]],
    demands: dict[int, DemandRow],
    neighbours: dict[int, dict[int, float]],
) -> Found | None:
    if not neighbours.get(d.id):
        return None
    family = families[d.id]
    if len(family) < FAMILY_MIN:
        return None
    span = timedelta(days=FAMILY_DAYS)
    # The members submitted for the same centre within FAMILY_DAYS either side of this one.
    close = [
        m
        for m in family
        if demands[m].centre_id == d.centre_id
        and abs(demands[m].submitted_at - d.submitted_at) <= span
    ]
    if len(close) < FAMILY_MIN:
        return None
    organisations = {demands[m].organisation_id for m in close}
    other, score = _closest(d, neighbours)
    confidence = min(0.99, 0.75 + 0.04 * (len(close) - FAMILY_MIN) + 0.5 * (score - 0.75))
    reason = (
        f"与另外 {len(close) - 1} 条需求同出一个模板（{FAMILY_DAYS} 天内在同一服务中心提交，"
        f"来自 {len(organisations)} 家单位），与需求 #{other} 相似度 {score:.2f}"
    )
    return (
        confidence,
        reason,
        {
            "demands": [m for m in close if m != d.id][:50],
            "family_size": len(close),
            "organisations": len(organisations),
            "closest": other,
            "similarity": round(score, 3),
        },
    )


def _repeat(
    d: DemandRow,
    demands: dict[int, DemandRow],
    neighbours: dict[int, dict[int, float]],
    linked: dict[int, set[int]],
) -> Found | None:
    mine = {d.organisation_id} | linked.get(d.organisation_id, set())
    earlier = [
        (other, score)
        for other, score in neighbours.get(d.id, {}).items()
        if _order(demands[other]) < _order(d) and demands[other].organisation_id in mine
    ]
    if not earlier:
        return None
    other, score = max(earlier, key=lambda kv: (kv[1], -kv[0]))
    original = demands[other]
    gap = (d.submitted_at - original.submitted_at).days
    when = f"（相隔 {gap} 天）" if gap > SHOW_GAP_DAYS else ""
    if original.organisation_id == d.organisation_id:
        who, confidence = "本单位此前的需求", 0.8
    else:
        who, confidence = "同一批人名下另一单位的需求", 0.85
    confidence += 0.5 * (score - DUPLICATE_THRESHOLD)
    reason = f"与{who} #{other} 相似度 {score:.2f}{when}"
    return (
        min(confidence, 0.99),
        reason,
        {"demands": [other], "closest": other, "similarity": round(score, 3), "days_apart": gap},
    )


def _boilerplate(d: DemandRow) -> Found | None:
    share = boilerplate_share(
        DemandText(d.title, d.description, d.problem, d.current_state, d.target_indicators)
    )
    if share < BOILERPLATE_THRESHOLD:
        return None
    confidence = min(0.9, 0.5 + (share - BOILERPLATE_THRESHOLD))
    return (
        confidence,
        f"套话比例 {round(share * 100)}%：需求内容大多是通用套话、照抄的填写提示或重复的文字",
        {"boilerplate_share": round(share, 3)},
    )
