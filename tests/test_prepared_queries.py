"""Queries compiled once per process (kejiyun/common/prepared.py) and the request path that
uses them: the session row, the signed-in user with centre and region, the verified
authenticator. They must return what the ORM returns, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from kejiyun.accounts.backends import SESSION_USER_RELATED, UsernameOrMobileBackend
from kejiyun.accounts.middleware import PreparedOTPMiddleware
from kejiyun.accounts.models import User
from kejiyun.common.prepared import PreparedQuery
from kejiyun.common.sessions.db import SessionStore
from kejiyun.regions.models import Region

pytestmark = pytest.mark.django_db


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_prepared_query_returns_what_the_orm_returns_with_its_related_rows(alice: User) -> None:
    prepared = PreparedQuery(
        lambda pk: User.objects.select_related(*SESSION_USER_RELATED).filter(pk=pk), -1
    )
    ours = prepared.first(alice.pk)
    orm = User.objects.select_related(*SESSION_USER_RELATED).get(pk=alice.pk)
    assert ours is not None and ours is not orm
    assert _fields(ours) == _fields(orm)  # converters applied: datetimes, JSON, booleans
    assert ours._state.adding is False and ours._state.db == "default"
    assert orm.centre is not None
    with CaptureQueriesContext(connection) as asked:
        centre = ours.centre
        assert centre is not None and _fields(centre) == _fields(orm.centre)
        assert _fields(centre.region) == _fields(orm.centre.region)
    assert asked.captured_queries == []  # centre and region came with the row
    assert prepared.first(-12345) is None
    assert prepared.all(alice.pk) == [ours]


def test_a_prepared_query_is_compiled_once_and_asks_one_query(alice: User, bob: User) -> None:
    built: list[int] = []

    def build(pk: int) -> Any:
        built.append(pk)
        return User.objects.filter(pk=pk)

    prepared = PreparedQuery(build, -1)
    with CaptureQueriesContext(connection) as asked:
        assert prepared.first(alice.pk) == alice
        assert prepared.first(bob.pk) == bob
        assert prepared.first(alice.pk) == alice
    assert len(asked.captured_queries) == 3
    assert len(built) == 2  # the model once, the compiled form once (this thread)
    # Another thread compiles its own (a compiler belongs to its thread's connection).
    other = threading.Thread(target=lambda: prepared._compiled("default"))
    other.start()
    other.join()
    assert len(built) == 3


def test_string_keys_and_several_values(alice: User) -> None:
    prepared = PreparedQuery(
        lambda name, level: Region.objects.filter(name=name, level=level), "x-name", "x-level"
    )
    found = prepared.all("锦江区", "county")
    assert [r.code for r in found] == list(
        Region.objects.filter(name="锦江区", level="county").values_list("code", flat=True)
    )
    with pytest.raises(TypeError):
        prepared.all("锦江区")


def test_a_stand_in_that_is_not_a_plain_parameter_is_refused(alice: User) -> None:
    # Appears twice: which of the two is the value is not knowable.
    twice = PreparedQuery(lambda pk: User.objects.filter(pk=pk) | User.objects.filter(pk=pk), -1)
    with pytest.raises(ValueError, match="2 times"):
        twice.first(alice.pk)
    # Turned into something else by the lookup: never found among the parameters.
    changed = PreparedQuery(lambda name: User.objects.filter(username__contains=name), "ali")
    with pytest.raises(ValueError, match="0 times"):
        changed.first("ali")
    annotated = PreparedQuery(
        lambda pk: User.objects.filter(pk=pk).extra(select={"one": "1"}),
        -1,
    )
    with pytest.raises(ValueError, match="plain model fields"):
        annotated.first(alice.pk)


def test_the_session_engine_reads_a_live_session_and_refuses_an_expired_or_unknown_one() -> None:
    store = SessionStore()
    store["kjy"] = "值"
    store.create()
    key = store.session_key
    assert key is not None
    assert SessionStore(key).load() == {"kjy": "值"}
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    expired = SessionStore(key)
    assert expired.load() == {}
    assert expired.session_key is None  # as Django's own engine: a new key on the next save
    unknown = SessionStore("z" * 32)
    assert unknown.load() == {} and unknown.session_key is None
    assert SessionStore(None).load() == {}


def test_a_signed_in_request_reads_session_user_and_device_with_three_queries(
    alice: User, settings: Any
) -> None:
    settings.OTP_REQUIRED = True
    device = TOTPDevice.objects.create(user=alice, name="手机", confirmed=True)
    client = Client()
    client.force_login(alice)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.get("/dashboard/")
    with CaptureQueriesContext(connection) as asked:
        answer = client.get("/privacy/")
    assert answer.status_code == 200
    tables = [q["sql"].split("FROM", 1)[1].split()[0] for q in asked.captured_queries]
    assert tables == ['"django_session"', '"accounts_user"', '"otp_totp_totpdevice"']
    user: Any = answer.wsgi_request.user
    assert user.is_verified()
    assert user.otp_device == device


def test_a_device_that_is_gone_or_unconfirmed_or_another_users_does_not_verify(
    alice: User, bob: User, settings: Any
) -> None:
    settings.OTP_REQUIRED = True
    device = TOTPDevice.objects.create(user=alice, name="手机", confirmed=True)
    client = Client()
    client.force_login(alice)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    assert client.get("/cases/").status_code == 200
    device.confirmed = False
    device.save()
    assert client.get("/cases/").status_code == 302  # to the verify page
    theirs = TOTPDevice.objects.create(user=bob, name="手机", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = theirs.persistent_id
    session.save()
    assert client.get("/cases/").status_code == 302
    middleware = PreparedOTPMiddleware(lambda request: None)
    assert middleware._device_from_persistent_id("otp_totp.totpdevice/x") is None
    assert middleware._device_from_persistent_id(f"otp_totp.totpdevice/{theirs.pk}") == theirs
    theirs.delete()
    assert middleware._device_from_persistent_id(f"otp_totp.totpdevice/{device.pk + 999}") is None


def test_the_backend_loads_an_active_user_only(alice: User) -> None:
    backend = UsernameOrMobileBackend()
    assert backend.get_user(str(alice.pk)) == alice
    assert backend.get_user("not-a-number") is None
    assert backend.get_user(None) is None
    alice.is_active = False
    alice.save()
    assert backend.get_user(alice.pk) is None
