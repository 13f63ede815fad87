"""Batch assignment: items (demands, applications) to experts, best total fit.

Solved as an integer programme with scipy's HiGHS (`scipy.optimize.milp`). Variables are
one per allowed (item, expert) pair plus one per unit of each expert's capacity; the
capacity units carry a rising cost (`exposure_penalty` times how many the expert already
has), which spreads work so that the same few experts are not always chosen. Each item
gets at most `required[item]` experts, each expert at most `capacity[expert]` items, and a
forbidden pair (a conflict of interest) has no variable at all, so it can never be chosen.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from kejiyun_match._model import Assignment, AssignmentProblem

# Filling a required place is worth more than any difference in fit, so the solver never
# leaves a place empty to chase a slightly better pair elsewhere.
_COVERAGE_BONUS = 10.0


def assign(problem: AssignmentProblem) -> list[Assignment]:
    pairs = [
        (item, expert, score)
        for item, row in sorted(problem.scores.items())
        for expert, score in sorted(row.items())
        if (item, expert) not in problem.forbidden
        and problem.required.get(item, 0) > 0
        and problem.capacity.get(expert, 0) > 0
    ]
    if not pairs:
        return []
    experts = sorted({expert for _, expert, _ in pairs})
    items = sorted({item for item, _, _ in pairs})
    slots: list[tuple[str, int]] = []
    for expert in experts:
        already = problem.prior_load.get(expert, 0)
        slots.extend((expert, already + unit) for unit in range(problem.capacity[expert]))

    n_pairs, n_slots = len(pairs), len(slots)
    # milp minimises: negate the fit; capacity units cost exposure_penalty * position.
    cost = np.concatenate(
        [
            np.array([-(score + _COVERAGE_BONUS) for _, _, score in pairs]),
            np.array([problem.exposure_penalty * position for _, position in slots]),
        ]
    )

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    item_row = {item: i for i, item in enumerate(items)}
    for col, (item, _, _) in enumerate(pairs):
        rows.append(item_row[item])
        cols.append(col)
        vals.append(1.0)
    for item in items:
        lower.append(0.0)
        upper.append(float(problem.required[item]))
    # For each expert: pairs using the expert minus their capacity units used == 0.
    base = len(items)
    expert_row = {expert: base + j for j, expert in enumerate(experts)}
    for col, (_, expert, _) in enumerate(pairs):
        rows.append(expert_row[expert])
        cols.append(col)
        vals.append(1.0)
    for k, (expert, _) in enumerate(slots):
        rows.append(expert_row[expert])
        cols.append(n_pairs + k)
        vals.append(-1.0)
    for _ in experts:
        lower.append(0.0)
        upper.append(0.0)

    matrix = coo_matrix(
        (vals, (rows, cols)), shape=(len(items) + len(experts), n_pairs + n_slots)
    ).tocsr()
    result = milp(
        c=cost,
        constraints=LinearConstraint(matrix, np.array(lower), np.array(upper)),
        integrality=np.ones(n_pairs + n_slots),
        bounds=Bounds(0, 1),
    )
    if result.x is None:  # pragma: no cover - the problem is always feasible (all zeros)
        raise RuntimeError(f"assignment solver failed: {result.message}")
    chosen = [
        Assignment(item_id=item, expert_id=expert, score=score)
        for (item, expert, score), x in zip(pairs, result.x[:n_pairs], strict=True)
        if x > 0.5
    ]
    return sorted(chosen, key=lambda a: (a.item_id, -a.score, a.expert_id))
