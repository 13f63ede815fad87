"""The security auditor's audit-trail viewer at /security/audit/ (docs/security.md items 11
and 12): who may see it, the filters, the chain status, the .xlsx export, and the AUDIT_VIEW
and AUDIT_EXPORT rows."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook  # type: ignore[import-untyped]

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.audit.services import audit_record
from tests.builders import PASSWORD, client_for, make_superuser

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(db: None) -> User:
    return User.objects.create_user(
        username="audrey", password=PASSWORD, display_name="审计员", role=Role.AUDITOR
    )


def views_of(user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.AUDIT_VIEW, user=user).order_by("id"))


def test_only_the_auditor_and_holders_of_the_permission_see_the_trail(
    auditor: User, alice: User, dora: User
) -> None:
    assert client_for(auditor).get("/security/audit/").status_code == 200
    assert client_for(alice).get("/security/audit/").status_code == 404  # staff
    assert client_for(dora).get("/security/audit/").status_code == 404  # citizen
    assert client_for(alice).get("/security/audit/export.xlsx").status_code == 404
    anonymous = Client().get("/security/audit/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]

    alice.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="view_audit_trail")
    )
    alice = User.objects.get(pk=alice.pk)
    assert client_for(alice).get("/security/audit/").status_code == 200
    # A superuser holds every permission, the audit trail's included.
    assert client_for(make_superuser()).get("/security/audit/").status_code == 200


def test_the_filters_select_rows_and_a_search_writes_one_audit_view_row(
    auditor: User, alice: User, bob: User
) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=False):
        audit_record(action=AuditAction.LOGIN, user=bob, ip="10.0.0.5")
    audit_record(action=AuditAction.LOGIN, user=alice, ip="10.0.0.1")
    audit_record(
        action=AuditAction.CASE_TRANSITION,
        user=alice,
        ip="10.0.0.2",
        object_type="case",
        object_id="42",
    )
    audit_record(action=AuditAction.ACCESS_REFUSED, user=alice, ip="10.0.0.3", outcome="refused")
    client = client_for(auditor)

    def shown(query: str) -> set[int]:
        response = client.get(f"/security/audit/?{query}")
        assert response.status_code == 200
        return {int(e.pk) for e, _ in response.context["rows"]}

    base = AuditEvent.objects.filter(user__in=[alice, bob])
    assert shown("actor=Alice") == set(base.filter(user=alice).values_list("pk", flat=True))
    assert shown(f"actor={bob.pk}") == set(base.filter(user=bob).values_list("pk", flat=True))
    assert shown("ip=10.0.0.2&object_type=case&object_id=42") == set(
        base.filter(ip="10.0.0.2").values_list("pk", flat=True)
    )
    assert shown("outcome=refused&action=access.refused") == set(
        base.filter(outcome="refused").values_list("pk", flat=True)
    )
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert bob.pk not in {
        AuditEvent.objects.get(pk=pk).user_id for pk in shown(f"date_from={since}&actor=Bob")
    }
    assert shown("date_to=2000-01-01") == set()

    # One AUDIT_VIEW per search above (6), none for turning a page.
    assert len(views_of(auditor)) == 6
    client.get("/security/audit/?actor=Alice&page=2")
    assert len(views_of(auditor)) == 6
    last = views_of(auditor)[-1]
    assert (last.ip, last.outcome, last.object_type) == ("127.0.0.1", "ok", "auditevent")
    assert last.detail == {"filters": {"date_to": "2000-01-01"}}
    # The actor filter is recorded as ids, never as the typed name.
    assert views_of(auditor)[0].detail == {"filters": {"actor_ids": [alice.pk]}}


def test_the_page_shows_the_chain_status(auditor: User, alice: User) -> None:
    audit_record(action=AuditAction.LOGIN, user=alice)
    middle = audit_record(action=AuditAction.SHEETS_EXPORT, user=alice)
    audit_record(action=AuditAction.LOGOUT, user=alice)
    client = client_for(auditor)
    assert 'data-chain="intact"' in client.get("/security/audit/").content.decode()

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only"
                )
        AuditEvent.objects.filter(pk=middle.pk).update(ip="10.6.6.6")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only"
                )
    page = client.get("/security/audit/").content.decode()
    assert 'data-chain="broken"' in page
    assert str(middle.pk) in page


def test_the_export_holds_the_filtered_rows_and_writes_one_audit_export_row(
    auditor: User, alice: User, bob: User
) -> None:
    audit_record(action=AuditAction.LOGIN, user=alice, ip="10.0.0.1")
    audit_record(action=AuditAction.LOGIN, user=bob, ip="10.0.0.9")
    audit_record(action=AuditAction.LOGOUT, user=alice, ip="10.0.0.1")

    response = client_for(auditor).get("/security/audit/export.xlsx?ip=10.0.0.1")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["审计日志"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted(r[5] for r in rows) == ["account.login", "account.logout"]
    assert {r[4] for r in rows} == {"10.0.0.1"}
    [event] = AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORT)
    assert (event.user_id, event.ip, event.outcome) == (auditor.pk, "127.0.0.1", "ok")
    assert event.detail == {"filters": {"ip": "10.0.0.1"}, "rows": 2}
