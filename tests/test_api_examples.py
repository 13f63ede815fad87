"""The example clients in docs/api-examples run against a live server and do what they say:
one publishes a demand and follows its case to a confirmed outcome, the other lists the
demands recommended to a worker and applies for a docking. The scripts run as separate
processes, using only the API.

While the first follows its case, staff act on it from this test. They act only while the
script is between two looks (it prints a marker line, then sleeps), so the live server and
this test never use the database at the same moment (the in-memory SQLite connection is
shared between the two threads).

The sign-in operations (`/api/v1/auth/…`) belong to another part of the API: until they are
routed, the scripts are given a personal access token (`--token`) and the tests of the
password and SMS sign-in paths are skipped."""

from __future__ import annotations

import http.server
import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import Resolver404, resolve

from kejiyun.accounts.models import User
from kejiyun.api.models import ApiToken
from kejiyun.api.tokens import token_issue
from kejiyun.cases.models import Case, DockingRequest, Step
from kejiyun.cases.workflow.services import (
    OutcomeInput,
    case_open_from_demand,
    case_outcome_record,
    case_transition,
)
from kejiyun.demands.models import Demand
from kejiyun.notifications.models import SmsMessage
from kejiyun.regions.services import regions_load, service_centres_ensure
from kejiyun.talent.services import disciplines_load, industries_load
from tests.builders import (
    PASSWORD,
    case_to_matching,
    make_enterprise,
    make_enterprise_user,
    make_staff,
    make_tea_demand,
    make_tea_expert,
    pdf_upload,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "api-examples"
MARKER = "秒查看一次进展"
INTERVAL = "2.5"


def routed(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


SIGN_IN_ROUTED = routed("/api/v1/auth/token")
needs_sign_in = pytest.mark.skipif(
    not SIGN_IN_ROUTED, reason="the sign-in operations (/api/v1/auth/…) are not routed yet"
)


def token_for(user: User) -> str:
    raw, _ = token_issue(
        user=user,
        kind=ApiToken.Kind.PERSONAL,
        lifetime=timedelta(hours=1),
        scopes=["demands:read", "demands:write", "cases:read", "cases:write", "matches:read"],
    )
    return raw


class Script:
    """An example script running in its own process; its output read line by line."""

    def __init__(self, name: str, *args: str) -> None:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
            [sys.executable, str(EXAMPLES / name), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                self.process.kill()
                raise AssertionError(f"no line with {text!r}; so far:\n" + self.output) from None
            if line is None:
                raise AssertionError(f"ended before {text!r}:\n" + self.output)
            self.lines.append(line)
            if text in line:
                return line

    def finish(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def world(transactional_db: None, live_server: Any, match_index: Path) -> dict[str, Any]:
    """A transactional test starts from an empty database: regions and classifications back,
    then the cast."""
    regions_load()
    service_centres_ensure(province_code="510000")
    industries_load()
    disciplines_load()
    company = make_enterprise("锦江茶业有限公司", "510104", "MA6100001")
    return {
        "base": str(live_server),
        "alice": make_staff("alice", "510104"),
        "company": company,
        "erin": make_enterprise_user(company, "erin", mobile="13900001111"),
    }


def follow_a_demand_to_its_closed_case(world: dict[str, Any], *auth: str) -> None:
    alice: User = world["alice"]
    script = Script(
        "publish_and_follow.py",
        "--base-url",
        world["base"],
        *auth,
        "--rating",
        "5",
        "--comment",
        "专家很专业",
        "--interval",
        INTERVAL,
        "--timeout",
        "120",
    )
    script.wait_for("已提交审核")
    script.wait_for(MARKER)  # the script sleeps: staff accept and work on the case
    demand = Demand.objects.get(status=Demand.Status.SUBMITTED)
    assert demand.organisation_id == world["company"].pk
    case = case_open_from_demand(demand=demand, actor=alice)
    case_to_matching(case, alice)

    script.wait_for("环节：匹配")
    script.wait_for(MARKER)
    case = Case.objects.get(pk=case.pk)
    case_transition(case=case, to_step=Step.DOCKING, actor=alice)
    case_transition(case=case, to_step=Step.AGREEMENT, actor=alice, reason="企业自行找到合作方")
    case_transition(case=case, to_step=Step.DELIVERY, actor=alice)
    case_outcome_record(
        case=case,
        outcome=OutcomeInput(
            solved=True,
            contract_number="HT-2026-001",
            contract_amount=Decimal("12.50"),
            evidence=pdf_upload(),
        ),
        actor=alice,
    )

    script.wait_for("已确认结果并评分 5/5")
    assert script.finish() == 0, script.output
    out = script.output
    assert "环节：验收评价" in out and "环节：已办结" in out and "案例已结束。" in out
    # The timeline as it moved: opened, each step, the outcome, the confirmation.
    for kind in ("立案", "环节变更", "登记结果", "企业确认"):
        assert f"] {kind}" in out, out
    assert "内部" not in out
    case = Case.objects.get(pk=case.pk)
    assert (case.step, case.rating, case.rating_comment) == (Step.CLOSED, 5, "专家很专业")


@pytest.mark.django_db(transaction=True)
def test_publish_and_follow_with_a_token(world: dict[str, Any]) -> None:
    follow_a_demand_to_its_closed_case(world, "--token", token_for(world["erin"]))


@needs_sign_in
@pytest.mark.django_db(transaction=True)
def test_publish_and_follow_signing_in_with_a_password(world: dict[str, Any]) -> None:
    follow_a_demand_to_its_closed_case(world, "--login", "erin", "--password", PASSWORD)


@pytest.fixture
def worker_world(world: dict[str, Any]) -> dict[str, Any]:
    """Tina, a tea expert, and a tea demand whose case looks for experts."""
    tina = make_tea_expert()
    demand = make_tea_demand(world["company"], status=Demand.Status.SUBMITTED)
    case = case_open_from_demand(demand=demand, actor=world["alice"])
    case_to_matching(case, world["alice"])
    return {**world, "tina": tina, "demand": demand, "case": case}


def assert_applied(script: Script, world: dict[str, Any]) -> None:
    assert script.finish() == 0, script.output
    demand: Demand = world["demand"]
    assert f"#{demand.pk} {demand.title}" in script.output
    assert f"已申请对接需求 #{demand.pk}" in script.output
    docking = DockingRequest.objects.get(case=world["case"])
    assert (docking.expert_id, docking.status, docking.origin) == (
        world["tina"].pk,
        DockingRequest.Status.APPLIED,
        DockingRequest.Origin.WORKER,
    )


@pytest.mark.django_db(transaction=True)
def test_worker_lists_recommended_demands_and_applies_with_a_token(
    worker_world: dict[str, Any],
) -> None:
    tina: User = worker_world["tina"].user
    script = Script("worker_sms.py", "--base-url", worker_world["base"], "--token", token_for(tina))
    assert_applied(script, worker_world)


@needs_sign_in
@pytest.mark.django_db(transaction=True)
def test_worker_signs_in_by_sms_code(worker_world: dict[str, Any]) -> None:
    mobile = worker_world["tina"].user.mobile
    base = ["--base-url", worker_world["base"], "--mobile", mobile]
    sent = Script("worker_sms.py", *base, "--send-code")
    assert sent.finish() == 0, sent.output
    body = SmsMessage.objects.for_mobile(mobile).latest("created_at", "id").body
    code = re.search(r"\d{6}", body)
    assert code is not None, body
    script = Script("worker_sms.py", *base, "--code", code[0])
    assert_applied(script, worker_world)
    assert "已登录。" in script.output


# --- Token refresh: against a stand-in server, since sign-in is not routed here -------------


class _StandIn(http.server.BaseHTTPRequestHandler):
    """Answers 401 to the old access token, and a new pair for the refresh grant."""

    grants: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.headers.get("Authorization") == "Bearer new-access":
            self._answer(200, {"items": [], "seen": self.path})
        else:
            self._answer(401, {"status": 401, "code": "invalid_token", "detail": "令牌已过期"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.grants.append(body)
        if body == {"grant_type": "refresh_token", "refresh_token": "old-refresh"}:
            self._answer(
                200,
                {
                    "access_token": "new-access",
                    "refresh_token": "new-refresh",
                    "token_type": "Bearer",
                    "expires_in": 900,
                    "scope": "",
                },
            )
        else:
            self._answer(400, {"status": 400, "code": "invalid_grant", "detail": "无效"})


@pytest.fixture
def stand_in() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _StandIn.grants = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_client_refreshes_an_expired_access_token_once(stand_in: str) -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from kejiyun_client import ApiError, Client  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(EXAMPLES))
    client = Client(stand_in, token="old-access")
    client.refresh_token = "old-refresh"
    assert client.get("/cases/mine/1/timeline", limit=50)["seen"] == (
        "/api/v1/cases/mine/1/timeline?limit=50"
    )
    assert (client.access_token, client.refresh_token) == ("new-access", "new-refresh")
    assert _StandIn.grants == [{"grant_type": "refresh_token", "refresh_token": "old-refresh"}]
    # A token given as is (no refresh token): the 401 is the caller's to handle.
    bare = Client(stand_in, token="old-access")
    with pytest.raises(ApiError) as refused:
        bare.get("/dockings")
    assert refused.value.status == 401 and refused.value.detail == "令牌已过期"
    assert len(_StandIn.grants) == 1
