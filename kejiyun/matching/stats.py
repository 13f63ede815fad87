"""What the platform knows about an expert's work, for ranking: load, track record, feedback.

Read from docking requests and cases (`kejiyun.cases`): an accepted docking on an open case
counts towards the expert's load; on a case closed as solved it is a solved engagement;
the rating the enterprise gave when it confirmed the outcome (solved or not) counts towards
the expert's mean rating. Declines and acceptances
become engine feedback for the demand's category, so an expert who declined a kind of
demand ranks lower for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet

from kejiyun.cases.models import Case, DockingRequest, Outcome, Step
from kejiyun_match import Outcome as Feedback


@dataclass(frozen=True)
class ExpertStats:
    load: int = 0
    closed_cases: int = 0
    mean_rating: float | None = None


def _dockings(expert_pks: Iterable[int] | None) -> QuerySet[DockingRequest]:
    qs = DockingRequest.objects.all()
    if expert_pks is not None:
        qs = qs.filter(expert_id__in=list(expert_pks))
    return qs


def expert_stats(expert_pks: Iterable[int] | None = None) -> dict[int, ExpertStats]:
    """Load and track record per expert id (all experts with any docking when None)."""
    solved = Q(case__step=Step.CLOSED, case__outcome=Outcome.SOLVED)
    rows = (
        _dockings(expert_pks)
        .filter(status=DockingRequest.Status.ACCEPTED)
        .values("expert_id")
        .annotate(
            load=Count("id", filter=Case.open_q(via="case__")),
            closed=Count("id", filter=solved),
            # Every rating the enterprise gave on confirming the outcome, solved or not.
            rating=Avg("case__rating", filter=Q(case__step=Step.CLOSED)),
        )
    )
    return {
        row["expert_id"]: ExpertStats(
            load=row["load"],
            closed_cases=row["closed"],
            mean_rating=float(row["rating"]) if row["rating"] is not None else None,
        )
        for row in rows
    }


def expert_feedback(
    expert_pks: Iterable[int] | None = None,
) -> dict[int, list[tuple[str, Feedback]]]:
    """Every expert's answers to docking requests, as (demand category, outcome) pairs.

    Experts named in `expert_pks` appear even with no answers, so their old records can be
    cleared."""
    events: dict[int, list[tuple[str, Feedback]]] = defaultdict(list)
    if expert_pks is not None:
        for pk in expert_pks:
            events[pk] = []
    rows = (
        _dockings(expert_pks)
        # Only the expert's own answers: a request unanswered (sent, or closed with its case),
        # an application or an enterprise's request that staff have not decided, or refused,
        # says nothing about the expert.
        .filter(status__in=[DockingRequest.Status.ACCEPTED, DockingRequest.Status.DECLINED])
        .values_list("expert_id", "status", "case__demand__category", "case__step", "case__outcome")
        .order_by("id")
    )
    for expert, status, category, step, outcome in rows:
        if status == DockingRequest.Status.DECLINED:
            events[expert].append((category, Feedback.DECLINED))
        elif step == Step.CLOSED and outcome == Outcome.SOLVED:
            events[expert].append((category, Feedback.SOLVED))
        else:
            events[expert].append((category, Feedback.ACCEPTED))
    return dict(events)
