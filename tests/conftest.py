"""Fixtures and hooks. Regions, service centres and classifications are loaded once per test
database: with pytest-xdist (`make test` runs `-n 2`) each worker has its own, an in-memory
SQLite database or test_<name>_gw0, _gw1, ... on PostgreSQL, and loads it itself. Each test
gets an empty cache and its own media and match-index folders. The cast (Alice, Bob, Charlie,
Pat, Dora, Erin, Rita) is described in `tests/builders.py`, with the builders.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from kejiyun.accounts.models import Organisation, User
from kejiyun.matching.index import match_index_reset
from kejiyun.regions.services import regions_load, service_centres_ensure
from kejiyun.talent.services import disciplines_load, industries_load
from tests.builders import (
    DORA_MOBILE,
    make_citizen,
    make_enterprise,
    make_enterprise_user,
    make_reviewer,
    make_staff,
)

# The failure drills (tests/resilience/) start their own PostgreSQL, Redis, gunicorn and Celery
# and mount a file system: only `make test-resilience` (KEJIYUN_RESILIENCE=1) collects them.
if os.environ.get("KEJIYUN_RESILIENCE") != "1":
    collect_ignore = ["resilience"]

# WhiteNoise warns when STATIC_ROOT is missing; tests serve static files from the finders.
Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

# Passwords are hashed with Argon2 at the lowest cost (tests/hashers.py); Django's own Argon2
# hasher, still listed, verifies those hashes. test_login_security checks that the settings
# module itself keeps Django's full-cost Argon2 first.
settings.PASSWORD_HASHERS = [
    "tests.hashers.CheapArgon2PasswordHasher",
    *settings.PASSWORD_HASHERS,
]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        regions_load()
        service_centres_ensure(province_code="510000")
        disciplines_load()
        industries_load()
    yield


@pytest.fixture(autouse=True)
def _second_factor(request: pytest.FixtureRequest, settings: Any) -> None:
    """The TOTP second factor for privileged accounts (settings.OTP_REQUIRED, on by default
    and refused off in production) is enforced in tests marked `otp`: those prove the
    enforcement on every door. Other tests sign staff in with `force_login` or a password
    and test what the pages do."""
    settings.OTP_REQUIRED = request.node.get_closest_marker("otp") is not None


@pytest.fixture(autouse=True)
def _crawl_limits(request: pytest.FixtureRequest, settings: Any) -> None:
    """A test marked `crawl` asks thousands of URLs from one address within minutes: the
    rate limits (proved by their own tests) are lifted so every answer is the page's own,
    never a 429 that the crawl would misread."""
    if request.node.get_closest_marker("crawl") is None:
        return
    unlimited = 10**9
    settings.API_RATE_PER_IP_PER_MINUTE = unlimited
    settings.API_RATE_PER_TOKEN_PER_MINUTE = unlimited
    settings.SEARCH_RATE_LIMIT = unlimited
    settings.EXPORT_RATE_LIMIT = unlimited


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache (rate-limit counters live there)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: Any) -> Path:
    """Public uploads (popsci media) go to the test's own folder, which tests that look at the
    files on disk ask for by name."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def private_root(tmp_path: Path, settings: Any) -> Path:
    """Private files (case attachments and evidence) go to the test's own private root, which
    tests that look at the files on disk ask for by name."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture(autouse=True)
def _own_match_index(tmp_path: Path, settings: Any) -> Iterator[None]:
    """Each test gets its own match-index folder and no engine left from another test
    (test databases reuse ids, so an index stamp alone cannot tell them apart)."""
    settings.MATCH_INDEX_DIR = tmp_path / "match-index"
    match_index_reset()
    yield
    match_index_reset()


@pytest.fixture
def match_index(_own_match_index: None, settings: Any) -> Path:
    """The matching tests: lexical matching only (no embedding model, whatever the
    environment says); the test's match-index folder, where a rebuild saves the index."""
    settings.MATCH_EMBEDDER = "none"
    return settings.MATCH_INDEX_DIR


# --- The cast (see tests/builders.py) ----------------------------------------------------------


@pytest.fixture
def alice(db: None) -> User:
    return make_staff("alice", "510104")


@pytest.fixture
def bob(db: None) -> User:
    return make_staff("bob", "510100")


@pytest.fixture
def charlie(db: None) -> User:
    return make_staff("charlie", "510822")


@pytest.fixture
def pat(db: None) -> User:
    return make_staff("pat", "510000")


@pytest.fixture
def dora(db: None) -> User:
    """A citizen in 锦江区 who signs in with a mobile number and a password: a farmer aged
    36-59 who has not consented to targeted content."""
    return make_citizen("dora", "510104", mobile=DORA_MOBILE, consent=False)


@pytest.fixture
def rita(db: None) -> User:
    """A science reviewer."""
    return make_reviewer("rita")


@pytest.fixture
def tea_company(db: None) -> Organisation:
    """锦江茶业, an enterprise in 锦江区."""
    return make_enterprise("锦江茶业有限公司", "510104", "MA6100001")


@pytest.fixture
def erin(tea_company: Organisation) -> User:
    """Erin speaks for 锦江茶业."""
    return make_enterprise_user(tea_company, "erin")


# --- Hooks -----------------------------------------------------------------------------------


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    return marker is not None and bool(marker.kwargs.get("transaction"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run transactional tests (browser tests, races) last: their teardown empties the test
    database, regions included. Under pytest-xdist every worker collects this same order and
    `--dist load` (the Makefile's) hands each worker its tests in that order, so each worker
    too runs its transactional tests after all its others."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None or _transactional(item))


@pytest.fixture
def cache_down() -> Iterator[None]:
    """Redis at an address where nothing listens: every cache call fails (pages must be
    built from the database)."""
    from django.test import override_settings

    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=dead):
        yield
