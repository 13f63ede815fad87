"""Helpers of the API tests of demands, cases, dockings, plans and matches: a real bearer
token for a user, and JSON requests with it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.test import Client

from kejiyun.accounts.models import User
from kejiyun.api.models import ALL_SCOPES, ApiToken
from kejiyun.api.tokens import token_issue


def token_for(user: User, scopes: Iterable[str] = ALL_SCOPES) -> str:
    raw, _ = token_issue(
        user=user, kind=ApiToken.Kind.PERSONAL, lifetime=timedelta(days=1), scopes=list(scopes)
    )
    return raw


class Api:
    """A test client that calls `/api/v1/…` with `user`'s bearer token."""

    def __init__(self, user: User | None, scopes: Iterable[str] = ALL_SCOPES) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if user is not None:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {token_for(user, scopes)}"

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, **self.headers)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        if_match: str | None = None,
    ) -> Any:
        headers = dict(self.headers)
        if if_match is not None:
            headers["HTTP_IF_MATCH"] = if_match
        call = getattr(self.client, method.lower())
        return call(
            f"/api/v1{path}",
            data=json.dumps(body if body is not None else {}),
            content_type="application/json",
            **headers,
        )

    def post(self, path: str, body: Any = None, *, if_match: str | None = None) -> Any:
        return self.send("post", path, body, if_match=if_match)

    def put(self, path: str, body: Any = None, *, if_match: str | None = None) -> Any:
        return self.send("put", path, body, if_match=if_match)


def problem_of(response: Any, status: int) -> dict[str, Any]:
    """The problem document of a refusal with `status`."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body
