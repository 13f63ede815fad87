"""The complete audit trail (docs/security.md items 11-13): the request's IP on every row,
refusals, case transitions and outcomes, retention with a purge that keeps the chain
verifiable, and tampering always detected."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.context import current_ip
from kejiyun.audit.middleware import AuditMiddleware
from kejiyun.audit.models import AuditAction, AuditEvent, AuditSeal
from kejiyun.audit.services import audit_hash, audit_purge, audit_record, audit_verify
from kejiyun.cases.models import Case, Step
from kejiyun.cases.workflow.services import (
    OutcomeInput,
    case_confirm,
    case_outcome_record,
    case_transition,
)
from tests.builders import client_for, make_case, make_enterprise_user
from tests.security_figures import record_figure

pytestmark = pytest.mark.django_db

COMPLETE = ("created_at", "action", "outcome")


def assert_complete(event: AuditEvent, *, user: User | None, ip: str | None = "127.0.0.1") -> None:
    """Time, actor, IP, action, object and outcome all present (item 11)."""
    assert event.created_at is not None
    assert event.user_id == (user.pk if user is not None else None)
    assert event.ip == ip
    assert event.action and event.outcome in ("ok", "refused")
    assert len(event.hash) == 64


# --- The request's IP --------------------------------------------------------------------------


def test_a_row_written_without_an_ip_inside_a_request_carries_the_requests_ip() -> None:
    written: list[AuditEvent] = []

    def view(request: HttpRequest) -> HttpResponse:
        assert current_ip() == "203.0.113.7"
        written.append(audit_record(action=AuditAction.SHEETS_EXPORT))
        return HttpResponse("ok")

    request = RequestFactory().get("/x/", REMOTE_ADDR="203.0.113.7")
    AuditMiddleware(view)(request)

    assert written[0].ip == "203.0.113.7"
    assert current_ip() is None  # cleared after the response
    assert audit_record(action=AuditAction.SHEETS_EXPORT).ip is None  # outside a request


def test_the_ip_is_cleared_even_when_the_view_raises() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        AuditMiddleware(view)(RequestFactory().get("/x/", REMOTE_ADDR="203.0.113.8"))
    assert current_ip() is None


# --- Case transitions and outcomes -------------------------------------------------------------


def test_each_case_move_writes_exactly_one_complete_case_transition_row(alice: User) -> None:
    case = make_case(alice)
    client = client_for(alice)  # force_login writes its own LOGIN row
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = client.post(
        f"/cases/{case.pk}/transition/", {"to_step": Step.DIAGNOSIS, "version": case.version}
    )

    assert response.status_code in (200, 302)
    case.refresh_from_db()
    assert case.step == Step.DIAGNOSIS
    [event] = AuditEvent.objects.filter(pk__gt=last)
    assert event.action == AuditAction.CASE_TRANSITION
    assert_complete(event, user=alice)
    assert (event.object_type, event.object_id) == ("case", str(case.pk))
    assert event.detail == {"from": Step.INTAKE, "to": Step.DIAGNOSIS}


def _walk_to_delivery(case: Case, actor: User) -> Case:
    for target in (Step.DIAGNOSIS, Step.MATCHING, Step.DOCKING, Step.AGREEMENT, Step.DELIVERY):
        reason = "企业自行找到合作方" if target == Step.AGREEMENT else ""
        case_transition(case=case, to_step=target, actor=actor, reason=reason)
    return case


def test_recording_and_confirming_an_outcome_write_one_case_outcome_row_each(alice: User) -> None:
    case = _walk_to_delivery(make_case(alice), alice)
    assert AuditEvent.objects.filter(action=AuditAction.CASE_TRANSITION).count() == 5

    case_outcome_record(
        case=case, outcome=OutcomeInput(solved=False, reason="企业暂停项目"), actor=alice
    )
    [recorded] = AuditEvent.objects.filter(action=AuditAction.CASE_OUTCOME)
    assert_complete(recorded, user=alice, ip=None)  # a service call outside any request
    assert (recorded.object_type, recorded.object_id) == ("case", str(case.pk))
    assert recorded.detail == {"outcome": "not_solved", "stage": "recorded"}
    assert AuditEvent.objects.filter(action=AuditAction.CASE_TRANSITION).count() == 6

    eva = make_enterprise_user(case.demand.organisation, "eva")
    case = Case.objects.get(pk=case.pk)
    case_confirm(case=case, actor=eva, rating=4)
    confirmed = AuditEvent.objects.filter(action=AuditAction.CASE_OUTCOME).order_by("-id")[0]
    assert confirmed.user_id == eva.pk
    assert confirmed.detail == {"outcome": "not_solved", "stage": "confirmed", "rating": 4}
    assert AuditEvent.objects.filter(action=AuditAction.CASE_OUTCOME).count() == 2
    assert audit_verify() == []


def test_a_refused_case_move_writes_no_transition_row(alice: User) -> None:
    case = make_case(alice)
    with pytest.raises(Exception, match="不能从"):
        case_transition(case=case, to_step=Step.DELIVERY, actor=alice)
    assert not AuditEvent.objects.filter(action=AuditAction.CASE_TRANSITION).exists()


# --- Refusals ----------------------------------------------------------------------------------


def refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.ACCESS_REFUSED).order_by("id"))


def test_a_jurisdiction_404_writes_one_complete_refusal_row(alice: User, charlie: User) -> None:
    other = make_case(charlie, county="510822", serial="2")  # another county's case

    response = client_for(alice).get(f"/cases/{other.pk}/")

    assert response.status_code == 404
    [event] = refusals()
    assert_complete(event, user=alice)
    assert event.outcome == "refused"
    assert (event.object_type, event.object_id) == ("case", str(other.pk))
    assert event.detail == {"status": 404, "view": "cases:detail", "method": "GET"}


def test_an_api_refusal_is_logged_and_an_anonymous_404_is_not(alice: User, charlie: User) -> None:
    other = make_case(charlie, county="510822", serial="2")

    Client().get(f"/cases/{other.pk}/")  # anonymous: sent to sign in, nothing logged
    Client().get("/no-such-page/")  # an anonymous 404 (crawlers): nothing logged
    client_for(alice).get("/static/nothing-here.css")  # static files: nothing logged
    assert refusals() == []

    response = client_for(alice).get(f"/api/v1/cases/{other.pk}")
    assert response.status_code == 404
    [event] = refusals()
    assert event.user_id == alice.pk and event.detail["status"] == 404


def test_a_403_from_the_admin_is_logged(alice: User) -> None:
    alice.is_staff = True  # may enter the admin but holds no model permission
    alice.save(update_fields=["is_staff"])

    response = client_for(alice).get("/admin/audit/auditevent/")

    assert response.status_code == 403
    [event] = refusals()
    assert event.detail["status"] == 403 and event.detail["view"].startswith("admin:")


def test_a_scripted_probe_cannot_flood_the_table(alice: User, charlie: User, settings: Any) -> None:
    settings.AUDIT_REFUSALS_PER_USER = 5
    client = client_for(alice)
    with time_machine.travel(timezone.now().replace(second=1), tick=False):
        for case_id in range(900001, 900041):  # 40 probes in one window
            assert client.get(f"/cases/{case_id}/").status_code == 404

    rows = refusals()
    assert len(rows) == 6  # five in full, then one marking the rest suppressed
    assert [r.detail.get("suppressed", False) for r in rows] == [False] * 5 + [True]
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False):
        client.get("/cases/900999/")
    assert len(refusals()) == 7  # the next window logs again


# --- Retention ---------------------------------------------------------------------------------


def _rows_at(when: Any, n: int, user: User | None = None) -> list[AuditEvent]:
    with time_machine.travel(when, tick=False):
        return [
            audit_record(action=AuditAction.SHEETS_EXPORT, user=user, object_id=str(i))
            for i in range(n)
        ]


def test_the_purge_keeps_everything_younger_than_the_retention_and_still_verifies(
    settings: Any,
) -> None:
    settings.AUDIT_RETENTION_DAYS = 190
    now = timezone.now()
    old = _rows_at(now - timedelta(days=400), 3) + _rows_at(now - timedelta(days=191), 2)
    young = _rows_at(now - timedelta(days=189), 2) + _rows_at(now - timedelta(days=1), 2)

    deleted = audit_purge()

    assert deleted == len(old)
    kept = set(AuditEvent.objects.values_list("pk", flat=True))
    assert {e.pk for e in young} <= kept
    assert not kept & {e.pk for e in old}
    [purge] = AuditEvent.objects.filter(action=AuditAction.AUDIT_PURGE)
    assert purge.detail["anchor_hash"] == old[-1].hash
    assert purge.detail["deleted"] == len(old)
    assert audit_verify() == []

    # A second purge finds nothing more; the chain still verifies; later rows chain on.
    assert audit_purge() == 0
    audit_record(action=AuditAction.SHEETS_EXPORT)
    assert audit_verify() == []


def test_after_a_purge_a_forged_beginning_does_not_verify(settings: Any) -> None:
    now = timezone.now()
    _rows_at(now - timedelta(days=300), 2)
    young = _rows_at(now - timedelta(days=10), 3)
    audit_purge()
    assert audit_verify() == []

    # Deleting the first surviving row: the next row's link is not the anchor.
    _tamper(lambda: AuditEvent.objects.filter(pk=young[0].pk).delete())
    assert young[1].pk in audit_verify()


def test_the_settings_refuse_a_retention_under_183_days() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django, os; django.setup()"],
        env={
            **__import__("os").environ,
            "DJANGO_SETTINGS_MODULE": "kejiyun.settings",
            "AUDIT_RETENTION_DAYS": "182",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "AUDIT_RETENTION_DAYS" in result.stderr


def test_the_purge_job_is_on_the_schedule(settings: Any) -> None:
    from celery import current_app

    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "audit.purge"]
    assert len(entries) == 1
    current_app.loader.import_default_modules()
    assert "audit.purge" in current_app.tasks


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL only")
def test_postgresql_refuses_to_delete_a_young_row_and_allows_an_old_one() -> None:
    now = timezone.now()
    [old] = _rows_at(now - timedelta(days=200), 1)
    [young] = _rows_at(now - timedelta(days=182), 1)

    with pytest.raises(DatabaseError, match="183"), transaction.atomic():
        AuditEvent.objects.filter(pk=young.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=old.pk).update(detail={"x": 1})  # UPDATE: never
    AuditEvent.objects.filter(pk=old.pk).delete()  # older than 183 days: allowed
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [young.pk]


# --- Tampering ---------------------------------------------------------------------------------


def _tamper(change: Callable[[], Any]) -> None:
    """Make a change underneath the services; on PostgreSQL with the trigger off for it."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only"
                )
        change()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only"
                )


def _chain(dora: User) -> list[AuditEvent]:
    rows = [
        audit_record(action=AuditAction.LOGIN, user=dora, ip="127.0.0.1"),
        audit_record(
            action=AuditAction.CASE_TRANSITION,
            user=dora,
            ip="10.0.0.1",
            object_type="case",
            object_id="7",
            detail={"from": "intake", "to": "diagnosis"},
        ),
        audit_record(action=AuditAction.SHEETS_EXPORT, user=dora, ip="10.0.0.2", detail={"n": 3}),
        audit_record(action=AuditAction.LOGOUT, user=dora, ip="127.0.0.1"),
    ]
    assert audit_verify() == []
    return rows


EDITS: dict[str, Any] = {
    "created_at": lambda e: e.created_at + timedelta(seconds=1),
    "user_id": lambda e: (e.user_id or 0) + 1000,
    "ip": lambda e: "10.9.9.9",
    "action": lambda e: AuditAction.LOGOUT.value,
    "object_type": lambda e: "demand",
    "object_id": lambda e: "8",
    "outcome": lambda e: "refused",
    "detail": lambda e: {"from": "intake", "to": "closed"},
    "prev_hash": lambda e: "0" * 64,
    "hash": lambda e: "f" * 64,
}


def _forged_append(rows: list[AuditEvent]) -> None:
    """A well-formed row appended by hand: right prev_hash, right hash; only the seal shows it."""
    forged = AuditEvent(
        created_at=timezone.now(),
        user_id=rows[0].user_id,
        ip="10.6.6.6",
        action=AuditAction.LOGIN,
        prev_hash=rows[-1].hash,
        detail={},
    )
    forged.hash = audit_hash(forged)
    forged.save(force_insert=True)


def _forged_middle(rows: list[AuditEvent]) -> None:
    """A row slipped in between two others (an id in a gap made for it)."""
    AuditEvent.objects.filter(pk=rows[2].pk).delete()
    forged = AuditEvent(
        pk=rows[2].pk,
        created_at=rows[2].created_at,
        action=AuditAction.LOGIN,
        prev_hash=rows[1].hash,
        detail={},
    )
    forged.hash = audit_hash(forged)
    forged.save(force_insert=True)


def _swap(rows: list[AuditEvent]) -> None:
    a, b = rows[1], rows[2]
    fields = ["created_at", "user_id", "ip", "action", "object_type", "object_id", "outcome"]
    fields += ["detail", "prev_hash", "hash"]
    values_a = {f: getattr(a, f) for f in fields}
    values_b = {f: getattr(b, f) for f in fields}
    values_a["hash"], values_b["hash"] = a.hash + "x", b.hash + "y"  # unique while swapping
    AuditEvent.objects.filter(pk=a.pk).update(**{**values_b, "hash": "tmp-a"})
    AuditEvent.objects.filter(pk=b.pk).update(**{**values_a, "hash": "tmp-b"})
    AuditEvent.objects.filter(pk=a.pk).update(hash=b.hash)
    AuditEvent.objects.filter(pk=b.pk).update(hash=a.hash)


TAMPERINGS: dict[str, Callable[[list[AuditEvent]], Any]] = {
    **{
        f"edit {column}": (
            lambda rows, column=column: AuditEvent.objects.filter(pk=rows[1].pk).update(
                **{column: EDITS[column](rows[1])}
            )
        )
        for column in EDITS
    },
    "delete a middle row": lambda rows: AuditEvent.objects.filter(pk=rows[1].pk).delete(),
    "delete the first row": lambda rows: AuditEvent.objects.filter(pk=rows[0].pk).delete(),
    "delete the newest row": lambda rows: AuditEvent.objects.filter(pk=rows[-1].pk).delete(),
    "delete the two newest rows": lambda rows: AuditEvent.objects.filter(
        pk__in=[rows[-1].pk, rows[-2].pk]
    ).delete(),
    "insert a forged row with a made-up hash": lambda rows: AuditEvent.objects.create(
        action=AuditAction.LOGIN, prev_hash=rows[-1].hash, hash="a" * 64
    ),
    "append a well-formed forged row": _forged_append,
    "replace a middle row by a well-formed forgery": _forged_middle,
    "swap two rows' content": _swap,
    "forge a purge anchor without a chained row": lambda rows: (
        AuditEvent.objects.filter(pk=rows[0].pk).delete()
        or AuditEvent.objects.create(
            action=AuditAction.AUDIT_PURGE,
            detail={"anchor_hash": rows[0].hash},
            prev_hash="",
            hash="b" * 64,
        )
    ),
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_each_kind_of_tampering_is_detected(name: str, dora: User) -> None:
    rows = _chain(dora)
    _tamper(lambda: TAMPERINGS[name](rows))
    assert audit_verify() != [], name


def test_tampering_is_always_detected_figure(dora: User) -> None:
    """All the tamperings above on fresh chains in one test, for the headline figure."""
    detected = 0
    for name, change in TAMPERINGS.items():
        with transaction.atomic():
            _tamper(lambda: AuditEvent.objects.all().delete())
            AuditSeal.objects.all().delete()
            rows = _chain(dora)
            _tamper(lambda change=change, rows=rows: change(rows))
            if audit_verify():
                detected += 1
            else:  # pragma: no cover - reported by the assertion below
                print("undetected:", name)
    record_figure(
        "audit_tampering_detected",
        f"{detected} of {len(TAMPERINGS)}",  # "A of B": the printer checks A == B
        target="all",
        detail="kinds of tampering detected by audit_verify()",
    )
    assert detected == len(TAMPERINGS)


# --- Every action is written somewhere; each of mine writes one complete row -----------------

# Actions whose rows other helpers of issue 15 write on their branches (A: the second factor,
# passwords and lock-outs; C: unmasking and duplicate tickets; E: account cancellation and the
# data-subject pages). Empty this set once their branches are merged.
# Every declared action is written by some code: none is declared and dead.
OTHERS_WRITE: set[str] = set()


def _written_actions() -> set[str]:
    """Every `AuditAction.NAME` that code under kejiyun/ (migrations aside) refers to, other
    than the enum's own definition."""
    root = Path(__file__).resolve().parent.parent / "kejiyun"
    names: set[str] = set()
    for path in root.rglob("*.py"):
        if "migrations" in path.parts or path == root / "audit" / "models.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "AuditAction"
            ):
                names.add(node.attr)
    return names


def test_every_audit_action_is_written_by_some_code() -> None:
    declared = set(AuditAction.__members__)
    dead = declared - _written_actions() - OTHERS_WRITE
    assert dead == set(), f"declared but never written: {sorted(dead)}"
    assert declared >= OTHERS_WRITE


def test_the_failed_login_row_is_complete_and_json_clean(dora: User) -> None:
    Client().post("/accounts/login/", {"username": "dora", "password": "wrong-pw-1234"})
    [event] = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED)
    assert_complete(event, user=None)
    assert (event.object_type, event.object_id) == ("user", str(dora.pk))
    assert "dora" not in json.dumps(event.detail)


def test_a_refusal_the_service_already_audited_is_not_written_twice() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        audit_record(action=AuditAction.FLAG_CLEAR, user=request.user, outcome="refused")
        return HttpResponse(status=403)

    user = User.objects.create_user(username="zed", password="x-Correct-Horse-9", role="reviewer")
    request = RequestFactory().get("/x/")
    request.user = user
    AuditMiddleware(view)(request)

    assert [e.action for e in AuditEvent.objects.all()] == [AuditAction.FLAG_CLEAR]


def test_disabling_an_account_in_the_admin_writes_one_account_disable_row() -> None:
    from tests.builders import make_superuser

    root = make_superuser("root")
    dora = User.objects.create_user(username="dora2", password="x-Correct-Horse-9", role="citizen")
    client = Client()
    client.force_login(root)
    answer = client.post(
        "/admin/accounts/user/",
        {"action": "disable_accounts", "_selected_action": [dora.pk]},
    )
    assert answer.status_code == 302
    dora.refresh_from_db()
    assert not dora.is_active
    [event] = AuditEvent.objects.filter(action=AuditAction.ACCOUNT_DISABLE)
    assert_complete(event, user=root)
    assert (event.object_type, event.object_id) == ("user", str(dora.pk))
    # Again: already disabled, nothing more written.
    client.post(
        "/admin/accounts/user/", {"action": "disable_accounts", "_selected_action": [dora.pk]}
    )
    assert AuditEvent.objects.filter(action=AuditAction.ACCOUNT_DISABLE).count() == 1
