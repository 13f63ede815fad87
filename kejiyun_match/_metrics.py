"""Ranking metrics and TREC run/qrels files, for the benchmark CLI."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Scores:
    ndcg_at_10: float
    recall_at_10: float
    mrr_at_10: float
    queries: int


def read_qrels(lines: Iterable[str]) -> dict[str, dict[str, int]]:
    """`query_id doc_id relevance` or TREC's `query_id 0 doc_id relevance`, tab or space."""
    qrels: dict[str, dict[str, int]] = {}
    for raw in lines:
        parts = raw.split()
        if not parts:
            continue
        if len(parts) == 4:
            query_id, _, doc_id, rel = parts
        elif len(parts) == 3:
            query_id, doc_id, rel = parts
        else:
            raise ValueError(f"cannot read qrels line: {raw!r}")
        qrels.setdefault(query_id, {})[doc_id] = int(rel)
    return qrels


def read_run(lines: Iterable[str]) -> dict[str, list[str]]:
    """A TREC run (`qid Q0 docid rank score tag`), ranked by rank per query."""
    entries: dict[str, list[tuple[int, str]]] = {}
    for raw in lines:
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 6:
            raise ValueError(f"cannot read run line: {raw!r}")
        entries.setdefault(parts[0], []).append((int(parts[3]), parts[2]))
    return {q: [doc for _, doc in sorted(rows)] for q, rows in entries.items()}


def write_run(out: TextIO, query_id: str, ranked: Iterable[tuple[str, float]], tag: str) -> None:
    for rank, (doc_id, score) in enumerate(ranked, start=1):
        out.write(f"{query_id} Q0 {doc_id} {rank} {score:.6f} {tag}\n")


def evaluate(run: Mapping[str, list[str]], qrels: Mapping[str, Mapping[str, int]]) -> Scores:
    """nDCG@10 (graded gains), Recall@10 and MRR@10 averaged over the judged queries.

    A judged query missing from the run scores zero on every metric.
    """
    ndcg = recall = mrr = 0.0
    for query_id, judged in qrels.items():
        relevant = {d: g for d, g in judged.items() if g > 0}
        if not relevant:
            continue
        top = run.get(query_id, [])[:10]
        dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(top))
        ideal = sum(
            g / math.log2(i + 2) for i, g in enumerate(sorted(relevant.values(), reverse=True)[:10])
        )
        ndcg += dcg / ideal
        recall += sum(1 for d in top if d in relevant) / len(relevant)
        mrr += next((1.0 / (i + 1) for i, d in enumerate(top) if d in relevant), 0.0)
    n = sum(1 for judged in qrels.values() if any(g > 0 for g in judged.values()))
    if n == 0:
        return Scores(0.0, 0.0, 0.0, 0)
    return Scores(ndcg / n, recall / n, mrr / n, n)
