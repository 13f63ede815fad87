"""The dataclasses that cross the engine's boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ConflictPolicy(StrEnum):
    EXCLUDE = "exclude"
    FLAG = "flag"


@dataclass(frozen=True, slots=True)
class Profile:
    """One thing that can be matched: an expert, team, studio, result or demand.

    `region_path` is the platform's materialised region path, e.g. "510000/510100/510104/".
    `disciplines` and `industries` are classification paths, broad to narrow, e.g.
    "C20/C2003/C200302" or "15/151/1512"; two paths fit as far as their leading parts agree.
    `capacity` is how many open engagements the owner takes; `load` how many are open now.
    """

    id: str
    text: str
    kind: str = "expert"
    region_path: str = ""
    disciplines: tuple[str, ...] = ()
    service_modes: tuple[str, ...] = ()
    organisation: str = ""
    verified: bool = False
    industries: tuple[str, ...] = ()
    capacity: int = 0
    load: int = 0
    closed_cases: int = 0
    mean_rating: float | None = None

    @property
    def available(self) -> bool:
        return self.capacity <= 0 or self.load < self.capacity


@dataclass(frozen=True)
class MatchQuery:
    """What to match against: the text of a need (or of an expert) and its context."""

    text: str
    region_path: str = ""
    disciplines: tuple[str, ...] = ()
    service_modes: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    organisation: str = ""
    related_ids: frozenset[str] = frozenset()
    category: str = ""
    only_verified: bool = False
    only_available: bool = False
    within_region: str = ""
    conflict_policy: ConflictPolicy = ConflictPolicy.EXCLUDE


@dataclass(frozen=True)
class TermWeight:
    term: str
    weight: float


@dataclass(frozen=True)
class Explanation:
    """Why a result ranks where it does. Every part is a number the ranking really used."""

    matched_terms: tuple[TermWeight, ...]
    lexical: float
    semantic: float
    relevance: float
    field_fit: float
    region_tier: str
    region_fit: float
    track_record: float
    availability: float
    feedback: float
    conflict: str = ""
    shared_disciplines: tuple[str, ...] = ()
    # How the text matched: "lexical", "semantic" or "both" (a result found only by meaning
    # has no matched terms to show).
    matched_by: str = "lexical"


@dataclass(frozen=True)
class Result:
    id: str
    rank: int
    score: float
    kind: str
    explanation: Explanation
    # The score as a share of the highest reachable score, 0..1: never rises down a list.
    share: float = 0.0


@dataclass(frozen=True)
class RegionTiers:
    """ "Local first, then the wider region": the tiers and the boost each one earns.

    `groups` names extra tiers between city and province (or beyond it), each a set of
    region-code prefixes; a pair inside the same group gets that tier. The default
    deployment passes the 成渝 (Chengdu–Chongqing) economic circle here.
    """

    county: float = 1.0
    city: float = 0.7
    groups: tuple[tuple[str, float, frozenset[str]], ...] = ()
    province: float = 0.3
    nation: float = 0.0


@dataclass(frozen=True)
class Weights:
    """How the parts combine. Relevance dominates; the rest nudge within it."""

    lexical: float = 0.6
    semantic: float = 0.4
    region: float = 0.15
    field: float = 0.10
    verified: float = 0.03
    availability: float = 0.05
    track_record: float = 0.05
    feedback: float = 0.5
    candidates: int = 200
    # The most that structured fit (everything but relevance) may add to or take from a
    # score: a candidate whose relevance leads by more than this cannot be overtaken.
    structured_cap: float = 0.3

    @property
    def ceiling(self) -> float:
        """The highest score a result can reach (relevance 1 plus the capped fit)."""
        return 1.0 + self.structured_cap


@dataclass(frozen=True)
class Assignment:
    item_id: str
    expert_id: str
    score: float


@dataclass(frozen=True)
class AssignmentProblem:
    """Items (demands, applications) each needing `required[item]` experts."""

    scores: dict[str, dict[str, float]]
    required: dict[str, int]
    capacity: dict[str, int]
    forbidden: frozenset[tuple[str, str]] = frozenset()
    exposure_penalty: float = 0.05
    prior_load: dict[str, int] = field(default_factory=dict)
