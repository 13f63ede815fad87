"""The benchmark command line: rank a corpus into a TREC run, then evaluate the run."""

import io
import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from kejiyun_match import E5Embedder, HashEmbedder
from kejiyun_match._cli import VectorCache, _PrecomputedQueries, main, make_embedder, read_jsonl

CORPUS = [
    {"id": "tea", "text": "茶叶加工技术与品质提升"},
    {"id": "liquor", "text": "白酒酿造工艺优化"},
    {"id": "kiwi", "text": "猕猴桃溃疡病防治"},
    {"id": 7, "text": "PLC 控制系统设计"},
]
QUERIES = [
    {"id": "q1", "text": "茶叶加工"},
    {"id": "q2", "text": "白酒酿造"},
    {"id": "q3", "text": "控制系统"},
]
QRELS = "q1\ttea\t1\nq2 0 liquor 2\nq3\t7\t1\n"


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n\n" for row in rows), encoding="utf-8"
    )
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text(QRELS, encoding="utf-8")
    return {
        "corpus": _write_jsonl(tmp_path / "corpus.jsonl", CORPUS),
        "queries": _write_jsonl(tmp_path / "queries.jsonl", QUERIES),
        "qrels": qrels,
    }


def _rank(files: dict[str, Path], *extra: str) -> str:
    out = io.StringIO()
    argv = ["rank", "--corpus", str(files["corpus"]), "--queries", str(files["queries"])]
    assert main([*argv, *extra], out=out) == 0
    return out.getvalue()


def _lines(run: str) -> list[list[str]]:
    return [line.split() for line in run.splitlines()]


def test_rank_without_vectors_writes_a_trec_run(files: dict[str, Path]) -> None:
    rows = _lines(_rank(files, "--dense", "none", "--tag", "lex"))
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("q1", "tea", "1"),
        ("q2", "liquor", "1"),
        ("q3", "7", "1"),
    ]
    assert {r[1] for r in rows} == {"Q0"}
    assert {r[5] for r in rows} == {"lex"}
    assert float(rows[0][4]) == 1.05


def test_rank_with_hash_vectors_ranks_every_document_up_to_top(files: dict[str, Path]) -> None:
    rows = _lines(_rank(files, "--dense", "hash", "--top", "3"))
    assert [r[0] for r in rows] == ["q1"] * 3 + ["q2"] * 3 + ["q3"] * 3
    assert [r[2] for r in rows if r[3] == "1"] == ["tea", "liquor", "7"]
    assert {r[5] for r in rows} == {"kejiyun"}


def test_the_vector_cache_is_written_once_and_then_read(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache" / "vectors"
    first = _rank(files, "--dense", "hash", "--vector-cache", str(cache))
    assert len(list(cache.glob("*.npy"))) == 2

    def refuse(self: HashEmbedder, texts: list[str]) -> np.ndarray:
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(HashEmbedder, "embed_documents", refuse)
    monkeypatch.setattr(HashEmbedder, "embed_queries", refuse)
    assert _rank(files, "--dense", "hash", "--vector-cache", str(cache)) == first
    assert len(list(cache.glob("*.npy"))) == 2


def test_evaluate_scores_a_run_against_qrels(files: dict[str, Path], tmp_path: Path) -> None:
    run = tmp_path / "run.trec"
    run.write_text(_rank(files, "--dense", "hash"), encoding="utf-8")
    out = io.StringIO()
    assert main(["evaluate", "--qrels", str(files["qrels"]), str(run)], out=out) == 0
    assert out.getvalue() == "nDCG@10\t1.0000\nRecall@10\t1.0000\nMRR@10\t1.0000\nqueries\t3\n"


def test_evaluate_of_a_partial_run(files: dict[str, Path], tmp_path: Path) -> None:
    run = tmp_path / "run.trec"
    run.write_text("q1 Q0 x 1 1.0 t\nq1 Q0 tea 2 0.5 t\n", encoding="utf-8")
    out = io.StringIO()
    main(["evaluate", "--qrels", str(files["qrels"]), str(run)], out=out)
    assert out.getvalue() == "nDCG@10\t0.2103\nRecall@10\t0.3333\nMRR@10\t0.1667\nqueries\t3\n"


def test_a_jsonl_line_without_an_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "text": "茶叶"}\n{"text": "白酒"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r'bad\.jsonl:2: each line needs "id" and "text"'):
        read_jsonl(path)
    with pytest.raises(ValueError, match="each line needs"):
        main(["rank", "--corpus", str(path), "--queries", str(path), "--dense", "none"])


def test_read_jsonl_skips_blank_lines_and_stringifies_ids(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "c.jsonl", CORPUS)
    assert read_jsonl(path)[-1] == ("7", "PLC 控制系统设计")
    assert len(read_jsonl(path)) == 4


def test_make_embedder_maps_names_to_embedders() -> None:
    assert make_embedder("none") is None
    assert isinstance(make_embedder("hash"), HashEmbedder)
    assert isinstance(make_embedder("e5"), E5Embedder)


def test_vector_cache_without_a_directory_embeds_in_batches_and_handles_nothing() -> None:
    embedder = HashEmbedder(dim=8)
    cache = VectorCache(None, embedder)
    texts = [f"文本{i}" for i in range(70)]
    assert np.array_equal(cache.get(texts, queries=False), embedder.embed_documents(texts))
    empty = cache.get([], queries=True)
    assert empty.shape == (0, 8)
    assert empty.dtype == np.float32


def test_vector_cache_keys_differ_for_queries_and_documents(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path, HashEmbedder(dim=8))
    cache.get(["茶叶"], queries=True)
    cache.get(["茶叶"], queries=False)
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_precomputed_queries_fall_back_to_the_inner_embedder() -> None:
    inner = HashEmbedder(dim=8)
    table = {"茶叶": np.ones(8, dtype=np.float32)}
    precomputed = _PrecomputedQueries(inner, table)
    assert (precomputed.name, precomputed.dim) == (inner.name, inner.dim)
    vectors = precomputed.embed_queries(["茶叶", "白酒"])
    assert np.array_equal(vectors[0], table["茶叶"])
    assert np.array_equal(vectors[1], inner.embed_queries(["白酒"])[0])
    assert np.array_equal(precomputed.embed_documents(["白酒"]), inner.embed_documents(["白酒"]))


def test_a_missing_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "usage: python -m kejiyun_match" in capsys.readouterr().err


def test_python_dash_m_runs_main_and_exits_with_its_status(
    files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = tmp_path / "run.trec"
    run.write_text("q1 Q0 tea 1 1.0 t\n", encoding="utf-8")
    monkeypatch.setattr(
        sys, "argv", ["kejiyun_match", "evaluate", "--qrels", str(files["qrels"]), str(run)]
    )
    monkeypatch.delitem(sys.modules, "kejiyun_match.__main__", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("kejiyun_match", run_name="__main__", alter_sys=True)
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("nDCG@10\t0.3333\n")
