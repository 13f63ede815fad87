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
# numbers, resident ID numbers and e-mail addresses. Anything shaped like a mobile or an ID
# number is masked even inside a longer run of digits ("8613812345678"): masking too much
# beats leaking a number. Written with spaces or dashes ("138 0000 1234", "138-0000-1234")
# they are found as well. One function for pages, the admin, the API and the exports.
_ID_IN_TEXT = re.compile(r"\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx]")
_MOBILE_IN_TEXT = re.compile(r"1[3-9]\d(?:[ -]?\d{4}){2}")
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _digits(text: str) -> str:
    return re.sub(r"[ -]", "", text)


def mask_personal_text(text: str, *, emails: bool = True) -> str:
    """`text` with the ID numbers (first: one holds a mobile-shaped run of digits), mobile
    numbers and, unless `emails` is off, e-mail addresses in it masked, for pages that show
    what someone typed to people who should not get their contact."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(_digits(m[0])), text)
    text = _MOBILE_IN_TEXT.sub(lambda m: mask_mobile(_digits(m[0])), text)
    if not emails:
        return text
    return _EMAIL_IN_TEXT.sub(lambda m: f"{m[0][0]}***@{m[0].split('@', 1)[1]}", text)
