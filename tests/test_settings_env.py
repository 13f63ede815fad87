import pytest

from kejiyun.common import env


def test_booleans_are_parsed_strictly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "yes")
    assert env.env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "0")
    assert env.env_bool("X_FLAG", True) is False
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(env.EnvError, match="X_FLAG"):
        env.env_bool("X_FLAG", False)


def test_a_required_string_without_a_default_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_SECRET", raising=False)
    with pytest.raises(env.EnvError, match="X_SECRET is required"):
        env.env_str("X_SECRET")


def test_integers_lists_and_province_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_INT", "12")
    assert env.env_int("X_INT", 0) == 12
    monkeypatch.setenv("X_INT", "twelve")
    with pytest.raises(env.EnvError):
        env.env_int("X_INT", 0)
    monkeypatch.setenv("X_LIST", "a.example, b.example,,")
    assert env.env_list("X_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("X_PROV", "500000")
    assert env.env_region_code("X_PROV", "510000") == "500000"
    monkeypatch.setenv("X_PROV", "510100")
    with pytest.raises(env.EnvError):
        env.env_region_code("X_PROV", "510000")
