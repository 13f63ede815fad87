"""`manage.py api_token_issue`: an operator issues a personal access token from the shell."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.api.models import ALL_SCOPES, ApiToken
from kejiyun.api.tokens import token_authenticate


def _issue(*args: str) -> str:
    out = StringIO()
    call_command("api_token_issue", *args, stdout=out)
    return out.getvalue()


def test_it_prints_only_a_live_token_with_every_scope(alice: User, client: Client) -> None:
    printed = _issue("--user", "alice", "--days", "1")
    raw = printed.strip()
    assert printed.count("\n") == 1 and raw.startswith("kjy_p_")
    row = token_authenticate(raw)
    assert row is not None and row.user == alice
    assert row.kind == ApiToken.Kind.PERSONAL
    assert row.scopes == sorted(ALL_SCOPES)
    assert row.token_hash != raw and raw not in row.prefix + row.name
    lifetime = row.expires_at - timezone.now()
    assert timedelta(hours=23) < lifetime <= timedelta(days=1)
    answer = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert answer.status_code == 200 and answer.json()["id"] == alice.pk


def test_scopes_limit_the_token(alice: User, client: Client) -> None:
    raw = _issue("--user", "alice", "--days", "1", "--scopes", "cases:read").strip()
    row = token_authenticate(raw)
    assert row is not None and row.scopes == ["cases:read"]
    answer = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert answer.status_code == 403
    assert answer.json()["code"] == "insufficient_scope"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--user", "nobody"), "no account"),
        (("--user", "alice", "--scopes", "everything"), "unknown scope"),
        (("--user", "alice", "--days", "0"), "--days"),
        (("--user", "alice", "--days", "100000"), "--days"),
    ],
)
def test_bad_arguments_issue_nothing(alice: User, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _issue(*args)
    assert not ApiToken.objects.exists()


def test_an_inactive_account_gets_no_token(alice: User) -> None:
    User.objects.filter(pk=alice.pk).update(is_active=False)
    with pytest.raises(CommandError, match="not active"):
        _issue("--user", "alice")
    assert not ApiToken.objects.exists()
