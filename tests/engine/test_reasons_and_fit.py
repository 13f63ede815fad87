"""Reasons a person would accept, field fit over classification paths, the structured-fit
cap, the shown share, and vectors handed in from a background job."""

from pathlib import Path

import numpy as np
import pytest

from kejiyun_match import (
    BOILERPLATE,
    STOPWORDS,
    E5Embedder,
    Engine,
    HashEmbedder,
    MatchQuery,
    Profile,
    Weights,
    is_reason_term,
)

PLACES = ["双流区", "双流", "眉山市", "眉山", "东坡区"]


@pytest.mark.parametrize(
    "term",
    ["9", "2024", "2024年", "30%", "袋", "a", "5g", "方案", "问题", "企业", "技术", "的", "研究"],
)
def test_digits_single_characters_stop_words_and_boilerplate_are_never_reasons(
    term: str,
) -> None:
    assert not is_reason_term(term)


def test_place_names_are_not_reasons_but_technical_words_are() -> None:
    places = frozenset(PLACES)
    assert not is_reason_term("双流", places)
    assert is_reason_term("乳酸菌", places)
    assert is_reason_term("plc", places)
    assert is_reason_term("胀袋")
    assert {"方案", "问题", "企业", "技术", "需要", "解决", "提高", "目前", "现状", "希望"} <= (
        BOILERPLATE | STOPWORDS
    )


def _pickle_engine(**kwargs: object) -> Engine:
    engine = Engine(place_names=PLACES, **kwargs)  # type: ignore[arg-type]
    engine.add(
        [
            Profile(id="food", text="泡菜发酵工艺，乳酸菌菌种选育，包装食品胀袋与杀菌"),
            Profile(id="official", text="双流区市场监管局，负责企业质量技术监督与方案审查"),
            Profile(id="manager", text="企业管理咨询，提供技术方案与解决方案，提高企业效率"),
        ]
    )
    return engine


def test_place_names_and_boilerplate_neither_score_nor_show() -> None:
    engine = _pickle_engine()
    text = "双流区泡菜企业：泡菜包装后胀袋问题，希望专家提供解决方案，提高技术水平，9个月"
    assert "双流区" not in engine.query_terms(text)
    assert "方案" not in engine.query_terms(text)
    results = engine.search(MatchQuery(text=text), top_k=3)
    assert results[0].id == "food"
    for result in results:
        for tw in result.explanation.matched_terms:
            assert is_reason_term(tw.term, engine.place_names)
    shown = {tw.term for tw in results[0].explanation.matched_terms}
    assert "泡菜" in shown
    # the official shares only the place and boilerplate: nothing of it is a reason
    official = next((r for r in results if r.id == "official"), None)
    assert official is None or official.explanation.matched_terms == ()


def test_a_query_made_only_of_place_names_finds_nothing() -> None:
    engine = _pickle_engine()
    assert engine.search(MatchQuery(text="双流区、眉山")) == []


def test_an_engine_without_place_names_keeps_the_text_whole() -> None:
    engine = Engine()
    engine.add_place_names(["x"])  # too short to be a place: ignored
    assert engine.place_names == frozenset()
    engine.add([Profile(id="a", text="双流泡菜")])
    assert [r.id for r in engine.search(MatchQuery(text="双流泡菜"))] == ["a"]


def test_field_fit_follows_classification_paths() -> None:
    engine = Engine()
    engine.add(
        [
            Profile(id="same", text="发酵", disciplines=("C20/C2003/C200302",)),
            Profile(id="near", text="发酵", disciplines=("C20/C2003",)),
            Profile(id="far", text="发酵", disciplines=("C21/C2101",)),
            Profile(id="ind", text="发酵", industries=("13/137/1371",)),
        ]
    )
    query = MatchQuery(text="发酵", disciplines=("C20/C2003/C200302",), industries=("13/137",))
    fits = {r.id: r.explanation.field_fit for r in engine.search(query)}
    assert fits["same"] == pytest.approx((1.0 + 0.0) / 2)
    assert fits["near"] == pytest.approx((2 / 3 + 0.0) / 2)
    assert fits["far"] == 0.0
    assert fits["ind"] == pytest.approx((0.0 + 2 / 3) / 2)


def test_structured_fit_never_pushes_a_clearly_better_text_match_out_of_the_top_ten() -> None:
    """One profile matches the need far better in words but has no structured fit at all;
    twenty weak ones sit in the same county, share the field, are verified and rated."""
    engine = Engine()
    here = "510000/510100/510116/"
    weak = [
        Profile(
            id=f"weak{i}",
            text=f"食品加工 设备维护 编号{i}",
            region_path=here,
            disciplines=("C20/C2003/C200302",),
            industries=("13/137/1371",),
            verified=True,
            capacity=5,
            closed_cases=20,
            mean_rating=5.0,
        )
        for i in range(20)
    ]
    strong = Profile(id="strong", text="泡菜 乳酸菌 发酵 胀袋 杀菌 包装 泡菜 乳酸菌 胀袋")
    engine.add([*weak, strong])
    query = MatchQuery(
        text="泡菜包装后胀袋，乳酸菌发酵杀菌，食品加工",
        region_path=here,
        disciplines=("C20/C2003/C200302",),
        industries=("13/137/1371",),
    )
    results = engine.search(query, top_k=10)
    by_id = {r.id: r for r in results}
    assert "strong" in by_id
    assert by_id["strong"].explanation.relevance == 1.0
    top_weak = max(r.explanation.relevance for r in results if r.id != "strong")
    assert 1.0 - top_weak > Weights().structured_cap  # clearly better in words
    # structured fit still reorders the close weak candidates among themselves
    assert all(r.explanation.field_fit == 1.0 for r in results if r.id != "strong")


def test_structured_fit_is_capped() -> None:
    weights = Weights(region=5.0, structured_cap=0.2)
    engine = Engine(weights=weights)
    here = "510000/510100/510116/"
    engine.add([Profile(id="a", text="茶叶", region_path=here)])
    [result] = engine.search(MatchQuery(text="茶叶", region_path=here))
    assert result.score == pytest.approx(result.explanation.relevance + 0.2)
    assert weights.ceiling == pytest.approx(1.2)


def test_the_shown_share_never_rises_down_the_list() -> None:
    engine = Engine(embedder=HashEmbedder())
    texts = ["茶叶加工", "茶叶种植", "绿茶采摘机械", "白酒酿造", "茶园土壤", "果树修剪"]
    engine.add(Profile(id=str(i), text=t, verified=i % 2 == 0) for i, t in enumerate(texts))
    results = engine.search(MatchQuery(text="茶叶加工与绿茶采摘"), top_k=6)
    shares = [r.share for r in results]
    assert shares == sorted(shares, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in shares)


def test_vectors_handed_in_later_and_a_query_vector_given() -> None:
    """The platform's way: the engine never embeds; vectors arrive from a background job;
    profiles without a vector are ranked on their words alone."""
    hashed = HashEmbedder()
    engine = Engine(embedder=hashed, auto_embed=False)
    texts = {"a": "茶叶加工技术", "b": "茶园病虫害防治", "c": "白酒酿造"}
    engine.add(Profile(id=k, text=v) for k, v in texts.items())
    assert not engine.has_vector("a") and not engine.has_vector("nobody")
    query = MatchQuery(text="茶叶加工")
    lexical_only = engine.search(query)
    assert {r.explanation.matched_by for r in lexical_only} == {"lexical"}
    assert lexical_only[0].explanation.semantic == 0.0

    engine.put_vectors(["a", "b"], hashed.embed_documents([texts["a"], texts["b"]]))
    assert engine.has_vector("a") and not engine.has_vector("c")
    qvec = hashed.embed_queries([query.text])[0]
    results = engine.search(query, query_vector=qvec)
    kinds = {r.id: r.explanation.matched_by for r in results}
    assert kinds["a"] == "both"
    assert results[0].id == "a"
    # without the query vector nothing is embedded: words only again
    assert {r.explanation.matched_by for r in engine.search(query)} == {"lexical"}
    # a result found by meaning alone has no words to show
    only_meaning = engine.search(MatchQuery(text="酿"), query_vector=qvec)
    assert any(r.explanation.matched_by == "semantic" for r in only_meaning)

    # re-adding a changed profile without its vector drops the stale one
    engine.add([Profile(id="a", text="茶叶深加工")])
    assert not engine.has_vector("a")
    with pytest.raises(ValueError, match="one vector"):
        engine.put_vectors(["a"], hashed.embed_documents(["x", "y"]))


def test_put_vectors_needs_an_embedder() -> None:
    engine = Engine()
    engine.add([Profile(id="a", text="茶叶")])
    with pytest.raises(ValueError, match="no embedder"):
        engine.put_vectors(["a"], np.zeros((1, 4), dtype=np.float32))


def test_place_names_and_auto_embed_survive_save_and_load(tmp_path: Path) -> None:
    engine = Engine(embedder=HashEmbedder(), auto_embed=False, place_names=PLACES)
    engine.add([Profile(id="a", text="泡菜发酵", industries=("13/137",))])
    engine.save(tmp_path / "idx")
    loaded = Engine.load(tmp_path / "idx", embedder=HashEmbedder())
    assert loaded.place_names == engine.place_names
    assert loaded.auto_embed is False
    assert loaded.profile("a").industries == ("13/137",)


def test_the_e5_model_loads_only_when_something_is_embedded() -> None:
    embedder = E5Embedder()
    assert embedder._loaded is None
    engine = Engine(embedder=embedder, auto_embed=False)
    engine.add([Profile(id="a", text="茶叶")])
    engine.search(MatchQuery(text="茶叶"))
    assert embedder._loaded is None
