"""The personal feed (个性化推荐): one pure ranking function, no database inside.

`rank_feed(context, items)` takes a citizen's context and candidate content, both plain
dataclasses, and returns the content ranked for that citizen. The selector
`kejiyun.popsci.targeting.selectors.feed_for_citizen` loads the candidates and calls it.

Hard rules (an item failing one is never shown)
-----------------------------------------------
1. Only published content (status "published", with a publication time not in the future).
2. Only content for the whole province (region None) or for a region on the citizen's path
   from the province down (a township resident sees the county's and the city's content,
   never a neighbouring county's).
3. Content the citizen has already read is removed.

Score (higher first)
--------------------
    score = W_REGION·R + W_SEASON·S + W_SEGMENT·O + W_INTEREST·I + W_FRESH·F

- R, region specificity: province-wide 0, province 0.25, city 0.5, county 0.75,
  township 1.0 — the closer to home, the higher.
- S, season fit for the current month: in one of the item's season windows 1.0; no
  window (all year) 0.3; has windows but none now −1.0 (kept, but sinks).
- O, occupation/segment fit: the citizen's segments are their occupation plus the
  segment implied by their age band (60+ → elderly; under 18 → student). An item for
  everyone (no segments) 0.3; an item for one of the citizen's segments 1.0; an item only
  for other segments −0.5.
- I, interest fit: 1.0 when the item's topic is one of the citizen's interests, else 0.
- F, freshness: 0.5 ** (age in days / FRESH_HALF_LIFE_DAYS), 1.0 on the day of
  publication, 0.5 after 30 days.

Without targeting consent (精准推送同意) O and I are 0 for every item: the citizen gets
the general feed for their region, ranked only by region, season and freshness.

Weights: W_REGION 1.0, W_SEASON 1.0, W_SEGMENT 1.5, W_INTEREST 1.0, W_FRESH 1.0.
Ties go to the more recently published item, then the higher id.

Diversity
---------
Greedy re-ranking, like maximal marginal relevance: at each step pick the remaining item
with the highest `score − DIVERSITY_PENALTY × (items of its topic already picked)`. While
the top MAX_TOPIC_WINDOW (10) is being filled, an item whose topic already appears
MAX_PER_TOPIC (2) times there is skipped as long as any other topic is still available —
so no topic appears more than twice in the top 10 unless nothing else is left to show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "DIVERSITY_PENALTY",
    "FRESH_HALF_LIFE_DAYS",
    "MAX_PER_TOPIC",
    "MAX_TOPIC_WINDOW",
    "FeedContext",
    "FeedItem",
    "RankedItem",
    "Score",
    "rank_feed",
    "score_item",
]

W_REGION = 1.0
W_SEASON = 1.0
W_SEGMENT = 1.5
W_INTEREST = 1.0
W_FRESH = 1.0
FRESH_HALF_LIFE_DAYS = 30.0
DIVERSITY_PENALTY = 0.5
MAX_PER_TOPIC = 2
MAX_TOPIC_WINDOW = 10

REGION_LEVEL_WEIGHT: dict[str, float] = {
    "province": 0.25,
    "city": 0.5,
    "county": 0.75,
    "township": 1.0,
}
SEASON_IN, SEASON_ALL_YEAR, SEASON_OUT = 1.0, 0.3, -1.0
SEGMENT_MATCH, SEGMENT_EVERYONE, SEGMENT_OTHER = 1.0, 0.3, -0.5

# Segments implied by an age band (AgeBand values → Segment values).
AGE_SEGMENTS: dict[str, frozenset[str]] = {
    "under_14": frozenset({"student"}),
    "14_17": frozenset({"student"}),
    "60_plus": frozenset({"elderly"}),
}


@dataclass(frozen=True)
class FeedContext:
    """Who the feed is for, and when.

    `region_path` holds the region codes from the province down to the citizen's own
    region, e.g. ("510000", "510100", "510104", "510104001").
    `season_months` maps each season value to its months (models.SEASON_MONTHS).
    """

    region_path: tuple[str, ...]
    occupation: str
    age_band: str
    interests: frozenset[str]
    month: int
    now: datetime
    season_months: dict[str, frozenset[int]]
    read_ids: frozenset[int] = frozenset()
    consent: bool = False

    @property
    def segments(self) -> frozenset[str]:
        return frozenset({self.occupation}) | AGE_SEGMENTS.get(self.age_band, frozenset())


@dataclass(frozen=True)
class FeedItem:
    """A candidate piece of content. `region_code`/`region_level` are None for content
    meant for the whole province."""

    id: int
    topic: str
    segments: tuple[str, ...]
    seasons: tuple[str, ...]
    region_code: str | None
    region_level: str | None
    published_at: datetime | None
    status: str = "published"
    title: str = ""


@dataclass(frozen=True)
class Score:
    """The parts of an item's score, before weighting; `total` is the weighted sum."""

    region: float
    season: float
    segment: float
    interest: float
    freshness: float

    @property
    def total(self) -> float:
        return (
            W_REGION * self.region
            + W_SEASON * self.season
            + W_SEGMENT * self.segment
            + W_INTEREST * self.interest
            + W_FRESH * self.freshness
        )


@dataclass(frozen=True)
class RankedItem:
    item: FeedItem
    score: Score
    reasons: tuple[str, ...] = field(default=())

    @property
    def total(self) -> float:
        return self.score.total


def _eligible(ctx: FeedContext, item: FeedItem) -> bool:
    if item.status != "published" or item.published_at is None or item.published_at > ctx.now:
        return False
    if item.region_code is not None and item.region_code not in ctx.region_path:
        return False
    return item.id not in ctx.read_ids


def score_item(ctx: FeedContext, item: FeedItem) -> RankedItem:
    """Score one item for `ctx` (the hard rules are not checked here)."""
    reasons: list[str] = []
    region = 0.0 if item.region_level is None else REGION_LEVEL_WEIGHT.get(item.region_level, 0.0)
    if item.region_level in ("county", "township"):
        reasons.append("本地内容")
    if not item.seasons:
        season = SEASON_ALL_YEAR
    elif any(ctx.month in ctx.season_months.get(s, frozenset()) for s in item.seasons):
        season = SEASON_IN
        reasons.append("应季")
    else:
        season = SEASON_OUT
    segment = interest = 0.0
    if ctx.consent:
        if not item.segments:
            segment = SEGMENT_EVERYONE
        elif ctx.segments & set(item.segments):
            segment = SEGMENT_MATCH
            reasons.append("适合您的人群")
        else:
            segment = SEGMENT_OTHER
        if item.topic in ctx.interests:
            interest = 1.0
            reasons.append("您关注的主题")
    freshness = 0.0
    if item.published_at is not None:
        age_days = max(0.0, (ctx.now - item.published_at).total_seconds() / 86400)
        freshness = 0.5 ** (age_days / FRESH_HALF_LIFE_DAYS)
    return RankedItem(
        item=item,
        score=Score(
            region=region, season=season, segment=segment, interest=interest, freshness=freshness
        ),
        reasons=tuple(reasons),
    )


def _base_key(r: RankedItem) -> tuple[float, float, int]:
    published = r.item.published_at.timestamp() if r.item.published_at else 0.0
    return (r.total, published, r.item.id)


def rank_feed(
    ctx: FeedContext, items: Iterable[FeedItem], *, limit: int | None = None
) -> list[RankedItem]:
    """Apply the hard rules, score, then re-rank greedily for topic diversity."""
    scored = sorted(
        (score_item(ctx, it) for it in items if _eligible(ctx, it)), key=_base_key, reverse=True
    )
    return _diversify(scored, limit=limit)


def _diversify(scored: Sequence[RankedItem], *, limit: int | None) -> list[RankedItem]:
    remaining = list(scored)
    picked: list[RankedItem] = []
    counts: Counter[str] = Counter()
    wanted = len(remaining) if limit is None else min(limit, len(remaining))
    while len(picked) < wanted:
        in_window = len(picked) < MAX_TOPIC_WINDOW
        allowed = remaining
        if in_window:
            uncapped = [r for r in remaining if counts[r.item.topic] < MAX_PER_TOPIC]
            allowed = uncapped or remaining
        best = max(
            allowed,
            key=lambda r: (
                r.total - DIVERSITY_PENALTY * counts[r.item.topic],
                *_base_key(r)[1:],
            ),
        )
        remaining.remove(best)
        picked.append(best)
        counts[best.item.topic] += 1
    return picked
