"""Mobile numbers sealed at rest (docs/requirements/security.md items 8 and 16): the sealed
columns and their keyed-hash lookups, the migration that sealed existing rows, the SMS
backends (the gateway, the console that never logs a code) and production's refusals."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, override_settings

from kejiyun.accounts.models import MOBILE_PURPOSE, Role, SmsCode, User
from kejiyun.accounts.selectors import user_by_mobile
from kejiyun.accounts.services import sms_code_send
from kejiyun.common.crypto import mobile_lookup, unseal
from kejiyun.notifications.models import (
    OUTBOX_ADDRESS_PURPOSE,
    Channel,
    OutboxMessage,
    SmsMessage,
)
from kejiyun.notifications.sms import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ConsoleBackend,
    HttpGatewayBackend,
    SmsGatewayError,
    gateway_signature,
)
from tests.builders import PRODUCTION_ENV

MOBILE = "13900007001"
OTHER = "13900007002"


@pytest.mark.django_db
def test_a_users_mobile_is_stored_sealed_and_found_by_its_hash_only() -> None:
    user = User.objects.create_user(
        username="sealme", password="x", display_name="封", role=Role.CITIZEN, mobile=MOBILE
    )
    row = User.objects.filter(pk=user.pk).values("mobile_sealed", "mobile_hash").get()
    assert MOBILE not in row["mobile_sealed"] and MOBILE not in row["mobile_hash"]
    assert unseal(row["mobile_sealed"], purpose=MOBILE_PURPOSE) == MOBILE
    assert row["mobile_hash"] == mobile_lookup(MOBILE)
    assert User.objects.get(pk=user.pk).mobile == MOBILE
    assert user_by_mobile(MOBILE) == user
    assert user_by_mobile(OTHER) is None
    assert user_by_mobile("") is None
    # Clearing it leaves no hash, so any number of accounts may have none.
    user.mobile = ""
    user.save()
    fresh = User.objects.get(pk=user.pk)
    assert (fresh.mobile, fresh.mobile_sealed, fresh.mobile_hash) == (None, "", None)


@pytest.mark.django_db
def test_two_accounts_cannot_hold_one_number() -> None:
    from django.db import IntegrityError, transaction

    User.objects.create_user(username="a1", password="x", role=Role.CITIZEN, mobile=MOBILE)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="a2", password="x", role=Role.CITIZEN, mobile=MOBILE)


@pytest.mark.django_db
def test_sms_codes_and_the_sms_outbox_hold_no_number_or_code_in_the_clear() -> None:
    User.objects.create_user(username="r1", password="x", role=Role.CITIZEN, mobile=MOBILE)
    sms_code_send(mobile=MOBILE, purpose=SmsCode.Purpose.RESET)
    code_row = SmsCode.objects.values().get()
    assert MOBILE not in str(code_row)
    assert code_row["mobile_hash"] == mobile_lookup(MOBILE)
    message = SmsMessage.objects.for_mobile(MOBILE).get()
    code = re.search(r"\b(\d{6})\b", message.body)
    assert code is not None
    stored = str(SmsMessage.objects.values().get())
    assert MOBILE not in stored and code[1] not in stored


@pytest.mark.django_db
def test_the_outbox_address_is_sealed_and_opened_only_by_the_property() -> None:
    message = OutboxMessage.objects.create(
        channel=Channel.SMS, title="t", body="b", idempotency_key="k1", address=MOBILE
    )
    stored = OutboxMessage.objects.filter(pk=message.pk).values("address_sealed").get()
    assert MOBILE not in stored["address_sealed"]
    assert unseal(stored["address_sealed"], purpose=OUTBOX_ADDRESS_PURPOSE) == MOBILE
    assert OutboxMessage.objects.get(pk=message.pk).address == MOBILE


@pytest.mark.django_db
def test_the_admin_finds_a_user_by_exact_mobile_and_shows_it_masked(admin_client: Client) -> None:
    user = User.objects.create_user(
        username="findme", password="x", display_name="查找", role=Role.CITIZEN, mobile=MOBILE
    )
    User.objects.create_user(username="other", password="x", role=Role.CITIZEN, mobile=OTHER)
    html = admin_client.get("/admin/accounts/user/", {"q": "139 0000 7001"}).content.decode()
    assert "findme" in html and "other" not in html.split("</thead>", 1)[-1].split("<tfoot")[0]
    assert "139****7001" in html and MOBILE not in html
    change = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "139****7001" in change and MOBILE not in change
    sms_code_send(mobile=MOBILE, purpose=SmsCode.Purpose.RESET)
    for url in ("/admin/notifications/smsmessage/", "/admin/accounts/smscode/"):
        # Typed spaced (the page echoes the query): nothing on it shows the number.
        listing = admin_client.get(url, {"q": "139 0000 7001"})
        assert listing.status_code == 200
        assert MOBILE not in listing.content.decode()
        if url.endswith("smsmessage/"):
            assert listing.context["cl"].result_count == 1
            assert "139****7001" in listing.content.decode()
    message = SmsMessage.objects.get()
    code = re.search(r"\b(\d{6})\b", message.body)
    assert code is not None
    page = admin_client.get(f"/admin/notifications/smsmessage/{message.pk}/change/")
    assert code[1] not in page.content.decode() and MOBILE not in page.content.decode()


def test_the_console_backend_never_logs_the_code_or_the_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        ConsoleBackend().send(
            mobile=MOBILE, body="【科技云】您的登录验证码是 482913，10分钟内有效。"
        )
    text = caplog.text
    assert "139****7001" in text
    assert "482913" not in text and MOBILE not in text


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    answer = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Gateway.received.append((dict(self.headers), self.rfile.read(length)))
        self.send_response(_Gateway.answer)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> object:
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Gateway.received = []
    _Gateway.answer = 200
    yield f"http://127.0.0.1:{server.server_port}/send"
    server.shutdown()
    server.server_close()


SECRET = "gateway-secret-" + "s" * 32


def test_the_http_gateway_posts_signed_json(gateway: str) -> None:
    with override_settings(SMS_GATEWAY_URL=gateway, SMS_GATEWAY_SECRET=SECRET):
        HttpGatewayBackend().send(mobile=MOBILE, body="验证码 123456")
    [(headers, payload)] = _Gateway.received
    assert json.loads(payload) == {"mobile": MOBILE, "body": "验证码 123456"}
    timestamp = headers[TIMESTAMP_HEADER]
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + payload, hashlib.sha256
    ).hexdigest()
    assert headers[SIGNATURE_HEADER] == expected
    assert gateway_signature(secret=SECRET, timestamp=timestamp, payload=payload) == expected
    assert headers["Content-Type"].startswith("application/json")


def test_the_http_gateway_raises_on_a_refusal_and_on_no_answer(
    gateway: str, caplog: pytest.LogCaptureFixture
) -> None:
    _Gateway.answer = 500
    with (
        caplog.at_level(logging.DEBUG),
        override_settings(SMS_GATEWAY_URL=gateway, SMS_GATEWAY_SECRET=SECRET),
        pytest.raises(SmsGatewayError, match="500"),
    ):
        HttpGatewayBackend().send(mobile=MOBILE, body="验证码 654321")
    with (
        caplog.at_level(logging.DEBUG),
        override_settings(SMS_GATEWAY_URL="http://127.0.0.1:1/send", SMS_GATEWAY_SECRET=SECRET),
        pytest.raises(SmsGatewayError, match="unreachable"),
    ):
        HttpGatewayBackend().send(mobile=MOBILE, body="验证码 654321")
    assert MOBILE not in caplog.text and "654321" not in caplog.text


# --- The migration that sealed existing rows --------------------------------------------

BEFORE = [
    ("accounts", "0007_security_privacy_groundwork"),
    ("notifications", "0004_webhook_channel"),
]
AFTER = [
    ("accounts", "0010_drop_plaintext_mobiles"),
    ("notifications", "0007_drop_plaintext_sms_and_outbox_columns"),
]


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_rows_and_renames_numbered_usernames() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    OldUser = old.get_model("accounts", "User")
    OldSmsCode = old.get_model("accounts", "SmsCode")
    OldSmsMessage = old.get_model("notifications", "SmsMessage")
    OldOutbox = old.get_model("notifications", "OutboxMessage")
    numbered = OldUser.objects.create(
        username=f"m{MOBILE}", display_name="老用户", role="citizen", mobile=MOBILE
    )
    named = OldUser.objects.create(username="keepme", display_name="员工", role="reviewer")
    from django.utils import timezone

    OldSmsCode.objects.create(
        mobile=MOBILE, purpose="reset", code_hash="h", expires_at=timezone.now()
    )
    OldSmsMessage.objects.create(mobile=OTHER, body="验证码 777888")
    OldOutbox.objects.create(
        channel="sms", title="t", body="b", idempotency_key="old1", address=MOBILE
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    user = User.objects.get(pk=numbered.pk)
    assert re.fullmatch(r"u[a-z2-7]{16}", user.username)
    assert user.mobile == MOBILE and user_by_mobile(MOBILE) == user
    assert User.objects.get(pk=named.pk).username == "keepme"
    assert User.objects.get(pk=named.pk).mobile is None
    assert SmsCode.objects.for_mobile(MOBILE).count() == 1
    message = SmsMessage.objects.for_mobile(OTHER).get()
    assert message.body == "验证码 777888"
    assert OutboxMessage.objects.get(idempotency_key="old1").address == MOBILE
    with connection.cursor() as cursor:
        for table in (
            "accounts_user",
            "accounts_smscode",
            "accounts_smsmessage",
            "notifications_outboxmessage",
        ):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
            dump = str(cursor.fetchall())
            assert MOBILE not in dump and OTHER not in dump and "777888" not in dump, table


# --- Production refuses unsafe settings (item 8) ----------------------------------------

# Production settings that start (tests/builders.py).
SAFE = PRODUCTION_ENV


def _start(**changes: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], **SAFE, **changes}
    return subprocess.run(
        [sys.executable, "-c", "import kejiyun.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_starts_with_safe_settings() -> None:
    done = _start()
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"SMS_BACKEND": "kejiyun.notifications.sms.OutboxBackend"}, "SMS_BACKEND"),
        ({"SMS_BACKEND": "kejiyun.notifications.sms.ConsoleBackend"}, "SMS_BACKEND"),
        ({"SMS_GATEWAY_URL": "http://sms.example.cn/send"}, "SMS_GATEWAY_URL"),
        ({"SMS_GATEWAY_SECRET": "short"}, "SMS_GATEWAY_SECRET"),
        ({"OTP_REQUIRED": "0"}, "OTP_REQUIRED"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"FIELD_LOOKUP_KEY": ""}, "FIELD_"),
        ({"HEALTHZ_TOKEN": "guessable"}, "HEALTHZ_TOKEN"),
    ],
)
def test_production_refuses_unsafe_settings(changes: dict[str, str], named: str) -> None:
    done = _start(**changes)
    assert done.returncode != 0
    assert "EnvError" in done.stderr and named in done.stderr
