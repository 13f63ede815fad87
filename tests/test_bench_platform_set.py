"""The platform matching set (bench/data/platform/) is what SOURCE.md says it is: big enough,
loadable (real Sichuan counties, known classification names, form labels), and its grades are
exactly the written rule applied to the ground-truth labels — nobody edited a grade by hand."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path
from types import ModuleType

from kejiyun.demands.models import Demand

SET = Path(__file__).resolve().parent.parent / "bench" / "data" / "platform"
ROOT = SET.parents[2]


def _build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("platform_set_build", SET / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (SET / name).read_text("utf-8").splitlines()]


def _truth() -> dict[str, tuple[str, str]]:
    lines = (SET / "truth.tsv").read_text("utf-8").splitlines()
    return {parts[0]: (parts[1], parts[2]) for parts in (line.split("\t") for line in lines)}


def test_set_is_as_large_and_loadable_as_documented() -> None:
    demands, experts = _rows("demands.jsonl"), _rows("experts.jsonl")
    assert len(demands) >= 60 and len(experts) >= 500
    with (ROOT / "kejiyun" / "regions" / "data" / "regions.csv").open(encoding="utf-8") as fh:
        counties = {
            r["code"]
            for r in csv.DictReader(fh)
            if r["level"] == "county" and r["code"].startswith("51")
        }
    assert {d["region"] for d in demands} <= counties
    assert {e["region"] for e in experts} <= counties
    assert {d["category"] for d in demands} <= set(Demand.Category.labels)
    assert {d["budget"] for d in demands} <= set(Demand.Budget.labels)
    assert len({e["mobile"] for e in experts}) == len(experts)
    assert len({d["title"] for d in demands}) == len(demands)
    fields = {_truth()[str(d["id"])][0] for d in demands}
    assert {"泡菜", "白酒", "茶叶", "猕猴桃", "柑橘", "生猪", "中药材", "天然气", "钒钛"} <= fields


def test_grades_are_the_rule_applied_to_the_labels() -> None:
    build = _build()
    truth = _truth()
    demands = [str(d["id"]) for d in _rows("demands.jsonl")]
    experts = [str(e["id"]) for e in _rows("experts.jsonl")]
    expected = {
        (d, e, build.grade(truth[d], truth[e]))
        for d in demands
        for e in experts
        if build.grade(truth[d], truth[e]) > 0
    }
    lines = (SET / "qrels.tsv").read_text("utf-8").splitlines()
    committed = {(d, e, int(g)) for d, e, g in (line.split("\t") for line in lines)}
    assert committed == expected
    # Every demand has specialists to find.
    assert {d for d, _, g in committed if g == 3} == set(demands)


def test_hard_negatives_share_words_but_score_zero() -> None:
    build = _build()
    assert build.grade(("泡菜", "包装"), ("泡菜", "包装")) == 3
    assert build.grade(("泡菜", "包装"), ("食品", "杀菌包装")) == 2
    assert build.grade(("泡菜", "包装"), ("泡菜", "发酵")) == 1
    assert build.grade(("泡菜", "包装"), ("监管", "市场监管")) == 0
    assert build.grade(("白酒", "酿造"), ("白酒", "营销")) == 0
    assert build.grade(("白酒", "营销"), ("营销通用", "营销")) == 2
    regulators = [e for e in _rows("experts.jsonl") if _truth()[str(e["id"])][0] == "监管"]
    assert any("泡菜" in str(e["capability"]) + str(e["keywords"]) for e in regulators)
    assert any(e["region"] == "510116" for e in regulators)  # 双流
