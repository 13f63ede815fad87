"""Helpers the detectors share: Beijing days, near-duplicate texts found through an inverted
index of shingles (so a province's year of texts is compared without every pair), and groups
of linked records (union-find). Pure functions, no database."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from kejiyun.common.workdays import BEIJING
from kejiyun.demands.review import containment

# Shingles held by more than this many texts say nothing about copying (every demand of a
# trade says "生产线"); they are left out of the candidate search, not of the comparison.
COMMON_SHINGLE_TEXTS = 400
# A pair is compared in full only when the rarer shingles alone already cover this share of
# the smaller text.
CANDIDATE_SHARE = 0.3


def beijing_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def similar_pairs(
    texts: Mapping[int, frozenset[str]], threshold: float
) -> dict[tuple[int, int], float]:
    """{(a, b): containment} for every pair a < b whose shingle containment is at least
    `threshold` (`kejiyun.demands.review.containment`: 0 when either text is too short)."""
    postings: dict[str, list[int]] = defaultdict(list)
    for key, sh in texts.items():
        for s in sh:
            postings[s].append(key)
    out: dict[tuple[int, int], float] = {}
    for key, sh in texts.items():
        if not sh:
            continue
        shared: Counter[int] = Counter()
        for s in sh:
            holders = postings[s]
            if len(holders) > COMMON_SHINGLE_TEXTS:
                continue
            for other in holders:
                if other > key:
                    shared[other] += 1
        for other, n in shared.items():
            smaller = min(len(sh), len(texts[other]))
            if smaller == 0 or n < CANDIDATE_SHARE * smaller:
                continue
            score = containment(sh, texts[other])
            if score >= threshold:
                out[(key, other)] = score
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
