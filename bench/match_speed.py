"""Matching speed and memory at 100k and 1M generated profiles, against bm25s.

Profiles are generated from the CSL dev abstracts: each one joins a title-like phrase and
one or two sentences taken from two different abstracts (about 120 characters). Their
vectors are precomputed, as in production where embedding is a background job: the
normalised sum of the two source abstracts' real e5-small vectors plus a little noise, so
they cluster the way real profiles do. Queries are 300 real need titles (need2cap) with
their real e5 query vectors. Everything that answers a query runs on one core
(OMP/OpenBLAS threads = 1, tantivy searches on the calling thread, hnswlib 1 thread);
building the HNSW graph uses both cores.

Measured per size:
- build: engine lexical index (segmentation + tantivy), vectors (+ HNSW above 50k), and
  bm25s (tokenisation + index); resident memory after each;
- query latency, median and p95 over the 300 queries, for the engine lexical-only, the
  engine hybrid (lexical + dense), and bm25s (tokenising the query + retrieve top 10).
  Engine times are for `Engine.search(top_k=10)` including explanations.

Run: make bench-match-speed  (BENCH_ARGS="--sizes 100000" for a shorter run).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import sys
import time

import bm25s
import numpy as np

from bench.common import CACHE, DATA, median, percentile, read_jsonl, rss_mib
from bench.match_quality import QueryTable, anchor_tokens
from kejiyun_match import E5Embedder, Engine, MatchQuery, Profile
from kejiyun_match._cli import VectorCache

_SENTENCE_END = re.compile(r"(?<=[。；;!?！？])")


def generate(
    n: int, abstracts: list[str], titles: list[str], seed: int = 7
) -> list[tuple[str, int, int]]:
    """(text, source abstract a, source abstract b) for n profiles."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    sentences = [
        [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) >= 8] or [text[:80]]
        for text in abstracts
    ]
    out = []
    for _ in range(n):
        a, b = rng.randrange(len(abstracts)), rng.randrange(len(abstracts))
        head = titles[a][:30]
        body = rng.choice(sentences[a])[:70]
        tail = rng.choice(sentences[b])[:50] if rng.random() < 0.6 else ""
        out.append((f"{head}。{body}{tail}", a, b))
    return out


def latencies(fn, queries: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    for q in queries[:20]:  # warm up
        fn(q)
    times = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(median(times), 2), "p95_ms": round(percentile(times, 95), 2)}


def profile_vectors(
    rows: list[tuple[str, int, int]], doc_vecs: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Normalised sum of the two source abstracts' e5 vectors, plus a little noise."""
    a = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    b = np.fromiter((r[2] for r in rows), dtype=np.int64, count=len(rows))
    noise = rng.normal(0, 0.02, (len(rows), doc_vecs.shape[1])).astype(np.float32)
    v = doc_vecs[a] + 0.5 * doc_vecs[b] + noise
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def build_engine(
    rows: list[tuple[str, int, int]], embedder: QueryTable | None, doc_vecs: np.ndarray
) -> tuple[Engine, float, float]:
    gc.collect()
    base = rss_mib()
    rng = np.random.default_rng(11)
    engine = Engine(embedder=embedder, build_threads=2)
    started = time.perf_counter()
    batch = 50_000
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]
        profiles = [Profile(id=f"p{i + j}", text=text) for j, (text, _, _) in enumerate(chunk)]
        vectors = profile_vectors(chunk, doc_vecs, rng) if embedder else None
        engine.add(profiles, vectors=vectors)
    engine.commit()
    return engine, time.perf_counter() - started, rss_mib() - base


def measure_engine(
    rows: list[tuple[str, int, int]],
    embedder: QueryTable | None,
    doc_vecs: np.ndarray,
    queries: list[str],
) -> tuple[float, float, dict[str, float]]:
    engine, build_s, rss = build_engine(rows, embedder, doc_vecs)
    timing = latencies(lambda q: engine.search(MatchQuery(text=q), top_k=10), queries)
    return build_s, rss, timing


def measure_bm25s(
    rows: list[tuple[str, int, int]], queries: list[str]
) -> tuple[float, float, dict[str, float]]:
    gc.collect()
    base = rss_mib()
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index([anchor_tokens(text) for text, _, _ in rows], show_progress=False)
    build_s = time.perf_counter() - started
    rss = rss_mib() - base
    vocab = retriever.vocab_dict

    def query(q: str) -> None:
        tokens = [t for t in anchor_tokens(q) if t in vocab]
        if tokens:
            retriever.retrieve([tokens], k=10, show_progress=False, n_threads=1)

    return build_s, rss, latencies(query, queries)


def run_size(
    n: int,
    abstracts: list[str],
    titles: list[str],
    doc_vecs: np.ndarray,
    queries: list[str],
    query_table: dict[str, np.ndarray],
) -> dict[str, object]:
    print(f"--- {n:,} profiles", flush=True)
    rows = generate(n, abstracts, titles)

    lexical_build, lexical_rss, lexical = measure_engine(rows, None, doc_vecs, queries)
    print(
        f"engine lexical-only: build {lexical_build:.1f} s, +{lexical_rss:.0f} MiB, "
        f"query {lexical}",
        flush=True,
    )
    ann = n > 50_000
    hybrid_build, hybrid_rss, hybrid = measure_engine(
        rows, QueryTable(query_table), doc_vecs, queries
    )
    print(
        f"engine hybrid ({'HNSW' if ann else 'exact'}): build {hybrid_build:.1f} s, "
        f"+{hybrid_rss:.0f} MiB, query {hybrid}",
        flush=True,
    )
    bm25_build, bm25_rss, bm25 = measure_bm25s(rows, queries)
    print(f"bm25s: build {bm25_build:.1f} s, +{bm25_rss:.0f} MiB, query {bm25}", flush=True)
    return {
        "profiles": n,
        "engine_lexical": {
            "build_s": round(lexical_build, 1),
            "rss_mib": round(lexical_rss),
            **lexical,
        },
        "engine_hybrid": {
            "build_s": round(hybrid_build, 1),
            "rss_mib": round(hybrid_rss),
            "ann": "hnsw" if ann else "exact",
            **hybrid,
        },
        "bm25s": {"build_s": round(bm25_build, 1), "rss_mib": round(bm25_rss), **bm25},
        "hybrid_p95_over_bm25s_p95": round(hybrid["p95_ms"] / bm25["p95_ms"], 3),
        "lexical_median_over_bm25s_median": round(lexical["median_ms"] / bm25["median_ms"], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    corpus = read_jsonl(DATA / "need2cap" / "corpus.jsonl")
    titles_rows = read_jsonl(DATA / "need2cap" / "queries.jsonl")
    abstracts = [c["text"] for c in corpus]
    # need2cap queries are the titles of papers whose abstracts are in the corpus; use
    # the abstract's own first clause where no title is known.
    title_of = {row["id"].removeprefix("q-"): row["text"] for row in titles_rows}
    titles = [title_of.get(c["id"], c["text"][:24]) for c in corpus]
    cache = VectorCache(CACHE / "vectors", E5Embedder())
    doc_vecs = cache.get(abstracts, queries=False)
    query_texts = [row["text"] for row in titles_rows][: args.queries]
    query_vecs = cache.get([row["text"] for row in titles_rows], queries=True)[: args.queries]
    table = dict(zip(query_texts, query_vecs, strict=True))
    results = [
        run_size(int(n), abstracts, titles, doc_vecs, query_texts, table)
        for n in args.sizes.split(",")
    ]
    print(json.dumps({"bench": "match-speed", "sizes": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
