"""The tantivy-backed lexical index (a private module the engine builds on)."""

from pathlib import Path

from kejiyun_match._lexical import LexicalIndex


def _index_with_tea_and_liquor(directory: Path | None = None) -> LexicalIndex:
    index = LexicalIndex(directory)
    index.upsert(0, ["茶叶", "加工"], ["茶叶", "叶加", "加工"], "茶叶加工")
    index.upsert(1, ["白酒", "酿造"], ["白酒", "酒酿", "酿造"], "白酒酿造")
    index.upsert(2, ["茶叶", "种植"], ["茶叶", "叶种", "种植"], "茶叶种植")
    return index


def test_changes_are_visible_after_commit_and_search_returns_slots_best_first() -> None:
    index = _index_with_tea_and_liquor()
    assert index.num_docs == 3
    hits = index.search(["茶叶", "加工"], [], bigram_weight=0.0, limit=10)
    assert [slot for slot, _ in hits] == [0, 2]
    assert hits[0][1] > hits[1][1] > 0


def test_bigrams_match_when_words_do_not() -> None:
    index = _index_with_tea_and_liquor()
    assert index.search(["酒酿造"], ["酒酿"], bigram_weight=0.0, limit=10) == []
    hits = index.search(["酒酿造"], ["酒酿"], bigram_weight=0.3, limit=10)
    assert [slot for slot, _ in hits] == [1]


def test_search_respects_the_limit() -> None:
    index = _index_with_tea_and_liquor()
    assert len(index.search(["茶叶"], [], bigram_weight=0.0, limit=1)) == 1


def test_search_with_no_clauses_returns_nothing() -> None:
    index = _index_with_tea_and_liquor()
    assert index.search([], [], bigram_weight=0.3, limit=10) == []
    assert index.search([], ["茶叶"], bigram_weight=0.0, limit=10) == []


def test_upsert_replaces_the_document_in_a_slot() -> None:
    index = _index_with_tea_and_liquor()
    index.upsert(0, ["猕猴桃"], ["猕猴", "猴桃"], "猕猴桃")
    assert index.num_docs == 3
    assert index.stored_text(0) == "猕猴桃"
    assert [slot for slot, _ in index.search(["加工"], [], bigram_weight=0.0, limit=10)] == []


def test_delete_removes_a_slot_and_its_stored_text() -> None:
    index = _index_with_tea_and_liquor()
    index.delete(2)
    assert index.num_docs == 2
    assert [slot for slot, _ in index.search(["茶叶"], [], bigram_weight=0.0, limit=10)] == [0]
    assert index.stored_text(2) == ""


def test_stored_text_round_trips_unicode_and_a_missing_slot_reads_empty() -> None:
    index = _index_with_tea_and_liquor()
    assert index.stored_text(1) == "白酒酿造"
    assert index.stored_text(99) == ""


def test_idf_decreases_as_document_frequency_rises() -> None:
    index = LexicalIndex()
    for slot in range(5):
        terms = ["共同"] + (["中等"] if slot < 3 else []) + (["稀有"] if slot == 0 else [])
        index.upsert(slot, terms, [], "")
    absent, rare, middling, common = (index.idf(t) for t in ("没有", "稀有", "中等", "共同"))
    assert absent > rare > middling > common > 0


def test_commit_without_changes_is_harmless() -> None:
    index = _index_with_tea_and_liquor()
    index.commit()
    index.commit()
    assert index.num_docs == 3


def test_an_index_in_a_directory_is_reopened_with_its_documents(tmp_path: Path) -> None:
    index = _index_with_tea_and_liquor(tmp_path / "lexical")
    index.commit()
    del index
    reopened = LexicalIndex(tmp_path / "lexical")
    assert reopened.num_docs == 3
    assert reopened.stored_text(1) == "白酒酿造"


def test_save_to_copies_the_index_and_replaces_an_older_copy(tmp_path: Path) -> None:
    target = tmp_path / "copy"
    first = _index_with_tea_and_liquor()
    first.save_to(target)
    second = LexicalIndex()
    second.upsert(7, ["猕猴桃"], [], "猕猴桃")
    second.save_to(target)
    assert list(target.glob("*.lock")) == []
    copy = LexicalIndex(target)
    assert copy.num_docs == 1
    assert copy.stored_text(7) == "猕猴桃"


def test_save_to_its_own_directory_is_a_no_op(tmp_path: Path) -> None:
    index = _index_with_tea_and_liquor(tmp_path / "lexical")
    index.commit()
    before = sorted(p.name for p in (tmp_path / "lexical").iterdir())
    index.save_to(tmp_path / "lexical")
    assert sorted(p.name for p in (tmp_path / "lexical").iterdir()) == before
    assert index.num_docs == 3


def test_a_temporary_index_removes_its_directory_when_dropped() -> None:
    index = LexicalIndex()
    directory = index.directory
    assert directory.is_dir()
    del index
    assert not directory.exists()


def test_an_index_in_a_given_directory_is_kept_when_dropped(tmp_path: Path) -> None:
    index = _index_with_tea_and_liquor(tmp_path / "lexical")
    index.commit()
    del index
    assert (tmp_path / "lexical").is_dir()
