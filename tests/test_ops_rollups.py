from __future__ import annotations

from datetime import date

import pytest

from kejiyun.ops.compute import REGISTRY
from kejiyun.ops.indicators import CATALOGUE
from kejiyun.ops.rollups import rollup_days, rollup_verify


def test_the_registry_computes_exactly_the_catalogue() -> None:
    assert sorted(REGISTRY) == sorted(i.key for i in CATALOGUE)


@pytest.mark.django_db
def test_smoke() -> None:
    rollup_days(start=date(2026, 1, 1), end=date(2026, 2, 3))
    assert rollup_verify(start=date(2026, 1, 1), end=date(2026, 2, 3)).mismatches == []
