"""Masked display of personal data (GB/T 35273): 138****5678, 5101**********1234."""

from __future__ import annotations

import re


def mask_mobile(value: str) -> str:
    if len(value) != 11:
        return "*" * len(value)
    return f"{value[:3]}****{value[7:]}"


def mask_id_number(value: str) -> str:
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


# Personal data typed into free text (a demand's description naming a contact): mobile
# numbers, resident ID numbers and e-mail addresses, each not part of a longer number.
_ID_IN_TEXT = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def mask_personal_text(text: str) -> str:
    """`text` with the mobile numbers, ID numbers and e-mail addresses in it masked, for
    pages that show what someone typed to people who should not get their contact."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m[0]), text)
    text = _MOBILE_IN_TEXT.sub(lambda m: mask_mobile(m[0]), text)
    return _EMAIL_IN_TEXT.sub(lambda m: f"{m[0][0]}***@{m[0].split('@', 1)[1]}", text)
