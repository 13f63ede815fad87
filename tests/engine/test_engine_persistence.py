"""save/load: a loaded engine answers exactly as the saved one did."""

import json
from pathlib import Path
from typing import Any

import pytest

from kejiyun_match import (
    ConflictPolicy,
    E5Embedder,
    Engine,
    HashEmbedder,
    MatchQuery,
    Outcome,
    Profile,
    RegionTiers,
    Result,
    Weights,
)

TIERS = RegionTiers(groups=(("chengyu", 0.5, frozenset({"5101", "50"})),), province=0.25)
WEIGHTS = Weights(lexical=0.7, semantic=0.3, region=0.2, candidates=50)

PROFILES = [
    Profile(
        id="tea",
        text="茶叶加工技术与品质提升",
        region_path="510000/510100/510104/",
        disciplines=("茶学",),
        service_modes=("现场",),
        organisation="四川农业大学",
        verified=True,
        capacity=3,
        load=1,
        closed_cases=4,
        mean_rating=4.5,
    ),
    Profile(id="tea2", text="茶叶种植与病虫害绿色防控", region_path="500000/500100/500103/"),
    Profile(id="liquor", text="白酒酿造工艺优化", kind="team", region_path="510000/510500/"),
    Profile(id="kiwi", text="猕猴桃溃疡病防治", region_path="110000/"),
    Profile(id="ricefish", text="稻渔综合种养与水产养殖", disciplines=("水产",)),
    Profile(id="gone", text="茶叶机械化采摘"),
]

QUERIES = [
    MatchQuery(text="茶叶加工", region_path="510000/510100/510107/", category="茶叶"),
    MatchQuery(text="稻渔综合种养", disciplines=("水产",)),
    MatchQuery(text="白酒 猕猴桃", kinds=("team", "expert"), only_available=True),
    MatchQuery(
        text="茶叶",
        organisation="四川农业大学",
        conflict_policy=ConflictPolicy.FLAG,
        region_path="500000/500100/500103/",
    ),
    MatchQuery(text="汽车维修"),
]


def _build(embedder: HashEmbedder | None, **kwargs: Any) -> Engine:
    engine = Engine(
        embedder=embedder,
        vocabulary=["稻渔综合种养"],
        weights=WEIGHTS,
        tiers=TIERS,
        bigram_weight=0.25,
        **kwargs,
    )
    engine.add(PROFILES)
    engine.delete(["gone"])
    engine.record_feedback(expert_id="tea", kind="茶叶", outcome=Outcome.DECLINED)
    engine.record_feedback(expert_id="tea2", kind="茶叶", outcome=Outcome.SOLVED)
    return engine


def _answers(engine: Engine) -> list[list[Result]]:
    return [engine.search(q, top_k=10) for q in QUERIES]


@pytest.mark.parametrize("embedder", [HashEmbedder(), None], ids=["hash", "no-vectors"])
def test_a_loaded_engine_ranks_exactly_as_the_saved_one(
    tmp_path: Path, embedder: HashEmbedder | None
) -> None:
    engine = _build(embedder)
    before = _answers(engine)
    assert any(before)
    engine.save(tmp_path / "idx")
    loaded = Engine.load(tmp_path / "idx", embedder=embedder)
    after = _answers(loaded)
    assert [[(r.id, r.score) for r in rs] for rs in after] == [
        [(r.id, r.score) for r in rs] for rs in before
    ]
    assert after == before


def test_load_restores_settings_profiles_and_feedback(tmp_path: Path) -> None:
    engine = _build(HashEmbedder())
    engine.save(tmp_path)
    loaded = Engine.load(tmp_path, embedder=HashEmbedder())
    assert loaded.weights == WEIGHTS
    assert loaded.tiers == TIERS
    assert loaded.bigram_weight == 0.25
    assert loaded.segmenter.vocabulary == frozenset({"稻渔综合种养"})
    assert loaded.feedback == engine.feedback
    assert len(loaded) == 5
    assert "gone" not in loaded
    assert loaded.profile("tea") == engine.profile("tea")
    assert loaded.profile("tea").disciplines == ("茶学",)


def test_a_loaded_engine_takes_writes_and_gives_new_slots(tmp_path: Path) -> None:
    _build(HashEmbedder()).save(tmp_path)
    loaded = Engine.load(tmp_path, embedder=HashEmbedder())
    loaded.add([Profile(id="new", text="茶叶加工新工艺")])
    loaded.delete(["tea2"])
    results = loaded.search(MatchQuery(text="茶叶加工"))
    assert {r.id for r in results[:2]} == {"tea", "new"}
    assert "tea2" not in [r.id for r in results]
    assert loaded._slots["new"] == len(PROFILES)
    assert loaded.feedback.score(expert_id="tea2", kind="茶叶") == 0.0


def test_saving_a_loaded_engine_over_its_own_directory_keeps_it_loadable(
    tmp_path: Path,
) -> None:
    engine = _build(HashEmbedder())
    before = _answers(engine)
    engine.save(tmp_path)
    loaded = Engine.load(tmp_path, embedder=HashEmbedder())
    loaded.save(tmp_path)
    assert _answers(loaded) == before
    assert _answers(Engine.load(tmp_path, embedder=HashEmbedder())) == before


def test_an_engine_kept_in_a_directory_saves_in_place(tmp_path: Path) -> None:
    engine = _build(HashEmbedder(), directory=tmp_path)
    before = _answers(engine)
    engine.save(tmp_path)
    assert _answers(Engine.load(tmp_path, embedder=HashEmbedder())) == before


def test_saving_twice_to_one_directory_keeps_only_the_second(tmp_path: Path) -> None:
    _build(HashEmbedder()).save(tmp_path)
    second = Engine(embedder=HashEmbedder())
    second.add([Profile(id="only", text="白酒酿造")])
    second.save(tmp_path)
    loaded = Engine.load(tmp_path, embedder=HashEmbedder())
    assert len(loaded) == 1
    assert [r.id for r in loaded.search(MatchQuery(text="茶叶 白酒"))] == ["only"]


def test_an_hnsw_engine_round_trips_with_its_graph(tmp_path: Path) -> None:
    engine = Engine(embedder=HashEmbedder(), ann_threshold=20)
    engine.add(Profile(id=f"p{i:02d}", text=f"第{i}号 茶叶加工技术服务") for i in range(50))
    engine.delete(["p07"])
    queries = [MatchQuery(text=t) for t in ("茶叶加工", "第7号", "汽车")]
    before = [engine.search(q, top_k=20) for q in queries]
    engine.save(tmp_path)
    assert (tmp_path / "vectors" / "hnsw.bin").is_file()
    loaded = Engine.load(tmp_path, embedder=HashEmbedder())
    assert loaded._vectors is not None
    assert loaded._vectors._hnsw is not None
    assert [loaded.search(q, top_k=20) for q in queries] == before


def test_a_small_engine_saved_over_an_hnsw_one_leaves_no_stale_graph(tmp_path: Path) -> None:
    big = Engine(embedder=HashEmbedder(), ann_threshold=20)
    big.add(Profile(id=f"p{i}", text=f"第{i}号 茶叶加工") for i in range(50))
    big.save(tmp_path)
    small = Engine(embedder=HashEmbedder())
    small.add([Profile(id="q0", text="猕猴桃"), Profile(id="q1", text="白酒")])
    small.save(tmp_path)
    before = small.search(MatchQuery(text="猕猴桃"))
    assert _plain(
        Engine.load(tmp_path, embedder=HashEmbedder()).search(MatchQuery(text="猕猴桃"))
    ) == _plain(before)
    assert before[0].explanation.semantic == pytest.approx(1.0, abs=1e-6)


def _plain(results: list[Result]) -> list[tuple[str, float]]:
    return [(r.id, r.score) for r in results]


def test_loading_with_another_embedder_is_refused(tmp_path: Path) -> None:
    _build(HashEmbedder()).save(tmp_path)
    with pytest.raises(ValueError, match="built with embedder 'hash-bigram'"):
        Engine.load(tmp_path, embedder=E5Embedder())
    with pytest.raises(ValueError, match="built with embedder 'hash-bigram'"):
        Engine.load(tmp_path)


def test_loading_a_lexical_only_index_with_an_embedder_is_refused(tmp_path: Path) -> None:
    _build(None).save(tmp_path)
    with pytest.raises(ValueError, match="built with embedder None"):
        Engine.load(tmp_path, embedder=HashEmbedder())


def test_loading_with_an_embedder_of_another_dimension_is_refused(tmp_path: Path) -> None:
    _build(HashEmbedder(dim=64)).save(tmp_path)
    with pytest.raises(ValueError, match="dimension 64"):
        Engine.load(tmp_path, embedder=HashEmbedder(dim=32))


def test_an_unknown_format_version_is_refused(tmp_path: Path) -> None:
    _build(None).save(tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text(encoding="utf-8"))
    assert meta["format"] == 1
    meta["format"] = 2
    (tmp_path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match="unsupported engine format 2"):
        Engine.load(tmp_path)


def test_the_saved_files_hold_no_profile_text(tmp_path: Path) -> None:
    _build(None).save(tmp_path)
    rows = [
        json.loads(line)
        for line in (tmp_path / "profiles.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [row["id"] for row in rows] == ["tea", "tea2", "liquor", "kiwi", "ricefish"]
    assert all("text" not in row for row in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "feedback.json",
        "lexical",
        "meta.json",
        "profiles.jsonl",
    ]
