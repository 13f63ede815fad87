"""Rating rings (互评刷分): accounts that give each other's cases top marks. One finding per
top-rated case in a ring.

Two patterns, over a graph of parties (plain Python):

- Reciprocal ratings. A party is an enterprise (organisation) or, for an expert, the
  organisation they belong to (their account is a member, or they share a person key with its
  people), else the expert alone. Each case rated TOP by its enterprise adds an edge from the
  enterprise to the party of each of its experts. A strongly connected set of two or more
  parties (A rates B's experts, B rates A's, or A→B→C→A) is a ring; every top-rated case on an
  edge inside it is flagged. Confidence grows with the cases and parties in the ring.
- Ratings from one place. Top ratings matched to their rate footprints are joined
  (union-find) when they come, within DEVICE_WINDOW / NETWORK_WINDOW of each other, from one
  device, or from one network that is none of the raters' own and that few accounts use. A
  cluster is flagged when a device joins DEVICE_MIN_ORGS enterprises or a network
  RING_MIN_ORGS; a device is stronger evidence than a network. A ring's rater giving top
  marks from the ring's place at another time stays in the ring. Places the owning staff
  member acts from are left to the hollow-closure detector.

Left alone: many top ratings of one popular expert from unrelated enterprises on their own
networks (edges all point one way: no cycle; no shared place).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from itertools import pairwise

from kejiyun.integrity.detectors._common import UnionFind, case_day, combine
from kejiyun.integrity.detectors.hollow import SHARED_NETWORK_ACCOUNTS, rate_footprint
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import CaseRow, Finding, FootprintRow, Snapshot

TOP = 5
FLAG_AT = 0.5

W_RING = 0.5
W_RING_STEP = 0.05  # per case and per party beyond the smallest ring (two of each)
W_RING_MAX = 0.9

RING_MIN_ORGS = 3  # enterprises behind a cluster joined by a network
DEVICE_MIN_ORGS = 2  # one browser rating for two firms is already one hand for two
DEVICE_WINDOW = timedelta(days=90)
NETWORK_WINDOW = timedelta(days=90)
W_DEVICE_CLUSTER = 0.65
W_NETWORK_CLUSTER = 0.5
W_CLUSTER_STEP = 0.05


def _parties(snapshot: Snapshot) -> dict[int, str]:
    """{expert account: party}: their organisation, one whose people they share a key with,
    else themselves."""
    by_key: dict[str, int] = {}
    for org in sorted(snapshot.organisations, key=lambda o: o.id):
        for key in org.person_keys:
            by_key.setdefault(key, org.id)
    out: dict[int, str] = {}
    for e in snapshot.experts:
        if e.organisation_id is not None:
            out[e.account_id] = f"org:{e.organisation_id}"
            continue
        shared = sorted(by_key[k] for k in e.person_keys if k in by_key)
        out[e.account_id] = f"org:{shared[0]}" if shared else f"expert:{e.account_id}"
    return out


def _components(edges: dict[str, set[str]]) -> dict[str, int]:
    """{node: id of its strongly connected component} (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comp: dict[str, int] = {}
    counter = 0
    nodes = sorted(set(edges) | {n for targets in edges.values() for n in targets})
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(edges.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(edges.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp[member] = index[node]
                    if member == node:
                        break
    return comp


def _reciprocal(top: list[CaseRow], parties: dict[int, str]) -> dict[int, tuple[float, list[int]]]:
    edges: dict[str, set[str]] = defaultdict(set)
    case_edges: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for c in top:
        rater = f"org:{c.organisation_id}"
        for expert_id in c.expert_ids:
            server = parties.get(expert_id, f"expert:{expert_id}")
            if server != rater:  # one party serving itself is self-dealing, not a ring
                edges[rater].add(server)
                case_edges[c.id].append((rater, server))
    comp = _components(edges)
    size: dict[int, int] = defaultdict(int)
    for cid in comp.values():
        size[cid] += 1
    ring_cases: dict[int, list[int]] = defaultdict(list)
    for case_id, pairs in case_edges.items():
        for rater, server in pairs:
            if comp[rater] == comp[server] and size[comp[rater]] >= 2:
                ring_cases[comp[rater]].append(case_id)
                break
    out: dict[int, tuple[float, list[int]]] = {}
    for cid, ids in ring_cases.items():
        extra = W_RING_STEP * ((len(ids) - 2) + (size[cid] - 2))
        weight = min(W_RING + max(extra, 0.0), W_RING_MAX)
        for case_id in ids:
            out[case_id] = (weight, sorted(i for i in ids if i != case_id))
    return out


def _gather(
    placed: list[tuple[CaseRow, FootprintRow]], clusters: UnionFind, by_hand: UnionFind
) -> tuple[dict[object, list[CaseRow]], dict[object, set[int]]]:
    """The cases of each cluster, and the enterprises of each device-joined set."""
    members: dict[object, list[CaseRow]] = defaultdict(list)
    hand_orgs: dict[object, set[int]] = defaultdict(set)
    for c, _fp in placed:
        members[clusters.find(c.id)].append(c)
        hand_orgs[by_hand.find(c.id)].add(c.organisation_id)
    return members, hand_orgs


def _same_place(
    top: list[CaseRow], footprints: list[FootprintRow]
) -> dict[int, tuple[float, list[int], str]]:
    rates: dict[int, list[FootprintRow]] = defaultdict(list)
    net_accounts: dict[str, set[int]] = defaultdict(set)
    own_net: dict[int, set[str]] = defaultdict(set)  # account: networks it acts from
    own_dev: dict[int, set[str]] = defaultdict(set)  # account: devices it acts from
    for fp in footprints:
        if fp.network:
            net_accounts[fp.network].add(fp.account_id)
        if fp.kind == "rate":
            rates[fp.account_id].append(fp)
        else:
            if fp.network:
                own_net[fp.account_id].add(fp.network)
            if fp.device:
                own_dev[fp.account_id].add(fp.device)
    placed: list[tuple[CaseRow, FootprintRow]] = []
    for c in top:
        rated = rate_footprint(c, rates)
        if rated is not None:
            placed.append((c, rated))
    clusters = UnionFind()
    by_device: dict[str, list[tuple[CaseRow, FootprintRow]]] = defaultdict(list)
    by_network: dict[str, list[tuple[CaseRow, FootprintRow]]] = defaultdict(list)
    for c, fp in placed:
        clusters.find(c.id)
        # Ratings made where the owning staff member works are the hollow-closure detector's
        # (a member of staff rating for the firms), not a ring's.
        if fp.device and (c.owner_id is None or fp.device not in own_dev[c.owner_id]):
            by_device[fp.device].append((c, fp))
        # A network joins ratings only where it is nobody's in particular: not the rater's own
        # (firms of one building rating from their own office), not a carrier's or a campus's
        # (many accounts), not the owning staff member's.
        if (
            fp.network
            and fp.network not in own_net[fp.account_id]
            and len(net_accounts[fp.network]) < SHARED_NETWORK_ACCOUNTS
            and (c.owner_id is None or fp.network not in own_net[c.owner_id])
        ):
            by_network[fp.network].append((c, fp))
    by_hand = UnionFind()  # joined by a device alone
    for groups, window, hand in (
        (by_device, DEVICE_WINDOW, True),
        (by_network, NETWORK_WINDOW, False),
    ):
        for rows in groups.values():
            rows.sort(key=lambda r: r[1].at)
            for (a, fa), (b, fb) in pairwise(rows):
                if fb.at - fa.at <= window:
                    clusters.union(a.id, b.id)
                    if hand:
                        by_hand.union(a.id, b.id)
    members, hand_orgs = _gather(placed, clusters, by_hand)

    root_orgs = {root: len({c.organisation_id for c in cs}) for root, cs in members.items()}
    ringed = {
        c.id
        for c, _fp in placed
        if len(hand_orgs[by_hand.find(c.id)]) >= DEVICE_MIN_ORGS
        or root_orgs[clusters.find(c.id)] >= RING_MIN_ORGS
    }
    # A rater of a ring, rating top marks from the ring's place again at another time, is
    # still the ring: its ratings there join the ring, however far apart in time.
    for groups, hand in ((by_device, True), (by_network, False)):
        for rows in groups.values():
            ring_of = {a.rated_by_id: a.id for a, _fa in rows if a.id in ringed}
            for b, _fb in rows:
                joined = ring_of.get(b.rated_by_id)
                if joined is not None and b.id not in ringed:
                    clusters.union(joined, b.id)
                    if hand:
                        by_hand.union(joined, b.id)
    members, hand_orgs = _gather(placed, clusters, by_hand)
    out: dict[int, tuple[float, list[int], str]] = {}
    for group in members.values():
        orgs = {c.organisation_id for c in group}
        device = any(len(hand_orgs[by_hand.find(c.id)]) >= DEVICE_MIN_ORGS for c in group)
        least = DEVICE_MIN_ORGS if device else RING_MIN_ORGS
        if len(orgs) < least:
            continue
        base = W_DEVICE_CLUSTER if device else W_NETWORK_CLUSTER
        weight = min(base + W_CLUSTER_STEP * (len(orgs) - least), W_RING_MAX)
        what = (
            f"{len(orgs)} 家企业的满分评价来自同一设备"
            if device
            else f"{len(orgs)} 家企业的满分评价来自同一个并非其自身的网络"
        )
        for c in group:
            out[c.id] = (weight, sorted(o.id for o in group if o.id != c.id), what)
    return out


def detect(snapshot: Snapshot) -> list[Finding]:
    top = [c for c in snapshot.cases if c.rating is not None and c.rating >= TOP]
    reciprocal = _reciprocal(top, _parties(snapshot))
    place = _same_place(top, snapshot.footprints)
    findings: list[Finding] = []
    for c in top:
        moment = c.rated_at or c.closed_at
        if moment is None or not snapshot.start <= moment < snapshot.end:
            continue
        weights: list[float] = []
        reasons: list[str] = []
        evidence: dict[str, object] = {}
        if c.id in reciprocal:
            weight, others = reciprocal[c.id]
            weights.append(weight)
            reasons.append(
                f"企业与服务专家所在单位相互给出满分评价（同一互评圈另有 {len(others)} 件案例）"
            )
            evidence["ring_cases"] = others[:20]
        if c.id in place:
            weight, others, what = place[c.id]
            weights.append(weight)
            reasons.append(what)
            evidence["same_place_cases"] = others[:20]
        confidence = combine(weights)
        if confidence < FLAG_AT:
            continue
        findings.append(
            Finding(
                kind=Kind.RATING_RING,
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
