"""Engine.search: hybrid relevance, structured fit on top, and honest explanations."""

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kejiyun_match import (
    Engine,
    HashEmbedder,
    MatchQuery,
    Outcome,
    Profile,
    Result,
    Segmenter,
    Weights,
    is_reason_term,
)

CORPUS = {
    "tea": "茶叶加工技术与品质提升，名优绿茶机械化采摘",
    "tea2": "茶叶种植与病虫害绿色防控",
    "liquor": "白酒酿造工艺优化，窖池微生物与风味物质",
    "kiwi": "猕猴桃溃疡病防治与果园管理",
    "plc": "PLC 控制系统设计与工业机器人集成",
    "chip": "AI 芯片设计与嵌入式系统开发",
}


def _engine(embedder: HashEmbedder | None = None, **kwargs: Any) -> Engine:
    engine = Engine(embedder=embedder, **kwargs)
    engine.add(Profile(id=pid, text=text) for pid, text in CORPUS.items())
    return engine


def _ids(results: list[Result]) -> list[str]:
    return [r.id for r in results]


def test_the_profile_that_shares_the_most_terms_ranks_first() -> None:
    results = _engine().search(MatchQuery(text="茶叶加工"))
    assert _ids(results) == ["tea", "tea2"]
    assert [r.rank for r in results] == [1, 2]
    assert [r.kind for r in results] == ["expert", "expert"]
    assert results[0].explanation.relevance == 1.0
    assert results[1].explanation.relevance == 0.0
    assert results[0].score > results[1].score


def test_top_k_cuts_the_list() -> None:
    assert _ids(_engine().search(MatchQuery(text="茶叶加工"), top_k=1)) == ["tea"]


def test_a_query_with_nothing_in_common_finds_nothing_without_vectors() -> None:
    assert _engine().search(MatchQuery(text="汽车维修")) == []


def test_a_blank_query_finds_nothing_even_with_vectors() -> None:
    engine = _engine(HashEmbedder())
    assert engine.search(MatchQuery(text="")) == []
    assert engine.search(MatchQuery(text="   ")) == []


def test_an_empty_engine_finds_nothing() -> None:
    assert Engine(embedder=HashEmbedder()).search(MatchQuery(text="茶叶")) == []


def test_a_sole_candidate_gets_full_relevance() -> None:
    results = _engine().search(MatchQuery(text="白酒"))
    assert _ids(results) == ["liquor"]
    assert results[0].explanation.relevance == 1.0


def test_character_bigrams_find_a_need_segmented_differently() -> None:
    query = MatchQuery(text="控制系")
    assert Segmenter().terms("控制系") == ["控制", "系"]
    assert _ids(_engine().search(query)) == ["plc"]
    assert _engine(bigram_weight=0.0).search(query) == []


def test_dense_vectors_alone_still_rank_every_profile() -> None:
    embedder = HashEmbedder()
    engine = _engine(embedder)
    results = engine.search(MatchQuery(text="汽车维修"))
    assert sorted(_ids(results)) == sorted(CORPUS)
    query = embedder.embed_queries(["汽车维修"])[0]
    for result in results:
        doc = embedder.embed_documents([CORPUS[result.id]])[0]
        assert result.explanation.lexical == 0.0
        assert result.explanation.semantic == pytest.approx(float(doc @ query), abs=1e-6)
    assert results[0].explanation.relevance == 1.0
    assert results[-1].explanation.relevance == 0.0


def test_words_and_vectors_are_mixed_and_rescaled_to_zero_to_one() -> None:
    results = _engine(HashEmbedder()).search(MatchQuery(text="茶叶加工"))
    assert _ids(results)[:2] == ["tea", "tea2"]
    assert len(results) == len(CORPUS)
    relevances = [r.explanation.relevance for r in results]
    assert relevances == sorted(relevances, reverse=True)
    assert relevances[0] == 1.0
    assert relevances[-1] == 0.0
    assert results[0].explanation.lexical > results[1].explanation.lexical > 0
    assert results[2].explanation.lexical == 0.0


def test_candidates_bound_how_many_profiles_are_considered() -> None:
    engine = _engine(weights=Weights(candidates=1))
    assert _ids(engine.search(MatchQuery(text="茶叶加工"), top_k=10)) == ["tea"]


def test_precomputed_vectors_are_used_instead_of_the_embedder() -> None:
    engine = Engine(embedder=HashEmbedder(dim=2))
    engine.add(
        [Profile(id="x", text="茶叶"), Profile(id="y", text="白酒")],
        vectors=np.array([[1, 0], [0, 1]], dtype=np.float32),
    )
    query = HashEmbedder(dim=2).embed_queries(["茶叶"])[0]
    semantic = {r.id: r.explanation.semantic for r in engine.search(MatchQuery(text="茶叶"))}
    assert semantic == {"x": pytest.approx(float(query[0])), "y": pytest.approx(float(query[1]))}


def test_adding_needs_one_vector_per_profile() -> None:
    engine = Engine(embedder=HashEmbedder(dim=2))
    with pytest.raises(ValueError, match="one vector per profile is needed"):
        engine.add([Profile(id="x", text="茶叶")], vectors=np.zeros((2, 2), np.float32))


def test_large_batches_are_embedded_in_chunks_with_the_same_vectors() -> None:
    embedder = HashEmbedder()
    texts = [f"茶叶加工第{i}号技术" for i in range(70)]
    engine = Engine(embedder=embedder)
    engine.add(Profile(id=str(i), text=t) for i, t in enumerate(texts))
    assert len(engine) == 70
    assert engine._vectors is not None
    assert np.allclose(
        np.vstack([engine._vectors.vector(i) for i in range(70)]),
        embedder.embed_documents(texts),
    )


def test_len_contains_and_profile_describe_what_is_stored() -> None:
    engine = _engine()
    assert len(engine) == len(CORPUS)
    assert "tea" in engine
    assert "coffee" not in engine
    assert 42 not in engine
    stored = engine.profile("tea")
    assert stored == Profile(id="tea", text="")
    with pytest.raises(KeyError):
        engine.profile("coffee")


def test_the_score_is_relevance_plus_the_weighted_structured_parts() -> None:
    weights = Weights(structured_cap=10.0)  # uncapped here: the cap has its own test
    engine = Engine(weights=weights)
    engine.add(
        [
            Profile(
                id="e1",
                text="茶叶加工",
                region_path="510000/510100/510104/",
                disciplines=("茶学", "食品科学"),
                industries=("15/153/1530",),
                service_modes=("现场",),
                verified=True,
                capacity=4,
                load=1,
                closed_cases=5,
                mean_rating=4.0,
            )
        ]
    )
    engine.record_feedback(expert_id="e1", kind="茶叶", outcome=Outcome.SOLVED)
    query = MatchQuery(
        text="茶叶加工",
        region_path="510000/510100/510107/",
        disciplines=("茶学", "园艺学"),
        service_modes=("现场", "远程"),
        industries=("15/152",),
        category="茶叶",
    )
    [result] = engine.search(query)
    ex = result.explanation
    assert ex.region_tier == "city"
    assert ex.region_fit == 0.7
    assert ex.shared_disciplines == ("茶学",)
    # disciplines 1 of 2; industries share "15" of three parts; service modes 1 of 2
    assert ex.field_fit == (1 / 2 + 1 / 3 + 1 / 2) / 3
    assert ex.availability == 0.75
    assert ex.track_record == (1.0 - math.exp(-1.0)) * (4.0 / 5.0)
    assert ex.feedback == 0.25
    assert ex.conflict == ""
    assert result.score == pytest.approx(
        ex.relevance
        + weights.region * ex.region_fit
        + weights.field * ex.field_fit
        + weights.verified * 1.0
        + weights.availability * ex.availability
        + weights.track_record * ex.track_record
        + weights.feedback * ex.feedback
    )


def test_structured_parts_default_to_neutral_values() -> None:
    engine = Engine()
    engine.add([Profile(id="e1", text="茶叶加工")])
    [result] = engine.search(MatchQuery(text="茶叶加工", category="茶叶"))
    ex = result.explanation
    assert (ex.region_tier, ex.region_fit) == ("unknown", 0.0)
    assert ex.field_fit == 0.0
    assert ex.shared_disciplines == ()
    assert ex.availability == 1.0
    assert ex.track_record == 0.0
    assert ex.feedback == 0.0
    assert result.score == 1.0 + Weights().availability


def test_unrated_experts_count_as_three_and_a_half_stars_and_overload_as_unavailable() -> None:
    engine = Engine()
    engine.add([Profile(id="e1", text="茶叶", closed_cases=10, capacity=2, load=3)])
    [result] = engine.search(MatchQuery(text="茶叶", service_modes=("远程",)))
    assert result.explanation.track_record == (1.0 - math.exp(-2.0)) * (3.5 / 5.0)
    assert result.explanation.availability == 0.0
    assert result.explanation.field_fit == 0.0


def test_among_equally_relevant_profiles_ties_break_by_id() -> None:
    engine = Engine()
    engine.add(Profile(id=pid, text="茶叶加工") for pid in ("c", "a", "b"))
    results = engine.search(MatchQuery(text="茶叶加工"))
    assert _ids(results) == ["a", "b", "c"]
    assert len({r.score for r in results}) == 1


def test_matched_terms_carry_their_idf_heaviest_first() -> None:
    engine = _engine()
    [tea, tea2] = engine.search(MatchQuery(text="茶叶加工"))
    assert [t.term for t in tea.explanation.matched_terms] == ["加工", "茶叶"]
    assert [t.term for t in tea2.explanation.matched_terms] == ["茶叶"]
    for result in (tea, tea2):
        for tw in result.explanation.matched_terms:
            assert tw.weight == round(engine._lexical.idf(tw.term), 4)
    assert tea.explanation.matched_terms[0].weight > tea.explanation.matched_terms[1].weight


def test_a_profile_found_only_through_bigrams_explains_no_terms() -> None:
    results = _engine().search(MatchQuery(text="机器人 控制系统"))
    assert _ids(results) == ["plc", "chip"]
    assert results[1].explanation.matched_terms == ()
    assert results[1].explanation.lexical > 0


# -- explanations name only terms that really matched ----------------------------------------
EXPLAIN_CORPUS = {
    **CORPUS,
    "soil": "土壤改良与有机肥施用技术",
    "drone": "植保无人机飞防作业与农药减量",
    "fish": "稻渔综合种养与水产养殖技术",
}
QUERY_WORDS = sorted(
    {term for text in EXPLAIN_CORPUS.values() for term in Segmenter().terms(text)}
    | {"汽车", "维修", "的", "研究", "技术开发", "茶", "系统集成", "5g", "，", " "}
)


@pytest.fixture(scope="module")
def explain_engine() -> Iterator[Engine]:
    engine = Engine(embedder=HashEmbedder(), vocabulary=["稻渔综合种养"])
    engine.add(Profile(id=pid, text=text) for pid, text in EXPLAIN_CORPUS.items())
    yield engine


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.sampled_from(QUERY_WORDS), min_size=1, max_size=6))
def test_explanations_name_only_terms_found_in_both_query_and_document(
    explain_engine: Engine, words: list[str]
) -> None:
    engine = explain_engine
    text = "".join(words)
    query_terms = engine.query_terms(text)
    results = engine.search(MatchQuery(text=text), top_k=len(EXPLAIN_CORPUS))
    sharing = {
        pid
        for pid, doc in EXPLAIN_CORPUS.items()
        if set(query_terms) & set(engine.segmenter.terms(doc))
    }
    assert sharing <= {r.id for r in results}  # so the loop below checks every such profile
    for result in results:
        doc_terms = engine.segmenter.terms(EXPLAIN_CORPUS[result.id])
        matched = [tw.term for tw in result.explanation.matched_terms]
        assert len(matched) == len(set(matched))
        shown = {t for t in set(query_terms) & set(doc_terms) if is_reason_term(t)}
        assert set(matched) == shown
        stored = engine._lexical.stored_text(engine._slots[result.id])
        assert stored == EXPLAIN_CORPUS[result.id]
        if matched:
            assert result.explanation.lexical > 0
