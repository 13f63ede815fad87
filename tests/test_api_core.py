"""The API's shared machinery: problem details, cursor pages, ETag/If-Match, rate limits."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from kejiyun.accounts.models import User
from kejiyun.api.errors import ApiProblem
from kejiyun.api.etag import etag_of, if_match_version
from kejiyun.api.models import ApiToken
from kejiyun.api.pagination import decode_cursor, encode_cursor, paginate
from kejiyun.api.tokens import token_issue
from kejiyun.regions.models import Region

pytestmark = pytest.mark.django_db


def bearer(user: User, **kw: object) -> str:
    raw, _ = token_issue(user=user, kind=ApiToken.Kind.PERSONAL, lifetime=timedelta(hours=1), **kw)  # type: ignore[arg-type]
    return f"Bearer {raw}"


def test_cursor_round_trip_and_garbage_is_a_400() -> None:
    assert decode_cursor(encode_cursor(12345)) == "12345"
    for garbage in ["", "!!!", "a2Fi", encode_cursor("x1"), "٣", encode_cursor("9" * 30), "k1"]:
        with pytest.raises(ApiProblem) as refused:
            decode_cursor(garbage)
        assert refused.value.status == 400


def test_pages_are_cut_by_key_and_never_repeat() -> None:
    qs = Region.objects.filter(level=Region.Level.COUNTY)
    seen: list[str] = []
    cursor = None
    while True:
        page = paginate(qs, cursor=cursor, limit=50, out=lambda r: r.code)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == qs.count() > 100
    assert seen == sorted(seen, reverse=True)
    with pytest.raises(ApiProblem):
        paginate(qs, cursor=None, limit=0, out=str)
    with pytest.raises(ApiProblem):
        paginate(qs, cursor=None, limit=101, out=str)


def test_if_match(alice: User) -> None:
    from tests.builders import make_case

    demand = make_case(alice)
    tag = etag_of(demand)
    assert tag == f'"case-{demand.pk}-v{demand.version}"'
    assert if_match_version(tag, demand) == demand.version
    assert if_match_version(f"W/{tag}", demand) == demand.version
    with pytest.raises(ApiProblem) as missing:
        if_match_version(None, demand)
    assert missing.value.status == 428
    with pytest.raises(ApiProblem) as stale:
        if_match_version(f'"demand-{demand.pk}-v{demand.version + 1}"', demand)
    assert stale.value.status == 412


def test_unauthenticated_and_bad_tokens_are_problem_details(erin: User) -> None:
    client = Client()
    answer = client.get("/api/v1/me")
    assert answer.status_code == 401
    assert answer["Content-Type"] == "application/problem+json"
    body = answer.json()
    assert (
        body["status"] == 401 and body["code"] == "not_authenticated" and "登录" in body["detail"]
    )
    assert answer["WWW-Authenticate"].startswith("Bearer")
    answer = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer kjy_p_madeup")
    assert answer.status_code == 401 and answer.json()["code"] == "invalid_token"
    answer = client.get("/api/v1/me", HTTP_AUTHORIZATION=bearer(erin))
    assert answer.status_code == 200
    assert answer.json()["display_name"] == erin.display_name
    assert "detail" not in json.dumps(answer.json())


def test_scope_missing_is_403(erin: User) -> None:
    answer = Client().get("/api/v1/me", HTTP_AUTHORIZATION=bearer(erin, scopes=["cases:read"]))
    assert answer.status_code == 403
    assert answer.json()["code"] == "insufficient_scope" and answer.json()["scope"] == "profile"


def test_session_callers_need_csrf_for_writes(erin: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(erin)
    assert client.get("/api/v1/me").status_code == 200
    # Without a session, an unsafe request is not a CSRF failure: it goes on as anonymous.
    assert Client(enforce_csrf_checks=True).post("/api/v1/me").status_code == 405


def test_session_door_checks_csrf_on_unsafe_methods(erin: User, rf: object) -> None:
    from django.contrib.auth.models import AnonymousUser

    from kejiyun.api.auth import SESSION

    request = rf.post("/api/v1/anything")  # type: ignore[attr-defined]
    request.user = erin
    request.COOKIES["csrftoken"] = "x" * 32
    with pytest.raises(ApiProblem) as refused:
        SESSION(request)
    assert refused.value.status == 403 and refused.value.code == "csrf_failed"
    request.user = AnonymousUser()
    assert SESSION(request) is None
    safe = rf.get("/api/v1/anything")  # type: ignore[attr-defined]
    safe.user = erin
    assert SESSION(safe).user == erin  # type: ignore[union-attr]


@time_machine.travel("2026-12-07 10:00:30+08:00", tick=False)  # one rate window throughout
def test_rate_limit_per_ip_and_per_token(erin: User, settings: object) -> None:
    settings.API_RATE_PER_IP_PER_MINUTE = 1000  # type: ignore[attr-defined]
    settings.API_RATE_PER_TOKEN_PER_MINUTE = 3  # type: ignore[attr-defined]
    token = bearer(erin)
    client = Client()
    codes = [client.get("/api/v1/me", HTTP_AUTHORIZATION=token).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    limited = client.get("/api/v1/me", HTTP_AUTHORIZATION=token)
    assert limited["Content-Type"] == "application/problem+json"
    assert 1 <= int(limited["Retry-After"]) <= 60
    # another token from the same address is not held back by the first one's count
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=bearer(erin)).status_code == 200
    settings.API_RATE_PER_IP_PER_MINUTE = 2  # type: ignore[attr-defined]
    settings.API_RATE_PER_TOKEN_PER_MINUTE = 1000  # type: ignore[attr-defined]
    other = Client(REMOTE_ADDR="10.1.2.3")
    codes = [other.get("/api/v1/me").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_openapi_document_names_problem_details() -> None:
    document = Client().get("/api/v1/openapi.json").json()
    assert document["info"]["title"] == "科技云开放接口"
    me = document["paths"]["/api/v1/me"]["get"]
    assert "application/problem+json" in me["responses"]["404"]["content"]
    assert "Retry-After" in me["responses"]["429"]["headers"]


def test_unknown_paths_and_malformed_bodies_are_problem_details(erin: User) -> None:
    client = Client()
    for method in ("get", "post", "delete"):
        answer = getattr(client, method)(
            "/api/v1/webhooks/null,null", HTTP_AUTHORIZATION=bearer(erin)
        )
        assert answer.status_code == 404
        assert answer["Content-Type"] == "application/problem+json"
        assert answer.json()["code"] == "no_such_operation"
    answer = client.post(
        "/api/v1/auth/oauth/token",
        data=b"grant_type=&client_id=",
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
