"""Batch assignment: conflicts never appear, capacities never overflow, work is shared."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from kejiyun_match import Assignment, AssignmentProblem, assign

ITEMS = ["i0", "i1", "i2", "i3", "i4"]
EXPERTS = ["e0", "e1", "e2", "e3"]


@st.composite
def problems(draw: st.DrawFn, *, ample: bool = False) -> AssignmentProblem:
    items = draw(st.lists(st.sampled_from(ITEMS), min_size=1, max_size=5, unique=True))
    experts = draw(st.lists(st.sampled_from(EXPERTS), min_size=1, max_size=4, unique=True))
    score = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
    scores = {
        item: draw(st.dictionaries(st.sampled_from(experts), score, max_size=len(experts)))
        for item in items
    }
    required = {item: draw(st.integers(0, 3)) for item in items}
    if ample:
        capacity = {e: draw(st.integers(len(items), len(items) + 2)) for e in experts}
    else:
        capacity = {e: draw(st.integers(0, 3)) for e in experts}
    pairs = [(i, e) for i, row in scores.items() for e in row]
    forbidden = frozenset(draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else [])
    return AssignmentProblem(
        scores=scores,
        required=required,
        capacity=capacity,
        forbidden=forbidden,
        exposure_penalty=draw(st.sampled_from([0.0, 0.05, 0.3])),
        prior_load={e: draw(st.integers(0, 3)) for e in experts},
    )


def _check_feasible(problem: AssignmentProblem, chosen: list[Assignment]) -> None:
    pairs = [(a.item_id, a.expert_id) for a in chosen]
    assert len(pairs) == len(set(pairs))
    for a in chosen:
        assert (a.item_id, a.expert_id) not in problem.forbidden
        assert a.score == problem.scores[a.item_id][a.expert_id]
    for expert, n in Counter(a.expert_id for a in chosen).items():
        assert n <= problem.capacity.get(expert, 0)
    for item, n in Counter(a.item_id for a in chosen).items():
        assert n <= problem.required.get(item, 0)
    assert chosen == sorted(chosen, key=lambda a: (a.item_id, -a.score, a.expert_id))


@settings(max_examples=150, deadline=None)
@given(problem=problems())
def test_assignments_never_hold_a_conflict_or_exceed_a_capacity_or_a_requirement(
    problem: AssignmentProblem,
) -> None:
    _check_feasible(problem, assign(problem))


@settings(max_examples=100, deadline=None)
@given(problem=problems(ample=True))
def test_with_ample_capacity_every_required_place_that_can_be_filled_is_filled(
    problem: AssignmentProblem,
) -> None:
    chosen = assign(problem)
    _check_feasible(problem, chosen)
    per_item = Counter(a.item_id for a in chosen)
    for item, row in problem.scores.items():
        allowed = [e for e in row if (item, e) not in problem.forbidden]
        assert per_item[item] == min(problem.required[item], len(allowed))


def test_the_best_pairs_win_when_capacity_is_short() -> None:
    problem = AssignmentProblem(
        scores={"i1": {"a": 0.9, "b": 0.2}, "i2": {"a": 0.8, "b": 0.7}},
        required={"i1": 1, "i2": 1},
        capacity={"a": 1, "b": 1},
        exposure_penalty=0.0,
    )
    assert assign(problem) == [Assignment("i1", "a", 0.9), Assignment("i2", "b", 0.7)]


def test_filling_a_place_beats_a_better_fit_elsewhere() -> None:
    problem = AssignmentProblem(
        scores={"i1": {"a": 1.0, "b": 0.01}, "i2": {"a": 0.5}},
        required={"i1": 1, "i2": 1},
        capacity={"a": 1, "b": 1},
        exposure_penalty=0.0,
    )
    assert assign(problem) == [Assignment("i1", "b", 0.01), Assignment("i2", "a", 0.5)]


def test_a_forbidden_pair_is_never_chosen_even_when_it_is_the_best() -> None:
    problem = AssignmentProblem(
        scores={"i1": {"a": 1.0, "b": 0.1}},
        required={"i1": 1},
        capacity={"a": 5, "b": 5},
        forbidden=frozenset({("i1", "a")}),
    )
    assert assign(problem) == [Assignment("i1", "b", 0.1)]


def test_an_item_needing_several_experts_gets_its_best_ones() -> None:
    problem = AssignmentProblem(
        scores={"i1": {"a": 0.9, "b": 0.8, "c": 0.1}},
        required={"i1": 2},
        capacity={"a": 1, "b": 1, "c": 1},
    )
    assert assign(problem) == [Assignment("i1", "a", 0.9), Assignment("i1", "b", 0.8)]


def test_nothing_to_assign_gives_no_assignments() -> None:
    assert assign(AssignmentProblem(scores={}, required={}, capacity={})) == []
    no_need = AssignmentProblem(scores={"i1": {"a": 1.0}}, required={"i1": 0}, capacity={"a": 1})
    assert assign(no_need) == []
    no_room = AssignmentProblem(scores={"i1": {"a": 1.0}}, required={"i1": 1}, capacity={})
    assert assign(no_room) == []
    all_forbidden = AssignmentProblem(
        scores={"i1": {"a": 1.0}},
        required={"i1": 1},
        capacity={"a": 1},
        forbidden=frozenset({("i1", "a")}),
    )
    assert assign(all_forbidden) == []


# -- fair exposure --------------------------------------------------------------------------
def _two_items_two_experts(penalty: float, prior_load: dict[str, int] | None = None) -> list[str]:
    problem = AssignmentProblem(
        scores={"i1": {"a": 1.0, "b": 0.99}, "i2": {"a": 1.0, "b": 0.99}},
        required={"i1": 1, "i2": 1},
        capacity={"a": 2, "b": 2},
        exposure_penalty=penalty,
        prior_load=prior_load or {},
    )
    return [a.expert_id for a in assign(problem)]


def test_without_an_exposure_penalty_the_best_expert_takes_everything() -> None:
    assert _two_items_two_experts(0.0) == ["a", "a"]


def test_an_exposure_penalty_makes_two_equally_good_experts_share_the_work() -> None:
    assert sorted(_two_items_two_experts(0.05)) == ["a", "b"]
    tied = AssignmentProblem(
        scores={f"i{n}": {"a": 0.8, "b": 0.8} for n in range(4)},
        required={f"i{n}": 1 for n in range(4)},
        capacity={"a": 4, "b": 4},
        exposure_penalty=0.05,
    )
    assert Counter(a.expert_id for a in assign(tied)) == {"a": 2, "b": 2}


def test_work_already_held_counts_against_an_expert() -> None:
    problem = AssignmentProblem(
        scores={"i1": {"a": 1.0, "b": 0.99}},
        required={"i1": 1},
        capacity={"a": 1, "b": 1},
        exposure_penalty=0.05,
        prior_load={"a": 3},
    )
    assert assign(problem) == [Assignment("i1", "b", 0.99)]
    assert _two_items_two_experts(0.05, {"a": 0, "b": 5}) == ["a", "a"]
