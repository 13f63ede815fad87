"""No mobile number or ID number in the clear at rest or in the logs (docs/requirements/
security.md item 16).

Canary values — unique, valid-looking mobiles (139 0000 7xxx) and ID numbers with a correct
check character — are planted in every *structured* field that holds one: a self-registered
account, a staff account, a worker sheet's rows (mobile and ID number), the SMS codes sent
for registration, password reset and the API's sign-in, the SMS outbox, an SMS waiting in
the message outbox and its dispatch. The flows that touch them run for real (register, sign
in by mobile, reset the password, sign in through the API, import the sheet, send and
dispatch a notification) while every log record of every logger is captured at DEBUG. Then
the whole database is dumped (SQLite: every row of every table as text; PostgreSQL:
`pg_dump`) and no canary may appear, plain or written with spaces or dashes.

Free text a user types (a demand's description naming a phone number) is stored as typed
and masked on display (kejiyun/common/masking.py): no canary is planted there.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess

import pytest
from django.db import connection
from django.test import Client

from kejiyun.accounts.models import Role, User
from kejiyun.accounts.services import staff_create
from kejiyun.accounts.validators import id_number_check_character
from kejiyun.notifications.dispatch import outbox_dispatch
from kejiyun.notifications.models import Channel, OutboxMessage, SmsMessage
from kejiyun.notifications.services import outbox_enqueue
from kejiyun.regions.models import Region
from kejiyun.regions.services import regions_load, service_centres_ensure
from kejiyun.talent.services import disciplines_load, industries_load
from tests.builders import (
    WORKER_HEADERS,
    client_for,
    make_staff,
    make_xlsx,
    upload_batch,
    worker_row,
)
from tests.security_figures import record_figure

REGISTERED = "13900007101"  # registers on the site, signs in, resets, signs in by API
IMPORTED = "13900007102"  # a worker sheet's row
STAFF = "13900007103"  # a staff account's number
IMPORTED_TOO = "13900007104"  # a second row, without ID number
PASSWORD = "Canary-Secret-2026"


def _id_number(body17: str) -> str:
    return body17 + id_number_check_character(body17)


ID_CANARY = _id_number("51010419850707731")
MOBILES = (REGISTERED, IMPORTED, STAFF, IMPORTED_TOO)
CANARIES = (*MOBILES, ID_CANARY)


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name} {text}")


class _CaptureAllLogs:
    """Every logger at DEBUG, every record kept, then the levels as they were."""

    def __enter__(self) -> _Everything:
        self.handler = _Everything()
        self.loggers = [logging.getLogger()] + [
            logger
            for logger in logging.root.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
        ]
        self.levels = [(logger, logger.level, logger.disabled) for logger in self.loggers]
        for logger in self.loggers:
            logger.setLevel(logging.DEBUG)
            logger.disabled = False
            logger.addHandler(self.handler)
        return self.handler

    def __exit__(self, *exc: object) -> None:
        for logger, level, disabled in self.levels:
            logger.setLevel(level)
            logger.disabled = disabled
            logger.removeHandler(self.handler)


def _texted_code(mobile: str) -> str:
    message = SmsMessage.objects.for_mobile(mobile).latest("id")
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None
    return match[1]


def _run_the_flows() -> None:
    site = Client(REMOTE_ADDR="10.9.0.1")
    # Register on the site (an SMS code for registration).
    site.post("/accounts/sms-code/", {"mobile": REGISTERED, "purpose": "register"})
    response = site.post(
        "/accounts/register/worker/",
        {
            "display_name": "金丝雀",
            "mobile": REGISTERED,
            "sms_code": _texted_code(REGISTERED),
            "region": "510104",
            "employer": "四川大学",
            "title": "教授",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "agree": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    # Sign in by mobile (spaced), once wrongly and once rightly.
    for password in ("Wrong-Password-1", PASSWORD):
        Client(REMOTE_ADDR="10.9.0.2").post(
            "/accounts/login/", {"username": "139 0000 7101", "password": password}
        )
    # Reset the password (an SMS code for a reset).
    reset = Client(REMOTE_ADDR="10.9.0.3")
    reset.post("/accounts/sms-code/", {"mobile": REGISTERED, "purpose": "reset"})
    new = "Canary-Secret-2027"
    reset.post(
        "/accounts/password/reset/",
        {
            "mobile": REGISTERED,
            "sms_code": _texted_code(REGISTERED),
            "password1": new,
            "password2": new,
        },
    )
    assert User.objects.for_mobile(REGISTERED).get().check_password(new)
    # Sign in through the API with an SMS code.
    api = Client(REMOTE_ADDR="10.9.0.4")
    api.post("/api/v1/auth/sms-code", {"mobile": REGISTERED}, content_type="application/json")
    token = api.post(
        "/api/v1/auth/token",
        {"grant_type": "sms_code", "mobile": REGISTERED, "code": _texted_code(REGISTERED)},
        content_type="application/json",
    )
    assert token.status_code == 200, token.content.decode()
    api.post(
        "/api/v1/auth/token",
        {"grant_type": "password", "username": REGISTERED, "password": "Wrong-Password-1"},
        content_type="application/json",
    )
    # A staff account with a number; a worker sheet with numbers and an ID number.
    staff_create(
        username="canarystaff",
        display_name="员工",
        password=PASSWORD,
        centre_region=Region.objects.get(code="510104"),
        mobile=STAFF,
    )
    alice = make_staff("alice", "510104")
    sheets = client_for(alice)
    rows = [
        worker_row(name="导入一", mobile=IMPORTED, id_number=ID_CANARY),
        worker_row(name="导入二", mobile="139-0000-7104", id_number=""),
    ]
    batch = upload_batch(sheets, "workers", make_xlsx(WORKER_HEADERS, rows, sheet="科技工作者"))
    sheets.post(f"/sheets/import/batches/{batch.pk}/confirm/")
    imported = User.objects.for_mobile(IMPORTED).get()
    assert imported.role == Role.WORKER
    # The imported worker claims the account (a reset code to an imported number).
    Client(REMOTE_ADDR="10.9.0.5").post(
        "/accounts/sms-code/", {"mobile": IMPORTED, "purpose": "reset"}
    )
    # A notification by SMS, through the outbox, dispatched.
    registered = User.objects.for_mobile(REGISTERED).get()
    outbox_enqueue(
        channel=Channel.SMS,
        recipient=registered,
        address=registered.mobile or "",
        title="对接提醒",
        body="您有新的对接请求，请登录查看。",
        idempotency_key="canary:sms:1",
        source="test",
    )
    outbox_dispatch()  # (committing may already have sent it, in-process)
    sent = OutboxMessage.objects.get(idempotency_key="canary:sms:1")
    assert sent.status == OutboxMessage.Status.SENT
    assert "对接提醒" in SmsMessage.objects.for_mobile(REGISTERED).latest("id").body


def _dump() -> str:
    """Every row of every table as text (SQLite), or `pg_dump` (PostgreSQL)."""
    if connection.vendor == "postgresql" and shutil.which("pg_dump"):
        conf = connection.settings_dict
        command = ["pg_dump", "--data-only", "--no-owner", "-d", conf["NAME"]]
        for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
            if conf.get(key):
                command += [flag, str(conf[key])]
        env = {"PGPASSWORD": str(conf.get("PASSWORD") or ""), "PATH": "/usr/bin:/bin"}
        done = subprocess.run(  # noqa: S603 (pg_dump of the test database, fixed arguments)
            command, capture_output=True, text=True, check=True, env=env
        )
        assert "COPY public.accounts_user" in done.stdout
        return done.stdout
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            parts.append(f"{table}: {cursor.fetchall()!r}")
    return "\n".join(parts)


def _hits(text: str) -> list[str]:
    """The canaries in `text`, as written or with spaces or dashes between the digits."""
    squeezed = re.sub(r"[\s-]", "", text)
    return [c for c in CANARIES if c in text or c in squeezed]


@pytest.mark.django_db(transaction=True)
def test_no_canary_mobile_or_id_number_in_the_database_dump_or_the_logs() -> None:
    # A transactional test: an earlier one may have emptied the database, regions included.
    regions_load()
    service_centres_ensure(province_code="510000")
    disciplines_load()
    industries_load()
    with _CaptureAllLogs() as logs:
        _run_the_flows()
    dump = _dump()
    log_text = "\n".join(logs.lines)
    in_dump, in_logs = _hits(dump), _hits(log_text)
    # The flows did run and did log (the capture is live), and the rows exist.
    assert logs.lines
    assert User.objects.for_mobile(IMPORTED_TOO).exists()
    assert SmsMessage.objects.for_mobile(IMPORTED).exists()
    record_figure(
        "plaintext_personal_values_in_dump_and_logs",
        len(in_dump) + len(in_logs),
        target="0",
        detail=(
            f"{len(CANARIES)} canaries (4 mobiles, 1 ID number) through register, sign-in, "
            f"reset, API sign-in, sheet import, SMS outbox; {connection.vendor} dump of "
            f"{len(dump)} characters and {len(logs.lines)} log records"
        ),
    )
    assert in_dump == [], f"in the database dump: {in_dump}"
    assert in_logs == [], f"in the logs: {in_logs}"
