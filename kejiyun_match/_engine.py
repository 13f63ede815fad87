"""The matching engine: hybrid retrieval, structured fit, explanations, conflicts."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from kejiyun_match._dense import Embedder, Vector, VectorStore
from kejiyun_match._feedback import FeedbackStore, Outcome
from kejiyun_match._lexical import LexicalIndex
from kejiyun_match._model import (
    ConflictPolicy,
    Explanation,
    MatchQuery,
    Profile,
    RegionTiers,
    Result,
    TermWeight,
    Weights,
)
from kejiyun_match._segment import BOILERPLATE, Segmenter, char_bigrams, is_reason_term
from kejiyun_match._text import normalise_text

FORMAT_VERSION = 1
_EMBED_BATCH = 32


def _codes(path: str) -> list[str]:
    return [code for code in path.split("/") if code]


def region_tier(tiers: RegionTiers, query_path: str, profile_path: str) -> tuple[str, float]:
    """The closest tier that holds both regions, and its boost ("local first")."""
    q, p = _codes(query_path), _codes(profile_path)
    if not q or not p:
        return "unknown", tiers.nation
    if len(q) >= 3 and len(p) >= 3 and q[2] == p[2]:
        return "county", tiers.county
    if len(q) >= 2 and len(p) >= 2 and q[1] == p[1]:
        return "city", tiers.city
    q_deep, p_deep = q[-1], p[-1]
    for name, boost, prefixes in tiers.groups:
        if any(q_deep.startswith(x) for x in prefixes) and any(
            p_deep.startswith(x) for x in prefixes
        ):
            return name, boost
    if q[0] == p[0]:
        return "province", tiers.province
    return "nation", tiers.nation


def _track_record(profile: Profile) -> float:
    """Saturating in closed cases, scaled by the mean rating (3.5 of 5 when unrated)."""
    rating = profile.mean_rating if profile.mean_rating is not None else 3.5
    return (1.0 - math.exp(-profile.closed_cases / 5.0)) * (rating / 5.0)


def _zscores(ranked: list[tuple[int, float]]) -> tuple[dict[int, float], float]:
    """z-scores of a result list, and the value for a candidate missing from it."""
    if not ranked:
        return {}, 0.0
    values = np.array([score for _, score in ranked], dtype=np.float64)
    std = float(values.std())
    if std == 0.0:
        return {slot: 0.0 for slot, _ in ranked}, 0.0
    mean = float(values.mean())
    z = {slot: (score - mean) / std for slot, score in ranked}
    return z, min(z.values())


def _path_fit(wanted: tuple[str, ...], offered: tuple[str, ...]) -> float:
    """How well classification paths fit, 0..1: for each wanted path the best share of
    leading parts it has in common with an offered one ("C20/C2003/C200302" and
    "C20/C2003" share 2 of 3), averaged over the wanted paths."""
    if not wanted or not offered:
        return 0.0
    total = 0.0
    for want in wanted:
        w_parts = _codes(want)
        best = 0.0
        for offer in offered:
            o_parts = _codes(offer)
            shared = 0
            for a, b in zip(w_parts, o_parts, strict=False):
                if a != b:
                    break
                shared += 1
            best = max(best, shared / max(len(w_parts), len(o_parts)))
        total += best
    return total / len(wanted)


def _availability(profile: Profile) -> float:
    if profile.capacity <= 0:
        return 1.0
    return max(0.0, 1.0 - profile.load / profile.capacity)


class Engine:
    """Ranks profiles for a query. Pure Python: the platform hands it dataclasses.

    Relevance mixes BM25 over words and character bigrams with dense-vector cosine
    similarity (z-scores of each list, weighted), rescaled to 0..1 over the candidates; a
    profile without a vector yet is ranked on its words alone. Structured fit (region tier,
    fitting disciplines, industries and service modes, verification, availability, track
    record, feedback) is added on top with small weights, capped at
    `Weights.structured_cap`, so it reorders comparably relevant profiles but never lifts one
    over a profile whose relevance leads by more than the cap.

    Boilerplate (`BOILERPLATE`) and place names (`place_names`) never count as query terms:
    places earn region fit, not relevance. Only terms that pass `is_reason_term` are shown
    as matched terms.

    With `auto_embed` (the default) the embedder embeds added profiles and each query; a
    platform that embeds in a background job passes `auto_embed=False` and hands vectors in
    (`add(..., vectors)`, `put_vectors`, `search(..., query_vector=...)`), so a search never
    waits for a model.
    """

    def __init__(
        self,
        *,
        embedder: Embedder | None = None,
        vocabulary: Iterable[str] = (),
        weights: Weights | None = None,
        tiers: RegionTiers | None = None,
        bigram_weight: float = 0.6,
        directory: Path | None = None,
        ann_threshold: int = 50_000,
        build_threads: int = 1,
        place_names: Iterable[str] = (),
        auto_embed: bool = True,
    ) -> None:
        self.embedder = embedder
        self.auto_embed = auto_embed
        self.weights = weights or Weights()
        self.tiers = tiers or RegionTiers()
        self.bigram_weight = bigram_weight
        self.segmenter = Segmenter(vocabulary)
        self.place_names: frozenset[str] = frozenset()
        self._place_pattern: re.Pattern[str] | None = None
        self.add_place_names(place_names)
        self.feedback = FeedbackStore()
        self._lexical = LexicalIndex(directory / "lexical" if directory else None)
        self._vectors = (
            VectorStore(embedder.dim, ann_threshold=ann_threshold, build_threads=build_threads)
            if embedder
            else None
        )
        self._slots: dict[str, int] = {}
        self._profiles: dict[int, Profile] = {}
        self._next_slot = 0

    # -- writes ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, profile_id: object) -> bool:
        return profile_id in self._slots

    def add_place_names(self, names: Iterable[str]) -> None:
        """Teach the engine place names (regions): segmented as one word, never a query
        term, never a shown reason."""
        fresh = {n for n in (normalise_text(x).replace(" ", "") for x in names) if len(n) >= 2}
        if fresh - self.place_names:
            self.place_names = self.place_names | fresh
            self.segmenter.add_vocabulary(fresh)
            alternatives = sorted(self.place_names, key=lambda n: (-len(n), n))
            self._place_pattern = re.compile("|".join(map(re.escape, alternatives)))

    def query_terms(self, text: str) -> list[str]:
        """The terms of a query that score: segmented, without boilerplate and places."""
        return [
            t
            for t in self.segmenter.terms(text)
            if t not in BOILERPLATE and t not in self.place_names
        ]

    def _query_bigram_text(self, text: str) -> str:
        normalised = normalise_text(text)
        if self._place_pattern is None:
            return normalised
        return self._place_pattern.sub(" ", normalised)

    def profile(self, profile_id: str) -> Profile:
        """The stored profile (its text is kept in the index, not here: text is "")."""
        return self._profiles[self._slots[profile_id]]

    def add(self, profiles: Iterable[Profile], vectors: Vector | None = None) -> None:
        """Insert or replace profiles. Vectors may be given (precomputed, one per profile)
        or are computed by the embedder."""
        batch = list(profiles)
        if vectors is not None and len(vectors) != len(batch):
            raise ValueError("one vector per profile is needed")
        slots: list[int] = []
        for profile in batch:
            slot = self._slots.get(profile.id)
            new = slot is None
            if slot is None:
                slot = self._next_slot
                self._next_slot += 1
                self._slots[profile.id] = slot
            slots.append(slot)
            self._lexical.upsert(
                slot,
                self.segmenter.terms(profile.text),
                char_bigrams(profile.text),
                profile.text,
                new=new,
            )
            self._profiles[slot] = dataclasses.replace(profile, text="")
        if self._vectors is None or self.embedder is None or not batch:
            return
        if vectors is None and self.auto_embed:
            parts = [
                self.embedder.embed_documents([p.text for p in batch[i : i + _EMBED_BATCH]])
                for i in range(0, len(batch), _EMBED_BATCH)
            ]
            vectors = np.vstack(parts).astype(np.float32)
        if vectors is None:  # the text may have changed: its old vector no longer holds
            for slot in slots:
                self._vectors.delete(slot)
            return
        self._vectors.put(slots, np.asarray(vectors, dtype=np.float32))

    def put_vectors(self, profile_ids: list[str], vectors: Vector) -> None:
        """Store precomputed document vectors of profiles already added (one per id)."""
        if self._vectors is None:
            raise ValueError("this engine has no embedder, so it keeps no vectors")
        if len(vectors) != len(profile_ids):
            raise ValueError("one vector per profile is needed")
        slots = [self._slots[pid] for pid in profile_ids]
        self._vectors.put(slots, np.asarray(vectors, dtype=np.float32))

    def has_vector(self, profile_id: str) -> bool:
        slot = self._slots.get(profile_id)
        return slot is not None and self._vectors is not None and self._vectors.has(slot)

    def delete(self, profile_ids: Iterable[str]) -> None:
        for profile_id in profile_ids:
            slot = self._slots.pop(profile_id, None)
            if slot is None:
                continue
            self._lexical.delete(slot)
            if self._vectors is not None:
                self._vectors.delete(slot)
            del self._profiles[slot]
            self.feedback.forget(profile_id)

    def record_feedback(self, *, expert_id: str, kind: str, outcome: Outcome) -> None:
        self.feedback.record(expert_id=expert_id, kind=kind, outcome=outcome)

    def commit(self) -> None:
        self._lexical.commit()

    # -- reads ----------------------------------------------------------------------------
    def _conflict(self, query: MatchQuery, profile: Profile) -> str:
        if profile.id in query.related_ids:
            return "存在申报的关联关系"
        if query.organisation and profile.organisation == query.organisation:
            return "与需求方为同一单位"
        return ""

    def _passes_filters(self, query: MatchQuery, profile: Profile) -> bool:
        if query.kinds and profile.kind not in query.kinds:
            return False
        if query.only_verified and not profile.verified:
            return False
        if query.only_available and not profile.available:
            return False
        return not (query.within_region and not profile.region_path.startswith(query.within_region))

    def _rank_slots(
        self, query: MatchQuery, terms: list[str], qvec: Vector | None
    ) -> list[tuple[int, float, float, float]]:
        """Candidates as (slot, relevance 0..1, BM25 score, cosine), best first; `terms`
        are the query's scoring terms, `qvec` its vector (None: words only).

        Each list's scores are turned into z-scores over its own candidates (a candidate
        missing from a list gets that list's lowest z), mixed with the lexical and
        semantic weights, and rescaled so the best candidate has relevance 1 and the
        worst 0. A candidate that has no vector yet takes its lexical z alone. Tuned on
        the dev tasks: z-score mixing beat reciprocal-rank fusion and min-max mixing on
        all three.
        """
        w = self.weights
        lexical = self._lexical.search(
            terms,
            char_bigrams(self._query_bigram_text(query.text)),
            bigram_weight=self.bigram_weight,
            limit=w.candidates,
        )
        dense: list[tuple[int, float]] = []
        if self._vectors is not None and qvec is not None:
            dense = self._vectors.search(qvec, w.candidates)
        if not lexical and not dense:
            return []
        lex_z, lex_floor = _zscores(lexical)
        dense_z, dense_floor = _zscores(dense)
        lex_w = w.lexical if lexical else 0.0
        dense_w = w.semantic if dense else 0.0
        lex_score = dict(lexical)
        cosine = dict(dense)
        vectors = self._vectors

        def mix(slot: int) -> float:
            has_vector = dense_w > 0 and vectors is not None and vectors.has(slot)
            if not has_vector:
                return lex_z.get(slot, lex_floor)
            return (
                lex_w * lex_z.get(slot, lex_floor) + dense_w * dense_z.get(slot, dense_floor)
            ) / (lex_w + dense_w)

        fused = {slot: mix(slot) for slot in dict.fromkeys([*lex_z, *dense_z])}
        top, bottom = max(fused.values()), min(fused.values())
        spread = top - bottom
        out = [
            (
                slot,
                (value - bottom) / spread if spread > 0 else 1.0,
                lex_score.get(slot, 0.0),
                cosine.get(slot, 0.0),
            )
            for slot, value in fused.items()
        ]
        out.sort(key=lambda row: (-row[1], row[0]))
        return out

    def search(
        self, query: MatchQuery, *, top_k: int = 10, query_vector: Vector | None = None
    ) -> list[Result]:
        """The best `top_k` profiles for `query`. `query_vector` is the query's precomputed
        vector; without one the embedder embeds the query only when `auto_embed` is on."""
        w = self.weights
        terms = self.query_terms(query.text)
        qvec = query_vector
        if qvec is None and self.auto_embed and self.embedder is not None and query.text.strip():
            qvec = self.embedder.embed_queries([query.text])[0]
        scored: list[tuple[float, str, int, dict[str, object]]] = []
        ranked = self._rank_slots(query, terms, qvec)
        cosine_slots = {slot for slot, _, _, cos in ranked if cos != 0.0}
        for slot, relevance, lex_score, cosine in ranked:
            profile = self._profiles.get(slot)
            if profile is None or not self._passes_filters(query, profile):
                continue
            conflict = self._conflict(query, profile)
            if conflict and query.conflict_policy is ConflictPolicy.EXCLUDE:
                continue
            tier, region_fit = (
                region_tier(self.tiers, query.region_path, profile.region_path)
                if query.region_path
                else ("unknown", self.tiers.nation)
            )
            shared = tuple(d for d in query.disciplines if _path_fit((d,), profile.disciplines) > 0)
            field_parts = []
            if query.disciplines:
                field_parts.append(_path_fit(query.disciplines, profile.disciplines))
            if query.industries:
                field_parts.append(_path_fit(query.industries, profile.industries))
            if query.service_modes:
                modes = sum(1 for m in query.service_modes if m in profile.service_modes)
                field_parts.append(modes / len(query.service_modes))
            field_fit = sum(field_parts) / len(field_parts) if field_parts else 0.0
            availability = _availability(profile)
            track = _track_record(profile)
            feedback = (
                self.feedback.score(expert_id=profile.id, kind=query.category)
                if query.category
                else 0.0
            )
            structured = (
                w.region * region_fit
                + w.field * field_fit
                + w.verified * (1.0 if profile.verified else 0.0)
                + w.availability * availability
                + w.track_record * track
                + w.feedback * feedback
            )
            score = relevance + max(-w.structured_cap, min(w.structured_cap, structured))
            parts: dict[str, object] = {
                "lexical": lex_score,
                "semantic": cosine,
                "relevance": relevance,
                "field_fit": field_fit,
                "region_tier": tier,
                "region_fit": region_fit,
                "track_record": track,
                "availability": availability,
                "feedback": feedback,
                "conflict": conflict,
                "shared_disciplines": shared,
                "matched_by": (
                    "both"
                    if lex_score > 0 and slot in cosine_slots
                    else "semantic"
                    if lex_score == 0
                    else "lexical"
                ),
            }
            scored.append((score, profile.id, slot, parts))
        scored.sort(key=lambda row: (-row[0], row[1]))
        top = scored[:top_k]
        idf = self._lexical.idfs(terms) if top else {}
        results = []
        for rank, (score, profile_id, slot, parts) in enumerate(top, start=1):
            doc_terms = set(self.segmenter.terms(self._lexical.stored_text(slot)))
            matched = sorted(
                (
                    TermWeight(t, round(weight, 4))
                    for t, weight in idf.items()
                    if t in doc_terms and is_reason_term(t, self.place_names)
                ),
                key=lambda tw: (-tw.weight, tw.term),
            )
            results.append(
                Result(
                    id=profile_id,
                    rank=rank,
                    score=score,
                    kind=self._profiles[slot].kind,
                    explanation=Explanation(matched_terms=tuple(matched), **parts),  # type: ignore[arg-type]
                    share=max(0.0, min(1.0, score / w.ceiling)),
                )
            )
        return results

    # -- persistence ----------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write everything needed to answer queries to `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        self._lexical.save_to(directory / "lexical")
        if self._vectors is not None:
            self._vectors.save(directory / "vectors")
        with (directory / "profiles.jsonl").open("w", encoding="utf-8") as fh:
            for profile_id, slot in self._slots.items():
                row = dataclasses.asdict(self._profiles[slot])
                row.pop("text")
                row["id"] = profile_id
                row["slot"] = slot
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.feedback.save(directory / "feedback.json")
        meta = {
            "format": FORMAT_VERSION,
            "embedder": self.embedder.name if self.embedder else None,
            "dim": self.embedder.dim if self.embedder else None,
            "next_slot": self._next_slot,
            "bigram_weight": self.bigram_weight,
            "weights": dataclasses.asdict(self.weights),
            "tiers": {
                "county": self.tiers.county,
                "city": self.tiers.city,
                "province": self.tiers.province,
                "nation": self.tiers.nation,
                "groups": [[n, b, sorted(p)] for n, b, p in self.tiers.groups],
            },
            "vocabulary": sorted(self.segmenter.vocabulary),
            "place_names": sorted(self.place_names),
            "auto_embed": self.auto_embed,
        }
        (directory / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, *, embedder: Embedder | None = None) -> Engine:
        """Open a saved engine in place; vectors are memory-mapped until first written."""
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        if meta["format"] != FORMAT_VERSION:
            raise ValueError(f"unsupported engine format {meta['format']}")
        saved_embedder = meta["embedder"]
        if (embedder.name if embedder else None) != saved_embedder:
            raise ValueError(f"the index was built with embedder {saved_embedder!r}")
        if embedder is not None and embedder.dim != meta["dim"]:
            raise ValueError(f"the index holds vectors of dimension {meta['dim']}")
        tiers_meta = meta["tiers"]
        engine = cls(
            embedder=embedder,
            vocabulary=meta["vocabulary"],
            weights=Weights(**meta["weights"]),
            tiers=RegionTiers(
                county=tiers_meta["county"],
                city=tiers_meta["city"],
                province=tiers_meta["province"],
                nation=tiers_meta["nation"],
                groups=tuple((n, b, frozenset(p)) for n, b, p in tiers_meta["groups"]),
            ),
            bigram_weight=meta["bigram_weight"],
            directory=directory,
            place_names=meta.get("place_names", ()),
            auto_embed=meta.get("auto_embed", True),
        )
        if embedder is not None:
            engine._vectors = VectorStore.load(
                directory / "vectors",
                embedder.dim,
                ann_threshold=engine._vectors.ann_threshold,  # type: ignore[union-attr]
            )
        with (directory / "profiles.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                slot = row.pop("slot")
                row["disciplines"] = tuple(row["disciplines"])
                row["service_modes"] = tuple(row["service_modes"])
                row["industries"] = tuple(row.get("industries", ()))
                engine._profiles[slot] = Profile(text="", **row)
                engine._slots[row["id"]] = slot
        engine._next_slot = meta["next_slot"]
        engine.feedback = FeedbackStore.load(directory / "feedback.json")
        return engine
