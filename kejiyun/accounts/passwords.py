"""Password rules (docs/requirements/security.md item 1; ADR 0002).

For everyone: at least 12 characters (Django's `MinimumLengthValidator`), not a common
password (Django's `CommonPasswordValidator`) and not guessable (`GuessablePasswordValidator`:
repeats, sequences, keyboard runs, common or site words with digits, a word repeated, the
account's own names or mobile number).

For privileged accounts only (staff, reviewers, auditors, administrators; 等保 8.1.4.1a):
three of the four character classes (`StaffCharacterClassesValidator`) and a maximum age of
90 days (`password_expired`, enforced by `kejiyun.accounts.middleware`). ASVS forbids both
rules for ordinary users, so citizens, workers and enterprise users do not meet them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache
from itertools import pairwise
from typing import Any

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils import timezone

from kejiyun.accounts.models import User

MAX_AGE = timedelta(days=90)

# Words of this site and this province, and words people put in passwords everywhere.
SITE_WORDS = frozenset(
    """
    kejiyun keji kejiju kjy kejiting kexie kexue kepu tianfu sichuan chengdu shudao shu bashu
    mianyang deyang leshan yibin luzhou nanchong zigong panzhihua guangyuan suining neijiang
    meishan yaan ganzi aba liangshan bazhong dazhou guangan ziyang science tech technology
    cloud admin administrator password passwd passw pass root user login welcome hello
    china zhongguo beijing shanghai woaini iloveyou love qwerty abc abcd test demo staff
    kefu guest super manager system server secret gov zhengfu
    """.split()
)

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)

# Rows of a QWERTY keyboard (shifted symbols are mapped to their keys before comparing).
_ROWS = ("1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./")
_SHIFTED = dict(zip('!@#$%^&*()_+{}:"<>?|~', "1234567890-=[];',./\\`", strict=True))


@cache
def _key_positions() -> dict[str, tuple[int, int]]:
    return {ch: (r, c) for r, row in enumerate(_ROWS) for c, ch in enumerate(row)}


@cache
def _common_cores() -> frozenset[str]:
    """The letter cores of Django's 20,000 common passwords (`abc123` → `abc`) and the site
    words: a password whose letters are one of these, or two of them, is guessable."""
    cores = {_letters(p) for p in CommonPasswordValidator().passwords}
    return frozenset(c for c in cores | SITE_WORDS if len(c) >= 3)


def _letters(value: str) -> str:
    return "".join(ch for ch in value.lower() if ch.isalpha())


def _predictable_step(a: str, b: str) -> bool:
    """`b` follows `a` the way people type runs: the same key, the next or previous
    character, or a neighbouring key on the keyboard."""
    if a == b or abs(ord(a) - ord(b)) == 1:
        return True
    pos = _key_positions()
    pa, pb = pos.get(_SHIFTED.get(a, a)), pos.get(_SHIFTED.get(b, b))
    if pa is None or pb is None:
        return False
    return abs(pa[0] - pb[0]) <= 1 and abs(pa[1] - pb[1]) <= 1


def run_count(password: str) -> int:
    """How many runs of predictable typing the password is made of: `qwertyuiopas` is 2,
    `1qaz2wsx3edc` is 3, a good passphrase is about one run per character."""
    low = password.lower()
    return 1 + sum(1 for a, b in pairwise(low) if not _predictable_step(a, b))


def _is_repetition(value: str) -> bool:
    """`abcabcabc`, `passwordpassword`: one piece said again and again."""
    return bool(value) and re.fullmatch(r"(.+?)\1+", value) is not None


def _is_word_pair(core: str, words: frozenset[str]) -> bool:
    """One common word, or two of them run together in a short core (`adminroot`); three
    words or more, or two long ones, make a passphrase (`brandnewsecret`)."""
    if core in words:
        return True
    if len(core) > 12:
        return False
    return any(core[:i] in words and core[i:] in words for i in range(3, len(core) - 2))


def guessable_reason(password: str, user: Any = None) -> str | None:
    """Why `password` is guessable, in Chinese, or None when it is not."""
    low = password.lower()
    if len(set(low)) <= 5 or _is_repetition(low):
        return "密码中重复的字符或片段太多，请换一个更难猜的密码。"
    if run_count(password) <= 4:
        return "密码是连续的字母、数字或键盘上相邻的按键，请换一个更难猜的密码。"
    words = _common_cores()
    for core in {_letters(password), _letters(low.translate(_LEET))}:
        if core and (_is_repetition(core) or _is_word_pair(core, words)):
            return "密码由常见单词（或本站名称、地名）加数字组成，很容易被猜到，请换一个。"
    if user is not None:
        for attribute in ("username", "display_name", "mobile", "email"):
            value = str(getattr(user, attribute, "") or "").lower()
            if len(value) >= 4 and (value in low or (len(value) == 11 and value[-8:] in low)):
                return "密码不能包含您的用户名、姓名或手机号。"
    return None


class GuessablePasswordValidator:
    """Refuses repeats, sequences, keyboard runs, common or site words with digits or a
    year, a word repeated, and the account's own names or mobile number (for everyone)."""

    def validate(self, password: str, user: Any = None) -> None:
        reason = guessable_reason(password, user)
        if reason is not None:
            raise ValidationError(reason, code="password_guessable")

    def get_help_text(self) -> str:
        return (
            "不能是重复、连续或键盘上相邻的字符，不能是常见单词加数字，不能包含您的用户名或手机号。"
        )


def character_classes(password: str) -> int:
    """Of lower-case letters, upper-case letters, digits and other characters, how many
    `password` uses. Characters without case (汉字) count as "other"."""
    return sum(
        (
            any(ch.islower() for ch in password),
            any(ch.isupper() for ch in password),
            any(ch.isdigit() for ch in password),
            any(not (ch.islower() or ch.isupper() or ch.isdigit()) for ch in password),
        )
    )


class StaffCharacterClassesValidator:
    """Privileged accounts only (ADR 0002): three of the four character classes."""

    def validate(self, password: str, user: Any = None) -> None:
        if isinstance(user, User) and user.is_privileged and character_classes(password) < 3:
            raise ValidationError(
                "工作人员、评审专家和管理员的密码须包含大写字母、小写字母、数字和符号中的至少三类。",
                code="password_classes",
            )

    def get_help_text(self) -> str:
        return "工作人员、评审专家和管理员的密码须包含大写字母、小写字母、数字和符号中的至少三类。"


def password_expired(user: User, now: datetime | None = None) -> bool:
    """A privileged account whose password is older than 90 days must change it before
    anything else. Accounts that cannot sign in with a password never do.

    `User.set_password` stamps `password_changed_at`; Django's `create_user` and
    `create_superuser` hash the password without it, so an account without the stamp counts
    from when it was created (`date_joined`): never younger than it really is."""
    if not user.is_privileged or not user.has_usable_password():
        return False
    changed = user.password_changed_at or user.date_joined
    return (now or timezone.now()) - changed > MAX_AGE
