"""Embedders and the vector store: exact search, HNSW above the threshold, persistence."""

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from kejiyun_match import E5Embedder, Embedder, HashEmbedder, VectorStore

Matrix = npt.NDArray[np.float32]


def _unit_vectors(n: int, dim: int, seed: int = 7) -> Matrix:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _exact_order(vectors: Matrix, alive: list[int], query: Matrix, k: int) -> list[int]:
    scores = {slot: float(vectors[slot] @ query) for slot in alive}
    return sorted(scores, key=lambda slot: -scores[slot])[:k]


# -- embedders ------------------------------------------------------------------------------
def test_hash_embedder_gives_unit_vectors_that_are_the_same_every_time() -> None:
    embedder = HashEmbedder(dim=32)
    first = embedder.embed_documents(["茶叶加工技术", "白酒酿造工艺"])
    assert first.shape == (2, 32)
    assert first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0)
    assert np.array_equal(
        first, HashEmbedder(dim=32).embed_documents(["茶叶加工技术", "白酒酿造工艺"])
    )


def test_hash_embedder_embeds_queries_like_documents() -> None:
    embedder = HashEmbedder()
    assert np.array_equal(embedder.embed_queries(["茶叶"]), embedder.embed_documents(["茶叶"]))


def test_hash_embedder_is_closer_for_texts_sharing_character_pairs() -> None:
    embedder = HashEmbedder()
    query = embedder.embed_queries(["茶叶加工"])[0]
    tea, liquor = embedder.embed_documents(["茶叶加工技术", "白酒酿造工艺"])
    assert float(tea @ query) > float(liquor @ query)


def test_hash_embedder_gives_zero_for_empty_text_and_an_empty_batch() -> None:
    embedder = HashEmbedder(dim=16)
    assert np.array_equal(embedder.embed_documents([""]), np.zeros((1, 16), np.float32))
    empty = embedder.embed_documents([])
    assert empty.shape == (0, 16)
    assert empty.dtype == np.float32


def test_both_embedders_satisfy_the_embedder_protocol() -> None:
    assert isinstance(HashEmbedder(), Embedder)
    assert isinstance(E5Embedder(), Embedder)
    assert (E5Embedder.name, E5Embedder.dim) == ("e5-small-q4", 384)
    assert HashEmbedder.name == "hash-bigram"


def test_e5_embeds_unit_vectors_and_puts_a_tea_query_nearest_a_tea_passage() -> None:
    embedder = E5Embedder()
    passages = embedder.embed_documents(["茶叶的采摘与加工", "汽车发动机维修"])
    assert passages.shape == (2, 384)
    assert passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    query = embedder.embed_queries(["茶叶种植技术"])
    assert query.shape == (1, 384)
    tea, cars = passages @ query[0]
    assert tea > cars


# -- exact search ---------------------------------------------------------------------------
def test_exact_search_returns_the_nearest_live_vectors_best_first() -> None:
    store = VectorStore(3)
    store.put(
        [0, 1, 2],
        np.array([[1, 0, 0], [0.6, 0.8, 0], [0, 0, 1]], dtype=np.float32),
    )
    query = np.array([1, 0, 0], dtype=np.float32)
    assert store.search(query, 2) == [(0, 1.0), (1, pytest.approx(0.6))]
    assert [slot for slot, _ in store.search(query, 10)] == [0, 1, 2]


def test_equal_scores_keep_slot_order() -> None:
    store = VectorStore(2)
    store.put([3, 1, 2], np.tile(np.array([[1, 0]], dtype=np.float32), (3, 1)))
    assert store.search(np.array([1, 0], dtype=np.float32), 3) == [(1, 1.0), (2, 1.0), (3, 1.0)]


def test_delete_hides_a_vector_and_put_brings_it_back() -> None:
    store = VectorStore(2)
    store.put([0, 1], np.array([[1, 0], [0, 1]], dtype=np.float32))
    store.delete(0)
    store.delete(0)
    store.delete(42)
    assert not store.has(0)
    assert store.has(1)
    assert not store.has(42)
    assert store.live_count == 1
    assert store.search(np.array([1, 0], dtype=np.float32), 5) == [(1, 0.0)]
    store.put([0], np.array([[1, 0]], dtype=np.float32))
    assert store.has(0)
    assert [slot for slot, _ in store.search(np.array([1, 0], dtype=np.float32), 5)] == [0, 1]


def test_put_replaces_the_vector_in_a_slot() -> None:
    store = VectorStore(2)
    store.put([0], np.array([[1, 0]], dtype=np.float32))
    store.put([0], np.array([[0, 1]], dtype=np.float32))
    assert store.live_count == 1
    assert np.array_equal(store.vector(0), np.array([0, 1], dtype=np.float32))


def test_capacity_grows_to_hold_any_slot_and_keeps_earlier_vectors() -> None:
    store = VectorStore(4)
    vectors = _unit_vectors(3, 4)
    store.put([0], vectors[:1])
    store.put([500], vectors[1:2])
    store.put([17], vectors[2:3])
    assert store.live_count == 3
    assert [store.has(s) for s in (0, 17, 500, 1, 499, 501)] == [True] * 3 + [False] * 3
    assert np.array_equal(store.vector(0), vectors[0])
    assert np.array_equal(store.vector(500), vectors[1])


def test_put_rejects_vectors_of_the_wrong_shape() -> None:
    store = VectorStore(3)
    with pytest.raises(ValueError, match=r"expected vectors of shape \(2, 3\)"):
        store.put([0, 1], np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"expected vectors of shape \(1, 3\)"):
        store.put([0], np.zeros(3, dtype=np.float32))
    assert store.live_count == 0


def test_putting_nothing_changes_nothing() -> None:
    store = VectorStore(3)
    store.put([], np.zeros((0, 3), dtype=np.float32))
    assert store.live_count == 0


def test_search_of_an_empty_store_or_for_no_results_is_empty() -> None:
    store = VectorStore(2)
    query = np.array([1, 0], dtype=np.float32)
    assert store.search(query, 5) == []
    store.put([0], np.array([[1, 0]], dtype=np.float32))
    assert store.search(query, 0) == []
    assert store.search(query, -1) == []


# -- HNSW -----------------------------------------------------------------------------------
def test_store_switches_to_hnsw_above_the_threshold_and_agrees_with_exact_search() -> None:
    vectors = _unit_vectors(80, 16)
    exact = VectorStore(16)
    approximate = VectorStore(16, ann_threshold=20)
    exact.put(list(range(20)), vectors[:20])
    approximate.put(list(range(20)), vectors[:20])
    assert approximate._hnsw is None
    exact.put(list(range(20, 50)), vectors[20:50])
    approximate.put(list(range(20, 50)), vectors[20:50])
    assert approximate._hnsw is not None
    for q in vectors[:5]:
        assert [s for s, _ in approximate.search(q, 5)] == [s for s, _ in exact.search(q, 5)]
    top = approximate.search(vectors[3], 1)
    assert top[0][0] == 3
    assert top[0][1] == pytest.approx(1.0, abs=1e-5)


def test_hnsw_store_takes_more_vectors_deletes_and_restores_them() -> None:
    vectors = _unit_vectors(80, 16)
    store = VectorStore(16, ann_threshold=20)
    store.put(list(range(50)), vectors[:50])
    assert store._hnsw is not None
    store.put(list(range(50, 80)), vectors[50:80])  # beyond the graph's size: it grows
    assert store.live_count == 80
    assert store.search(vectors[70], 1)[0][0] == 70
    for slot in (3, 70):
        store.delete(slot)
    assert store.live_count == 78
    assert 3 not in [s for s, _ in store.search(vectors[3], 78)]
    assert store.search(vectors[70], 1)[0][0] != 70
    store.put([3], vectors[3:4])  # a deleted slot comes back
    store.put([4], vectors[5:6])  # a live slot gets a new vector
    assert store.search(vectors[3], 1)[0][0] == 3
    assert {s for s, _ in store.search(vectors[5], 2)} == {4, 5}
    alive = [s for s in range(80) if s != 70]
    assert [s for s, _ in store.search(vectors[10], 10)] == _exact_order(
        np.vstack([vectors[:4], vectors[5:6], vectors[5:]]), alive, vectors[10], 10
    )


def test_building_the_graph_of_an_empty_store_works() -> None:
    store = VectorStore(4)
    store.build_ann()
    assert store.search(np.ones(4, dtype=np.float32), 3) == []
    store.put([0, 1], _unit_vectors(2, 4))
    assert [s for s, _ in store.search(store.vector(1), 1)] == [1]


# -- persistence ----------------------------------------------------------------------------
def test_exact_store_saves_and_loads_memory_mapped(tmp_path: Path) -> None:
    vectors = _unit_vectors(10, 8)
    store = VectorStore(8)
    store.put(list(range(10)), vectors)
    store.delete(4)
    store.save(tmp_path / "v")
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["alive.npy", "vectors.npy"]
    loaded = VectorStore.load(tmp_path / "v", 8, ann_threshold=1000)
    assert isinstance(loaded._matrix, np.memmap)
    assert not loaded._matrix.flags.writeable
    assert loaded.live_count == 9
    assert not loaded.has(4)
    for q in vectors[:3]:
        assert loaded.search(q, 5) == store.search(q, 5)


def test_a_put_after_load_copies_the_arrays_and_leaves_the_files_alone(tmp_path: Path) -> None:
    vectors = _unit_vectors(6, 8)
    store = VectorStore(8)
    store.put(list(range(5)), vectors[:5])
    store.save(tmp_path)
    loaded = VectorStore.load(tmp_path, 8, ann_threshold=1000)
    loaded.put([2], vectors[5:6])
    assert loaded._matrix.flags.writeable
    assert np.array_equal(loaded.vector(2), vectors[5])
    assert np.array_equal(np.load(tmp_path / "vectors.npy")[2], vectors[2])
    reloaded = VectorStore.load(tmp_path, 8, ann_threshold=1000)
    reloaded.put([40], vectors[5:6])  # beyond the loaded size
    assert reloaded.has(40)
    assert reloaded.live_count == 6


def test_a_delete_after_load_copies_only_the_live_flags(tmp_path: Path) -> None:
    store = VectorStore(8)
    store.put(list(range(5)), _unit_vectors(5, 8))
    store.save(tmp_path)
    loaded = VectorStore.load(tmp_path, 8, ann_threshold=1000)
    loaded.delete(1)
    assert not loaded.has(1)
    assert np.load(tmp_path / "alive.npy")[1]
    loaded.put([1], _unit_vectors(1, 8, seed=3))
    assert loaded.has(1)
    assert loaded.live_count == 5


def test_a_loaded_store_can_be_saved_back_over_its_own_files(tmp_path: Path) -> None:
    vectors = _unit_vectors(5, 8)
    store = VectorStore(8)
    store.put(list(range(5)), vectors)
    store.save(tmp_path)
    loaded = VectorStore.load(tmp_path, 8, ann_threshold=1000)
    loaded.save(tmp_path)
    assert loaded.search(vectors[0], 5) == store.search(vectors[0], 5)
    again = VectorStore.load(tmp_path, 8, ann_threshold=1000)
    assert again.search(vectors[0], 5) == store.search(vectors[0], 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alive.npy", "vectors.npy"]


def test_hnsw_store_saves_its_graph_and_keeps_working_after_load(tmp_path: Path) -> None:
    vectors = _unit_vectors(70, 16)
    store = VectorStore(16, ann_threshold=20)
    store.put(list(range(50)), vectors[:50])
    store.delete(7)
    store.save(tmp_path)
    assert (tmp_path / "hnsw.bin").is_file()
    loaded = VectorStore.load(tmp_path, 16, ann_threshold=20)
    assert loaded._hnsw is not None
    for q in vectors[:5]:
        assert [s for s, _ in loaded.search(q, 5)] == [s for s, _ in store.search(q, 5)]
    assert 7 not in [s for s, _ in loaded.search(vectors[7], 49)]
    loaded.put(list(range(50, 70)), vectors[50:70])
    loaded.delete(60)
    assert loaded.live_count == 68
    assert loaded.search(vectors[65], 1)[0][0] == 65
    assert 60 not in [s for s, _ in loaded.search(vectors[60], 68)]


def test_saving_a_store_without_a_graph_removes_a_stale_one(tmp_path: Path) -> None:
    vectors = _unit_vectors(50, 16)
    big = VectorStore(16, ann_threshold=20)
    big.put(list(range(50)), vectors)
    big.save(tmp_path)
    small = VectorStore(16)
    small.put([0, 1], vectors[10:12])
    small.save(tmp_path)
    assert not (tmp_path / "hnsw.bin").exists()
    loaded = VectorStore.load(tmp_path, 16, ann_threshold=20)
    assert loaded._hnsw is None
    assert [s for s, _ in loaded.search(vectors[11], 2)] == [1, 0]
