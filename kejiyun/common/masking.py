"""Masked display of personal data (GB/T 35273): 138****5678, 5101**********1234."""

from __future__ import annotations


def mask_mobile(value: str) -> str:
    if len(value) != 11:
        return "*" * len(value)
    return f"{value[:3]}****{value[7:]}"


def mask_id_number(value: str) -> str:
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"
