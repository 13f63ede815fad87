"""Lock-out after repeated failures, and session time limits
(docs/requirements/security.md items 2, 3, 5)."""

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.http import HttpResponse
from django.test import Client

from kejiyun.accounts.models import LoginFailure, User
from tests.builders import DORA_MOBILE, PASSWORD, make_superuser

pytestmark = pytest.mark.django_db

MOBILE = DORA_MOBILE


def login(client: Client, name: str, password: str) -> int:
    return client.post("/accounts/login/", {"username": name, "password": password}).status_code


def test_the_sixth_failure_within_15_minutes_is_refused_even_with_the_right_password(
    dora: User,
) -> None:
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        for _ in range(5):
            assert login(Client(), MOBILE, "wrong-password-123") == 200
            clock.shift(60)
        client = Client()
        response = client.post("/accounts/login/", {"username": MOBILE, "password": PASSWORD})
        assert response.status_code == 200
        assert "账号已临时锁定" in response.content.decode()
        assert "_auth_user_id" not in client.session
        # The lock counts per login name, whichever form of it is typed.
        assert login(Client(), "dora", PASSWORD) == 200
        assert login(Client(), "+86 137-0000-1111", PASSWORD) == 200


def test_the_lock_lifts_30_minutes_after_the_last_failure(dora: User) -> None:
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        for _ in range(5):
            login(Client(), MOBILE, "wrong-password-123")
        clock.shift(29 * 60)
        assert login(Client(), MOBILE, PASSWORD) == 200
        clock.shift(2 * 60)
        assert login(Client(), MOBILE, PASSWORD) == 302


def test_five_failures_spread_over_more_than_15_minutes_do_not_lock(dora: User) -> None:
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        for _ in range(5):
            login(Client(), MOBILE, "wrong-password-123")
            clock.shift(4 * 60)
        assert login(Client(), MOBILE, PASSWORD) == 302


def test_failures_store_no_login_name(dora: User) -> None:
    login(Client(), MOBILE, "wrong-password-123")
    failure = LoginFailure.objects.get()
    assert MOBILE not in failure.identity
    assert len(failure.identity) == 64


def test_an_idle_session_ends_after_30_minutes(dora: User) -> None:
    client = Client()
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        assert login(client, MOBILE, PASSWORD) == 302
        assert client.get("/dashboard/").status_code == 200
        clock.shift(29 * 60)
        assert client.get("/dashboard/").status_code == 200
        clock.shift(31 * 60)
        response = client.get("/dashboard/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert client.get("/dashboard/").status_code == 302


def test_a_session_ends_after_12_hours_however_active(dora: User) -> None:
    client = Client()
    with time_machine.travel("2026-06-01 08:00:00+08:00", tick=False) as clock:
        login(client, MOBILE, PASSWORD)
        assert client.get("/dashboard/").status_code == 200  # the session's first request
        for _ in range(12 * 4 - 1):
            clock.shift(15 * 60)
            assert client.get("/dashboard/").status_code == 200
        clock.shift(15 * 60 + 1)
        assert client.get("/dashboard/").status_code == 302


def test_login_issues_a_new_session_key_and_a_password_change_ends_other_sessions(
    dora: User,
) -> None:
    first, second = Client(), Client()
    first.get("/")
    anonymous_key = first.session.session_key
    login(first, MOBILE, PASSWORD)
    assert first.session.session_key != anonymous_key
    login(second, MOBILE, PASSWORD)
    assert first.session.session_key != second.session.session_key
    new = "Another-Strong-Pass-42"
    response = first.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert first.get("/dashboard/").status_code == 200
    assert second.get("/dashboard/").status_code == 302


def test_the_settings_hash_passwords_with_djangos_argon2_which_checks_the_test_hashes(
    dora: User,
) -> None:
    """Tests hash at Argon2's lowest cost (tests/hashers.py); the settings module itself keeps
    Django's full-cost Argon2 first, and that hasher verifies the hashes tests write."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    from kejiyun import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher"
    )
    assert dora.password.startswith("argon2$argon2id$")
    assert Argon2PasswordHasher().verify(PASSWORD, dora.password)
    assert not Argon2PasswordHasher().verify("wrong-" + PASSWORD, dora.password)


# --- One lock-out for every login door (issue 10, item 4) -------------------------------------

ADMIN_LOGIN = "/admin/login/?next=/admin/"
LOCKED = "登录失败次数过多，账号已临时锁定"


def admin_login(client: Client, name: str, password: str) -> HttpResponse:
    return client.post(ADMIN_LOGIN, {"username": name, "password": password})


def test_the_admin_login_refuses_the_sixth_attempt_like_the_accounts_login() -> None:
    root = make_superuser()
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        assert admin_login(Client(), "root", PASSWORD).status_code == 302  # the door works
        for _ in range(5):
            response = admin_login(Client(), "root", "wrong-password-123")
            assert response.status_code == 200
            clock.shift(60)
        assert LoginFailure.objects.count() == 5
        client = Client()
        response = admin_login(client, "root", PASSWORD)
        assert response.status_code == 200
        assert LOCKED in response.content.decode()
        assert "_auth_user_id" not in client.session
        assert client.get("/admin/").status_code == 302
        # The same account is locked at the other door too, and refusals while locked
        # do not extend the lock.
        other_door = Client().post("/accounts/login/", {"username": "root", "password": PASSWORD})
        assert LOCKED in other_door.content.decode()
        assert LoginFailure.objects.count() == 5
        clock.shift(30 * 60)  # 31 minutes after the last failure
        assert admin_login(Client(), "root", PASSWORD).status_code == 302
    assert root.is_superuser


def test_failures_at_one_door_count_at_the_other(dora: User) -> None:
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        for _ in range(3):
            admin_login(Client(), MOBILE, "wrong-password-123")
            clock.shift(60)
        for _ in range(2):
            login(Client(), MOBILE, "wrong-password-123")
            clock.shift(60)
        for door in ("/accounts/login/", ADMIN_LOGIN):
            client = Client()
            response = client.post(door, {"username": MOBILE, "password": PASSWORD})
            assert response.status_code == 200, door
            assert LOCKED in response.content.decode(), door
            assert "_auth_user_id" not in client.session


def test_four_failures_at_the_admin_door_do_not_lock_the_accounts_door(dora: User) -> None:
    for _ in range(4):
        admin_login(Client(), MOBILE, "wrong-password-123")
    assert login(Client(), MOBILE, PASSWORD) == 302


def test_any_caller_of_authenticate_meets_the_lock(dora: User) -> None:
    """A later door (an API, say) that calls Django's `authenticate` shares the count."""
    for _ in range(5):
        assert authenticate(None, username=MOBILE, password="wrong-password-123") is None
    assert authenticate(None, username=MOBILE, password=PASSWORD) is None
    assert login(Client(), MOBILE, PASSWORD) == 200
