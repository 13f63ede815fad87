"""The public surface: what `__all__` promises, and the dataclasses that cross it."""

import dataclasses

import pytest

import kejiyun_match
from kejiyun_match import (
    ConflictPolicy,
    Explanation,
    MatchQuery,
    Outcome,
    Profile,
    RegionTiers,
    Result,
    TermWeight,
    Weights,
)


def test_every_name_in_all_is_importable_from_the_package() -> None:
    for name in kejiyun_match.__all__:
        assert getattr(kejiyun_match, name) is not None
    assert len(kejiyun_match.__all__) == len(set(kejiyun_match.__all__))


def test_public_objects_are_defined_in_private_modules() -> None:
    for name in kejiyun_match.__all__:
        module = getattr(getattr(kejiyun_match, name), "__module__", "kejiyun_match._")
        assert module.startswith("kejiyun_match._"), name


def test_the_version_is_set() -> None:
    assert kejiyun_match.__version__ == "0.1.0"


def test_a_profile_is_available_when_unbounded_or_below_capacity() -> None:
    assert Profile(id="a", text="").available
    assert Profile(id="a", text="", capacity=3, load=2).available
    assert not Profile(id="a", text="", capacity=3, load=3).available
    assert not Profile(id="a", text="", capacity=3, load=4).available
    assert Profile(id="a", text="", capacity=-1, load=4).available


def test_profiles_and_queries_have_the_documented_defaults() -> None:
    profile = Profile(id="a", text="茶叶")
    assert (profile.kind, profile.region_path, profile.verified) == ("expert", "", False)
    assert (profile.capacity, profile.load, profile.mean_rating) == (0, 0, None)
    query = MatchQuery(text="茶叶")
    assert query.conflict_policy is ConflictPolicy.EXCLUDE
    assert query.related_ids == frozenset()
    assert (query.only_verified, query.only_available, query.within_region) == (False, False, "")


def test_weights_and_tiers_have_the_documented_defaults() -> None:
    assert Weights() == Weights(
        lexical=0.6,
        semantic=0.4,
        region=0.15,
        field=0.10,
        verified=0.03,
        availability=0.05,
        track_record=0.05,
        feedback=0.5,
        candidates=200,
    )
    assert RegionTiers() == RegionTiers(county=1.0, city=0.7, groups=(), province=0.3, nation=0.0)


def test_boundary_dataclasses_are_frozen() -> None:
    explanation = Explanation(
        matched_terms=(TermWeight("茶叶", 1.0),),
        lexical=1.0,
        semantic=0.5,
        relevance=1.0,
        field_fit=0.0,
        region_tier="county",
        region_fit=1.0,
        track_record=0.0,
        availability=1.0,
        feedback=0.0,
    )
    assert (explanation.conflict, explanation.shared_disciplines) == ("", ())
    result = Result(id="a", rank=1, score=1.0, kind="expert", explanation=explanation)
    for obj in (Profile(id="a", text=""), MatchQuery(text=""), result, explanation, Weights()):
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.id = "b"  # type: ignore[misc, union-attr]


def test_enums_are_plain_strings() -> None:
    assert [str(p) for p in ConflictPolicy] == ["exclude", "flag"]
    assert [str(o) for o in Outcome] == ["declined", "accepted", "solved"]
    assert Outcome("solved") is Outcome.SOLVED
