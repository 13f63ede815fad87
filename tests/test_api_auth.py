"""`/api/v1/auth/…` (issue 14): sign-in by SMS code and password with the pages' lock-out
and enumeration rules, refresh rotation, revocation, expiry, scopes, rate limits and OAuth2
client credentials for partner systems."""

from __future__ import annotations

import base64
import io
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.lockout import LOCKED_MESSAGE
from kejiyun.accounts.models import SmsCode, User
from kejiyun.api.clients import api_client_create, api_client_revoke
from kejiyun.api.models import ApiClient, ApiToken, Scope
from kejiyun.api.tokens import token_issue
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.common.crypto import mobile_lookup
from kejiyun.notifications.models import SmsMessage
from tests.builders import DORA_MOBILE, PASSWORD

pytestmark = pytest.mark.django_db

UNREGISTERED = "13981234567"
SMS = "/api/v1/auth/sms-code"
TOKEN = "/api/v1/auth/token"
OAUTH = "/api/v1/auth/oauth/token"
REVOKE = "/api/v1/auth/revoke"
ME = "/api/v1/me"


def post(client: Client, url: str, body: dict[str, Any], **extra: Any) -> Any:
    return client.post(url, body, content_type="application/json", **extra)


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def texted_code(mobile: str) -> str:
    message = SmsMessage.objects.for_mobile(mobile).latest("id")
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None, message.body
    return match.group(1)


def password_grant(login: str, password: str) -> dict[str, str]:
    return {"grant_type": "password", "login": login, "password": password}


# --- SMS code ---------------------------------------------------------------------------------


def test_a_login_code_request_answers_a_registered_and_an_unregistered_number_alike(dora: User):
    known = post(Client(), SMS, {"mobile": DORA_MOBILE})
    unknown = post(Client(), SMS, {"mobile": UNREGISTERED})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    # Only the registered phone receives a code; the other request is recorded without one.
    assert SmsMessage.objects.for_mobile(DORA_MOBILE).count() == 1
    assert not SmsMessage.objects.for_mobile(UNREGISTERED).exists()
    rows = {r.mobile_hash: r for r in SmsCode.objects.filter(purpose=SmsCode.Purpose.LOGIN)}
    assert rows[mobile_lookup(DORA_MOBILE)].code_hash != ""
    assert rows[mobile_lookup(UNREGISTERED)].code_hash == ""
    # Both are throttled alike within 60 seconds.
    again_known = post(Client(), SMS, {"mobile": DORA_MOBILE})
    again_unknown = post(Client(), SMS, {"mobile": UNREGISTERED})
    assert again_known.status_code == again_unknown.status_code == 429
    assert again_known.json() == again_unknown.json()
    assert again_known["Retry-After"] == again_unknown["Retry-After"] == "60"


def test_a_bad_mobile_number_is_a_422_problem():
    response = post(Client(), SMS, {"mobile": "12345"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert not SmsCode.objects.exists()


def test_the_sms_code_page_still_offers_only_registration_and_reset(dora: User):
    response = Client().post("/accounts/sms-code/", {"mobile": DORA_MOBILE, "purpose": "login"})
    assert response.status_code == 400
    assert not SmsCode.objects.exists()


def test_sms_code_requests_share_the_pages_per_address_limit(
    dora: User, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("kejiyun.api.routers.auth.SMS_CODES_PER_IP_PER_HOUR", 2)
    assert post(Client(), SMS, {"mobile": "13981234501"}).status_code == 202
    assert post(Client(), SMS, {"mobile": "13981234502"}).status_code == 202
    refused = post(Client(), SMS, {"mobile": DORA_MOBILE})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert not SmsCode.objects.for_mobile(DORA_MOBILE).exists()


# --- Sign-in by SMS code ------------------------------------------------------------------------


def test_sign_in_by_sms_code_returns_a_pair_that_reads_me_and_the_code_works_once(dora: User):
    post(Client(), SMS, {"mobile": DORA_MOBILE})
    code = texted_code(DORA_MOBILE)
    response = post(
        Client(), TOKEN, {"grant_type": "sms_code", "mobile": DORA_MOBILE, "code": code}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    assert set(body["scope"].split()) == set(Scope.values)
    me = Client().get(ME, **bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["id"] == dora.pk
    # The refresh token never reads anything.
    assert Client().get(ME, **bearer(body["refresh_token"])).status_code == 401
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, user=dora).count() == 1
    again = post(Client(), TOKEN, {"grant_type": "sms_code", "mobile": DORA_MOBILE, "code": code})
    assert again.status_code == 401
    assert ApiToken.objects.filter(user=dora, kind=ApiToken.Kind.ACCESS).count() == 1


def test_a_wrong_sms_code_answers_a_registered_and_an_unregistered_number_alike(dora: User):
    for mobile in (DORA_MOBILE, UNREGISTERED):
        post(Client(), SMS, {"mobile": mobile})
    answers = []
    for mobile in (DORA_MOBILE, UNREGISTERED):
        wrong = "000000" if texted_code(DORA_MOBILE) != "000000" else "000001"
        grant = {"grant_type": "sms_code", "mobile": mobile, "code": wrong}
        response = post(Client(), TOKEN, grant)
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() == 2
    # Both codes counted the guess.
    assert list(SmsCode.objects.values_list("attempts", flat=True)) == [1, 1]


# --- Sign-in by password ------------------------------------------------------------------------


def test_password_sign_in_and_the_same_refusal_for_known_and_unknown_accounts(dora: User):
    ok = post(Client(), TOKEN, password_grant(DORA_MOBILE, PASSWORD))
    assert ok.status_code == 200
    assert Client().get(ME, **bearer(ok.json()["access_token"])).json()["id"] == dora.pk
    known = post(Client(), TOKEN, password_grant(DORA_MOBILE, "wrong-password-123"))
    unknown = post(Client(), TOKEN, password_grant(UNREGISTERED, "wrong-password-123"))
    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()
    assert known.json()["detail"] == "手机号/用户名或密码不正确。"
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, user=dora).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() == 2
    dora.refresh_from_db()
    assert dora.last_login is not None


def test_bad_grants_are_422_problems(dora: User):
    for body in (
        {"grant_type": "magic", "login": "dora", "password": PASSWORD},
        {"grant_type": "password", "login": "dora"},
        {"grant_type": "sms_code", "mobile": "abc", "code": "123456"},
        {"login": "dora", "password": PASSWORD},
        {"grant_type": "password", "login": "x" * 10_000, "password": PASSWORD},
    ):
        response = post(Client(), TOKEN, body)
        assert response.status_code == 422, body
        assert response["Content-Type"] == "application/problem+json"
    assert not ApiToken.objects.exists()


def test_five_failures_on_the_web_lock_the_api_sign_in(dora: User):
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False):
        for _ in range(5):
            Client().post("/accounts/login/", {"username": DORA_MOBILE, "password": "wrong-pw-123"})
        refused = post(Client(), TOKEN, password_grant(DORA_MOBILE, PASSWORD))
        assert refused.status_code == 401
        assert refused.json()["detail"] == LOCKED_MESSAGE
        assert refused.json()["code"] == "locked"
        assert not ApiToken.objects.exists()


def test_five_failures_on_the_api_lock_the_web_login(dora: User):
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        for _ in range(4):
            post(Client(), TOKEN, password_grant("dora", "wrong-password-123"))
        # Four are not a lock: the right password still works.
        assert post(Client(), TOKEN, password_grant("dora", PASSWORD)).status_code == 200
        post(Client(), TOKEN, password_grant("dora", "wrong-password-123"))
        client = Client()
        page = client.post("/accounts/login/", {"username": DORA_MOBILE, "password": PASSWORD})
        assert "账号已临时锁定" in page.content.decode()
        assert "_auth_user_id" not in client.session
        locked = post(Client(), TOKEN, password_grant(DORA_MOBILE, PASSWORD))
        assert locked.json()["detail"] == LOCKED_MESSAGE
        clock.shift(timedelta(minutes=31))
        assert post(Client(), TOKEN, password_grant(DORA_MOBILE, PASSWORD)).status_code == 200


# --- Refresh, revoke, expiry, scopes --------------------------------------------------------------


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(dora: User):
    first = post(Client(), TOKEN, password_grant("dora", PASSWORD)).json()
    second = post(
        Client(), TOKEN, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    second_body = second.json()
    assert second_body["refresh_token"] != first["refresh_token"]
    assert Client().get(ME, **bearer(second_body["access_token"])).status_code == 200
    # The first refresh token is presented again: someone copied it. The family dies.
    reused = post(
        Client(), TOKEN, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 401
    assert reused.json()["code"] == "invalid_grant"
    assert Client().get(ME, **bearer(second_body["access_token"])).status_code == 401
    third = post(
        Client(),
        TOKEN,
        {"grant_type": "refresh_token", "refresh_token": second_body["refresh_token"]},
    )
    assert third.status_code == 401
    assert not ApiToken.objects.filter(user=dora, revoked_at__isnull=True).exists()


def test_revoke_ends_the_token_and_answers_200_for_anything(dora: User):
    pair = post(Client(), TOKEN, password_grant("dora", PASSWORD)).json()
    assert Client().get(ME, **bearer(pair["access_token"])).status_code == 200
    response = post(Client(), REVOKE, {"token": pair["refresh_token"]})
    assert response.status_code == 200
    assert Client().get(ME, **bearer(pair["access_token"])).status_code == 401
    refresh = {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    assert post(Client(), TOKEN, refresh).status_code == 401
    unknown = post(Client(), REVOKE, {"token": "kjy_a_not-a-token"})
    assert unknown.status_code == 200 and unknown.json() == response.json()


def test_expired_and_revoked_tokens_are_refused_with_401(dora: User):
    raw, row = token_issue(
        user=dora, kind=ApiToken.Kind.PERSONAL, lifetime=timedelta(hours=1), scopes=["profile"]
    )
    assert Client().get(ME, **bearer(raw)).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        expired = Client().get(ME, **bearer(raw))
    assert expired.status_code == 401
    assert expired["Content-Type"] == "application/problem+json"
    ApiToken.objects.filter(pk=row.pk).update(revoked_at=timezone.now())
    assert Client().get(ME, **bearer(raw)).status_code == 401


def test_a_token_without_the_scope_gets_403(dora: User):
    raw, _ = token_issue(
        user=dora, kind=ApiToken.Kind.PERSONAL, lifetime=timedelta(days=1), scopes=["cases:read"]
    )
    response = Client().get(ME, **bearer(raw))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert response.json()["scope"] == "profile"


# --- Rate limits --------------------------------------------------------------------------------


@pytest.fixture
def within_one_minute() -> Any:
    """The limits count per clock-aligned minute: the requests of a test must not straddle
    a minute boundary (a loaded CI run once did), so the clock stands still at 5 s past."""
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        yield clock


def test_requests_beyond_the_per_address_limit_get_429_with_retry_after(
    settings: Any, dora: User, within_one_minute: Any
):
    settings.API_RATE_PER_IP_PER_MINUTE = 3
    client = Client(REMOTE_ADDR="10.1.1.1")
    statuses = [client.get(ME).status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
    refused = client.get(ME)
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "rate_limited"
    # Another address is not affected.
    assert Client(REMOTE_ADDR="10.1.1.2").get(ME).status_code == 401


def test_requests_beyond_the_per_token_limit_get_429_from_any_address(
    settings: Any, dora: User, within_one_minute: Any
):
    settings.API_RATE_PER_TOKEN_PER_MINUTE = 2
    raw, _ = token_issue(
        user=dora, kind=ApiToken.Kind.PERSONAL, lifetime=timedelta(days=1), scopes=["profile"]
    )
    answers = [
        Client(REMOTE_ADDR=f"10.2.0.{i}").get(ME, **bearer(raw)).status_code for i in range(3)
    ]
    assert answers == [200, 200, 429]
    other, _ = token_issue(
        user=dora, kind=ApiToken.Kind.PERSONAL, lifetime=timedelta(days=1), scopes=["profile"]
    )
    assert Client(REMOTE_ADDR="10.2.0.9").get(ME, **bearer(other)).status_code == 200


# --- OAuth2 client credentials --------------------------------------------------------------------


def oauth(data: dict[str, str], **extra: Any) -> Any:
    return Client().post(OAUTH, data, **extra)  # form-encoded (multipart is refused below)


def form(data: dict[str, str]) -> dict[str, Any]:
    from urllib.parse import urlencode

    return {"data": urlencode(data), "content_type": "application/x-www-form-urlencoded"}


def test_client_credentials_issue_a_client_token_with_a_subset_of_the_scopes(erin: User):
    client, secret = api_client_create(
        name="企业ERP", owner=erin, scopes=["profile", "demands:read"]
    )
    ok = Client().post(
        OAUTH,
        **form(
            {
                "grant_type": "client_credentials",
                "client_id": client.client_id,
                "client_secret": secret,
                "scope": "profile",
            }
        ),
    )
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "profile"
    assert ok["Cache-Control"] == "no-store"
    row = ApiToken.objects.get(kind=ApiToken.Kind.CLIENT)
    assert (row.user, row.client, row.scopes) == (erin, client, ["profile"])
    assert row.token_hash != body["access_token"] and body["access_token"] not in row.token_hash
    me = Client().get(ME, **bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["scopes"] == ["profile"]
    # No scope asked: all the client's.
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    all_of_them = Client().post(
        OAUTH, **form({"grant_type": "client_credentials"}), HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert all_of_them.status_code == 200
    assert all_of_them.json()["scope"] == "demands:read profile"


def test_client_credentials_refusals_answer_in_the_rfc_form(erin: User):
    client, secret = api_client_create(name="企业ERP", owner=erin, scopes=["demands:read"])
    cases = [
        ({"client_id": client.client_id, "client_secret": "kjy_s_wrong"}, 401, "invalid_client"),
        ({"client_id": "kjy_client_nobody", "client_secret": secret}, 401, "invalid_client"),
        ({"client_id": client.client_id}, 401, "invalid_client"),
        (
            {"client_id": client.client_id, "client_secret": secret, "scope": "cases:read"},
            400,
            "invalid_scope",
        ),
        (
            {"client_id": client.client_id, "client_secret": secret, "scope": "root"},
            400,
            "invalid_scope",
        ),
    ]
    for data, status, error in cases:
        response = Client().post(OAUTH, **form({"grant_type": "client_credentials", **data}))
        assert response.status_code == status, data
        assert response.json()["error"] == error
        assert response.json()["error_description"]
    bad_grant = Client().post(OAUTH, **form({"grant_type": "password"}))
    assert (bad_grant.status_code, bad_grant.json()["error"]) == (400, "unsupported_grant_type")
    missing = Client().post(OAUTH, **form({}))
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    wrong_basic = Client().post(
        OAUTH,
        **form({"grant_type": "client_credentials"}),
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{client.client_id}:x".encode()).decode(),
    )
    assert wrong_basic.status_code == 401 and wrong_basic["WWW-Authenticate"].startswith("Basic")
    assert not ApiToken.objects.exists()


def test_a_revoked_client_gets_no_token_and_its_tokens_stop_working(erin: User):
    client, secret = api_client_create(name="企业ERP", owner=erin, scopes=["profile"])
    data = {
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": secret,
    }
    token = Client().post(OAUTH, **form(data)).json()["access_token"]
    assert Client().get(ME, **bearer(token)).status_code == 200
    api_client_revoke(client=client)
    assert Client().get(ME, **bearer(token)).status_code == 401
    refused = Client().post(OAUTH, **form(data))
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")


def test_the_oauth_document_names_the_rfc_errors():
    schema = Client().get("/api/v1/openapi.json").json()
    responses = schema["paths"][OAUTH]["post"]["responses"]
    for status in ("400", "401"):
        ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/OAuthErrorOut")
    assert (
        "application/x-www-form-urlencoded"
        in schema["paths"][OAUTH]["post"]["requestBody"]["content"]
    )


def test_the_command_creates_a_client_and_prints_its_secret_once(erin: User):
    out = io.StringIO()
    call_command(
        "api_client_create",
        "--name",
        "科创中国",
        "--owner",
        "erin",
        "--scopes",
        "profile",
        "demands:read",
        stdout=out,
    )
    text = out.getvalue()
    client_id = re.search(r"client_id: (\S+)", text)
    secret = re.search(r"client_secret: (\S+)", text)
    assert client_id and secret
    row = ApiClient.objects.get(client_id=client_id.group(1))
    assert (row.owner, row.scopes, row.name) == (erin, ["demands:read", "profile"], "科创中国")
    assert secret.group(1) not in row.secret_hash
    data = {
        "grant_type": "client_credentials",
        "client_id": client_id.group(1),
        "client_secret": secret.group(1),
    }
    assert Client().post(OAUTH, **form(data)).status_code == 200
