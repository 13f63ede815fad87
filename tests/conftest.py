"""Shared fixtures. Regions, service centres and classifications are loaded once per test
database: with pytest-xdist (`make test` runs `-n 2`) each worker has its own, an in-memory
SQLite database or test_<name>_gw0, _gw1, ... on PostgreSQL, and loads it itself.

People in tests follow one cast: Alice is county staff in 锦江区 (510104), Bob is her
colleague at the 成都市 (510100) centre, Charlie is staff in another city's county,
青川县 (510822, 广元市), and Pat is at the province centre.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.accounts.services import staff_create
from kejiyun.accounts.validators import uscc_check_character
from kejiyun.matching.index import match_index_reset
from kejiyun.regions.models import Region
from kejiyun.regions.services import regions_load, service_centres_ensure
from kejiyun.talent.models import TalentProfile
from kejiyun.talent.services import disciplines_load, industries_load

PASSWORD = "Correct-Horse-Battery-9"

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
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache (rate-limit counters live there)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _own_media_root(tmp_path: Path, settings: Any) -> None:
    """Uploads (case evidence, attachments, popsci media) go to the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _own_match_index(tmp_path: Path, settings: Any) -> Iterator[None]:
    """Each test gets its own match-index folder and no engine left from another test
    (test databases reuse ids, so an index stamp alone cannot tell them apart)."""
    settings.MATCH_INDEX_DIR = tmp_path / "match-index"
    match_index_reset()
    yield
    match_index_reset()


DORA_MOBILE = "13700001111"


@pytest.fixture
def dora(db: None) -> User:
    """A citizen who signs in with a mobile number and a password."""
    return User.objects.create_user(
        username="dora",
        password=PASSWORD,
        display_name="Dora",
        mobile=DORA_MOBILE,
        role=Role.CITIZEN,
    )


def make_uscc(county_code: str, serial: str) -> str:
    first17 = f"91{county_code}{serial:0>9}"[:17]
    return first17 + uscc_check_character(first17)


def make_staff(username: str, region_code: str) -> User:
    return staff_create(
        username=username,
        display_name=username.title(),
        password=PASSWORD,
        centre_region=Region.objects.get(code=region_code),
    )


def make_enterprise(name: str, county_code: str, serial: str) -> Organisation:
    return Organisation.objects.create(
        kind=Organisation.Kind.ENTERPRISE,
        name=name,
        uscc=make_uscc(county_code, serial),
        region_id=county_code,
    )


def make_worker(username: str, county_code: str, mobile: str) -> TalentProfile:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        display_name=username.title(),
        mobile=mobile,
        role=Role.WORKER,
        region_id=county_code,
    )
    return TalentProfile.objects.create(user=user, region_id=county_code, employer="四川农业大学")


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


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    return marker is not None and bool(marker.kwargs.get("transaction"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run transactional tests (browser tests, races) last: their teardown empties the test
    database, regions included. Under pytest-xdist every worker collects this same order and
    `--dist load` (the Makefile's) hands each worker its tests in that order, so each worker
    too runs its transactional tests after all its others."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None or _transactional(item))
