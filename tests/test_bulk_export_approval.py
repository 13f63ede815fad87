"""Bulk exports of personal data need a second person's approval (docs/security.md item 21):
above settings.BULK_EXPORT_APPROVAL_ROWS rows a personal list makes a request instead of a
file; another holder of `accounts.approve_bulk_export` at the same or a higher centre approves
or refuses (self-approval 403); the requester downloads once within 24 hours."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone
from openpyxl import load_workbook  # type: ignore[import-untyped]

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.common.errors import ServiceError
from kejiyun.spreadsheets.models import ExportRequest
from kejiyun.spreadsheets.services import list_export
from tests.builders import client_for, make_staff, make_worker

pytestmark = pytest.mark.django_db

URL = "/sheets/export/workers.xlsx"


def approver(user: User) -> User:
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="approve_bulk_export")
    )
    return User.objects.get(pk=user.pk)


@pytest.fixture
def three_workers(settings: Any) -> None:
    settings.BULK_EXPORT_APPROVAL_ROWS = 2
    for i in range(3):
        make_worker(f"w{i}", "510104", f"1390000{i:04d}")


def rows_of(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def ask(alice: User) -> ExportRequest:
    response = client_for(alice).get(URL)
    assert response.status_code == 302
    request = ExportRequest.objects.get()
    assert response["Location"] == f"/sheets/export-requests/{request.pk}/"
    return request


def test_a_personal_export_above_the_threshold_makes_a_request_not_a_file(
    three_workers: None, alice: User
) -> None:
    request = ask(alice)

    assert (request.requester_id, request.list_name, request.row_count, request.status) == (
        alice.pk,
        "workers",
        3,
        "pending",
    )
    assert request.region_id == "510104"
    [event] = rows_of(AuditAction.EXPORT_REQUEST)
    assert (event.user_id, event.ip, event.object_type, event.object_id, event.outcome) == (
        alice.pk,
        "127.0.0.1",
        "export_request",
        str(request.pk),
        "ok",
    )
    assert event.detail == {"list": "workers", "rows": 3}
    assert rows_of(AuditAction.SHEETS_EXPORT) == []
    # The service refuses too, whatever view calls it.
    with pytest.raises(ServiceError, match="审批"):
        list_export(name="workers", actor=alice)


def test_at_or_below_the_threshold_or_without_personal_columns_the_file_comes_at_once(
    three_workers: None, alice: User, settings: Any
) -> None:
    assert client_for(alice).get("/sheets/export/demands.xlsx").status_code == 200
    settings.BULK_EXPORT_APPROVAL_ROWS = 3
    assert client_for(alice).get(URL).status_code == 200
    assert not ExportRequest.objects.exists()


def test_self_approval_is_refused_with_403(three_workers: None, alice: User) -> None:
    alice = approver(alice)
    request = ask(alice)

    response = client_for(alice).post(
        f"/sheets/export-requests/{request.pk}/decide/", {"decision": "approve"}
    )

    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "pending"
    [event] = rows_of(AuditAction.EXPORT_APPROVE)
    assert (event.user_id, event.outcome, event.detail) == (alice.pk, "refused", {"reason": "self"})


def test_only_a_holder_of_the_permission_at_the_same_or_a_higher_centre_decides(
    three_workers: None, alice: User, bob: User, charlie: User
) -> None:
    request = ask(alice)
    url = f"/sheets/export-requests/{request.pk}/decide/"
    # Bob (the city above) without the permission: he does not even see the request.
    assert client_for(bob).post(url, {"decision": "approve"}).status_code == 404
    # Charlie holds it, but in another city: not his to see.
    assert client_for(approver(charlie)).post(url, {"decision": "approve"}).status_code == 404
    # A colleague at alice's own centre with the permission may.
    colleague = approver(make_staff("carol", "510104"))
    assert client_for(colleague).get(f"/sheets/export-requests/{request.pk}/").status_code == 200
    request.refresh_from_db()
    assert request.status == "pending"

    assert client_for(approver(bob)).post(url, {"decision": "approve"}).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.decided_by_id) == ("approved", bob.pk)
    [event] = rows_of(AuditAction.EXPORT_APPROVE)
    assert (event.user_id, event.ip, event.object_id, event.outcome) == (
        bob.pk,
        "127.0.0.1",
        str(request.pk),
        "ok",
    )


def test_the_requester_downloads_once_within_24_hours(
    three_workers: None, alice: User, bob: User
) -> None:
    request = ask(alice)
    bob = approver(bob)
    download = f"/sheets/export-requests/{request.pk}/download.xlsx"
    # Not before approval.
    assert client_for(alice).get(download).status_code == 302
    client_for(bob).post(f"/sheets/export-requests/{request.pk}/decide/", {"decision": "approve"})
    # Only the requester.
    assert client_for(bob).get(download).status_code == 403

    response = client_for(alice).get(download)

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.max_row == 4  # the header and three workers
    [export] = rows_of(AuditAction.SHEETS_EXPORT)
    assert export.user_id == alice.pk and export.detail["approved_request"] == request.pk
    # Once only.
    again = client_for(alice).get(download)
    assert again.status_code == 302
    assert len(rows_of(AuditAction.SHEETS_EXPORT)) == 1
    request.refresh_from_db()
    assert request.status == "downloaded"


def test_an_approval_expires_after_24_hours(three_workers: None, alice: User, bob: User) -> None:
    request = ask(alice)
    client_for(approver(bob)).post(
        f"/sheets/export-requests/{request.pk}/decide/", {"decision": "approve"}
    )
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        client = client_for(alice)  # signed in afresh: sessions end after 12 hours
        response = client.get(f"/sheets/export-requests/{request.pk}/download.xlsx", follow=True)
    assert "已失效" in response.content.decode()
    assert rows_of(AuditAction.SHEETS_EXPORT) == []


def test_a_refusal_needs_a_reason_and_is_audited(
    three_workers: None, alice: User, bob: User
) -> None:
    request = ask(alice)
    client = client_for(approver(bob))
    url = f"/sheets/export-requests/{request.pk}/decide/"
    page = client.post(url, {"decision": "refuse"}, follow=True).content.decode()
    assert "驳回时请填写原因" in page
    request.refresh_from_db()
    assert request.status == "pending"

    client.post(url, {"decision": "refuse", "reason": "范围过大，请分区县导出"})

    request.refresh_from_db()
    assert (request.status, request.reason) == ("refused", "范围过大，请分区县导出")
    [event] = rows_of(AuditAction.EXPORT_REFUSE)
    assert (event.user_id, event.outcome, event.object_id) == (bob.pk, "ok", str(request.pk))
    download = client_for(alice).get(f"/sheets/export-requests/{request.pk}/download.xlsx")
    assert download.status_code == 302 and rows_of(AuditAction.SHEETS_EXPORT) == []
