"""Feedback: declines push an expert down for that kind of demand; solved cases lift them."""

from pathlib import Path

import pytest

from kejiyun_match import Engine, FeedbackStore, MatchQuery, Outcome, Profile


def _store(*events: tuple[str, str, Outcome]) -> FeedbackStore:
    store = FeedbackStore()
    for expert_id, kind, outcome in events:
        store.record(expert_id=expert_id, kind=kind, outcome=outcome)
    return store


def test_no_record_scores_zero() -> None:
    assert FeedbackStore().score(expert_id="e1", kind="茶叶") == 0.0


def test_each_outcome_moves_the_score_by_the_documented_formula() -> None:
    assert _store(("e1", "茶叶", Outcome.DECLINED)).score(expert_id="e1", kind="茶叶") == -0.5
    assert _store(("e1", "茶叶", Outcome.SOLVED)).score(expert_id="e1", kind="茶叶") == 0.25
    accepted = _store(("e1", "茶叶", Outcome.ACCEPTED)).score(expert_id="e1", kind="茶叶")
    assert accepted == 0.2 * 1 / 3


def test_the_effect_saturates_and_outcomes_combine() -> None:
    declined = [("e1", "茶叶", Outcome.DECLINED)] * 3
    store = _store(*declined, ("e1", "茶叶", Outcome.SOLVED), ("e1", "茶叶", Outcome.ACCEPTED))
    assert store.score(expert_id="e1", kind="茶叶") == 0.5 * 1 / 2 + 0.2 * 1 / 3 - 3 / 4
    many = _store(*[("e1", "茶叶", Outcome.DECLINED)] * 99)
    assert many.score(expert_id="e1", kind="茶叶") == -0.99
    assert many.score(expert_id="e1", kind="茶叶") > -1.0


def test_feedback_is_kept_per_expert_and_kind() -> None:
    store = _store(("e1", "茶叶", Outcome.DECLINED))
    assert store.score(expert_id="e1", kind="白酒") == 0.0
    assert store.score(expert_id="e2", kind="茶叶") == 0.0


def test_forget_drops_every_kind_of_one_expert_only() -> None:
    store = _store(
        ("e1", "茶叶", Outcome.DECLINED),
        ("e1", "白酒", Outcome.SOLVED),
        ("e2", "茶叶", Outcome.SOLVED),
    )
    store.forget("e1")
    store.forget("nobody")
    assert store.score(expert_id="e1", kind="茶叶") == 0.0
    assert store.score(expert_id="e1", kind="白酒") == 0.0
    assert store.score(expert_id="e2", kind="茶叶") == 0.25


def test_the_store_round_trips_through_a_file(tmp_path: Path) -> None:
    store = _store(
        ("e2", "茶叶", Outcome.SOLVED),
        ("e1", "白酒", Outcome.DECLINED),
        ("e1", "白酒", Outcome.ACCEPTED),
    )
    store.save(tmp_path / "feedback.json")
    assert "白酒" in (tmp_path / "feedback.json").read_text(encoding="utf-8")
    loaded = FeedbackStore.load(tmp_path / "feedback.json")
    assert loaded == store
    assert loaded.score(expert_id="e1", kind="白酒") == store.score(expert_id="e1", kind="白酒")


def test_an_empty_store_round_trips(tmp_path: Path) -> None:
    FeedbackStore().save(tmp_path / "f.json")
    assert FeedbackStore.load(tmp_path / "f.json") == FeedbackStore()


# -- through the engine ---------------------------------------------------------------------
def _three_equal_experts() -> Engine:
    engine = Engine()
    engine.add(Profile(id=pid, text="茶叶加工与白酒酿造") for pid in ("e1", "e2", "e3"))
    return engine


def _order(engine: Engine, category: str) -> list[str]:
    query = MatchQuery(text="茶叶加工 白酒酿造", category=category)
    return [r.id for r in engine.search(query)]


def test_an_expert_who_declined_a_kind_ranks_lower_for_that_kind_only() -> None:
    engine = _three_equal_experts()
    assert _order(engine, "茶叶") == ["e1", "e2", "e3"]
    engine.record_feedback(expert_id="e1", kind="茶叶", outcome=Outcome.DECLINED)
    assert _order(engine, "茶叶") == ["e2", "e3", "e1"]
    assert _order(engine, "白酒") == ["e1", "e2", "e3"]
    assert _order(engine, "") == ["e1", "e2", "e3"]


def test_an_expert_who_solved_a_kind_ranks_higher_for_it() -> None:
    engine = _three_equal_experts()
    engine.record_feedback(expert_id="e3", kind="茶叶", outcome=Outcome.SOLVED)
    engine.record_feedback(expert_id="e2", kind="茶叶", outcome=Outcome.ACCEPTED)
    assert _order(engine, "茶叶") == ["e3", "e2", "e1"]
    assert _order(engine, "白酒") == ["e1", "e2", "e3"]
    results = engine.search(MatchQuery(text="茶叶加工", category="茶叶"))
    assert [r.explanation.feedback for r in results] == [0.25, pytest.approx(0.2 / 3), 0.0]


def test_without_a_category_feedback_is_not_consulted() -> None:
    engine = _three_equal_experts()
    engine.record_feedback(expert_id="e1", kind="", outcome=Outcome.DECLINED)
    assert _order(engine, "") == ["e1", "e2", "e3"]
    assert {r.explanation.feedback for r in engine.search(MatchQuery(text="茶叶"))} == {0.0}


def test_deleting_a_profile_forgets_its_feedback() -> None:
    engine = _three_equal_experts()
    engine.record_feedback(expert_id="e1", kind="茶叶", outcome=Outcome.DECLINED)
    engine.record_feedback(expert_id="e2", kind="茶叶", outcome=Outcome.DECLINED)
    engine.delete(["e1"])
    assert engine.feedback.score(expert_id="e1", kind="茶叶") == 0.0
    assert engine.feedback.score(expert_id="e2", kind="茶叶") == -0.5
    engine.add([Profile(id="e1", text="茶叶加工与白酒酿造")])
    assert _order(engine, "茶叶") == ["e1", "e3", "e2"]
