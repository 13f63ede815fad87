"""Password rules (docs/requirements/security.md items 1, 2 and 5; ADR 0002): guessable
passwords refused for everyone; three character classes and a 90-day age for privileged
accounts only; a reset ends the lock-out; changes, resets and lock-outs are audited; a
password change or a disabled account ends the other sessions."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import password_validation
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import LoginFailure, Role, User
from kejiyun.accounts.passwords import SITE_WORDS, password_expired
from kejiyun.accounts.services import PasswordRefused, staff_create
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.notifications.models import SmsMessage
from kejiyun.regions.models import Region
from tests.builders import DORA_MOBILE, PASSWORD, make_citizen
from tests.security_figures import record_figure

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "guessable_passwords.txt"
ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _pad(word: str, filler: str) -> str:
    """`word` padded with `filler` to at least 12 characters (the minimum length)."""
    while len(word) < 12:
        word += filler[: 12 - len(word)] or filler
    return word


def guessable_passwords() -> list[str]:
    """At least 1,000 guessable passwords of 12 or more characters, from rules and the
    list kept in tests/data."""
    out: list[str] = []
    # Repeats: one character, two, three, four.
    for ch in "a1z9!Q*x":
        out.append(ch * 12)
    for a, b in itertools.permutations("a1x!Q9", 2):
        out.append((a + b) * 6)
    for piece in ("abc", "123", "xyz", "qwe", "520", "aB1!", "Ab1!", "kejiyun"):
        out.append(piece * (12 // len(piece) + 1))
    # Sequences of letters and digits, forwards and backwards, from every start.
    letters, digits = "abcdefghijklmnopqrstuvwxyz", "0123456789" * 3
    for i in range(15):
        out += [letters[i : i + 12], letters[i : i + 12][::-1], letters[i : i + 12].upper()]
    for i in range(10):
        out += [digits[i : i + 12], digits[i : i + 12][::-1]]
    # Keyboard runs: along each row (wrapping onto the next), both ways, from each key.
    keys = "".join(ROWS)
    for i in range(len(keys) - 12):
        out += [keys[i : i + 12], keys[i : i + 12][::-1]]
    # Columns (1qaz2wsx…), in steps of three or four keys.
    columns = ["".join(row[c] for row in ROWS if c < len(row)) for c in range(10)]
    for i in range(7):
        out += ["".join(columns[i : i + 3]), "".join(columns[i : i + 4])]
        out.append("".join(col[::-1] for col in columns[i : i + 3]))
    # Words of the site or the province with a year, a date or digits.
    years = [str(y) for y in range(1990, 2031)]
    for word, year in itertools.product(sorted(SITE_WORDS), years[::4]):
        if len(word) >= 4:
            out.append(_pad(word + year, "!"))
            out.append(_pad(word.capitalize() + "@" + year, "!"))
    # Common passwords padded to 12 characters with digits or a year.
    common = sorted(p for p in CommonPasswordValidator().passwords if re.fullmatch(r"[a-z]{6,}", p))
    for word in common[:150]:
        out.append(_pad(word, "1234567890"))
        out.append(_pad(word.capitalize() + "2024", "!"))
    # A word said twice.
    for word in ("password", "dragon", "chengdu", "sichuan", "monkey", "tianfu"):
        out.append(word * 2)
    # The list kept by hand.
    kept = [
        line.strip()
        for line in DATA.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    out += kept
    unique = sorted({p for p in out if len(p) >= 12})
    return unique


GOOD = [
    "Correct-Horse-Battery-9",
    "Another-Strong-Pass-42",
    "correct horse battery staple",
    "紫色大象在成都跳舞2026",
    "Bamboo-Panda-Tea-2026",
    "brisk otter juggles 7 plums",
    "Velvet#Ladder!Orbit92",
    "mango glacier tundra violin",
    "茶山云雾里的小松鼠在唱歌呢",
    "Xq7#vL9!mR2$wK",
    "river-quartz-pilot-meadow",
    "Tea garden at dusk, 3 cups",
]


def refused(password: str, user: User | None = None) -> bool:
    try:
        password_validation.validate_password(password, user)
    except ValidationError:
        return True
    return False


def test_a_thousand_guessable_passwords_are_all_refused() -> None:
    candidates = guessable_passwords()
    assert len(candidates) >= 1000
    accepted = [p for p in candidates if not refused(p)]
    record_figure(
        "guessable_passwords_accepted",
        len(accepted),
        target="0 of ≥ 1,000",
        total=len(candidates),
        detail="repeats, sequences, keyboard runs, site words with years, common passwords "
        "padded to 12, tests/data/guessable_passwords.txt",
    )
    assert accepted == []


def test_good_passphrases_are_accepted() -> None:
    assert [p for p in GOOD if refused(p)] == []


def test_the_refusals_say_why_in_chinese() -> None:
    cases = {
        "aaaaaaaaaaaa": "重复",
        "abcdefghijkl": "连续",
        "1qaz2wsx3edc": "键盘",
        "Sichuan@2024": "常见单词",
        "short-1A!": "12",
    }
    for password, words in cases.items():
        with pytest.raises(ValidationError) as caught:
            password_validation.validate_password(password)
        assert any(words in message for message in caught.value.messages), caught.value.messages


def test_the_accounts_own_names_and_mobile_are_refused() -> None:
    dora = make_citizen("dora", "510104", mobile=DORA_MOBILE)
    dora.display_name = "Dorothy"
    for password in (
        f"x{DORA_MOBILE}y!",
        f"Tea-{DORA_MOBILE[-8:]}-grove",
        "dora-loves-tea-99",
        "Dorothy~Quartz~Owl7",
    ):
        assert refused(password, dora), password
        assert not refused(password), password  # fine for someone else


# --- Privileged accounts: three classes and 90 days --------------------------------------------


def test_staff_need_three_character_classes_and_citizens_do_not() -> None:
    two_classes = "brisk otter juggles plums"  # lower-case and space: two classes
    county = Region.objects.get(code="510104")
    with pytest.raises(PasswordRefused) as caught:
        staff_create(username="sam", display_name="Sam", password=two_classes, centre_region=county)
    assert "至少三类" in caught.value.messages[0]
    assert not User.objects.filter(username="sam").exists()
    dora = make_citizen("dora", "510104", mobile=DORA_MOBILE)
    assert not refused(two_classes, dora)
    staff = staff_create(
        username="sam",
        display_name="Sam",
        password="Brisk otter juggles plums",
        centre_region=county,
    )
    assert refused(two_classes, staff)
    # The change-password page applies the rule to a staff member.
    client = Client()
    client.force_login(staff)
    answer = client.post(
        "/accounts/password/change/",
        {
            "old_password": "Brisk otter juggles plums",
            "new_password1": two_classes,
            "new_password2": two_classes,
        },
    )
    assert answer.status_code == 200 and "至少三类" in answer.content.decode()


def test_after_91_days_staff_are_sent_to_change_their_password_and_citizens_are_not(
    alice: User,
) -> None:
    dora = make_citizen("dora", "510104", mobile=DORA_MOBILE)
    staff, citizen = Client(), Client()
    staff.force_login(alice)
    citizen.force_login(dora)
    assert staff.get("/cases/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        staff, citizen = Client(), Client()
        staff.force_login(alice)
        citizen.force_login(dora)
        for path in ("/cases/", "/dashboard/", "/accounts/profile/", "/admin/"):
            answer = staff.get(path)
            assert answer.status_code == 302 and answer["Location"] == "/accounts/password/change/"
        api = staff.get("/api/v1/me")
        assert api.status_code == 403 and api.json()["code"] == "password_expired"
        page = staff.get("/accounts/password/change/")
        assert page.status_code == 200 and "超过90天" in page.content.decode()
        assert citizen.get("/dashboard/").status_code == 200
        new = "Fresh-Meadow-Lantern-7"
        done = staff.post(
            "/accounts/password/change/",
            {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        )
        assert done.status_code == 302
        assert staff.get("/cases/").status_code == 200


def test_every_way_of_setting_a_password_starts_its_age() -> None:
    before = timezone.now()
    county = Region.objects.get(code="510104")
    made = staff_create(username="sam", display_name="Sam", password=PASSWORD, centre_region=county)
    assert made.password_changed_at is not None and made.password_changed_at >= before
    created = User.objects.create_user(username="una", password=PASSWORD, role=Role.REVIEWER)
    created.set_password("Another-Strong-Pass-42")
    assert created.password_changed_at is not None and created.password_changed_at >= before
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        # Accounts made by `create_user` count from when they were made.
        assert password_expired(User.objects.get(username="una"))
        assert not password_expired(User.objects.get(username="una"), before)


def test_create_demo_admin_prints_a_password_that_meets_the_rules() -> None:
    out = StringIO()
    call_command("create_demo_admin", stdout=out)
    password = re.search(r"password: (\S+)", out.getvalue())
    assert password is not None
    admin = User.objects.get(username="admin")
    password_validation.validate_password(password.group(1), admin)
    assert admin.password_changed_at is not None and not password_expired(admin)


# --- Reset, lock-out and audit -----------------------------------------------------------------


def _reset(client: Client, mobile: str, new: str) -> int:
    client.post("/accounts/sms-code/", {"mobile": mobile, "purpose": "reset"})
    body = SmsMessage.objects.for_mobile(mobile).latest("id").body
    match = re.search(r"\b(\d{6})\b", body)
    assert match is not None
    return client.post(
        "/accounts/password/reset/",
        {"mobile": mobile, "sms_code": match.group(1), "password1": new, "password2": new},
    ).status_code


def _login(client: Client, name: str, password: str) -> int:
    return client.post("/accounts/login/", {"username": name, "password": password}).status_code


def complete(row: AuditEvent, user: User | None) -> bool:
    return (
        row.created_at is not None
        and row.user_id == (user.pk if user else None)
        and row.ip == "127.0.0.1"
        and bool(row.action)
        and row.outcome in ("ok", "refused")
    )


def test_a_reset_ends_the_lock_out_and_each_event_writes_one_complete_audit_row() -> None:
    dora = make_citizen("dora", "510104", mobile=DORA_MOBILE)
    for _ in range(5):
        assert _login(Client(), DORA_MOBILE, "wrong-password-123") == 200
    assert _login(Client(), DORA_MOBILE, PASSWORD) == 200  # locked
    (locked,) = AuditEvent.objects.filter(action=AuditAction.LOGIN_LOCKED)
    assert complete(locked, dora) and locked.outcome == "refused"
    assert LoginFailure.objects.exists()
    new = "Fresh-Meadow-Lantern-7"
    assert _reset(Client(), DORA_MOBILE, new) == 302
    assert not LoginFailure.objects.exists()
    (reset,) = AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET)
    assert complete(reset, dora) and reset.outcome == "ok"
    client = Client()
    assert _login(client, DORA_MOBILE, new) == 302
    newer = "Quiet-Harbour-Lantern-8"
    assert (
        client.post(
            "/accounts/password/change/",
            {"old_password": new, "new_password1": newer, "new_password2": newer},
        ).status_code
        == 302
    )
    (change,) = AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGE)
    assert complete(change, dora) and change.outcome == "ok"
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_LOCKED).count() == 1


def test_a_staff_reset_meets_the_staff_rules_and_changes_nothing_when_refused() -> None:
    county = Region.objects.get(code="510104")
    mobile = "13800000456"
    staff = staff_create(
        username="sam", display_name="Sam", password=PASSWORD, centre_region=county, mobile=mobile
    )
    answer = Client().post("/accounts/sms-code/", {"mobile": mobile, "purpose": "reset"})
    assert answer.status_code == 200
    body = SmsMessage.objects.for_mobile(mobile).latest("id").body
    code = re.search(r"\b(\d{6})\b", body)
    assert code is not None
    two_classes = "brisk otter juggles plums"
    refused_answer = Client().post(
        "/accounts/password/reset/",
        {
            "mobile": mobile,
            "sms_code": code.group(1),
            "password1": two_classes,
            "password2": two_classes,
        },
    )
    assert refused_answer.status_code == 400 and "至少三类" in refused_answer.content.decode()
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET).exists()


def test_disabling_an_account_ends_its_sessions() -> None:
    dora = make_citizen("dora", "510104", mobile=DORA_MOBILE)
    client = Client()
    assert _login(client, DORA_MOBILE, PASSWORD) == 302
    assert client.get("/dashboard/").status_code == 200
    dora.is_active = False
    dora.save(update_fields=["is_active"])
    assert client.get("/dashboard/").status_code == 302
