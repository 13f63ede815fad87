"""Command line: rank a corpus for queries into a TREC run, and evaluate a run.

    python -m kejiyun_match rank --corpus C.jsonl --queries Q.jsonl --top 100 > run.trec
    python -m kejiyun_match evaluate --qrels R.tsv run.trec

Corpus and query files hold one JSON object a line with "id" and "text".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from kejiyun_match._dense import E5Embedder, Embedder, HashEmbedder, Vector
from kejiyun_match._engine import Engine
from kejiyun_match._metrics import evaluate, read_qrels, read_run, write_run
from kejiyun_match._model import MatchQuery, Profile, Weights


def read_jsonl(path: Path) -> list[tuple[str, str]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            obj = json.loads(line)
            if "id" not in obj or "text" not in obj:
                raise ValueError(f'{path}:{number}: each line needs "id" and "text"')
            rows.append((str(obj["id"]), str(obj["text"])))
    return rows


def make_embedder(name: str) -> Embedder | None:
    if name == "none":
        return None
    if name == "hash":
        return HashEmbedder()
    return E5Embedder()


class VectorCache:
    """Embeddings on disk, keyed by embedder, role and the exact texts."""

    def __init__(self, directory: Path | None, embedder: Embedder) -> None:
        self.directory = directory
        self.embedder = embedder

    def get(self, texts: list[str], *, queries: bool) -> Vector:
        key = hashlib.sha256(
            "\x1f".join([self.embedder.name, "q" if queries else "d", *texts]).encode("utf-8")
        ).hexdigest()[:24]
        path = self.directory / f"{key}.npy" if self.directory else None
        if path is not None and path.exists():
            cached: Vector = np.load(path)
            return cached
        embed = self.embedder.embed_queries if queries else self.embedder.embed_documents
        vectors = (
            np.vstack([embed(texts[i : i + 32]) for i in range(0, len(texts), 32)]).astype(
                np.float32
            )
            if texts
            else np.zeros((0, self.embedder.dim), np.float32)
        )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, vectors)
        return vectors


class _PrecomputedQueries:
    """Serves query vectors computed in advance, so ranking times only the search."""

    def __init__(self, inner: Embedder, table: dict[str, Vector]) -> None:
        self.name = inner.name
        self.dim = inner.dim
        self._inner = inner
        self._table = table

    def embed_documents(self, texts: list[str]) -> Vector:
        return self._inner.embed_documents(texts)

    def embed_queries(self, texts: list[str]) -> Vector:
        return np.stack(
            [
                self._table[t] if t in self._table else self._inner.embed_queries([t])[0]
                for t in texts
            ]
        )


def build_engine(
    corpus: list[tuple[str, str]],
    embedder: Embedder | None,
    cache: Path | None,
    weights: Weights | None = None,
) -> Engine:
    engine = Engine(embedder=embedder, weights=weights)
    profiles = [Profile(id=doc_id, text=text) for doc_id, text in corpus]
    vectors = None
    if embedder is not None:
        vectors = VectorCache(cache, embedder).get([t for _, t in corpus], queries=False)
    engine.add(profiles, vectors=vectors)
    engine.commit()
    return engine


def rank(
    corpus: list[tuple[str, str]],
    queries: list[tuple[str, str]],
    *,
    top: int,
    embedder: Embedder | None,
    cache: Path | None,
    out: TextIO,
    tag: str,
    weights: Weights | None = None,
) -> None:
    if embedder is not None:
        qvecs = VectorCache(cache, embedder).get([t for _, t in queries], queries=True)
        embedder = _PrecomputedQueries(
            embedder, {t: v for (_, t), v in zip(queries, qvecs, strict=True)}
        )
    engine = build_engine(corpus, embedder, cache, weights)
    for query_id, text in queries:
        results = engine.search(MatchQuery(text=text), top_k=top)
        write_run(out, query_id, [(r.id, r.score) for r in results], tag)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="python -m kejiyun_match")
    sub = parser.add_subparsers(dest="command", required=True)
    p_rank = sub.add_parser("rank", help="rank the corpus for each query; write a TREC run")
    p_rank.add_argument("--corpus", type=Path, required=True)
    p_rank.add_argument("--queries", type=Path, required=True)
    p_rank.add_argument("--top", type=int, default=100)
    p_rank.add_argument("--dense", choices=["e5", "hash", "none"], default="e5")
    p_rank.add_argument(
        "--vector-cache",
        type=Path,
        default=None,
        help="directory to keep embeddings in between runs",
    )
    p_rank.add_argument("--tag", default="kejiyun")
    p_eval = sub.add_parser("evaluate", help="nDCG@10, Recall@10 and MRR@10 of a run")
    p_eval.add_argument("--qrels", type=Path, required=True)
    p_eval.add_argument("run", type=Path)
    args = parser.parse_args(argv)
    if args.command == "rank":
        rank(
            read_jsonl(args.corpus),
            read_jsonl(args.queries),
            top=args.top,
            embedder=make_embedder(args.dense),
            cache=args.vector_cache,
            out=out,
            tag=args.tag,
        )
        return 0
    with args.qrels.open(encoding="utf-8") as fh:
        qrels = read_qrels(fh)
    with args.run.open(encoding="utf-8") as fh:
        run = read_run(fh)
    scores = evaluate(run, qrels)
    out.write(
        f"nDCG@10\t{scores.ndcg_at_10:.4f}\nRecall@10\t{scores.recall_at_10:.4f}\n"
        f"MRR@10\t{scores.mrr_at_10:.4f}\nqueries\t{scores.queries}\n"
    )
    return 0
