"""Personal-feed ranking quality, offline, on a simulated Sichuan population (no database).

Everything is built directly on the dataclasses of `kejiyun/popsci/targeting/feed.py`, seeded,
so every run gives the same figures.

Population (N citizens, default 20,000): a region that is one of Sichuan's real township codes
(90%) or county codes (10%) from kejiyun/regions/data/regions.csv, uniformly; an age band
(under 14 12%, 14-17 6%, 18-35 25%, 36-59 35%, 60+ 22%); an occupation drawn given the age band
(children are students or left-behind children, the 60+ mostly "elderly" or farmers, adults
farmers, enterprise workers, cadres, other); a hidden taste for each topic (an occupation
affinity plus Gaussian noise) that the ranker never sees; one to three stated interests drawn
from that taste (so they are a noisy sign of it); targeting consent for 70%; and a short
reading history (Poisson(2) items, chosen in proportion to usefulness).

Catalogue (600 items): topics, audience segments and season windows from per-topic templates
(e.g. agriculture for farmers in spring planting, drowning prevention for children in the
summer holiday, anti-fraud for the elderly), region province-wide / a city / a county, and a
publication date in the past year — seasonal items mostly in the weeks around their season's
start — drawn relative to each simulated day.

Ground truth: `usefulness()` below, a logistic model written separately from the ranker (it
does not call feed.py and uses different shapes and weights), with hidden item quality, hidden
per-citizen taste and a flood-season rule (flood/landslide/disaster items for the citizen's
place are useful to everyone there). Labels 0/1/2 are drawn from its probability p: 2 with
probability p², 1 with p − p², else 0. "Useful" means label ≥ 1.

Rankers, each run on every citizen: the feed with consent (rank_feed), the same with consent
off (region + season + freshness: what a citizen without consent gets), the feed without the
diversity step, "flood irrigation" (the province's newest content first, whatever its region),
and "region, newest first" (the hard region rule, then newest first). "As deployed" takes the
feed for the 70% who consented and the consent-off feed for the rest. Items already read are
removed for every ranker. Metrics over the top 10: nDCG@10 (gain 2^label − 1, ideal over every
unread published item); the same with diminishing returns per topic (the j-th item of a topic
counts 0.5^(j−1) of its gain — an assumption, since the labels are drawn item by item and so
cannot by themselves reward diversity); precision@10; distinct topics; share of items meant for
another place; and catalogue coverage (share of items in anyone's top 10).

Run: make bench-popsci-feed   (BENCH_ARGS="--citizens 2000" for a quick run).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bench.common import ROOT, median
from kejiyun.popsci.targeting.feed import FeedContext, FeedItem, rank_feed, score_item

SEED = 20261129
PROVINCE = "510000"
FEED_CANDIDATES = 300  # as kejiyun.popsci.targeting.selectors.FEED_CANDIDATES
MONTHS = {7: "July (flood season, summer holiday)", 3: "March (spring planting)"}
K = 10

AGE_BANDS = {"under_14": 12, "14_17": 6, "18_35": 25, "36_59": 35, "60_plus": 22}
OCCUPATION_BY_AGE: dict[str, dict[str, int]] = {
    "under_14": {"student": 75, "left_behind_child": 25},
    "14_17": {"student": 85, "left_behind_child": 10, "farmer": 5},
    "18_35": {"enterprise_worker": 40, "farmer": 30, "other": 22, "student": 4, "cadre": 4},
    "36_59": {"farmer": 55, "enterprise_worker": 25, "other": 16, "cadre": 4},
    "60_plus": {"elderly": 55, "farmer": 40, "other": 5},
}
# Occupation → topic affinity (part of the hidden taste; the ranker sees only interests).
AFFINITY: dict[str, dict[str, float]] = {
    "farmer": {"agriculture": 1.2, "landslide": 0.3, "ecology": 0.3, "anti_fraud": 0.2},
    "student": {"technology": 0.9, "earthquake": 0.3, "health": 0.2},
    "left_behind_child": {"flood": 0.6, "technology": 0.5, "anti_fraud": 0.3},
    "elderly": {"health": 1.0, "anti_fraud": 0.8, "fire": 0.3},
    "enterprise_worker": {"technology": 0.7, "fire": 0.5, "health": 0.4, "anti_fraud": 0.3},
    "cadre": {"disaster": 0.9, "flood": 0.6, "landslide": 0.6, "ecology": 0.4},
    "other": {"health": 0.4, "anti_fraud": 0.4},
}
TASTE_NOISE = 0.8
STATED_INTEREST_BONUS = 0.3
CONSENT_SHARE = 0.7

# Catalogue templates: topic → (share of catalogue, [(weight, segments, seasons)]).
TEMPLATES: dict[str, tuple[int, list[tuple[int, tuple[str, ...], tuple[str, ...]]]]] = {
    "agriculture": (
        20,
        [
            (35, ("farmer",), ("spring_planting",)),
            (25, ("farmer",), ("autumn_harvest",)),
            (30, ("farmer",), ()),
            (10, (), ()),
        ],
    ),
    "flood": (
        9,
        [
            (60, (), ("flood_season",)),
            (25, ("student", "left_behind_child"), ("summer_holiday",)),
            (15, (), ()),
        ],
    ),
    "landslide": (7, [(70, (), ("flood_season",)), (30, (), ())]),
    "disaster": (
        5,
        [(60, (), ()), (20, ("cadre",), ("flood_season",)), (20, (), ("flood_season",))],
    ),
    "earthquake": (6, [(70, (), ()), (30, ("student", "left_behind_child"), ())]),
    "fire": (8, [(40, (), ("winter",)), (40, (), ()), (20, ("farmer",), ("spring_planting",))]),
    "health": (
        15,
        [
            (30, ("elderly",), ()),
            (40, (), ()),
            (15, ("student", "left_behind_child"), ("summer_holiday",)),
            (15, (), ("winter",)),
        ],
    ),
    "ecology": (8, [(70, (), ()), (30, ("farmer",), ())]),
    "technology": (
        10,
        [(40, ("student",), ()), (30, ("enterprise_worker",), ()), (30, (), ())],
    ),
    "anti_fraud": (
        12,
        [(45, ("elderly",), ()), (40, (), ()), (15, ("student",), ("summer_holiday",))],
    ),
}
SAFETY_TOPICS = frozenset({"flood", "landslide", "disaster"})
SEASON_START = {  # month a season window opens (see models.SEASON_MONTHS)
    "spring_planting": 3,
    "flood_season": 6,
    "summer_holiday": 7,
    "autumn_harvest": 9,
    "winter": 12,
}


@dataclass
class Regions:
    townships: list[str]
    counties: list[str]
    cities: list[str]
    parent: dict[str, str]
    level: dict[str, str]

    def path(self, code: str) -> tuple[str, ...]:
        out = [code]
        while out[-1] in self.parent:
            out.append(self.parent[out[-1]])
        return tuple(reversed(out))


def load_regions() -> Regions:
    parent: dict[str, str] = {}
    level: dict[str, str] = {}
    with (ROOT / "kejiyun" / "regions" / "data" / "regions.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if not row["code"].startswith("51"):
                continue
            level[row["code"]] = row["level"]
            if row["parent_code"]:
                parent[row["code"]] = row["parent_code"]
    by_level = {lv: sorted(c for c, v in level.items() if v == lv) for lv in set(level.values())}
    return Regions(
        townships=by_level["township"],
        counties=by_level["county"],
        cities=by_level["city"],
        parent=parent,
        level=level,
    )


def pick(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


@dataclass
class Population:
    region_path: list[tuple[str, ...]]
    occupation: list[str]
    age_band: list[str]
    interests: list[frozenset[str]]
    consent: np.ndarray  # bool, per citizen
    taste: np.ndarray  # citizens × topics, hidden
    city: np.ndarray  # index into Regions.cities
    county: np.ndarray  # index into Regions.counties


def make_population(n: int, regions: Regions, topics: list[str], seed: int) -> Population:
    rng = random.Random(seed)  # noqa: S311 - reproducible simulation, not security
    nrng = np.random.default_rng(seed)
    county_index = {c: i for i, c in enumerate(regions.counties)}
    city_index = {c: i for i, c in enumerate(regions.cities)}
    paths, occupations, ages, interests = [], [], [], []
    taste = nrng.normal(0.0, TASTE_NOISE, size=(n, len(topics)))
    for c in range(n):
        # 10% gave only their county, 90% their township (as in bench/popsci_audience.py).
        code = rng.choice(regions.counties if rng.random() < 0.1 else regions.townships)
        path = regions.path(code)
        age = pick(rng, AGE_BANDS)
        occupation = pick(rng, OCCUPATION_BY_AGE[age])
        for t, bonus in AFFINITY[occupation].items():
            taste[c, topics.index(t)] += bonus
        weights = [math.exp(1.5 * v) for v in taste[c]]
        stated: set[str] = set()
        for _ in range(rng.choice((1, 2, 2, 3))):
            stated.add(rng.choices(topics, weights=weights)[0])
        paths.append(path)
        occupations.append(occupation)
        ages.append(age)
        interests.append(frozenset(stated))
    consent = nrng.random(n) < CONSENT_SHARE
    return Population(
        region_path=paths,
        occupation=occupations,
        age_band=ages,
        interests=interests,
        consent=consent,
        taste=taste,
        city=np.array([city_index[p[1]] for p in paths]),
        county=np.array([county_index[p[2]] if len(p) > 2 else -1 for p in paths]),
    )


@dataclass
class Catalogue:
    topic: list[str]
    segments: list[tuple[str, ...]]
    seasons: list[tuple[str, ...]]
    region_code: list[str | None]
    region_level: list[str | None]
    quality: np.ndarray  # hidden


def make_catalogue(n: int, regions: Regions, seed: int) -> Catalogue:
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible simulation, not security
    topics, segments, seasons, codes, levels = [], [], [], [], []
    names = list(TEMPLATES)
    for _ in range(n):
        topic = rng.choices(names, weights=[TEMPLATES[t][0] for t in names])[0]
        variants = TEMPLATES[topic][1]
        _, segs, seas = rng.choices(variants, weights=[v[0] for v in variants])[0]
        local = 0.5 if topic in ("flood", "landslide") else 0.3  # hazards are local
        u = rng.random()
        if u < local:
            code, level = rng.choice(regions.counties), "county"
        elif u < local + 0.25:
            code, level = rng.choice(regions.cities), "city"
        else:
            code, level = None, None
        topics.append(topic)
        segments.append(segs)
        seasons.append(seas)
        codes.append(code)
        levels.append(level)
    quality = np.random.default_rng(seed + 1).normal(0.0, 0.5, size=n)
    return Catalogue(topics, segments, seasons, codes, levels, quality)


def publication_ages(cat: Catalogue, now: datetime, seed: int) -> np.ndarray:
    """Age in days of each item on `now`: seasonal items are mostly published between 45
    days before and 30 days after their season last opened; the rest uniformly over a year."""
    rng = random.Random(seed * 100 + now.month)  # noqa: S311 - reproducible simulation, not security
    ages = np.empty(len(cat.topic))
    for i, seasons in enumerate(cat.seasons):
        age = rng.uniform(0, 365)
        if seasons and rng.random() < 0.7:
            month = SEASON_START[rng.choice(seasons)]
            year = now.year if month <= now.month else now.year - 1
            opened = datetime(year, month, 1, tzinfo=UTC)
            published = opened + timedelta(days=rng.uniform(-45, 30))
            age = (now - published).total_seconds() / 86400
            if age < 0:  # not yet: the previous year's window
                age += 365
            age = min(age, 365.0)
        ages[i] = age
    return ages


def season_now(cat: Catalogue, month: int, season_months: dict[str, frozenset[int]]) -> np.ndarray:
    """Per item: 1 in season, 0 all year, -1 out of season."""
    out = np.zeros(len(cat.topic))
    for i, seasons in enumerate(cat.seasons):
        if seasons:
            out[i] = 1 if any(month in season_months[s] for s in seasons) else -1
    return out


def on_path_matrix(pop: Population, cat: Catalogue, regions: Regions) -> np.ndarray:
    """citizens × items: the item is for the province or a region on the citizen's path."""
    city_of = {c: i for i, c in enumerate(regions.cities)}
    county_of = {c: i for i, c in enumerate(regions.counties)}
    item_city = np.array(
        [
            city_of[c] if lv == "city" else -2
            for c, lv in zip(cat.region_code, cat.region_level, strict=True)
        ]
    )
    item_county = np.array(
        [
            county_of[c] if lv == "county" else -2
            for c, lv in zip(cat.region_code, cat.region_level, strict=True)
        ]
    )
    province_wide = np.array([lv is None for lv in cat.region_level])
    return (
        province_wide[None, :]
        | (item_city[None, :] == pop.city[:, None])
        | (item_county[None, :] == pop.county[:, None])
    )


def usefulness(
    pop: Population,
    cat: Catalogue,
    topics: list[str],
    on_path: np.ndarray,
    ages: np.ndarray,
    in_season: np.ndarray,
    month: int,
) -> np.ndarray:
    """The ground truth: probability (citizens × items) that the citizen finds the item
    useful. Written separately from feed.py; it does not call it."""
    n, m = on_path.shape
    level = np.array([{None: 0, "city": 1, "county": 2}[lv] for lv in cat.region_level])
    logit = np.full((n, m), -2.2)
    # Place: content for somewhere else is rarely useful; local beats province-wide.
    logit += np.where(on_path, np.array([0.0, 0.4, 1.0])[level][None, :], -4.0)
    # Season.
    logit += np.where(in_season > 0, 0.9, np.where(in_season < 0, -1.4, 0.0))[None, :]
    # Audience: who the citizen really is (occupation, and age: children, the 60+).
    groups = [
        {occ}
        | ({"student"} if age in ("under_14", "14_17") else set())
        | ({"elderly"} if age == "60_plus" else set())
        for occ, age in zip(pop.occupation, pop.age_band, strict=True)
    ]
    fits = np.zeros((n, m), dtype=bool)
    targeted = np.array([bool(s) for s in cat.segments])
    for seg in {s for segs in cat.segments for s in segs}:
        has_seg = np.array([seg in s for s in cat.segments])
        member = np.array([seg in g for g in groups])
        fits |= member[:, None] & has_seg[None, :]
    audience = np.where(fits, 1.1, np.where(targeted[None, :], -1.3, 0.0))
    # Flood season: hazard items for the citizen's place are for everyone there.
    safety = np.array(
        [
            t in SAFETY_TOPICS and (not s or "flood_season" in s)
            for t, s in zip(cat.topic, cat.seasons, strict=True)
        ]
    )
    flood_season = month in (6, 7, 8, 9)
    if flood_season:
        audience = np.where(safety[None, :] & on_path, np.maximum(audience, 0.0) + 2.0, audience)
    logit += audience
    # Taste (hidden) and what the citizen said they want.
    topic_idx = np.array([topics.index(t) for t in cat.topic])
    logit += pop.taste[:, topic_idx]
    stated = np.array([[t in s for t in topics] for s in pop.interests])
    logit += STATED_INTEREST_BONUS * stated[:, topic_idx]
    # Cadres organise evacuations: hazard content matters to them all year.
    cadre = np.array([o == "cadre" for o in pop.occupation])
    logit += 0.6 * (cadre[:, None] & np.isin(topic_idx, [topics.index(t) for t in SAFETY_TOPICS]))
    # Newer is somewhat better, but good content stays useful; hidden item quality.
    logit += (0.7 * np.exp(-ages / 45.0))[None, :]
    logit += cat.quality[None, :]
    return 1.0 / (1.0 + np.exp(-logit))


def draw_labels(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(p.shape)
    return np.where(u < p * p, 2, np.where(u < p, 1, 0)).astype(np.int8)


def draw_reads(
    p: np.ndarray, on_path: np.ndarray, ages: np.ndarray, rng: np.random.Generator
) -> list[frozenset[int]]:
    """Each citizen has read Poisson(2) of their place's items older than 3 days, chosen in
    proportion to usefulness."""
    counts = rng.poisson(2.0, size=p.shape[0])
    out: list[frozenset[int]] = []
    old = ages > 3
    for c, k in enumerate(counts):
        pool = np.flatnonzero(on_path[c] & old)
        if k == 0 or pool.size == 0:
            out.append(frozenset())
            continue
        w = p[c, pool] / p[c, pool].sum()
        out.append(
            frozenset(int(i) for i in rng.choice(pool, size=min(k, pool.size), replace=False, p=w))
        )
    return out


DISCOUNTS = 1.0 / np.log2(np.arange(2, 2 + K))
REPEAT_DISCOUNT = 0.5


def ndcg_at_k(labels: np.ndarray, ideal: np.ndarray) -> float:
    """nDCG@10, gain 2^label − 1; each item counts on its own."""
    gains = (2.0 ** labels[:K]) - 1
    top = np.sort(ideal)[::-1][:K]
    idcg = float((((2.0**top) - 1) * DISCOUNTS[: len(top)]).sum())
    return float((gains * DISCOUNTS[: len(gains)]).sum()) / idcg if idcg > 0 else float("nan")


def ndcg_repeat_at_k(labels: np.ndarray, topics: list[str], ideal: dict[str, np.ndarray]) -> float:
    """nDCG@10 with diminishing returns per topic: the j-th item of a topic already shown
    counts REPEAT_DISCOUNT^(j−1) of its gain. The ideal takes, over every unread item, the
    ten largest such marginal gains (optimal, as each topic's marginal gains decrease)."""
    seen: dict[str, int] = {}
    dcg = 0.0
    for pos, (label, topic) in enumerate(zip(labels[:K], topics[:K], strict=True)):
        dcg += (2.0**label - 1) * REPEAT_DISCOUNT ** seen.get(topic, 0) * DISCOUNTS[pos]
        seen[topic] = seen.get(topic, 0) + 1
    marginal = np.concatenate(
        [
            ((2.0 ** np.sort(g)[::-1][:K]) - 1) * REPEAT_DISCOUNT ** np.arange(min(K, len(g)))
            for g in ideal.values()
        ]
    )
    top = np.sort(marginal)[::-1][:K]
    idcg = float((top * DISCOUNTS[: len(top)]).sum())
    return dcg / idcg if idcg > 0 else float("nan")


RANKERS = ("feed", "feed_no_consent", "feed_no_diversity", "flood_irrigation", "region_newest")
LABELS = {
    "feed": "feed (rank_feed, consent)",
    "feed_no_consent": "feed, consent off (region+season+fresh)",
    "feed_no_diversity": "feed without diversity step",
    "flood_irrigation": "flood irrigation: province newest first",
    "region_newest": "region rule, newest first",
    "as_deployed": "as deployed (70% consent)",
}


def run_month(
    month: int, pop: Population, cat: Catalogue, regions: Regions, topics: list[str], seed: int
) -> dict[str, Any]:
    from kejiyun.popsci.models import SEASON_MONTHS

    season_months = {str(k): v for k, v in SEASON_MONTHS.items()}
    now = datetime(2026, month, 15, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
    ages = publication_ages(cat, now, seed)
    items = [
        FeedItem(
            id=i,
            topic=cat.topic[i],
            segments=cat.segments[i],
            seasons=cat.seasons[i],
            region_code=cat.region_code[i],
            region_level=cat.region_level[i],
            published_at=now - timedelta(days=float(ages[i])),
        )
        for i in range(len(cat.topic))
    ]
    newest = sorted(range(len(items)), key=lambda i: (items[i].published_at, i), reverse=True)
    on_path = on_path_matrix(pop, cat, regions)
    in_season = season_now(cat, month, season_months)
    p = usefulness(pop, cat, topics, on_path, ages, in_season, month)
    nrng = np.random.default_rng(seed * 100 + month)
    labels = draw_labels(p, nrng)
    reads = draw_reads(p, on_path, ages, nrng)

    n = len(pop.occupation)
    tops: dict[str, list[list[int]]] = {r: [] for r in RANKERS}
    feed_seconds = 0.0
    for c in range(n):
        read = reads[c]
        local = [i for i in newest if on_path[c, i] and i not in read]
        candidates = [items[i] for i in local[:FEED_CANDIDATES]]
        base = {
            "region_path": pop.region_path[c],
            "occupation": pop.occupation[c],
            "age_band": pop.age_band[c],
            "interests": pop.interests[c],
            "month": month,
            "now": now,
            "season_months": season_months,
            "read_ids": read,
        }
        ctx = FeedContext(**base, consent=True)  # type: ignore[arg-type]
        started = time.perf_counter()
        tops["feed"].append([r.item.id for r in rank_feed(ctx, candidates, limit=K)])
        feed_seconds += time.perf_counter() - started
        off = FeedContext(**base, consent=False)  # type: ignore[arg-type]
        tops["feed_no_consent"].append([r.item.id for r in rank_feed(off, candidates, limit=K)])
        scored = sorted(
            (score_item(ctx, it) for it in candidates),
            key=lambda r: (r.total, r.item.published_at, r.item.id),
            reverse=True,
        )
        tops["feed_no_diversity"].append([r.item.id for r in scored[:K]])
        tops["flood_irrigation"].append([i for i in newest if i not in read][:K])
        tops["region_newest"].append(local[:K])

    unread_ideal = []
    for c in range(n):
        row = labels[c].copy()
        if reads[c]:
            row[list(reads[c])] = 0
        unread_ideal.append(row)

    topic_items = {t: np.array([i for i, x in enumerate(cat.topic) if x == t]) for t in topics}
    by_topic = [{t: row[idx] for t, idx in topic_items.items() if idx.size} for row in unread_ideal]
    per: dict[str, dict[str, np.ndarray]] = {}
    for r in RANKERS:
        nd, ndr, prec, div, away = [], [], [], [], []
        for c in range(n):
            top = tops[r][c]
            lab = labels[c, top]
            nd.append(ndcg_at_k(lab.astype(float), unread_ideal[c]))
            top_topics = [cat.topic[i] for i in top]
            ndr.append(ndcg_repeat_at_k(lab.astype(float), top_topics, by_topic[c]))
            prec.append(float((lab >= 1).sum()) / K)
            div.append(len({cat.topic[i] for i in top}))
            away.append(float((~on_path[c, top]).sum()) / K)
        per[r] = {
            "ndcg": np.array(nd),
            "ndcg_rep": np.array(ndr),
            "prec": np.array(prec),
            "div": np.array(div, dtype=float),
            "away": np.array(away),
        }
    per["as_deployed"] = {
        key: np.where(pop.consent, per["feed"][key], per["feed_no_consent"][key])
        for key in per["feed"]
    }
    coverage = {r: len({i for top in tops[r] for i in top}) / len(items) for r in RANKERS}
    coverage["as_deployed"] = len(
        {
            i
            for c in range(n)
            for i in (tops["feed"][c] if pop.consent[c] else tops["feed_no_consent"][c])
        }
    ) / len(items)

    result: dict[str, Any] = {
        "useful_share_on_path": round(float((labels >= 1)[on_path].mean()), 4),
        "useful_share_elsewhere": round(float((labels >= 1)[~on_path].mean()), 4),
        "candidates_median": int(median([float(on_path[c].sum()) for c in range(n)])),
        "feed_ms_per_citizen": round(feed_seconds / n * 1000, 3),
        "citizens_no_useful_item": int(np.isnan(per["feed"]["ndcg"]).sum()),
    }
    for r, m in per.items():
        nd = m["ndcg"][~np.isnan(m["ndcg"])]
        ndr = m["ndcg_rep"][~np.isnan(m["ndcg_rep"])]
        result[r] = {
            "ndcg10_mean": round(float(nd.mean()), 4),
            "ndcg10_median": round(float(np.median(nd)), 4),
            "ndcg10_repeat_discounted_mean": round(float(ndr.mean()), 4),
            "ndcg10_repeat_discounted_median": round(float(np.median(ndr)), 4),
            "p10_mean": round(float(m["prec"].mean()), 4),
            "p10_median": round(float(np.median(m["prec"])), 4),
            "topics10_mean": round(float(m["div"].mean()), 2),
            "topics10_median": round(float(np.median(m["div"])), 1),
            "elsewhere10_mean": round(float(m["away"].mean()), 4),
            "coverage": round(coverage[r], 4),
        }
    return result


def table(month: int, res: dict[str, Any]) -> None:
    print(
        f"\n{MONTHS[month]}: useful share of items for the citizen's place "
        f"{res['useful_share_on_path']:.3f}, elsewhere {res['useful_share_elsewhere']:.3f}; "
        f"median {res['candidates_median']} candidates per citizen"
    )
    header = (
        f"{'ranker':42} {'nDCG@10 mean/med':>17} {'nDCG-rep mean/med':>17} {'P@10 mean/med':>14} "
        f"{'topics mean/med':>15} {'elsewhere':>9} {'coverage':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in (*RANKERS, "as_deployed"):
        m = res[r]
        print(
            f"{LABELS[r]:42} {m['ndcg10_mean']:>8.4f}/{m['ndcg10_median']:<8.4f}"
            f" {m['ndcg10_repeat_discounted_mean']:>8.4f}"
            f"/{m['ndcg10_repeat_discounted_median']:<8.4f}"
            f" {m['p10_mean']:>6.3f}/{m['p10_median']:<7.2f}"
            f" {m['topics10_mean']:>7.2f}/{m['topics10_median']:<7.1f}"
            f" {m['elsewhere10_mean']:>9.3f} {m['coverage']:>8.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--citizens", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejiyun.settings")
    os.environ.setdefault("KEJIYUN_TESTING", "1")
    import django

    django.setup()  # for the model choices only; no database is touched
    from kejiyun.popsci.models import Topic

    topics = list(Topic.values)
    started = time.perf_counter()
    regions = load_regions()
    pop = make_population(args.citizens, regions, topics, args.seed)
    cat = make_catalogue(args.items, regions, args.seed)
    print(
        f"{args.citizens:,} citizens over {len(regions.townships):,} townships and "
        f"{len(regions.counties)} counties ({float(pop.consent.mean()):.1%} consent); "
        f"{args.items} items; seed {args.seed}"
    )
    months: dict[str, Any] = {}
    for month in MONTHS:
        res = run_month(month, pop, cat, regions, topics, args.seed)
        table(month, res)
        months[str(month)] = res
    elapsed = time.perf_counter() - started
    print(f"\nwhole run {elapsed:.0f} s")

    def gain(month: str, metric: str) -> float:
        return round(months[month]["feed"][metric] - months[month]["flood_irrigation"][metric], 4)

    print(
        json.dumps(
            {
                "bench": "popsci-feed",
                "citizens": args.citizens,
                "items": args.items,
                "seed": args.seed,
                "k": K,
                "months": months,
                "feed_minus_flood_ndcg10_mean": {m: gain(m, "ndcg10_mean") for m in months},
                "feed_minus_flood_p10_mean": {m: gain(m, "p10_mean") for m in months},
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
