"""Review of the open API (issue 14): defects found by probing it as an attacker, each with
the test that failed before its fix."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from kejiyun.accounts.models import SmsCode, User
from kejiyun.accounts.services import sms_code_send, user_reset_password
from kejiyun.api import tokens
from kejiyun.api.clients import api_client_create, api_client_revoke
from kejiyun.api.models import ApiToken, WebhookSubscription
from kejiyun.api.tokens import TokenError, token_issue, token_pair_issue, token_refresh
from kejiyun.api.webhooks import WebhookChannel, webhook_subscription_create
from kejiyun.demands.models import Demand
from kejiyun.demands.services import demand_publish
from kejiyun.notifications.channels import ChannelError
from kejiyun.notifications.models import Channel, OutboxMessage, SmsMessage
from tests.builders import PASSWORD, make_demand, make_worker

pytestmark = pytest.mark.django_db

# No operation with a path parameter is introduced or covered here.
COVERED_FOREIGN: set[str] = set()


def bearer(
    user: User, scopes: tuple[str, ...] = ("profile", "webhooks", "cases:read", "demands:read")
) -> dict[str, str]:
    raw, _ = token_issue(
        user=user, kind=ApiToken.Kind.PERSONAL, lifetime=timedelta(days=1), scopes=scopes
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def texted_code(mobile: str) -> str:
    match = re.search(r"\b(\d{6})\b", SmsMessage.objects.for_mobile(mobile).latest("id").body)
    assert match is not None
    return match.group(1)


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


# --- NUL characters: PostgreSQL refuses them in text, which was a 500 ------------------------


def test_a_nul_in_a_json_body_is_a_422_problem_and_saves_nothing(dora: User):
    client = Client(raise_request_exception=False)
    response = client.post(
        "/api/v1/webhooks",
        '{"url": "https://partner.example.com/a\\u0000b", "events": ["case.closed"]}',
        content_type="application/json",
        **bearer(dora),
    )
    body = problem_of(response, 422)
    assert body["code"] == "invalid_request"
    assert "空字符" in body["detail"]
    assert not WebhookSubscription.objects.exists()

    client.force_login(dora)
    response = client.post(
        "/api/v1/me/tokens",
        '{"name": "ERP\\u0000", "scopes": ["profile"]}',
        content_type="application/json",
    )
    problem_of(response, 422)
    assert not ApiToken.objects.filter(
        kind=ApiToken.Kind.PERSONAL, user=dora, name__startswith="ERP"
    ).exists()


def test_a_nul_in_a_sign_in_is_a_422_problem(dora: User):
    client = Client(raise_request_exception=False)
    response = client.post(
        "/api/v1/auth/token",
        '{"grant_type": "password", "login": "dora\\u0000", "password": "x"}',
        content_type="application/json",
    )
    problem_of(response, 422)
    response = client.post(
        "/api/v1/auth/oauth/token",
        {"grant_type": "client_credentials", "client_id": "kjy_client_\x00", "client_secret": "s"},
    )
    problem_of(response, 422)


def test_a_nul_in_a_query_is_a_422_problem(dora: User):
    response = Client(raise_request_exception=False).get("/api/v1/demands/hall?q=%E8%8C%B6%00")
    problem_of(response, 422)


def test_a_body_that_is_not_json_is_a_400_problem_in_chinese(dora: User):
    response = Client().post(
        "/api/v1/webhooks", "{not json", content_type="application/json", **bearer(dora)
    )
    body = problem_of(response, 400)
    assert body["detail"] == "请求体无法解析，请提交合法的 JSON。"


# --- Webhook SSRF: shared (carrier-grade NAT) addresses are internal too ----------------------


@pytest.mark.parametrize(
    "url",
    [
        # Alibaba Cloud's instance metadata service lives in 100.64.0.0/10, which Python's
        # `is_private` does not count as private.
        "http://100.100.100.200/latest/meta-data/ram/security-credentials/",
        "http://100.64.0.1/hook",
        "http://[::ffff:100.100.100.200]/hook",
        "http://192.0.0.170/hook",
        "http://198.18.0.1/hook",
    ],
)
def test_shared_and_special_purpose_addresses_are_refused_in_production(
    dora: User, settings: Any, url: str
):
    settings.DEBUG = False
    settings.TESTING = False
    response = Client().post(
        "/api/v1/webhooks",
        {"url": url, "events": ["case.closed"]},
        content_type="application/json",
        **bearer(dora),
    )
    body = problem_of(response, 400)
    assert body["code"] == "bad_url"
    assert not WebhookSubscription.objects.exists()


def test_a_delivery_to_a_shared_address_is_refused_at_send_time(dora: User, settings: Any):

    row, _ = webhook_subscription_create(
        owner=dora, url="http://100.100.100.200/hook", events=["case.closed"]
    )
    settings.DEBUG = False
    settings.TESTING = False
    message = OutboxMessage(address=f"webhook:{row.pk}", title="case.closed", body="{}")
    with pytest.raises(ChannelError, match="refused"):
        WebhookChannel().send(message)


# --- Webhooks of a revoked partner client ---------------------------------------------------------


def test_a_revoked_clients_subscription_hears_nothing_more(alice: User, tea_company: Any):

    client, secret = api_client_create(
        name="市平台", owner=alice, scopes=["webhooks", "cases:read", "demands:read"]
    )
    response = Client().post(
        "/api/v1/auth/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": secret,
        },
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    response = Client().post(
        "/api/v1/webhooks",
        {"url": "https://city.example.cn/hook", "events": ["demand.published"]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201
    sub = WebhookSubscription.objects.get()
    assert sub.client == client

    first = make_demand(tea_company, title="发布于吊销前", status=Demand.Status.SUBMITTED)
    demand_publish(demand=first, actor=alice)
    pending = OutboxMessage.objects.get(channel=Channel.WEBHOOK)

    api_client_revoke(client=client)
    second = make_demand(tea_company, title="发布于吊销后", status=Demand.Status.SUBMITTED)
    demand_publish(demand=second, actor=alice)
    # No new delivery is queued for the revoked client ...
    assert OutboxMessage.objects.filter(channel=Channel.WEBHOOK).count() == 1
    # ... and the one queued before the revocation is not sent.
    with pytest.raises(ChannelError):
        WebhookChannel().send(pending)


# --- A new password ends the signed-in pairs, as it ends the other sessions (SECURITY item 5) ---


def _signed_in_pair(login: str) -> dict[str, Any]:

    response = Client().post(
        "/api/v1/auth/token",
        {"grant_type": "password", "login": login, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def test_a_password_reset_ends_the_signed_in_pairs_but_not_personal_tokens(dora: User):

    pair = _signed_in_pair("dora")
    pat = bearer(dora, ("profile",))
    me = "/api/v1/me"
    assert Client().get(me, HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}").status_code == 200

    # The phone's owner (not whoever copied the tokens) resets the password by SMS.
    sms_code_send(mobile=dora.mobile or "", purpose=SmsCode.Purpose.RESET)
    code = texted_code(dora.mobile or "")
    user_reset_password(mobile=dora.mobile or "", sms_code=code, password="another-Secret-2026")

    refused = Client().get(me, HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    assert problem_of(refused, 401)["code"] == "invalid_token"
    refresh = Client().post(
        "/api/v1/auth/token",
        {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        content_type="application/json",
    )
    assert problem_of(refresh, 401)["code"] == "invalid_grant"
    assert not ApiToken.objects.filter(
        user=dora, kind__in=["access", "refresh"], revoked_at__isnull=True
    ).exists()
    # A personal access token was made on purpose and is revoked on its own page.
    assert Client().get(me, **pat).status_code == 200


def test_a_password_change_on_the_page_ends_the_signed_in_pairs(dora: User):

    pair = _signed_in_pair("dora")
    web = Client()
    web.force_login(dora)
    response = web.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-Secret-2026",
            "new_password2": "another-Secret-2026",
        },
    )
    assert response.status_code == 302, response.content[:500]
    refused = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    problem_of(refused, 401)


def test_saving_a_user_without_a_new_password_keeps_the_pairs(dora: User):
    pair = _signed_in_pair("dora")
    dora.display_name = "多拉"
    dora.save()
    ok = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    assert ok.status_code == 200


# --- The public expert directory: masked before it is cut, not after --------------------------


@pytest.mark.parametrize(
    "contact",
    [
        "510104198001011234",  # an ID number: cut after 17 digits it no longer looks like one
        "13812345678",  # a mobile number: cut after 7 digits
    ],
)
def test_the_public_directory_never_shows_a_contact_cut_at_the_excerpt_end(db: None, contact: str):
    profile = make_worker("wang", "510104", "13900001111")
    # The excerpt keeps 89 characters: the contact starts at 82 and is cut by the end.
    profile.capability = "擅长茶叶病虫害绿色防控与品质提升，" + "长" * 65 + contact + "，欢迎联系。"
    assert profile.capability.index(contact) == 82
    profile.save(update_fields=["capability"])
    response = Client().get("/api/v1/experts")
    assert response.status_code == 200
    (item,) = response.json()["items"]
    excerpt = item["capability"]
    assert excerpt.endswith("…")
    # No run of the contact's digits longer than a masked form keeps (3 or 4 at each end).
    assert contact[:7] not in excerpt
    assert "*" in excerpt
    # The public directory page cuts its excerpt at 87 characters: with the contact starting
    # at 72, a cut before masking would show 15 of its digits.
    profile.capability = "擅长茶叶病虫害绿色防控与品质提升，" + "长" * 55 + contact + "，欢迎联系。"
    profile.save(update_fields=["capability"])
    page = Client().get("/talent/").content.decode()
    assert "擅长茶叶病虫害" in page and "*" in page
    assert contact[:8] not in page


# --- Two requests spending one refresh token at once: the loser revokes the family -------------


def test_a_refresh_token_spent_by_a_concurrent_request_revokes_the_family(
    dora: User, monkeypatch: pytest.MonkeyPatch
):
    pair = token_pair_issue(user=dora)
    real_usable = tokens.token_usable

    def usable_then_raced(row: ApiToken, now: Any) -> bool:
        # The other request (the copy's holder) spends the token between the check and the
        # conditional write of this one.
        ApiToken.objects.filter(pk=row.pk).update(used_at=now)
        return real_usable(row, now)

    monkeypatch.setattr(tokens, "token_usable", usable_then_raced)
    with pytest.raises(TokenError):
        token_refresh(pair.refresh)
    # The same refresh token was presented twice: the whole family is revoked, as when the
    # second presentation comes later.
    assert not ApiToken.objects.filter(user=dora, revoked_at__isnull=True).exists()
