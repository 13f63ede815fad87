"""Hard filters, and conflicts of interest: excluded by default, or flagged on request."""

from kejiyun_match import ConflictPolicy, Engine, MatchQuery, Profile, Result

TEXT = "茶叶加工技术"


def _engine(*profiles: Profile) -> Engine:
    engine = Engine()
    engine.add(profiles)
    return engine


def _ids(results: list[Result]) -> list[str]:
    return [r.id for r in results]


def test_kinds_keep_only_the_kinds_asked_for() -> None:
    engine = _engine(
        Profile(id="expert", text=TEXT),
        Profile(id="team", text=TEXT, kind="team"),
        Profile(id="result", text=TEXT, kind="result"),
    )
    assert _ids(engine.search(MatchQuery(text=TEXT))) == ["expert", "result", "team"]
    assert _ids(engine.search(MatchQuery(text=TEXT, kinds=("team", "result")))) == [
        "result",
        "team",
    ]
    [team] = engine.search(MatchQuery(text=TEXT, kinds=("team",)))
    assert team.kind == "team"


def test_only_verified_drops_unverified_profiles() -> None:
    engine = _engine(Profile(id="a", text=TEXT), Profile(id="b", text=TEXT, verified=True))
    assert _ids(engine.search(MatchQuery(text=TEXT, only_verified=True))) == ["b"]
    assert _ids(engine.search(MatchQuery(text=TEXT))) == ["b", "a"]


def test_only_available_drops_profiles_at_or_over_capacity() -> None:
    engine = _engine(
        Profile(id="unbounded", text=TEXT, capacity=0, load=9),
        Profile(id="room", text=TEXT, capacity=2, load=1),
        Profile(id="full", text=TEXT, capacity=2, load=2),
        Profile(id="over", text=TEXT, capacity=2, load=3),
    )
    assert [p.available for p in (engine.profile(i) for i in ("unbounded", "room", "full"))] == [
        True,
        True,
        False,
    ]
    results = engine.search(MatchQuery(text=TEXT, only_available=True))
    assert _ids(results) == ["unbounded", "room"]
    assert [r.explanation.availability for r in results] == [1.0, 0.5]
    assert _ids(engine.search(MatchQuery(text=TEXT)))[-2:] == ["full", "over"]


def test_within_region_keeps_the_region_subtree() -> None:
    engine = _engine(
        Profile(id="jinjiang", text=TEXT, region_path="510000/510100/510104/"),
        Profile(id="chengdu", text=TEXT, region_path="510000/510100/"),
        Profile(id="mianyang", text=TEXT, region_path="510000/510700/510703/"),
        Profile(id="nowhere", text=TEXT),
    )
    query = MatchQuery(text=TEXT, within_region="510000/510100/")
    assert _ids(engine.search(query)) == ["chengdu", "jinjiang"]
    assert len(engine.search(MatchQuery(text=TEXT, within_region=""))) == 4


def test_filters_combine() -> None:
    engine = _engine(
        Profile(id="a", text=TEXT, kind="team", verified=True, region_path="510000/510100/"),
        Profile(id="b", text=TEXT, kind="team", verified=False, region_path="510000/510100/"),
        Profile(id="c", text=TEXT, kind="expert", verified=True, region_path="510000/510100/"),
        Profile(id="d", text=TEXT, kind="team", verified=True, region_path="500000/"),
    )
    query = MatchQuery(
        text=TEXT, kinds=("team",), only_verified=True, within_region="510000/", only_available=True
    )
    assert _ids(engine.search(query)) == ["a"]


def _conflicted_engine() -> Engine:
    return _engine(
        Profile(id="colleague", text=TEXT, organisation="四川农业大学"),
        Profile(id="partner", text=TEXT, organisation="西南大学"),
        Profile(id="both", text=TEXT, organisation="四川农业大学"),
        Profile(id="outsider", text=TEXT, organisation="西南大学"),
        Profile(id="unaffiliated", text=TEXT),
    )


def test_exclude_drops_the_same_organisation_and_declared_relations() -> None:
    query = MatchQuery(
        text=TEXT, organisation="四川农业大学", related_ids=frozenset({"partner", "both"})
    )
    assert query.conflict_policy is ConflictPolicy.EXCLUDE
    results = _conflicted_engine().search(query)
    assert _ids(results) == ["outsider", "unaffiliated"]
    assert {r.explanation.conflict for r in results} == {""}


def test_flag_keeps_conflicted_profiles_and_says_why() -> None:
    query = MatchQuery(
        text=TEXT,
        organisation="四川农业大学",
        related_ids=frozenset({"partner", "both"}),
        conflict_policy=ConflictPolicy.FLAG,
    )
    conflicts = {r.id: r.explanation.conflict for r in _conflicted_engine().search(query)}
    assert conflicts == {
        "both": "存在申报的关联关系",
        "colleague": "与需求方为同一单位",
        "outsider": "",
        "partner": "存在申报的关联关系",
        "unaffiliated": "",
    }


def test_a_query_without_an_organisation_has_no_organisation_conflicts() -> None:
    results = _conflicted_engine().search(MatchQuery(text=TEXT))
    assert len(results) == 5
    assert {r.explanation.conflict for r in results} == {""}


def test_conflicts_are_judged_after_filters_and_on_every_candidate() -> None:
    engine = _engine(
        *(Profile(id=f"same{i}", text=TEXT, organisation="甲单位") for i in range(12)),
        Profile(id="other", text=TEXT, organisation="乙单位"),
    )
    assert _ids(engine.search(MatchQuery(text=TEXT, organisation="甲单位"), top_k=3)) == ["other"]
    assert ConflictPolicy("flag") is ConflictPolicy.FLAG
