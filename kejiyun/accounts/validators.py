"""Validators for identifiers users type in: mainland mobile numbers and 统一社会信用代码."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_MOBILE = re.compile(r"^1[3-9]\d{9}$")

# GB 32100-2015: 18 characters from a 31-character alphabet (no I, O, Z, S, V).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# First character: the registering authority (登记管理部门代码).
_USCC_AUTHORITIES = set("123456789ANY")


def normalise_mobile(raw: str) -> str:
    """Strip spaces, dashes and a +86/0086 prefix."""
    value = re.sub(r"[\s-]", "", raw or "")
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    return value


def is_valid_mobile(value: str) -> bool:
    return bool(_MOBILE.match(value))


def validate_mobile(value: str) -> None:
    if not is_valid_mobile(value):
        raise ValidationError(
            "请输入有效的中国大陆手机号（11位数字，以1开头）。", code="invalid_mobile"
        )


def uscc_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015 §4.2)."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(raw: str) -> str:
    return re.sub(r"\s", "", raw or "").upper()


def is_valid_uscc(value: str) -> bool:
    if len(value) != 18 or any(ch not in USCC_ALPHABET for ch in value):
        return False
    if value[0] not in _USCC_AUTHORITIES or not value[2:8].isdigit():
        return False
    return uscc_check_character(value[:17]) == value[17]


def validate_uscc(value: str) -> None:
    if len(value) != 18:
        raise ValidationError("统一社会信用代码应为18位。", code="uscc_length")
    if any(ch not in USCC_ALPHABET for ch in value):
        raise ValidationError(
            "统一社会信用代码只能包含数字和大写字母（不含 I、O、Z、S、V）。", code="uscc_chars"
        )
    if not is_valid_uscc(value):
        raise ValidationError(
            "统一社会信用代码校验位不正确，请核对营业执照上的代码。", code="uscc_check"
        )


# GB 11643-1999 resident identity number: 17 digits and an ISO 7064 MOD 11-2 check character.
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def normalise_id_number(raw: str) -> str:
    return re.sub(r"\s", "", raw or "").upper()


def id_number_check_character(first17: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def is_valid_id_number(value: str) -> bool:
    if not _ID_NUMBER.match(value):
        return False
    return id_number_check_character(value[:17]) == value[17]


def validate_id_number(value: str) -> None:
    if not _ID_NUMBER.match(value):
        raise ValidationError(
            "身份证号应为18位：17位数字加1位校验码（数字或X）。", code="id_number_format"
        )
    if id_number_check_character(value[:17]) != value[17]:
        raise ValidationError("身份证号校验码不正确，请核对。", code="id_number_check")
