"""Webhook subscriptions and deliveries (issue 14): the secret shown once and kept sealed,
deliveries signed with HMAC-SHA256 through the outbox with retries, and only to owners who
may see the object."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.api.models import ApiToken, WebhookSubscription
from kejiyun.api.tokens import token_issue
from kejiyun.api.webhooks import sign, verify_signature, webhook_secret
from kejiyun.cases.models import Case, Outcome, Step
from kejiyun.cases.workflow.services import case_confirm
from kejiyun.demands.models import Demand
from kejiyun.demands.services import demand_publish
from kejiyun.notifications.dispatch import outbox_dispatch
from kejiyun.notifications.models import Channel, OutboxMessage
from tests.builders import make_case, make_demand, make_enterprise_user

pytestmark = pytest.mark.django_db

COVERED_FOREIGN: set[str] = {"webhooks_delete"}

HOOKS = "/api/v1/webhooks"


def token_for(
    user: User, scopes: tuple[str, ...] = ("webhooks", "cases:read", "demands:read")
) -> dict[str, str]:
    raw, _ = token_issue(
        user=user, kind=ApiToken.Kind.PERSONAL, lifetime=timedelta(days=1), scopes=scopes
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def subscribe(user: User, url: str, events: list[str]) -> tuple[int, dict[str, Any]]:
    response = Client().post(
        HOOKS, {"url": url, "events": events}, content_type="application/json", **token_for(user)
    )
    return response.status_code, response.json()


# --- A local receiver ---------------------------------------------------------------------------


class Receiver:
    """A real HTTP server on a thread: answers each POST with the next status in `answers`
    (200 once they run out) and keeps what it received."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.received.append((dict(self.headers.items()), body))
                status = outer.answers.pop(0) if outer.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def published(organisation: Any, actor: User, title: str = "茶园病虫害防控") -> Demand:
    demand = make_demand(organisation, title=title, status=Demand.Status.SUBMITTED)
    return demand_publish(demand=demand, actor=actor)


def closed(case: Case) -> Case:
    """Bring a case to acceptance with a recorded outcome, and let its enterprise confirm it:
    the service closes it (case.closed)."""
    Case.objects.filter(pk=case.pk).update(
        step=Step.ACCEPTANCE, outcome=Outcome.SOLVED, contract_number="HT-1"
    )
    case.refresh_from_db()
    enterprise = make_enterprise_user(case.demand.organisation, f"qiye{case.pk}")
    case_confirm(case=case, actor=enterprise, rating=5)
    case.refresh_from_db()
    assert case.step == Step.CLOSED
    return case


# --- Subscriptions --------------------------------------------------------------------------------


def test_a_subscription_gets_a_secret_shown_once_and_stored_sealed(alice: User):
    status, body = subscribe(alice, "https://partner.example.cn/hook", ["demand.published"])
    assert status == 201
    secret = body["secret"]
    row = WebhookSubscription.objects.get(pk=body["id"])
    assert (row.owner, row.url, row.events) == (
        alice,
        "https://partner.example.cn/hook",
        ["demand.published"],
    )
    assert secret not in row.secret_sealed and webhook_secret(row) == secret
    listed = Client().get(HOOKS, **token_for(alice))
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [row.pk]
    assert secret not in listed.content.decode()


def test_bad_urls_and_events_are_refused(alice: User):
    for url, events, want in (
        ("ftp://partner.example.cn/hook", ["demand.published"], 400),
        ("https://user:pw@partner.example.cn/hook", ["demand.published"], 400),
        ("not a url at all", ["demand.published"], 400),
        ("https://partner.example.cn/hook", ["demand.deleted"], 422),
        ("https://partner.example.cn/hook", [], 422),
        ("https://partner.example.cn/" + "x" * 400, ["case.closed"], 422),
    ):
        status, body = subscribe(alice, url, events)
        assert status == want, (url, events, body)
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://10.0.0.8/hook",
        "http://192.168.1.20/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_and_loopback_addresses_are_refused_in_production(
    alice: User, settings: Any, url: str
):
    settings.DEBUG = False
    settings.TESTING = False
    status, body = subscribe(alice, url, ["case.closed"])
    assert status == 400 and body["code"] == "bad_url"
    assert not WebhookSubscription.objects.exists()


def test_subscriptions_need_the_webhooks_scope(alice: User):
    response = Client().post(
        HOOKS,
        {"url": "https://partner.example.cn/hook", "events": ["case.closed"]},
        content_type="application/json",
        **token_for(alice, ("profile", "cases:read")),
    )
    assert response.status_code == 403 and response.json()["scope"] == "webhooks"
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    ("event", "needed"), [("case.closed", "cases:read"), ("demand.published", "demands:read")]
)
def test_an_event_needs_the_scope_that_reads_its_object(alice: User, event: str, needed: str):
    response = Client().post(
        HOOKS,
        {"url": "https://partner.example.cn/hook", "events": [event]},
        content_type="application/json",
        **token_for(alice, ("webhooks",)),
    )
    assert response.status_code == 403 and response.json()["scope"] == needed
    assert not WebhookSubscription.objects.exists()


def test_another_users_subscription_is_a_404_and_stays(alice: User, charlie: User):
    _, body = subscribe(alice, "https://partner.example.cn/hook", ["case.closed"])
    response = Client().delete(f"{HOOKS}/{body['id']}", **token_for(charlie))
    assert response.status_code == 404
    assert WebhookSubscription.objects.filter(pk=body["id"]).exists()
    assert Client().get(HOOKS, **token_for(charlie)).json()["items"] == []
    mine = Client().delete(f"{HOOKS}/{body['id']}", **token_for(alice))
    assert mine.status_code == 200 and mine.json() == {"id": body["id"], "deleted": True}
    assert not WebhookSubscription.objects.exists()


# --- Signatures -----------------------------------------------------------------------------------


def test_signatures_verify_and_a_tampered_body_or_old_timestamp_fails():
    secret = "whsec_test"
    body = json.dumps({"event": "case.closed", "data": {"id": 7}}).encode()
    now = 1_780_000_000
    signature = sign(secret, now, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify_signature(secret, str(now), body, signature, now=now + 10)
    assert verify_signature(secret, now, body.decode(), signature, now=now)
    assert not verify_signature(secret, now, body.replace(b"7", b"8"), signature, now=now)
    assert not verify_signature("whsec_other", now, body, signature, now=now)
    assert not verify_signature(secret, now + 1, body, signature, now=now)
    assert not verify_signature(secret, now, body, signature, now=now + 301)
    assert not verify_signature(secret, "yesterday", body, signature, now=now)
    assert not verify_signature(secret, now, body, "sha256=" + "0" * 64, now=now)


# --- Deliveries -----------------------------------------------------------------------------------


def test_a_published_demand_is_delivered_signed_and_retried_until_it_arrives(
    alice: User, tea_company: Any, receiver: Receiver
):
    _, sub = subscribe(alice, receiver.url, ["demand.published"])
    receiver.answers = [500]
    demand = published(tea_company, alice)
    message = OutboxMessage.objects.get(channel=Channel.WEBHOOK)
    assert message.address == f"webhook:{sub['id']}"
    assert message.idempotency_key == f"webhook:{sub['id']}:demand.published:{demand.pk}"
    start = timezone.now()
    first = outbox_dispatch(now=start)
    assert (first.sent, first.retried) == (0, 1)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING and message.attempts == 1
    assert "HTTP 500" in message.last_error
    assert outbox_dispatch(now=start).claimed == 0  # not due yet: backoff
    second = outbox_dispatch(now=start + timedelta(minutes=2))
    assert second.sent == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert len(receiver.received) == 2
    headers, body = receiver.received[-1]
    assert headers["Kejiyun-Event"] == "demand.published"
    assert headers["Kejiyun-Delivery"] == str(message.pk)
    assert verify_signature(
        sub["secret"],
        headers["Kejiyun-Timestamp"],
        body,
        headers["Kejiyun-Signature"],
        now=float(headers["Kejiyun-Timestamp"]),
    )
    assert not verify_signature(
        sub["secret"],
        headers["Kejiyun-Timestamp"],
        body + b" ",
        headers["Kejiyun-Signature"],
        now=float(headers["Kejiyun-Timestamp"]),
    )
    payload = json.loads(body)
    assert payload["event"] == "demand.published" and payload["id"]
    assert payload["occurred_at"]
    assert payload["data"]["id"] == demand.pk and payload["data"]["title"] == "茶园病虫害防控"
    assert set(payload["data"]) == {
        "id",
        "title",
        "category",
        "industry",
        "region_code",
        "published_at",
    }


def test_an_unsubscribed_event_and_a_deleted_subscription_deliver_nothing(
    alice: User, tea_company: Any, receiver: Receiver
):
    subscribe(alice, receiver.url, ["case.closed"])
    published(tea_company, alice)
    assert not OutboxMessage.objects.filter(channel=Channel.WEBHOOK).exists()
    _, sub = subscribe(alice, receiver.url, ["demand.published"])
    published(tea_company, alice, title="第二个需求")
    assert OutboxMessage.objects.filter(channel=Channel.WEBHOOK).count() == 1
    Client().delete(f"{HOOKS}/{sub['id']}", **token_for(alice))
    outbox_dispatch(now=timezone.now())
    assert receiver.received == []
    assert OutboxMessage.objects.get(channel=Channel.WEBHOOK).status == "failed"


def test_a_closed_case_reaches_only_subscribers_who_may_see_it(
    alice: User, charlie: User, erin: User, receiver: Receiver
):
    case = make_case(alice, county="510104", serial="7")
    owner = make_enterprise_user(case.demand.organisation, "boss7")
    subs = {}
    for user in (alice, charlie, erin, owner):
        status, body = subscribe(user, receiver.url, ["case.closed"])
        assert status == 201
        subs[user.username] = body["id"]
    closed(case)
    addresses = {m.address for m in OutboxMessage.objects.filter(channel=Channel.WEBHOOK)}
    # Alice's county holds the case; the case's enterprise sees its own case. Charlie
    # (another city) and Erin (another enterprise) hear nothing.
    assert addresses == {f"webhook:{subs['alice']}", f"webhook:{subs['boss7']}"}
    outbox_dispatch(now=timezone.now())
    assert len(receiver.received) == 2
    payloads = [json.loads(body) for _, body in receiver.received]
    assert {p["event"] for p in payloads} == {"case.closed"}
    assert {p["data"]["id"] for p in payloads} == {case.pk}
    assert payloads[0]["data"]["step"] == "closed" and payloads[0]["data"]["outcome"] == "solved"


def test_a_failing_receiver_is_given_up_after_the_outbox_attempts(
    alice: User, tea_company: Any, receiver: Receiver
):
    subscribe(alice, receiver.url, ["demand.published"])
    receiver.answers = [503] * 10
    published(tea_company, alice)
    moment = timezone.now()
    for _ in range(5):
        outbox_dispatch(now=moment)
        moment += timedelta(hours=1)
    message = OutboxMessage.objects.get(channel=Channel.WEBHOOK)
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == 5
    assert len(receiver.received) == 5


def test_the_receiver_in_the_docs_verifies_a_real_delivery(
    alice: User, tea_company: Any, receiver: Receiver
):
    """The Python receiver of docs/api.md, run as written, accepts what the platform sends
    and refuses a tampered body."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()
    code = text.split("<!-- webhook-receiver-begin -->")[1].split("<!-- webhook-receiver-end -->")[
        0
    ]
    code = code.strip().removeprefix("```python").removesuffix("```")
    namespace: dict[str, Any] = {"__name__": "docs_receiver"}
    exec(compile(code, "docs/api.md", "exec"), namespace)  # noqa: S102
    _, sub = subscribe(alice, receiver.url, ["demand.published"])
    published(tea_company, alice)
    outbox_dispatch(now=timezone.now())
    headers, body = receiver.received[0]
    check = namespace["verify_signature"]
    args = (headers["Kejiyun-Timestamp"], body, headers["Kejiyun-Signature"])
    assert check(sub["secret"], *args)
    assert not check(sub["secret"], args[0], body.replace(b"demand", b"Demand"), args[2])
    assert not check("whsec_wrong", *args)
