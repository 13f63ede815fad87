"""Reads for matching: ranked experts for a demand, ranked open demands for an expert.

Each row carries the database object and the engine's `Result`, whose `Explanation` holds
the reasons; the properties below render those reasons in Chinese for the pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from kejiyun.accounts.models import User
from kejiyun.cases.models import Case, DockingRequest, Step
from kejiyun.cases.workflow.selectors import work_queue
from kejiyun.demands.models import Demand
from kejiyun.demands.selectors import demands_published
from kejiyun.matching.adapters import (
    RESULT_KIND,
    TEAM_KINDS,
    demand_to_query,
    expert_id,
    pk_of,
    region_tier_label,
    talent_profile_to_query,
)
from kejiyun.matching.fields import classes
from kejiyun.matching.index import (
    DEMANDS,
    EXPERTS,
    demands_engine,
    experts_engine,
    results_engine,
    teams_engine,
)
from kejiyun.matching.stats import ExpertStats, expert_stats
from kejiyun.matching.vectors import query_vector, query_vectors
from kejiyun.pagecache.fragments import fragment
from kejiyun.pagecache.services import DEMANDS as PUBLIC_DEMANDS
from kejiyun.pagecache.services import MATCHING
from kejiyun.regions.selectors import jurisdiction_filter
from kejiyun.talent.models import TalentProfile, Team, TechResult
from kejiyun_match import (
    AssignmentProblem,
    ConflictPolicy,
    Engine,
    MatchQuery,
    Result,
    assign,
)

# Demands are indexed whatever their status; ask the engine for more than needed so that
# enough published ones remain after the status filter.
_OVERFETCH = 4
# Shown terms per result: the rarest (most telling) first.
_SHOWN_TERMS = 6


def _demand_query(demand: Demand) -> tuple[MatchQuery, object]:
    """The whole demand as a query, and its stored query vector (None until the periodic
    job has embedded it: the ranking is then lexical)."""
    query = demand_to_query(demand, classes())
    vector = query_vector(kind=DEMANDS, object_id=demand.pk, text=query.text)
    return query, vector


def _search(engine: Engine, query: MatchQuery, vector: object, top_k: int) -> list[Result]:
    return engine.search(query, top_k=top_k, query_vector=vector)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Reasons:
    result: Result

    @property
    def reason_terms(self) -> list[str]:
        """The terms of the need found in the profile that a person can check: never a
        number, a single character, a stop word, boilerplate or a place (the engine
        decides); the rarest first."""
        return [t.term for t in self.result.explanation.matched_terms[:_SHOWN_TERMS]]

    @property
    def matched_terms_label(self) -> str:
        """E.g. "泡菜、胀袋、乳酸菌", or 语义相近 for a profile found by meaning alone."""
        terms = self.reason_terms
        if terms:
            return "、".join(terms)
        if self.result.explanation.matched_by != "lexical":
            return "语义相近（无相同关键词）"
        return ""

    @property
    def region_label(self) -> str:
        return region_tier_label(self.result.explanation.region_tier)

    @property
    def match_percent(self) -> int:
        """The whole score (text relevance plus structured fit) as a share of the highest
        reachable one: it never rises down a ranked list."""
        return round(100 * self.result.share)

    @property
    def relevance_percent(self) -> int:
        """What the pages show as 匹配度: the same monotone figure as `match_percent`."""
        return self.match_percent

    @property
    def field_fit_percent(self) -> int:
        return round(100 * self.result.explanation.field_fit)

    @property
    def availability_percent(self) -> int:
        return round(100 * self.result.explanation.availability)

    @property
    def conflict(self) -> str:
        return self.result.explanation.conflict


@dataclass(frozen=True)
class MatchRow(_Reasons):
    """One expert ranked for a demand."""

    profile: TalentProfile


@dataclass(frozen=True)
class TeamMatchRow(_Reasons):
    """One team or studio ranked for a demand."""

    team: Team


@dataclass(frozen=True)
class ResultMatchRow(_Reasons):
    """One S&T result ranked for a demand."""

    tech_result: TechResult


@dataclass(frozen=True)
class DemandMatchRow(_Reasons):
    """One published demand ranked for an expert."""

    demand: Demand


def experts_for_demand(*, demand: Demand, top_k: int = 10) -> list[MatchRow]:
    """The best experts for `demand`, conflicts of interest kept and flagged.

    `demand` needs its region and organisation loaded (as `access_demand` does).
    """
    query, vector = _demand_query(demand)
    results = _search(experts_engine(), query, vector, top_k)
    profiles = TalentProfile.objects.select_related("user", "region", "region__parent").in_bulk(
        [pk_of(r.id) for r in results]
    )
    return [
        MatchRow(result=r, profile=profiles[pk_of(r.id)])
        for r in results
        if pk_of(r.id) in profiles
    ]


def capable_experts_for_demands(
    *, demands: Sequence[Demand], min_share: float, top_k: int = 50
) -> dict[int, list[int]]:
    """{demand id: ids of the verified experts who could answer it}: those the engine ranks
    for the demand (as `experts_for_demand` does) with a score of at least `min_share` of
    the highest reachable one, and for a reason a person can check (a telling term in
    common, or found by meaning); experts with a conflict of interest are left out. One
    engine search per demand, the stored query vectors read in one query. Each demand needs
    its region and organisation loaded."""
    fields = classes()
    engine = experts_engine()
    queries = {
        d.pk: replace(
            demand_to_query(d, fields),
            only_verified=True,
            conflict_policy=ConflictPolicy.EXCLUDE,
        )
        for d in demands
    }
    vectors = query_vectors(kind=DEMANDS, texts={pk: q.text for pk, q in queries.items()})
    found: dict[int, list[int]] = {}
    for pk, query in queries.items():
        found[pk] = [
            pk_of(r.id)
            for r in _search(engine, query, vectors.get(pk), top_k)
            if r.share >= min_share
            and (r.explanation.matched_terms or r.explanation.matched_by != "lexical")
        ]
    return found


def demands_for_expert(*, profile: TalentProfile, top_k: int = 10) -> list[DemandMatchRow]:
    """The best published demands for an S&T worker; demands of their own employer are left
    out. `profile` needs its region loaded.

    The engine's answer, cut to the published demands (at most `top_k` results, no model
    objects), is kept in the page cache under the matching generation (moved on by every
    change-log row), the public demands' generation (publishing, withdrawing or closing
    one) and the profile's whole query, as `rankings_for_demand` does; the demands
    themselves are read from the database on every call (one query)."""
    query = talent_profile_to_query(profile, classes())
    read: dict[int, Demand] = {}

    def search() -> list[Result]:
        vector = query_vector(kind=EXPERTS, object_id=profile.pk, text=query.text)
        results = _search(demands_engine(), query, vector, top_k * _OVERFETCH)
        read.update(demands_published().in_bulk([pk_of(r.id) for r in results]))
        return [r for r in results if pk_of(r.id) in read][:top_k]

    kept = fragment(
        "matching:expert",
        topics=[MATCHING, PUBLIC_DEMANDS],
        parts=[profile.pk, top_k, repr(query)],
        build=search,
        seconds=RANKINGS_SECONDS,
    )
    demands = read or demands_published().in_bulk([pk_of(r.id) for r in kept])
    return [
        DemandMatchRow(result=r, demand=demands[pk_of(r.id)])
        for r in kept
        if pk_of(r.id) in demands
    ]


def demand_match_for_expert(
    *, profile: TalentProfile, demand: Demand, top_k: int = 30
) -> DemandMatchRow | None:
    """Why `demand` is recommended to this S&T worker: its row among the worker's best
    `top_k` demands, or None when it is not among them."""
    rows = demands_for_expert(profile=profile, top_k=top_k)
    return next((row for row in rows if row.demand.pk == demand.pk), None)


def expert_match_for_demand(
    *, demand: Demand, profile: TalentProfile, top_k: int = 50
) -> MatchRow | None:
    """Why this S&T worker was matched to `demand`: their row among its best `top_k`
    experts, or None when they are not among them (e.g. staff chose them by hand)."""
    rows = experts_for_demand(demand=demand, top_k=top_k)
    return next((row for row in rows if row.profile.pk == profile.pk), None)


def teams_for_demand(*, demand: Demand, top_k: int = 5) -> list[TeamMatchRow]:
    """The best teams and studios for `demand`, conflicts flagged."""
    query, vector = _demand_query(demand)
    results = _search(teams_engine(), replace(query, kinds=TEAM_KINDS), vector, top_k)
    teams = Team.objects.select_related("region", "lead__user").in_bulk(
        [pk_of(r.id) for r in results]
    )
    return [
        TeamMatchRow(result=r, team=teams[pk_of(r.id)]) for r in results if pk_of(r.id) in teams
    ]


def results_for_demand(*, demand: Demand, top_k: int = 5) -> list[ResultMatchRow]:
    """The best S&T results for `demand` (those offered for transfer carry 可转化)."""
    query, vector = _demand_query(demand)
    results = _search(results_engine(), replace(query, kinds=(RESULT_KIND,)), vector, top_k)
    found = TechResult.objects.select_related("owner_profile__user", "owner_team").in_bulk(
        [pk_of(r.id) for r in results]
    )
    return [
        ResultMatchRow(result=r, tech_result=found[pk_of(r.id)])
        for r in results
        if pk_of(r.id) in found
    ]


@dataclass(frozen=True)
class DemandRankings:
    """What the matching slots of a demand show: its best experts, teams and results."""

    experts: list[MatchRow]
    teams: list[TeamMatchRow]
    results: list[ResultMatchRow]


# Rankings live at most this long in the cache; every change through a service (a profile,
# a demand, a team, a result, a vector, an expert's dockings) shows at once (`MATCHING`).
RANKINGS_SECONDS = 300


def rankings_for_demand(
    *, demand: Demand, experts: int = 10, teams: int = 5, results: int = 5
) -> DemandRankings:
    """`experts_for_demand`, `teams_for_demand` and `results_for_demand` in one, with the
    engines' answers kept in the page cache: keyed on the matching generation (moved on by
    every change-log row, `kejiyun.matchlog.services.index_change_record`) and on the
    demand's whole query (its own text, fields, region and organisation), so neither the
    engines' freshness check (a COUNT(*) per engine) nor the searches run again until
    something they read changes. The ranked rows themselves are read from the database on
    every call (three queries), so names and the rest show as they are now. Anyone who may
    see the demand may see its rankings: callers check access first."""
    query = demand_to_query(demand, classes())

    def search() -> tuple[list[Result], list[Result], list[Result]]:
        vector = query_vector(kind=DEMANDS, object_id=demand.pk, text=query.text)
        return (
            _search(experts_engine(), query, vector, experts),
            _search(teams_engine(), replace(query, kinds=TEAM_KINDS), vector, teams),
            _search(results_engine(), replace(query, kinds=(RESULT_KIND,)), vector, results),
        )

    found_experts, found_teams, found_results = fragment(
        "matching:demand",
        topics=[MATCHING],
        parts=[demand.pk, experts, teams, results, repr(query)],
        build=search,
        seconds=RANKINGS_SECONDS,
    )
    profiles = TalentProfile.objects.select_related("user", "region", "region__parent").in_bulk(
        [pk_of(r.id) for r in found_experts]
    )
    team_rows = Team.objects.select_related("region", "lead__user").in_bulk(
        [pk_of(r.id) for r in found_teams]
    )
    result_rows = TechResult.objects.select_related("owner_profile__user", "owner_team").in_bulk(
        [pk_of(r.id) for r in found_results]
    )
    return DemandRankings(
        experts=[
            MatchRow(result=r, profile=profiles[pk_of(r.id)])
            for r in found_experts
            if pk_of(r.id) in profiles
        ],
        teams=[
            TeamMatchRow(result=r, team=team_rows[pk_of(r.id)])
            for r in found_teams
            if pk_of(r.id) in team_rows
        ],
        results=[
            ResultMatchRow(result=r, tech_result=result_rows[pk_of(r.id)])
            for r in found_results
            if pk_of(r.id) in result_rows
        ],
    )


# --- Batch docking plan: many cases at once, within every expert's capacity ---------------


@dataclass(frozen=True)
class PlannedDocking(_Reasons):
    """One expert proposed for one case by the batch assignment."""

    case: Case
    profile: TalentProfile


@dataclass(frozen=True)
class DockingPlan:
    proposals: list[PlannedDocking]
    cases_considered: int
    cases_without_expert: int


def docking_plan(*, user: User, limit: int = 40, candidates: int = 10) -> DockingPlan:
    """Propose one expert for each case waiting in the matching step that the user may act
    on, maximising total fit with `kejiyun_match.assign` so that no expert gets more cases
    than their free capacity (capacity minus accepted open dockings), conflicts of interest
    and experts already asked are never proposed, and busy experts cost a little more
    (fair exposure: the same few do not take everything)."""
    # Only cases whose handling centre the user acts for (not those escalated away): the
    # same rule as `may_act`, applied in SQL before the limit.
    queue = jurisdiction_filter(
        work_queue(user=user, mine_only=False, step=Step.MATCHING),
        user=user,
        region_field="centre__region",
    )
    cases = list(queue[:limit])
    engine = experts_engine()
    fields = classes()
    queries = {case.pk: demand_to_query(case.demand, fields) for case in cases}
    vectors = query_vectors(
        kind=DEMANDS, texts={case.demand_id: queries[case.pk].text for case in cases}
    )
    asked = set(DockingRequest.objects.filter(case__in=cases).values_list("case_id", "expert_id"))
    scores: dict[str, dict[str, float]] = {}
    results: dict[tuple[str, str], Result] = {}
    for case in cases:
        row: dict[str, float] = {}
        vector = vectors.get(case.demand_id)
        for result in _search(engine, queries[case.pk], vector, candidates):
            expert_pk = pk_of(result.id)
            if result.explanation.conflict or (case.pk, expert_pk) in asked:
                continue
            row[result.id] = result.score
            results[(str(case.pk), result.id)] = result
        scores[str(case.pk)] = row
    expert_ids = {eid for row in scores.values() for eid in row}
    profiles = TalentProfile.objects.select_related("user", "region").in_bulk(
        [pk_of(eid) for eid in expert_ids]
    )
    stats = expert_stats(list(profiles))
    load = {expert_id(pk): stats.get(pk, ExpertStats()).load for pk in profiles}
    capacity = {
        expert_id(pk): max(0, (tp.capacity or 0) - load[expert_id(pk)])
        for pk, tp in profiles.items()
        if tp.user.is_active
    }
    chosen = assign(
        AssignmentProblem(
            scores=scores,
            required={case_key: 1 for case_key in scores},
            capacity=capacity,
            prior_load=load,
        )
    )
    chosen_for = {a.item_id: a.expert_id for a in chosen}  # one expert per case
    proposals = [  # in queue order: overdue first
        PlannedDocking(
            result=results[(str(case.pk), chosen_for[str(case.pk)])],
            case=case,
            profile=profiles[pk_of(chosen_for[str(case.pk)])],
        )
        for case in cases
        if str(case.pk) in chosen_for
    ]
    return DockingPlan(
        proposals=proposals,
        cases_considered=len(cases),
        cases_without_expert=len(cases) - len(proposals),
    )
