"""The TOTP second factor of staff, reviewers and administrators on every door
(docs/requirements/security.md item 4; ADR 0016)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import NoReverseMatch, get_resolver, reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kejiyun.accounts.models import User
from kejiyun.accounts.services import staff_create
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.regions.models import Region
from tests.builders import (
    DORA_MOBILE,
    PASSWORD,
    enrol_second_factor,
    make_crawl_world,
    make_superuser,
    totp_code,
)
from tests.security_figures import record_figure

pytestmark = [pytest.mark.django_db, pytest.mark.otp]

VERIFY = "/accounts/second-factor/verify/"
ENROL = "/accounts/second-factor/enrol/"
RECOVERY = "/accounts/second-factor/recovery-codes/"
TOKEN = "/api/v1/auth/token"


def password_only(user: User) -> Client:
    client = Client()
    name = user.username
    door = "/admin/login/" if user.is_superuser else "/accounts/login/"
    response = client.post(door, {"username": name, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def verified(user: User, device: TOTPDevice | None = None) -> Client:
    client = password_only(user)
    device = device or TOTPDevice.objects.get(user=user, confirmed=True)
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def may_reset(user: User) -> User:
    """`user` with `accounts.reset_second_factor`, read afresh (no stale permission cache)."""
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="reset_second_factor")
    )
    return User.objects.get(pk=user.pk)


def audit_rows(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- Every door -------------------------------------------------------------------------------

# A path parameter → a row of the crawl world (in Alice's county, 锦江区), by model.
PARAM_MODELS = {
    "case_id": "cases.Case",
    "demand_id": "demands.Demand",
    "docking_id": "cases.DockingRequest",
    "attachment_id": "cases.CaseAttachment",
    "article_id": "popsci.Article",
    "event_id": "events.Event",
    "exhibit_id": "events.Exhibit",
    "slot_id": "events.Slot",
    "booking_id": "events.Booking",
    "profile_id": "talent.TalentProfile",
    "plan_id": "plans.ServicePlan",
    "need_id": "plans.PlanNeed",
    "action_id": "plans.PlanAction",
    "organisation_id": "accounts.Organisation",
    "campaign_id": "popsci.Campaign",
    "activity_id": "popsci.Activity",
    "team_id": "talent.Team",
    "resource_id": "talent.Resource",
    "result_id": "talent.TechResult",
    "batch_id": "spreadsheets.ImportBatch",
    "bulletin_id": "ops.Bulletin",
    "report_id": "ops.WorkReport",
    "scheme_id": "performance.Scheme",
    "allocation_id": "performance.Allocation",
    "flag_id": "integrity.Flag",
    "application_id": "recognition.Application",
    "token_id": "api.ApiToken",
    "webhook_id": "api.WebhookSubscription",
}
# Values to try, in order, for parameters that are not ids of rows.
OTHER_VALUES = ("510104", "demands", "workers", "accounts", "user", "1")


def _value(param: str, world: dict[str, User]) -> list[str]:
    if param == "user_id":
        return [str(world["staff_county"].pk)]
    if param == "centre_id":
        return [str(world["staff_county"].centre_id)]
    label = PARAM_MODELS.get(param)
    if label is not None:
        row = apps.get_model(label).objects.order_by("pk").first()
        return [str(row.pk if row is not None else 1)]
    return list(OTHER_VALUES)


def every_url(world: dict[str, User]) -> list[str]:
    """Every named URL of the site, the admin and the API, with its path parameters filled
    from real rows of the crawl world (or a plausible value when no row of the kind exists)."""
    urls: set[str] = set()

    def walk(namespace: str, resolver: Any) -> None:
        for name, entries in resolver.reverse_dict.lists():
            if not isinstance(name, str):
                continue
            for _bits, pattern, _defaults, _converters in entries:
                params = re.findall(r"\(\?P<(\w+)>", pattern)
                full = f"{namespace}:{name}" if namespace else name
                choices = {p: _value(p, world) for p in params}
                for i in range(len(OTHER_VALUES)):
                    kwargs = {p: v[min(i, len(v) - 1)] for p, v in choices.items()}
                    try:
                        urls.add(reverse(full, kwargs=kwargs))
                        break
                    except NoReverseMatch:
                        continue
        for child, (_prefix, sub) in resolver.namespace_dict.items():
            walk(f"{namespace}:{child}" if namespace else child, sub)

    walk("", get_resolver())
    return sorted(urls)


OPEN = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/second-factor/verify/",
    "/accounts/second-factor/enrol/",
    "/admin/login/",
    "/admin/logout/",
    "/healthz",
    "/i18n/",
)


@pytest.mark.crawl
@pytest.mark.parametrize("role", ["staff_county", "reviewer", "admin"])
def test_every_url_with_the_password_only_answers_no_2xx_and_the_same_pages_answer_after_verifying(
    role: str,
) -> None:
    world = make_crawl_world()
    world["admin"] = make_superuser("root")
    user = world[role]
    device = enrol_second_factor(user)
    urls = every_url(world)
    assert len(urls) > 300 and "/admin/" in urls and any(u.startswith("/api/v1/") for u in urls)
    guarded = [u for u in urls if not u.startswith(OPEN)]

    client = password_only(user)
    leaks = []
    for url in guarded:
        for method in ("get", "post"):
            answer = getattr(client, method)(url)
            if 200 <= answer.status_code < 300:
                leaks.append((method, url, answer.status_code))
            elif url.startswith("/api/v1/"):
                assert answer.status_code == 403, (url, answer.status_code)
                assert answer["Content-Type"] == "application/problem+json"
                assert "动态口令" in answer.json()["detail"]
            else:
                assert answer.status_code == 302, (method, url, answer.status_code)
                assert answer["Location"].startswith(VERIFY), (method, url)
    assert leaks == []

    client.post(VERIFY, {"code": totp_code(device)})
    reached = []
    for url in guarded:
        answer = client.get(url)
        assert not answer.get("Location", "").startswith((VERIFY, ENROL)), url
        if 200 <= answer.status_code < 300:
            reached.append(url)
    # The pages are really there for this role once verified (dashboard, work queue or
    # review list, the admin for the administrator, the API's own reads).
    assert "/dashboard/" in reached
    assert any(u.startswith("/api/v1/") for u in reached)
    if role == "admin":
        assert "/admin/" in reached
    if role == "staff_county":
        assert "/cases/" in reached
    record_figure(
        f"password_only_2xx_{role}",
        len(leaks),
        target="0",
        detail=f"{len(guarded)} URLs × GET/POST with the password only; "
        f"{len(reached)} answer 2xx after the second factor",
    )


def test_a_staff_member_without_an_authenticator_is_sent_to_enrolment_and_back_afterwards(
    alice: User,
) -> None:
    client = password_only(alice)
    answer = client.get("/cases/")
    assert answer.status_code == 302 and answer["Location"].startswith(ENROL)
    # The open doors stay open.
    assert client.get("/healthz").status_code == 200
    assert client.get(ENROL).status_code == 200


def test_an_enrolled_staff_member_is_sent_to_verify_and_then_to_the_page_asked_for(
    alice: User,
) -> None:
    device = enrol_second_factor(alice)
    client = password_only(alice)
    answer = client.get("/cases/?tab=mine")
    assert answer.status_code == 302
    assert answer["Location"] == VERIFY + "?next=%2Fcases%2F%3Ftab%3Dmine"
    page = client.get(answer["Location"])
    assert 'name="next" value="/cases/?tab=mine"' in page.content.decode()
    done = client.post(VERIFY, {"code": totp_code(device), "next": "/cases/?tab=mine"})
    assert done.status_code == 302 and done["Location"] == "/cases/?tab=mine"
    assert client.get("/cases/").status_code == 200


def test_a_citizen_never_meets_the_second_factor(dora: User) -> None:
    client = Client()
    client.post("/accounts/login/", {"username": DORA_MOBILE, "password": PASSWORD})
    assert client.get("/dashboard/").status_code == 200
    assert client.get(VERIFY).status_code == 404


def test_the_admin_login_door_also_needs_the_second_factor() -> None:
    root = make_superuser("root")
    enrol_second_factor(root)
    client = password_only(root)
    answer = client.get("/admin/accounts/user/")
    assert answer.status_code == 302 and answer["Location"].startswith(VERIFY)


def test_a_session_verified_before_a_reset_is_no_longer_verified(alice: User) -> None:
    device = enrol_second_factor(alice)
    client = verified(alice, device)
    assert client.get("/cases/").status_code == 200
    TOTPDevice.objects.filter(user=alice).delete()
    answer = client.get("/cases/")
    assert answer.status_code == 302 and answer["Location"].startswith(ENROL)


# --- Enrolment --------------------------------------------------------------------------------


def _pending(client: Client, user: User) -> TOTPDevice:
    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    # The QR code is an SVG in a data: URI (img-src allows data:), nothing unescaped.
    qr = re.search(r'<img src="(data:image/svg\+xml[^"]+)"', html)
    assert qr is not None and "script" not in unquote(qr.group(1)).lower()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = re.search(r'id="otp-secret"[^>]*>([A-Z2-7 ]+)<', html)
    assert secret is not None
    import base64

    typed = secret.group(1).replace(" ", "")
    assert base64.b32decode(typed + "=" * (-len(typed) % 8)) == device.bin_key
    return device


def test_enrolment_with_a_wrong_code_enrols_nothing(alice: User) -> None:
    client = password_only(alice)
    device = _pending(client, alice)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    answer = client.post(ENROL, {"code": wrong})
    assert answer.status_code == 400
    assert "动态口令不正确" in answer.content.decode()
    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert audit_rows(AuditAction.OTP_ENROL) == []
    assert client.get("/cases/")["Location"].startswith(ENROL)


def test_enrolment_confirms_with_one_code_and_shows_ten_recovery_codes_once(alice: User) -> None:
    client = password_only(alice)
    device = _pending(client, alice)
    # The QR code and the secret do not change between visits.
    assert _pending(client, alice).pk == device.pk
    answer = client.post(ENROL, {"code": totp_code(device)})
    assert answer.status_code == 302 and answer["Location"] == RECOVERY
    shown = client.get(RECOVERY).content.decode()
    codes = re.findall(r"<li class=\"col\">([a-z2-7]{4}-[a-z2-7]{4})</li>", shown)
    assert len(codes) == 10
    assert StaticToken.objects.filter(device__user=alice).count() == 10
    # Shown once: the next visit only counts them.
    again = client.get(RECOVERY).content.decode()
    assert not any(code in again for code in codes)
    assert client.get("/cases/").status_code == 200
    (enrol,) = audit_rows(AuditAction.OTP_ENROL)
    assert (enrol.user_id, enrol.ip, enrol.outcome) == (alice.pk, "127.0.0.1", "ok")
    assert len(audit_rows(AuditAction.RECOVERY_CODES)) == 1


# --- Verifying --------------------------------------------------------------------------------


def test_a_code_works_once(alice: User) -> None:
    device = enrol_second_factor(alice)
    with time_machine.travel("2026-06-01 09:00:05+08:00", tick=False):
        code = totp_code(device)
        first = password_only(alice)
        assert first.post(VERIFY, {"code": code}).status_code == 302
        device.refresh_from_db()
        assert device.last_t == 59342520  # 2026-06-01 01:00:05 UTC in 30-second steps
        second = password_only(alice)
        refused = second.post(VERIFY, {"code": code})
        assert refused.status_code == 400
        assert "已使用过" in refused.content.decode()
        assert second.get("/cases/")["Location"].startswith(VERIFY)
    (failed,) = audit_rows(AuditAction.OTP_FAILED)
    assert (failed.user_id, failed.ip, failed.outcome) == (alice.pk, "127.0.0.1", "refused")


def test_wrong_codes_are_throttled_and_audited(alice: User) -> None:
    device = enrol_second_factor(alice)
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        client = password_only(alice)
        right = totp_code(device)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        for wait in (1, 2, 0):
            assert client.post(VERIFY, {"code": wrong}).status_code == 400
            clock.shift(wait + 0.5)
        # Three failures: the next try waits 2**2 seconds, even with the right code.
        throttled = client.post(VERIFY, {"code": right})
        assert throttled.status_code == 400
        assert "错误次数过多" in throttled.content.decode()
        clock.shift(5)
        assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 302
    reasons = [row.detail["reason"] for row in audit_rows(AuditAction.OTP_FAILED)]
    assert reasons == ["wrong", "wrong", "wrong", "throttled"]


def test_a_recovery_code_works_once_and_regenerating_voids_the_old_ones(alice: User) -> None:
    device = enrol_second_factor(alice)
    client = verified(alice, device)
    client.post(RECOVERY)
    codes = re.findall(r"([a-z2-7]{4}-[a-z2-7]{4})</li>", client.get(RECOVERY).content.decode())
    assert len(codes) == 10
    phone_lost = password_only(alice)
    assert phone_lost.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert phone_lost.get("/cases/").status_code == 200
    (used,) = audit_rows(AuditAction.RECOVERY_USED)
    assert (used.user_id, used.ip, used.detail) == (alice.pk, "127.0.0.1", {"left": 9})
    again = password_only(alice)
    assert again.post(VERIFY, {"code": codes[0]}).status_code == 400
    # New codes: the old ones stop working.
    client.post(RECOVERY)
    assert len(audit_rows(AuditAction.RECOVERY_CODES)) == 2
    assert password_only(alice).post(VERIFY, {"code": codes[1]}).status_code == 400


# --- Reset by an administrator ----------------------------------------------------------------


def test_an_administrator_resets_a_staff_members_second_factor_audited(alice: User) -> None:
    admin = make_superuser("root")
    enrol_second_factor(alice)
    client = verified(admin, enrol_second_factor(admin))
    url = f"/accounts/second-factor/reset/{alice.pk}/"
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()
    (row,) = audit_rows(AuditAction.OTP_RESET)
    assert (row.user_id, row.object_type, row.object_id, row.ip, row.outcome) == (
        admin.pk,
        "user",
        str(alice.pk),
        "127.0.0.1",
        "ok",
    )
    # Alice must enrol again at her next sign-in.
    assert password_only(alice).get("/cases/")["Location"].startswith(ENROL)


def test_a_reset_is_refused_for_oneself_for_a_non_administrator_and_for_an_admin_by_an_admin(
    alice: User, bob: User
) -> None:
    from kejiyun.accounts.models import Role
    from kejiyun.accounts.otp import may_reset_second_factor

    root = make_superuser("root")
    enrol_second_factor(root)
    admin = User.objects.create_user(
        username="ada", password=PASSWORD, display_name="Ada", role=Role.ADMIN
    )
    admin = may_reset(admin)
    other_admin = User.objects.create_user(username="adb", password=PASSWORD, role=Role.ADMIN)
    bob = may_reset(bob)
    assert may_reset_second_factor(admin, alice)
    assert not may_reset_second_factor(admin, admin)  # oneself
    assert not may_reset_second_factor(bob, alice)  # staff, even with the permission
    assert not may_reset_second_factor(admin, other_admin)  # only a superuser resets an admin
    assert not may_reset_second_factor(admin, root)
    assert may_reset_second_factor(root, admin)
    enrol_second_factor(alice)
    staff_client = verified(bob, enrol_second_factor(bob))
    assert staff_client.post(f"/accounts/second-factor/reset/{alice.pk}/").status_code == 404
    admin_client = verified(admin, enrol_second_factor(admin))
    assert admin_client.post(f"/accounts/second-factor/reset/{admin.pk}/").status_code == 404
    assert admin_client.post(f"/accounts/second-factor/reset/{root.pk}/").status_code == 404
    assert TOTPDevice.objects.filter(user__in=[alice, admin, root]).count() == 3
    assert audit_rows(AuditAction.OTP_RESET) == []


# --- The API's bearer grants ------------------------------------------------------------------


def _grant(login: str, **extra: str) -> Any:
    body = {"grant_type": "password", "login": login, "password": PASSWORD, **extra}
    return Client().post(TOKEN, body, content_type="application/json")


def test_the_password_grant_of_a_privileged_account_needs_a_valid_code(
    alice: User, dora: User
) -> None:
    missing = _grant("alice")
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_grant"
    assert missing.json()["code"] == "otp_enrol_required"
    device = enrol_second_factor(alice)
    with time_machine.travel("2026-06-01 09:00:05+08:00", tick=False):
        no_code = _grant("alice")
        assert (no_code.status_code, no_code.json()["code"]) == (400, "otp_required")
        code = totp_code(device)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        assert _grant("alice", otp_code=wrong).json()["error"] == "invalid_grant"
    with time_machine.travel("2026-06-01 09:00:35+08:00", tick=False):
        code = totp_code(device)
        ok = _grant("alice", otp_code=code)
        assert ok.status_code == 200, ok.content
        assert ok.json()["token_type"] == "Bearer"
        reused = _grant("alice", otp_code=code)
        assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    # A citizen signs in with the password alone.
    assert _grant(DORA_MOBILE).status_code == 200
    assert [r.detail["reason"] for r in audit_rows(AuditAction.OTP_FAILED)] == ["wrong", "wrong"]


def test_the_sms_grant_of_a_privileged_account_needs_a_code_and_keeps_the_sms_code(
    alice: User,
) -> None:
    from kejiyun.notifications.models import SmsMessage

    mobile = "13800000123"
    alice = staff_create(
        username="alice2",
        display_name="Alice",
        password=PASSWORD,
        centre_region=Region.objects.get(code="510104"),
        mobile=mobile,
    )
    device = enrol_second_factor(alice)
    client = Client()
    assert (
        client.post(
            "/api/v1/auth/sms-code", {"mobile": mobile}, content_type="application/json"
        ).status_code
        == 202
    )
    message = SmsMessage.objects.for_mobile(mobile).latest("id")
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None
    body = {"grant_type": "sms_code", "mobile": mobile, "code": match.group(1)}
    refused = client.post(TOKEN, body, content_type="application/json")
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    ok = client.post(
        TOKEN, {**body, "otp_code": totp_code(device)}, content_type="application/json"
    )
    assert ok.status_code == 200, ok.content


def test_a_bearer_token_from_a_verified_grant_reads_the_api(alice: User) -> None:
    device = enrol_second_factor(alice)
    token = _grant("alice", otp_code=totp_code(device)).json()["access_token"]
    me = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200
