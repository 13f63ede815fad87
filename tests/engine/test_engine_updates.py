"""An update or a delete is visible to the very next query."""

import pytest

from kejiyun_match import Engine, HashEmbedder, MatchQuery, Profile


@pytest.mark.parametrize("embedder", [None, HashEmbedder()], ids=["lexical", "hybrid"])
def test_an_updated_text_is_found_by_its_new_words_and_not_its_old(
    embedder: HashEmbedder | None,
) -> None:
    engine = Engine(embedder=embedder)
    engine.add([Profile(id="e1", text="茶叶加工技术"), Profile(id="e2", text="白酒酿造工艺")])
    assert engine.search(MatchQuery(text="茶叶加工"))[0].id == "e1"
    engine.add([Profile(id="e1", text="猕猴桃溃疡病防治")])
    assert len(engine) == 2
    new = engine.search(MatchQuery(text="猕猴桃溃疡病"))
    assert new[0].id == "e1"
    assert [t.term for t in new[0].explanation.matched_terms] == ["溃疡病", "猕猴桃"]
    old = engine.search(MatchQuery(text="茶叶加工"))
    assert all(r.explanation.lexical == 0.0 for r in old)
    assert all(r.explanation.matched_terms == () for r in old)


def test_an_update_replaces_the_structured_fields_too() -> None:
    engine = Engine()
    engine.add([Profile(id="e1", text="茶叶", kind="expert", verified=False)])
    engine.add([Profile(id="e1", text="茶叶", kind="team", verified=True)])
    [result] = engine.search(MatchQuery(text="茶叶", only_verified=True))
    assert (result.id, result.kind) == ("e1", "team")
    assert engine.profile("e1").verified


def test_an_updated_vector_moves_the_dense_ranking() -> None:
    embedder = HashEmbedder()
    engine = Engine(embedder=embedder)
    engine.add([Profile(id="e1", text="茶叶加工"), Profile(id="e2", text="白酒酿造")])
    engine.add([Profile(id="e1", text="白酒酿造")])
    results = engine.search(MatchQuery(text="白酒酿造"))
    assert {r.id for r in results} == {"e1", "e2"}
    assert all(r.explanation.semantic == pytest.approx(1.0, abs=1e-6) for r in results)


@pytest.mark.parametrize("embedder", [None, HashEmbedder()], ids=["lexical", "hybrid"])
def test_a_deleted_profile_is_gone_from_the_next_query(embedder: HashEmbedder | None) -> None:
    engine = Engine(embedder=embedder)
    engine.add([Profile(id="e1", text="茶叶加工技术"), Profile(id="e2", text="茶叶种植")])
    assert [r.id for r in engine.search(MatchQuery(text="茶叶加工"))] == ["e1", "e2"]
    engine.delete(["e1"])
    assert [r.id for r in engine.search(MatchQuery(text="茶叶加工"))] == ["e2"]
    assert "e1" not in engine
    assert len(engine) == 1


def test_deleting_an_unknown_id_is_a_no_op() -> None:
    engine = Engine()
    engine.add([Profile(id="e1", text="茶叶")])
    engine.delete(["nobody", "e1", "e1"])
    assert len(engine) == 0
    assert engine.search(MatchQuery(text="茶叶")) == []


def test_a_deleted_id_can_be_added_again() -> None:
    engine = Engine(embedder=HashEmbedder())
    engine.add([Profile(id="e1", text="茶叶")])
    engine.delete(["e1"])
    engine.add([Profile(id="e1", text="白酒")])
    assert [r.id for r in engine.search(MatchQuery(text="白酒"))] == ["e1"]
    [result] = engine.search(MatchQuery(text="茶叶"))
    assert result.explanation.lexical == 0.0


def test_updates_to_a_large_hnsw_engine_are_visible_too() -> None:
    engine = Engine(embedder=HashEmbedder(), ann_threshold=20)
    engine.add(Profile(id=f"p{i}", text=f"第{i}号 通用技术服务") for i in range(50))
    engine.add([Profile(id="tea", text="茶叶加工技术")])
    assert engine._vectors is not None
    assert engine._vectors._hnsw is not None
    assert engine.search(MatchQuery(text="茶叶加工"))[0].id == "tea"
    engine.add([Profile(id="tea", text="白酒酿造")])
    assert engine.search(MatchQuery(text="白酒酿造"))[0].id == "tea"
    engine.delete(["tea"])
    assert "tea" not in [r.id for r in engine.search(MatchQuery(text="白酒酿造"), top_k=60)]


def test_commit_makes_writes_visible_and_is_safe_to_repeat() -> None:
    engine = Engine()
    engine.add([Profile(id="e1", text="茶叶")])
    engine.commit()
    engine.commit()
    assert engine._lexical.num_docs == 1
