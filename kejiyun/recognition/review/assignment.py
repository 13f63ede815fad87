"""Reviewer assignment as pure functions: expertise fit from the matching engine, then the
engine's `assign()` under the batch's rules.

`expertise_fits` builds a small `kejiyun_match.Engine` over the reviewer pool (text from each
reviewer's fields, keywords and expertise) and ranks the pool for each application's text.
`plan_assignments` hands the fits to `kejiyun_match.assign` with, for each application, the
places still open (`per_application` minus the reviewers it already has), for each reviewer
the capacity left in this batch (min(their load, the batch's load) minus what they already
review in it), and every conflicting or already assigned pair forbidden. No Django here: the
service (`services.py`) loads the facts and writes the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kejiyun.recognition.review.conflicts import (
    ApplicationFacts,
    ReviewerFacts,
    conflicting_pairs,
)
from kejiyun_match import (
    AssignmentProblem,
    Embedder,
    Engine,
    MatchQuery,
    Profile,
    assign,
    is_reason_term,
)

REVIEWER_KIND = "reviewer"
SHOWN_TERMS = 5

NO_ELIGIBLE = "没有符合回避要求的评审专家"
NO_CAPACITY = "专家库评审容量不足"
BY_MEANING = "语义相近（无相同关键词）"


@dataclass(frozen=True)
class Fit:
    """How well one reviewer's expertise fits one application: the engine's score as a share
    of the highest reachable (0..1) and the shared terms a person can check. Without such a
    term the fit is 0."""

    score: float
    terms: tuple[str, ...] = ()
    # Found by meaning (the embedder) with no checkable term in common.
    by_meaning: bool = False

    @property
    def reasons(self) -> str:
        if not self.terms and self.by_meaning:
            return BY_MEANING
        return "、".join(self.terms)


def expertise_fits(
    reviewer_texts: Mapping[str, str],
    application_texts: Mapping[str, str],
    *,
    vocabulary: Iterable[str] = (),
    place_names: Iterable[str] = (),
    embedder: Embedder | None = None,
) -> dict[str, dict[str, Fit]]:
    """application id → reviewer id → fit, for the reviewers whose text matches at all.
    With an `embedder` the texts are also compared by meaning (the platform's configured
    embedder: e5 in production), as the staff matching pages do."""
    if not reviewer_texts:
        return {}
    places = frozenset(place_names)
    engine = Engine(
        embedder=embedder,
        vocabulary=vocabulary,
        place_names=places,
        auto_embed=embedder is not None,
    )
    engine.add(
        Profile(id=reviewer_id, text=text, kind=REVIEWER_KIND)
        for reviewer_id, text in sorted(reviewer_texts.items())
    )
    engine.commit()
    fits: dict[str, dict[str, Fit]] = {}
    for application_id, text in application_texts.items():
        row: dict[str, Fit] = {}
        for result in engine.search(MatchQuery(text=text), top_k=len(reviewer_texts)):
            terms = tuple(
                t.term for t in result.explanation.matched_terms if is_reason_term(t.term, places)
            )[:SHOWN_TERMS]
            # Words in common that a person cannot check as expertise (boilerplate such as
            # 服务、技术, places, numbers) are no fit at all, unless the embedder found the
            # texts close in meaning: otherwise the reviewer is only a fallback that keeps an
            # application staffed, shown as such.
            by_meaning = result.explanation.matched_by != "lexical"
            fits_at_all = bool(terms) or by_meaning
            row[result.id] = Fit(
                score=round(result.share, 4) if fits_at_all else 0.0,
                terms=terms,
                by_meaning=by_meaning and not terms,
            )
        fits[application_id] = row
    return fits


@dataclass(frozen=True)
class PlannedAssignment:
    application_id: str
    reviewer_id: str
    fit: Fit


@dataclass(frozen=True)
class Plan:
    assignments: list[PlannedAssignment]
    # application id → why it could not get all its reviewers
    shortfalls: dict[str, str] = field(default_factory=dict)
    conflicts: dict[tuple[str, str], str] = field(default_factory=dict)


def plan_assignments(
    *,
    reviewers: Sequence[ReviewerFacts],
    applications: Sequence[ApplicationFacts],
    loads: Mapping[str, int],
    fits: Mapping[str, Mapping[str, Fit]],
    already: Mapping[str, frozenset[str]],
    used: Mapping[str, int],
    per_application: int,
    batch_load: int,
    exclude_same_county: bool,
) -> Plan:
    """The new assignments for `applications`.

    `loads`: each reviewer's own load per batch; `already`: application id → reviewer ids it
    has; `used`: reviewer id → how many applications of this batch they already review.
    Never a conflicting pair, never a reviewer twice on one application, never a reviewer
    over min(load, batch_load) counting what they already have.
    """
    conflicts = conflicting_pairs(reviewers, applications, exclude_same_county=exclude_same_county)
    reviewer_ids = [r.id for r in reviewers]
    forbidden = set(conflicts)
    for application in applications:
        for reviewer_id in already.get(application.id, frozenset()):
            forbidden.add((application.id, reviewer_id))
    required = {
        a.id: max(0, per_application - len(already.get(a.id, frozenset()))) for a in applications
    }
    capacity = {r: max(0, min(loads.get(r, 0), batch_load) - used.get(r, 0)) for r in reviewer_ids}
    scores = {
        a.id: {
            r: fits.get(a.id, {}).get(r, Fit(0.0)).score
            for r in reviewer_ids
            if (a.id, r) not in forbidden
        }
        for a in applications
    }
    chosen = assign(
        AssignmentProblem(
            scores=scores,
            required=required,
            capacity=capacity,
            forbidden=frozenset(forbidden),
            prior_load={r: used.get(r, 0) for r in reviewer_ids},
        )
    )
    planned = [
        PlannedAssignment(
            application_id=c.item_id,
            reviewer_id=c.expert_id,
            fit=fits.get(c.item_id, {}).get(c.expert_id, Fit(0.0)),
        )
        for c in chosen
    ]
    got: dict[str, int] = {}
    for p in planned:
        got[p.application_id] = got.get(p.application_id, 0) + 1
    shortfalls: dict[str, str] = {}
    for application in applications:
        if got.get(application.id, 0) >= required[application.id]:
            continue
        eligible = len(scores[application.id])
        shortfalls[application.id] = (
            NO_ELIGIBLE if eligible < required[application.id] else (NO_CAPACITY)
        )
    return Plan(assignments=planned, shortfalls=shortfalls, conflicts=conflicts)
