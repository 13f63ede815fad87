"""Helpers the detectors share: Beijing days, near-duplicate texts found through an inverted
index of shingles (so a province's year of texts is compared without every pair), and groups
of linked records (union-find). Pure functions, no database."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from kejiyun.common.workdays import BEIJING
from kejiyun.demands.review import containment

# Candidates are found through each text's rarest shared shingles: the RAREST shingles of the
# text held by at least one other text (fewest holders first). Two near-identical texts share
# almost all of them, whatever the size of their family; two texts that merely share a trade's
# vocabulary share few. A pair is compared in full only when it shares at least half of them
# (and at least CANDIDATE_SHARED).
RAREST = 48
CANDIDATE_SHARED = 3
CANDIDATE_SHARE = 0.5
# A shingle held by more texts than this is no help in finding a text's near-duplicates.
MAX_HOLDERS = 1000


def beijing_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def similar_pairs(
    texts: Mapping[int, frozenset[str]], threshold: float, *, rarest: int = RAREST
) -> dict[tuple[int, int], float]:
    """{(a, b): containment} for the pairs a < b whose shingle containment is at least
    `threshold` (`kejiyun.demands.review.containment`: 0 when either text is too short).

    Not every pair is compared: a pair is a candidate when it shares at least
    CANDIDATE_SHARED and half of either text's `rarest` shared shingles, which near-identical texts
    always do (they share nearly every shingle, so also the rare ones)."""
    postings: dict[str, list[int]] = defaultdict(list)
    for key, sh in texts.items():
        for s in sh:
            postings[s].append(key)
    out: dict[tuple[int, int], float] = {}
    seen: set[tuple[int, int]] = set()
    for key, sh in texts.items():
        shared_shingles = [s for s in sh if 1 < len(postings[s]) <= MAX_HOLDERS]
        if not shared_shingles:
            continue
        shared_shingles.sort(key=lambda s: (len(postings[s]), s))
        selected = shared_shingles[:rarest]
        needed = max(CANDIDATE_SHARED, CANDIDATE_SHARE * len(selected))
        shared: Counter[int] = Counter()
        for s in selected:
            for other in postings[s]:
                if other != key:
                    shared[other] += 1
        for other, n in shared.items():
            if n < needed:
                continue
            pair = (key, other) if key < other else (other, key)
            if pair in seen:
                continue
            seen.add(pair)
            score = containment(sh, texts[other])
            if score >= threshold:
                out[pair] = score
    return out


class Groups:
    """Union-find over integer keys."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, key: int) -> int:
        self.parent.setdefault(key, key)
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def members(self, keys: Iterable[int]) -> dict[int, list[int]]:
        """{root: sorted members} of the given keys."""
        out: dict[int, list[int]] = defaultdict(list)
        for key in sorted(keys):
            out[self.find(key)].append(key)
        return dict(out)
