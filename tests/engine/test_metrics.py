"""nDCG@10, Recall@10 and MRR@10, and the TREC files they are read from."""

import io
import math

import pytest

from kejiyun_match import Scores, evaluate, read_qrels, read_run, write_run


def test_a_perfect_run_scores_one_everywhere() -> None:
    qrels = {"q1": {"d1": 2, "d2": 1}}
    assert evaluate({"q1": ["d1", "d2", "d3"]}, qrels) == Scores(1.0, 1.0, 1.0, 1)


def test_graded_gains_discount_and_ideal_order_give_ndcg() -> None:
    qrels = {"q1": {"d1": 2, "d2": 1, "d3": 0}}
    scores = evaluate({"q1": ["d3", "d1", "d9", "d2"]}, qrels)
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    ideal = 2 / math.log2(2) + 1 / math.log2(3)
    assert scores.ndcg_at_10 == pytest.approx(dcg / ideal, abs=1e-12)
    assert scores.ndcg_at_10 == pytest.approx(0.64333, abs=1e-5)
    assert scores.recall_at_10 == 1.0
    assert scores.mrr_at_10 == 0.5
    assert scores.queries == 1


def test_only_the_top_ten_count() -> None:
    run = {"q1": [f"x{i}" for i in range(10)] + ["d1"]}
    assert evaluate(run, {"q1": {"d1": 1}}) == Scores(0.0, 0.0, 0.0, 1)
    run = {"q1": [f"x{i}" for i in range(9)] + ["d1"]}
    scores = evaluate(run, {"q1": {"d1": 1}})
    assert scores.ndcg_at_10 == 1 / math.log2(11)
    assert scores.recall_at_10 == 1.0
    assert scores.mrr_at_10 == 0.1


def test_recall_is_the_share_of_relevant_documents_found() -> None:
    scores = evaluate({"q1": ["d1", "x", "y"]}, {"q1": {"d1": 1, "d2": 1, "d3": 1, "d4": 1}})
    assert scores.recall_at_10 == 0.25
    assert scores.mrr_at_10 == 1.0


def test_mrr_uses_the_first_relevant_rank() -> None:
    scores = evaluate({"q1": ["x", "y", "d2", "d1"]}, {"q1": {"d1": 3, "d2": 1}})
    assert scores.mrr_at_10 == 1 / 3


def test_scores_are_averaged_over_judged_queries_and_a_missing_query_scores_zero() -> None:
    qrels = {
        "q1": {"d1": 1},
        "q2": {"d4": 1},  # judged but absent from the run
        "q3": {"d5": 0},  # no relevant document: not counted
    }
    run = {"q1": ["x", "d1"], "q3": ["d5"], "unjudged": ["d1"]}
    scores = evaluate(run, qrels)
    assert scores == Scores((1 / math.log2(3)) / 2, 0.5, 0.25, 2)


def test_empty_qrels_or_no_relevant_document_score_zero_over_zero_queries() -> None:
    assert evaluate({"q1": ["d1"]}, {}) == Scores(0.0, 0.0, 0.0, 0)
    assert evaluate({"q1": ["d1"]}, {"q1": {"d1": 0}}) == Scores(0.0, 0.0, 0.0, 0)
    assert evaluate({}, {}) == Scores(0.0, 0.0, 0.0, 0)


def test_qrels_are_read_with_three_or_four_columns_tabs_or_spaces() -> None:
    lines = ["q1 0 d1 2\n", "\n", "q1\td2\t1\n", "q2 d3 0\n", "   \n", "q1 0 d1 3\n"]
    assert read_qrels(lines) == {"q1": {"d1": 3, "d2": 1}, "q2": {"d3": 0}}
    assert read_qrels([]) == {}


@pytest.mark.parametrize("line", ["q1 d1\n", "q1 0 d1 2 extra\n", "q1\n"])
def test_a_qrels_line_with_another_number_of_columns_is_refused(line: str) -> None:
    with pytest.raises(ValueError, match="cannot read qrels line"):
        read_qrels(["q1 d0 1\n", line])


def test_a_qrels_relevance_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        read_qrels(["q1 d1 high\n"])


def test_runs_are_read_in_rank_order_per_query() -> None:
    lines = [
        "q1 Q0 d2 2 0.5 tag\n",
        "\n",
        "q2 Q0 d9 1 0.9 tag\n",
        "q1 Q0 d1 1 0.9 tag\n",
        "q1 Q0 d3 10 0.1 tag\n",
    ]
    assert read_run(lines) == {"q1": ["d1", "d2", "d3"], "q2": ["d9"]}
    assert read_run([]) == {}


@pytest.mark.parametrize("line", ["q1 Q0 d1 1 0.5\n", "q1 Q0 d1 1 0.5 tag more\n"])
def test_a_run_line_without_six_columns_is_refused(line: str) -> None:
    with pytest.raises(ValueError, match="cannot read run line"):
        read_run([line])


def test_write_run_writes_trec_lines_that_read_run_reads_back() -> None:
    out = io.StringIO()
    write_run(out, "q1", [("d1", 1.5), ("d2", 0.25)], "kejiyun")
    write_run(out, "q2", [], "kejiyun")
    assert out.getvalue() == "q1 Q0 d1 1 1.500000 kejiyun\nq1 Q0 d2 2 0.250000 kejiyun\n"
    assert read_run(io.StringIO(out.getvalue())) == {"q1": ["d1", "d2"]}
