"""Hollow closures (空壳结案): cases closed on paper without the work behind them.

Four signals, each with a weight; a case's confidence is 1 - Π(1 - weight) over the signals it
shows, and it is flagged at FLAG_AT or above. No single weak signal reaches FLAG_AT: a quick
fix alone, or a terse closing note alone, is not a flag.

- fast: closed as solved within FAST_DAYS of opening and in at most FAST_SHARE of the peer
  median (the median time to a solved closure of the same centre, or of all centres when the
  centre has fewer than PEER_MIN of them);
- boilerplate closing text: the closing narrative (outcome reason, visit outcomes, closing
  note) is mostly generic phrases, prompt echoes or repeated text (the demand review's
  `coverage`), has almost nothing specific, or is the same text as the owner's closings of
  other cases (3-gram shingles, the demand review's `containment`);
- reused evidence: the same evidence file (SHA-256) on several cases anywhere, or the same
  contract number (NFKC, upper case, no spaces or dashes) on several cases of one centre
  (firms number their own contracts, so two far-apart firms may share a number by chance);
  every case of the group is flagged, the earliest (the likelier original) with a lower
  confidence, and a group of one enterprise's cases only with another signal;
- rating from the owner's own place: the enterprise's rating was given from a device the
  owning staff member acts from (strong), or from their network (a rating given at the centre
  during a visit is honest, so a network flags only with another signal).
"""

from __future__ import annotations

import statistics
import unicodedata
from collections import defaultdict
from datetime import datetime, timedelta

from kejiyun.demands.review import containment, coverage, normalise, shingles
from kejiyun.integrity.detectors._common import UnionFind, case_day, combine
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import CaseRow, Finding, FootprintRow, Snapshot

FLAG_AT = 0.5

FAST_DAYS = 3.0
FAST_SHARE = 0.2
PEER_MIN = 20
W_FAST = 0.3

BOILERPLATE_SHARE = 0.5  # share of the text that is generic, echoed or repeated
THIN_CHARS = 12  # fewer specific characters than this is no narrative at all
SAME_TEXT = 0.8  # shingle containment that makes two closings the same text
W_BOILERPLATE = 0.3
W_COPIED = 0.15  # plus W_COPIED_STEP per copy, up to COPIES_MAX copies
W_COPIED_STEP = 0.05
COPIES_MAX = 5
W_BOILERPLATE_MAX = 0.45

W_REUSED = 0.65
W_REUSED_FIRST = 0.5
W_REUSED_SAME_ORG = 0.45  # all cases of one enterprise: one contract may cover two demands
W_REUSED_STEP = 0.05  # per case beyond two in the group

RATE_MATCH = timedelta(minutes=10)  # a rate footprint belongs to the rating made this near
W_OWN_DEVICE = 0.75
W_OWN_NETWORK = 0.4
W_SHARED_NETWORK = 0.3
SHARED_NETWORK_ACCOUNTS = 30  # a network this many accounts use is a carrier's or a campus's


def contract_key(number: str) -> str:
    """A contract number as compared: NFKC, upper case, without spaces, dashes and similar
    separators (full-width ones fold to ASCII first)."""
    folded = unicodedata.normalize("NFKC", number or "").upper()
    return "".join(ch for ch in folded if ch.isalnum())


def _days(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 86400


def _in_window(case: CaseRow, snapshot: Snapshot) -> bool:
    moment = case.closed_at or case.rated_at
    return moment is not None and snapshot.start <= moment < snapshot.end


def _fast(cases: list[CaseRow]) -> dict[int, tuple[float, float]]:
    """{case id: (days to closure, peer median days)} for the fast solved closures."""
    solved = [c for c in cases if c.outcome == "solved" and c.closed_at is not None]
    durations = {c.id: _days(c.opened_at, c.closed_at) for c in solved}  # type: ignore[arg-type]
    by_centre: dict[int | None, list[float]] = defaultdict(list)
    for c in solved:
        by_centre[c.centre_id].append(durations[c.id])
    if not durations:
        return {}
    overall = statistics.median(durations.values())
    out: dict[int, tuple[float, float]] = {}
    for c in solved:
        peers = by_centre[c.centre_id]
        median = statistics.median(peers) if len(peers) >= PEER_MIN else overall
        days = durations[c.id]
        if days < FAST_DAYS and days <= FAST_SHARE * median:
            out[c.id] = (days, median)
    return out


def _boilerplate(cases: list[CaseRow]) -> dict[int, tuple[float, list[int], str]]:
    """{case id: (weight, ids of some other cases with the same closing text, what is
    wrong)}."""
    out: dict[int, tuple[float, list[int], str]] = {}
    closed = [c for c in cases if c.closed_at is not None]
    sets = {c.id: shingles(c.closing_text) for c in closed}
    norms = {c.id: normalise(c.closing_text) for c in closed}
    # The same text: exactly (short texts too) anywhere, or near-identical among one owner's.
    by_text: dict[str, list[int]] = defaultdict(list)
    for c in closed:
        if norms[c.id]:
            by_text[norms[c.id]].append(c.id)
    near: dict[int, set[int]] = defaultdict(set)
    by_owner: dict[int | None, list[CaseRow]] = defaultdict(list)
    for c in closed:
        by_owner[c.owner_id].append(c)
    for owned in by_owner.values():
        for i, a in enumerate(owned):
            for b in owned[i + 1 :]:
                if norms[a.id] != norms[b.id] and containment(sets[a.id], sets[b.id]) >= SAME_TEXT:
                    near[a.id].add(b.id)
                    near[b.id].add(a.id)
    for c in closed:
        cov = coverage(c.closing_text)
        exact = by_text.get(norms[c.id], []) if norms[c.id] else []
        count = len(exact) - 1 + len(near[c.id]) if exact else len(near[c.id])
        others = sorted([i for i in exact[:21] if i != c.id] + sorted(near[c.id])[:20])[:20]
        what = ""
        weight = 0.0
        if cov.length and cov.covered / cov.length >= BOILERPLATE_SHARE:
            what, weight = "结案说明多为套话", W_BOILERPLATE
        elif cov.specific < THIN_CHARS:
            what, weight = "结案说明几乎没有具体内容", W_BOILERPLATE
        if count:
            # Copied closings: more copies, more weight, never enough alone.
            copied = W_COPIED + W_COPIED_STEP * min(count, COPIES_MAX)
            weight = max(weight, copied) + (W_COPIED_STEP if weight else 0.0)
            what = f"结案说明与另外 {count} 件案例雷同" + (f"，{what}" if what else "")
        if weight:
            out[c.id] = (min(weight, W_BOILERPLATE_MAX), others, what)
    return out


def _reused(cases: list[CaseRow]) -> dict[int, tuple[float, list[int]]]:
    """{case id: (weight, the other cases of its group)} for evidence on several cases."""
    groups = UnionFind()
    keyed: dict[tuple[object, ...], int] = {}
    members: set[int] = set()
    for c in cases:
        keys: list[tuple[object, ...]] = []
        if c.evidence_sha256:  # the same bytes: never a coincidence, wherever they are
            keys.append(("sha", c.evidence_sha256))
        if contract_key(c.contract_number):
            # Firms number their own contracts, so two firms far apart may well both have an
            # "HT2026-00123"; one centre's cases under one number are another matter.
            keys.append(("contract", c.centre_id, contract_key(c.contract_number)))
        for key in keys:
            if key in keyed:
                groups.union(keyed[key], c.id)
                members.update((keyed[key], c.id))
            else:
                keyed[key] = c.id
    by_root: dict[object, list[CaseRow]] = defaultdict(list)
    for c in cases:
        if c.id in members:
            by_root[groups.find(c.id)].append(c)
    out: dict[int, tuple[float, list[int]]] = {}
    for group in by_root.values():
        ordered = sorted(group, key=lambda c: (c.closed_at or c.opened_at, c.id))
        extra = W_REUSED_STEP * min(len(group) - 2, 4)
        one_org = len({c.organisation_id for c in group}) == 1
        for i, c in enumerate(ordered):
            if one_org:
                weight = W_REUSED_SAME_ORG
            else:
                weight = (W_REUSED_FIRST if i == 0 else W_REUSED) + extra
            out[c.id] = (weight, [o.id for o in ordered if o.id != c.id])
    return out


def rate_footprint(case: CaseRow, by_account: dict[int, list[FootprintRow]]) -> FootprintRow | None:
    """The rate footprint of a case's rating: the rater's nearest one within RATE_MATCH."""
    if case.rated_by_id is None or case.rated_at is None:
        return None
    rated_at = case.rated_at
    best: FootprintRow | None = None
    for fp in by_account.get(case.rated_by_id, ()):
        gap = abs(fp.at - rated_at)
        if gap <= RATE_MATCH and (best is None or gap < abs(best.at - rated_at)):
            best = fp
    return best


def _own_place(
    cases: list[CaseRow], footprints: list[FootprintRow]
) -> dict[int, tuple[float, str]]:
    """{case id: (weight, which)} for ratings made where the owner logs in."""
    rates: dict[int, list[FootprintRow]] = defaultdict(list)
    logins_net: dict[int, set[str]] = defaultdict(set)  # account: networks it acts from
    logins_dev: dict[int, set[str]] = defaultdict(set)
    net_accounts: dict[str, set[int]] = defaultdict(set)
    for fp in footprints:
        if fp.network:
            net_accounts[fp.network].add(fp.account_id)
        if fp.kind == "rate":
            rates[fp.account_id].append(fp)
        else:  # where the account itself works from: its logins (and registration)
            if fp.network:
                logins_net[fp.account_id].add(fp.network)
            if fp.device:
                logins_dev[fp.account_id].add(fp.device)
    out: dict[int, tuple[float, str]] = {}
    for c in cases:
        if c.owner_id is None or c.rated_by_id == c.owner_id:
            continue
        rated = rate_footprint(c, rates)
        if rated is None:
            continue
        if rated.device and rated.device in logins_dev[c.owner_id]:
            out[c.id] = (W_OWN_DEVICE, "企业评价来自承办人员登录所用的设备")
        elif rated.network and rated.network in logins_net[c.owner_id]:
            shared = len(net_accounts[rated.network]) >= SHARED_NETWORK_ACCOUNTS
            out[c.id] = (
                W_SHARED_NETWORK if shared else W_OWN_NETWORK,
                "企业评价来自承办人员登录所用的网络",
            )
    return out


def detect(snapshot: Snapshot) -> list[Finding]:
    cases = snapshot.cases
    fast = _fast(cases)
    boiler = _boilerplate(cases)
    reused = _reused(cases)
    own = _own_place(cases, snapshot.footprints)
    findings: list[Finding] = []
    for c in cases:
        if c.closed_at is None or not _in_window(c, snapshot):
            continue
        weights: list[float] = []
        reasons: list[str] = []
        evidence: dict[str, object] = {}
        if c.id in fast:
            days, median = fast[c.id]
            weights.append(W_FAST)
            reasons.append(
                f"立案后 {days:.1f} 天即以“已解决”结案（同类案例中位数 {median:.0f} 天）"
            )
            evidence.update(days_to_close=round(days, 2), peer_median_days=round(median, 1))
        if c.id in boiler:
            weight, others, what = boiler[c.id]
            weights.append(weight)
            reasons.append(what)
            if others:
                evidence["same_closing_cases"] = others[:20]
        if c.id in reused:
            weight, others = reused[c.id]
            weights.append(weight)
            reasons.append(f"佐证材料或合同编号与另外 {len(others)} 件案例相同")
            evidence["shared_evidence_cases"] = others[:20]
        if c.id in own:
            weight, what = own[c.id]
            weights.append(weight)
            reasons.append(what)
        confidence = combine(weights)
        if confidence < FLAG_AT:
            continue
        evidence["signals"] = len(weights)
        findings.append(
            Finding(
                kind=Kind.HOLLOW_CLOSURE,
                subject_type=Subject.CASE,
                subject_id=c.id,
                centre_id=c.centre_id,
                day=case_day(c),
                confidence=confidence,
                reason="；".join(reasons) + "。",
                evidence=evidence,
            )
        )
    return findings
