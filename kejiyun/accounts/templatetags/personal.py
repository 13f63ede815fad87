"""Personal data in templates: masked unless the page's object is unmasked
(`kejiyun/accounts/unmask.py`).

    {% load personal %}
    {{ demand.description|personal:unmask.active|linebreaksbr }}
    {{ profile.user|mobile:unmask.active }}  {{ profile|id_number:unmask.active }}
    {% unmask_button unmask %}
"""

from __future__ import annotations

from typing import Any

from django import template

from kejiyun.accounts.unmask import UNMASK_REASONS, UNMASK_SECONDS, UnmaskState
from kejiyun.common.masking import mask_mobile, mask_personal_text

register = template.Library()


@register.filter
def personal(value: object, unmasked: bool = False) -> str:
    """Free text with the mobile and ID numbers (and e-mail addresses) written in it masked;
    in full while the page's object is unmasked."""
    if value is None:
        return ""
    text = str(value)
    return text if unmasked else mask_personal_text(text)


@register.filter
def mobile(user: Any, unmasked: bool = False) -> str:
    """A user's mobile number, masked (138****5678) unless unmasked; "" when none."""
    number = getattr(user, "mobile", None) or ""
    return number if unmasked else mask_mobile(number)


@register.filter
def id_number(profile: Any, unmasked: bool = False) -> str:
    """A talent profile's ID number, masked (5101**********1234) unless unmasked."""
    if unmasked:
        return str(profile.id_number_full())
    return str(profile.id_number_masked())


@register.inclusion_tag("accounts/_unmask_button.html", takes_context=True)
def unmask_button(context: template.Context, state: UnmaskState | None) -> dict[str, Any]:
    """The "查看完整信息" form for a user with the permission (nothing for anyone else), or
    the time until which the values are shown in full."""
    return {
        "state": state,
        "reasons": UNMASK_REASONS.items(),
        "minutes": UNMASK_SECONDS // 60,
        "csrf_token": context.get("csrf_token"),
    }
