"""Personal access tokens (issue 14): `/api/v1/me/tokens` and the page "API 令牌"
(/accounts/api-tokens/). The token is shown once; a PAT may not mint PATs; another person's
token is a 404 and stays alive."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.api.models import ApiToken
from kejiyun.api.tokens import token_issue, token_pair_issue
from tests.builders import client_for

pytestmark = pytest.mark.django_db

COVERED_FOREIGN: set[str] = {"me_tokens_revoke"}

TOKENS = "/api/v1/me/tokens"
ME = "/api/v1/me"
PAGE = "/accounts/api-tokens/"


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def create(client: Client, body: dict[str, Any], **extra: Any) -> Any:
    return client.post(TOKENS, body, content_type="application/json", **extra)


def pat(user: User, scopes: list[str]) -> tuple[str, ApiToken]:
    return token_issue(
        user=user,
        kind=ApiToken.Kind.PERSONAL,
        lifetime=timedelta(days=30),
        scopes=scopes,
        name="脚本",
    )


def test_a_signed_in_browser_creates_a_token_shown_once_with_the_chosen_scopes(dora: User):
    browser = client_for(dora)
    response = create(browser, {"name": "我的脚本", "scopes": ["profile"], "days": 30})
    assert response.status_code == 201, response.content
    body = response.json()
    raw = body["token"]
    assert raw.startswith("kjy_p_") and body["prefix"] == raw[:10]
    row = ApiToken.objects.get(pk=body["id"])
    assert (row.user, row.kind, row.scopes, row.name) == (dora, "personal", ["profile"], "我的脚本")
    assert raw not in row.token_hash
    assert timedelta(days=29) < row.expires_at - timezone.now() <= timedelta(days=30)
    assert Client().get(ME, **bearer(raw)).json()["scopes"] == ["profile"]
    # The list never shows the token again.
    listed = browser.get(TOKENS).json()
    assert [item["id"] for item in listed["items"]] == [row.pk]
    assert "token" not in listed["items"][0]
    assert raw not in browser.get(TOKENS).content.decode()


def test_a_signed_in_pair_may_create_a_token_but_a_pat_or_client_token_may_not(dora: User):
    pair = token_pair_issue(user=dora)
    made = create(Client(), {"name": "手机", "scopes": ["cases:read"]}, **bearer(pair.access))
    assert made.status_code == 201
    raw, _ = pat(dora, ["profile", "cases:read"])
    refused = create(Client(), {"name": "再造一个", "scopes": ["profile"]}, **bearer(raw))
    assert refused.status_code == 403
    assert refused.json()["code"] == "token_cannot_mint"
    assert ApiToken.objects.filter(kind=ApiToken.Kind.PERSONAL).count() == 2


def test_expiry_beyond_the_limit_and_bad_scopes_are_refused(dora: User, settings: Any):
    settings.API_PERSONAL_TOKEN_MAX_DAYS = 30
    browser = client_for(dora)
    too_long = create(browser, {"name": "长期", "scopes": ["profile"], "days": 31})
    assert too_long.status_code == 400 and too_long.json()["code"] == "bad_expiry"
    for body in (
        {"name": "x", "scopes": ["root"]},
        {"name": "x", "scopes": []},
        {"name": "", "scopes": ["profile"]},
        {"name": "x", "scopes": ["profile"], "days": -1},
        {"name": "x" * 81, "scopes": ["profile"]},
    ):
        assert create(browser, body).status_code == 422, body
    assert not ApiToken.objects.exists()


def test_a_token_without_profile_cannot_list_tokens(dora: User):
    raw, _ = pat(dora, ["cases:read"])
    response = Client().get(TOKENS, **bearer(raw))
    assert response.status_code == 403 and response.json()["scope"] == "profile"


def test_revoking_ones_own_token_ends_it(dora: User):
    raw, row = pat(dora, ["profile"])
    response = client_for(dora).delete(f"{TOKENS}/{row.pk}")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert Client().get(ME, **bearer(raw)).status_code == 401


def test_another_persons_token_is_a_404_and_stays_alive(dora: User, erin: User):
    raw, row = pat(dora, ["profile"])
    response = client_for(erin).delete(f"{TOKENS}/{row.pk}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    row.refresh_from_db()
    assert row.revoked_at is None
    assert Client().get(ME, **bearer(raw)).status_code == 200
    # Erin's list does not show it either; a signed-in pair's tokens are not personal ones.
    assert client_for(erin).get(TOKENS).json()["items"] == []
    pair = token_pair_issue(user=dora)
    access = ApiToken.objects.get(kind=ApiToken.Kind.ACCESS)
    assert client_for(dora).delete(f"{TOKENS}/{access.pk}").status_code == 404
    assert Client().get(ME, **bearer(pair.access)).status_code == 200


def test_the_token_operations_need_a_sign_in():
    assert Client().get(TOKENS).status_code == 401
    assert create(Client(), {"name": "x", "scopes": ["profile"]}).status_code == 401
    assert Client().delete(f"{TOKENS}/1").status_code == 401


# --- The page ---------------------------------------------------------------------------------


def test_the_page_creates_a_token_shows_it_once_and_revokes_it(dora: User):
    browser = client_for(dora)
    assert PAGE in browser.get("/accounts/profile/").content.decode()
    empty = browser.get(PAGE)
    assert empty.status_code == 200 and "还没有令牌" in empty.content.decode()
    made = browser.post(
        PAGE, {"name": "家里电脑", "scopes": ["profile", "demands:read"], "days": 7}
    )
    assert made.status_code == 302 and made["Location"] == PAGE
    row = ApiToken.objects.get(user=dora, kind=ApiToken.Kind.PERSONAL)
    assert row.scopes == ["demands:read", "profile"]
    shown = browser.get(PAGE).content.decode()
    match = re.search(r"<code[^>]*data-token>([^<]+)</code>", shown)
    assert match is not None
    raw = match.group(1)
    assert raw.startswith(row.prefix)
    assert Client().get(ME, **bearer(raw)).status_code == 200
    again = browser.get(PAGE).content.decode()
    assert raw not in again and "data-token>" not in again
    assert f'data-token-row="{row.pk}"' in again and "家里电脑" in again
    revoked = browser.post(f"{PAGE}{row.pk}/revoke/")
    assert revoked.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert Client().get(ME, **bearer(raw)).status_code == 401
    assert "已吊销" in browser.get(PAGE).content.decode()


def test_the_page_refuses_a_bad_form_and_anothers_token(dora: User, erin: User, settings: Any):
    settings.API_PERSONAL_TOKEN_MAX_DAYS = 30
    browser = client_for(dora)
    bad = browser.post(PAGE, {"name": "", "scopes": [], "days": 7})
    assert bad.status_code == 400
    too_long = browser.post(PAGE, {"name": "x", "scopes": ["profile"], "days": 31})
    assert too_long.status_code == 400 and "30" in too_long.content.decode()
    assert not ApiToken.objects.exists()
    _, row = pat(erin, ["profile"])
    assert browser.post(f"{PAGE}{row.pk}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None
    assert "脚本" not in browser.get(PAGE).content.decode()


def test_the_page_needs_a_sign_in():
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_hourly_purge_deletes_tokens_a_month_past_their_end_and_keeps_the_rest(dora: User):
    from kejiyun.api.tasks import purge_tokens
    from kejiyun.api.tokens import TOKEN_KEEP_AFTER_END, tokens_purge

    now = timezone.now()
    _, live = pat(dora, ["profile"])
    _, expired_long_ago = pat(dora, ["profile"])
    _, expired_lately = pat(dora, ["profile"])
    _, revoked_long_ago = pat(dora, ["profile"])
    ApiToken.objects.filter(pk=expired_long_ago.pk).update(
        expires_at=now - TOKEN_KEEP_AFTER_END - timedelta(minutes=1)
    )
    ApiToken.objects.filter(pk=expired_lately.pk).update(expires_at=now - timedelta(days=1))
    ApiToken.objects.filter(pk=revoked_long_ago.pk).update(
        revoked_at=now - TOKEN_KEEP_AFTER_END - timedelta(minutes=1)
    )

    assert tokens_purge(now=now) == 2
    assert set(ApiToken.objects.values_list("pk", flat=True)) == {live.pk, expired_lately.pk}
    assert purge_tokens() == 0  # the registered task runs the same purge
