"""Audit log: one complete row per event, no personal data, a tamper-evident chain
(docs/requirements/security.md items 11, 12, 14)."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditEvent
from kejiyun.audit.services import audit_record, audit_verify
from kejiyun.popsci.content.services import content_approve, content_submit
from kejiyun.popsci.models import CitizenProfile
from kejiyun.popsci.targeting.services import citizen_consent_grant, citizen_consent_withdraw
from tests.builders import DORA_MOBILE, PASSWORD, make_citizen, make_draft, make_reviewer

pytestmark = pytest.mark.django_db

MOBILE = DORA_MOBILE


def only_event() -> AuditEvent:
    [event] = AuditEvent.objects.all()
    return event


def test_a_login_writes_exactly_one_complete_row(dora: User) -> None:
    response = Client().post("/accounts/login/", {"username": "dora", "password": PASSWORD})

    assert response.status_code == 302
    event = only_event()
    assert (event.action, event.user_id, event.ip, event.outcome) == (
        "account.login",
        dora.pk,
        "127.0.0.1",
        "ok",
    )
    assert event.created_at is not None
    assert len(event.hash) == 64


def test_a_failed_login_writes_one_refused_row_without_the_typed_name(dora: User) -> None:
    response = Client().post("/accounts/login/", {"username": MOBILE, "password": "wrong-pw-1234"})

    assert response.status_code == 200
    event = only_event()
    assert (event.action, event.user_id, event.ip, event.outcome) == (
        "account.login_failed",
        None,
        "127.0.0.1",
        "refused",
    )
    assert event.detail == {"reason": "bad_credentials"}
    # The target account is named by its id, never by the typed name.
    assert (event.object_type, event.object_id) == ("user", str(dora.pk))
    stored = json.dumps([event.detail, event.object_type, event.object_id], ensure_ascii=False)
    for part in (MOBILE, MOBILE[:7], MOBILE[-4:], "wrong-pw"):
        assert part not in stored


def test_a_failed_login_with_an_unknown_name_names_no_account(dora: User) -> None:
    Client().post("/accounts/login/", {"username": "nobody-here", "password": "wrong-pw-1234"})

    event = only_event()
    assert (event.action, event.object_type, event.object_id, event.ip) == (
        "account.login_failed",
        "",
        "",
        "127.0.0.1",
    )
    assert "nobody" not in json.dumps(event.detail)


def test_a_logout_writes_exactly_one_complete_row(dora: User) -> None:
    client = Client()
    client.force_login(dora)  # force_login sends user_logged_in too
    before = AuditEvent.objects.count()

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    assert (event.action, event.user_id, event.ip, event.outcome) == (
        "account.logout",
        dora.pk,
        "127.0.0.1",
        "ok",
    )


def test_approving_content_writes_one_content_approve_row(alice: User) -> None:
    reviewer = make_reviewer()
    article = make_draft(alice)
    content_submit(article=article, actor=alice)

    content_approve(article=article, actor=reviewer)

    [event] = AuditEvent.objects.filter(action="content.approve")
    assert (event.user_id, event.object_type, event.object_id, event.outcome) == (
        reviewer.pk,
        "article",
        str(article.pk),
        "ok",
    )
    assert AuditEvent.objects.count() == 1


def test_withdrawing_consent_writes_one_row() -> None:
    user = make_citizen("erin", consent=False)
    profile = CitizenProfile.objects.get(user=user)
    citizen_consent_grant(profile=profile, actor=profile.user)

    citizen_consent_withdraw(profile=profile, actor=profile.user)

    [event] = AuditEvent.objects.filter(action="consent.withdraw")
    assert (event.user_id, event.object_type, event.object_id, event.outcome) == (
        user.pk,
        "citizen_profile",
        str(profile.pk),
        "ok",
    )
    assert AuditEvent.objects.filter(action="consent.grant").count() == 1


def test_the_chain_verifies_intact_after_several_events(dora: User) -> None:
    audit_record(action="account.login", user=dora, ip="127.0.0.1")
    audit_record(
        action="account.login_failed", ip="::1", outcome="refused", detail={"b": 1, "a": [2]}
    )
    audit_record(action="account.logout", user=dora, ip="127.0.0.1")

    events = list(AuditEvent.objects.order_by("id"))
    assert [e.prev_hash for e in events] == ["", events[0].hash, events[1].hash]
    assert audit_verify() == []
    call_command("audit_verify")


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL refuses the update outright"
)
def test_a_row_edited_behind_the_services_back_is_detected(dora: User) -> None:
    audit_record(action="account.login", user=dora, ip="127.0.0.1")
    tampered = audit_record(action="content.approve", user=dora, detail={"version": 1})
    audit_record(action="account.logout", user=dora, ip="127.0.0.1")

    AuditEvent.objects.filter(pk=tampered.pk).update(detail={"version": 2})

    assert audit_verify() == [tampered.pk]
    with pytest.raises(CommandError, match=str(tampered.pk)):
        call_command("audit_verify")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL only")
def test_postgresql_refuses_to_update_or_delete_an_audit_row(dora: User) -> None:
    event = audit_record(action="account.login", user=dora, ip="127.0.0.1")

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(detail={"version": 2})
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()

    event.refresh_from_db()
    assert event.detail == {}
    assert audit_verify() == []


def test_deleting_a_user_leaves_their_audit_rows_intact() -> None:
    user = User.objects.create_user(
        username="erin", password=PASSWORD, display_name="Erin", role=Role.CITIZEN
    )
    audit_record(action="account.login", user=user, ip="127.0.0.1")
    user_id = user.pk
    user.delete()
    event = AuditEvent.objects.get(action="account.login")
    assert event.user_id == user_id
    assert audit_verify() == []
